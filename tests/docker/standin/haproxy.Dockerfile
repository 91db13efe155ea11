# Stand-in for haproxy:2.8: Debian 12's HAProxy (2.6, as the local stack runs) with
# the official image's layout and behaviour: the config at
# /usr/local/etc/haproxy/haproxy.cfg, run as the unprivileged haproxy user, in the
# foreground in master-worker mode (-W -db), stopped gracefully by SIGUSR1.
ARG BASE=local/debian:bookworm
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /usr/local/etc/haproxy /var/lib/haproxy \
 && chown haproxy:haproxy /var/lib/haproxy
STOPSIGNAL SIGUSR1
USER haproxy
WORKDIR /var/lib/haproxy
CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
