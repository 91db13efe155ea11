# Stand-in for hiett/serverless-redis-http: our bridge (bridge/, the same REST
# protocol, used by the local stack) compiled by scripts/build.ts; the context holds
# only that executable. It reads SRH's variables (SRH_MODE env|file, SRH_TOKEN,
# SRH_CONNECTION_STRING, SRH_PORT, default 80) and /app/srh-config/tokens.json in
# file mode, as SRH does; wget for health checks, as in SRH's Alpine image.
ARG BASE=local/debian:bookworm
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wget \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /app/srh-config
COPY bridge /app/bridge
WORKDIR /app
EXPOSE 80
ENTRYPOINT ["/app/bridge"]
