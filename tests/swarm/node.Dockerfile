# One node of the test swarm (tests/swarm/nodes.ts): Debian 12's Docker engine on the
# local base, run as a container of the host's engine with its own network namespace,
# so its iptables chains, overlays and tasks are its own. nodes.ts starts dockerd with
# the registry it may pull from over plain HTTP. pigz: the engine unpacks pulled layers
# with it when it is there, on every core.
ARG BASE=local/debian:bookworm
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io iptables iproute2 pigz \
 && rm -rf /var/lib/apt/lists/*
