# A fresh machine for the quick-start test (tests/fresh/): the local Debian base
# with Debian's nodejs and npm, nothing else — what the README's quick start assumes.
ARG BASE=local/debian:bookworm
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
