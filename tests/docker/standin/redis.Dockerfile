# Stand-in for redis:7-alpine: Debian 12's redis-server (7.0) with the official
# image's defaults: protected mode off and listening on every interface (the image
# patches protected mode out of its build; here the entrypoint passes it first, so options
# given as the command still win), data in /data, run as the redis user.
ARG BASE=local/debian:bookworm
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
USER redis
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
