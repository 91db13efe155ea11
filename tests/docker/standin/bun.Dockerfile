# Stand-in for oven/bun:<version> (the build stage of our Dockerfile): the local
# Debian base with the very Bun executable that runs the tests, copied from the host
# (the context holds only that file and the host's CA bundle). oven/bun is
# Debian-based with bun at the same path.
# The CA bundle: this machine reaches the npm registry through a TLS-inspecting
# egress whose CA only the host trusts; `bun install` in the build stage needs it too.
ARG BASE=local/debian:bookworm
FROM ${BASE}
COPY bun /usr/local/bin/bun
COPY ca-certificates.crt /etc/ssl/certs/host-ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca-certificates.crt
RUN ln -s /usr/local/bin/bun /usr/local/bin/bunx && bun --version
WORKDIR /home/bun/app
