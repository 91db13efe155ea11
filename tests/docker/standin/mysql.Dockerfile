# Stand-in for mysql:8.4: Debian 12's MariaDB (10.11) behind an entrypoint with the
# mysql image's contract (mysql-entrypoint.sh): MYSQL_ROOT_PASSWORD[_FILE] and the
# other MYSQL_* variables, /docker-entrypoint-initdb.d run once on an empty data dir
# in name order (.sql through the client, .sh sourced, or run when executable, with
# docker_process_sql and docker_setup_env available to it), networking off until
# initialisation is done, then mysqld as the mysql user on 3306.
ARG BASE=local/debian:bookworm
FROM ${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server mariadb-client \
 && rm -rf /var/lib/apt/lists/* /var/lib/mysql/* \
 && mkdir -p /docker-entrypoint-initdb.d /run/mysqld && chown mysql:mysql /run/mysqld /var/lib/mysql \
 && printf '[mysqld]\nbind-address = 0.0.0.0\nskip-name-resolve\n' > /etc/mysql/mariadb.conf.d/99-docker.cnf
COPY mysql-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/mysql
EXPOSE 3306
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["mysqld"]
