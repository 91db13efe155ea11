# The test swarm's registry (tests/swarm/nodes.ts): Debian 12's docker-registry (the
# distribution registry 2.8) on the local base, its htpasswd auth section removed — the
# nodes pull without credentials, over plain HTTP, on a network of their own.
ARG BASE=local/debian:bookworm
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-registry \
 && rm -rf /var/lib/apt/lists/* \
 && sed -i '/^auth:/,/^health:/{/^health:/!d}' /etc/docker/registry/config.yml \
 && ! grep -q '^auth:' /etc/docker/registry/config.yml
USER docker-registry
EXPOSE 5000
CMD ["docker-registry", "serve", "/etc/docker/registry/config.yml"]
