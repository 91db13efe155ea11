# Stand-in for the mariadb image (compose.ha.yaml's Galera nodes), tagged with the
# version Debian 12 ships, 10.11: mariadb-server, galera-4 and mariadb-backup, plus
# what the official image carries beside them and the nodes use: socat (mariabackup
# SST streams through it; the nodes' probe listens with it) and gosu. Its entrypoint
# is the mysql stand-in's (mysql-entrypoint.sh), which takes the mariadb image's
# names too (MARIADB_ROOT_PASSWORD[_FILE], mariadbd): /docker-entrypoint-initdb.d
# run once on an empty data dir, then mariadbd as the mysql user on 3306.
ARG BASE=local/debian:bookworm
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    mariadb-server mariadb-client galera-4 mariadb-backup socat gosu \
 && rm -rf /var/lib/apt/lists/* /var/lib/mysql/* \
 && mkdir -p /docker-entrypoint-initdb.d /run/mysqld /etc/mysql/conf.d && chown mysql:mysql /run/mysqld /var/lib/mysql \
 && printf '[mysqld]\nbind-address = 0.0.0.0\nskip-name-resolve\n' > /etc/mysql/mariadb.conf.d/99-docker.cnf
COPY mysql-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/mysql
EXPOSE 3306
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["mariadbd"]
