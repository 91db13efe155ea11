# Stand-in for gcr.io/distroless/cc-debian12:nonroot (the runtime stage): glibc and
# libstdc++ from Debian 12, the "nonroot" user 65532 and its home. distroless has
# no shell; this one does (it comes with the base), but nothing of ours uses it.
ARG BASE=local/debian:bookworm
FROM ${BASE}
RUN groupadd -g 65532 nonroot && useradd -u 65532 -g 65532 -d /home/nonroot -m -s /usr/sbin/nologin nonroot
USER 65532:65532
WORKDIR /home/nonroot
