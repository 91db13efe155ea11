#!/bin/bash
# The mysql image's entrypoint contract, for MariaDB (see mysql.Dockerfile); the
# mariadb stand-in (mariadb.Dockerfile) uses it too, so it also takes that image's
# names for what compose.ha.yaml sets: MARIADB_ROOT_PASSWORD[_FILE], and mariadbd
# for mysqld (the mariadb image also accepts the MYSQL_ names). Written
# for the stand-in: it provides what init scripts may rely on (docker_process_sql,
# docker_setup_env, file_env, mysql_note) under the same names, and is safe to source
# (`. /usr/local/bin/docker-entrypoint.sh` defines the functions and runs nothing).
set -eo pipefail
shopt -s nullglob

mysql_note() { printf '%s [Note] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*"; }
mysql_error() { printf '%s [ERROR] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*" >&2; exit 1; }

# VAR from $VAR, else from the file named by $VAR_FILE (Docker secrets); exported.
file_env() {
	local var=$1 file_var="${1}_FILE" value=${2:-}
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then mysql_error "both $var and $file_var are set"; fi
	if [ -n "${!var:-}" ]; then value=${!var}; elif [ -n "${!file_var:-}" ]; then value=$(<"${!file_var}"); fi
	export "$var"="$value"
	unset "$file_var"
}

# mysqld's effective setting NAME, with the arguments it will be started with.
mysql_get_config() {
	local name=$1; shift
	"$@" --verbose --help 2>/dev/null | awk -v name="$name" '$1 == name && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }'
}

docker_setup_env() {
	declare -g DATADIR SOCKET DATABASE_ALREADY_EXISTS
	DATADIR=$(mysql_get_config datadir "$@")
	SOCKET=$(mysql_get_config socket "$@")
	file_env MYSQL_ROOT_HOST '%'
	file_env MYSQL_DATABASE
	file_env MYSQL_USER
	file_env MYSQL_PASSWORD
	file_env MARIADB_ROOT_PASSWORD
	if [ -n "${MARIADB_ROOT_PASSWORD:-}" ]; then export MYSQL_ROOT_PASSWORD=$MARIADB_ROOT_PASSWORD; fi
	file_env MYSQL_ROOT_PASSWORD
	if [ -d "$DATADIR/mysql" ]; then DATABASE_ALREADY_EXISTS=true; fi
}

# SQL from stdin as root over the socket; --dont-use-mysql-root-password before the
# root password is set.
docker_process_sql() {
	local pass=()
	if [ "${1:-}" = --dont-use-mysql-root-password ]; then shift; elif [ -n "${MYSQL_ROOT_PASSWORD:-}" ]; then pass=(--password="$MYSQL_ROOT_PASSWORD"); fi
	if [ -n "${MYSQL_DATABASE:-}" ]; then set -- --database="$MYSQL_DATABASE" "$@"; fi
	mysql --protocol=socket --socket="$SOCKET" -uroot "${pass[@]}" --comments "$@"
}

docker_process_init_files() {
	local f
	for f; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then mysql_note "running $f"; "$f"; else mysql_note "sourcing $f"; . "$f"; fi ;;
			*.sql) mysql_note "running $f"; docker_process_sql <"$f" ;;
			*.sql.gz) mysql_note "running $f"; gunzip -c "$f" | docker_process_sql ;;
			*) mysql_note "ignoring $f" ;;
		esac
	done
}

docker_init_database() {
	if [ -z "${MYSQL_ROOT_PASSWORD:-}" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ] && [ -z "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
		mysql_error "Database is uninitialized and password option is not specified (MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD or MYSQL_RANDOM_ROOT_PASSWORD)"
	fi
	mysql_note "Initializing database files"
	mariadb-install-db --auth-root-authentication-method=normal --skip-test-db --datadir="$DATADIR" "${@:2}" >/dev/null
	mysql_note "Starting temporary server"
	"$@" --skip-networking --socket="$SOCKET" &
	local pid=$! i
	for i in $(seq 60); do
		if mysqladmin --socket="$SOCKET" -uroot ping >/dev/null 2>&1; then break; fi
		sleep 1
	done
	if [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
		MYSQL_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64); export MYSQL_ROOT_PASSWORD
		mysql_note "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
	fi
	local q="'" root=${MYSQL_ROOT_PASSWORD//\'/\'\'} host
	# mariadb-install-db also makes password-less root@127.0.0.1, ::1 and the hostname;
	# mysql's --initialize-insecure makes only root@localhost.
	for host in $(docker_process_sql --dont-use-mysql-root-password -N -e "SELECT host FROM mysql.user WHERE user = 'root' AND host <> 'localhost'"); do
		docker_process_sql --dont-use-mysql-root-password <<<"DROP USER 'root'@'$host';"
	done
	docker_process_sql --dont-use-mysql-root-password --database=mysql <<-SQL
		ALTER USER 'root'@'localhost' IDENTIFIED BY '$root';
		CREATE USER 'root'@'${MYSQL_ROOT_HOST}' IDENTIFIED BY '$root';
		GRANT ALL ON *.* TO 'root'@'${MYSQL_ROOT_HOST}' WITH GRANT OPTION;
		FLUSH PRIVILEGES;
	SQL
	if [ -n "${MYSQL_DATABASE:-}" ]; then docker_process_sql --database=mysql <<<"CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"; fi
	if [ -n "${MYSQL_USER:-}" ] && [ -n "${MYSQL_PASSWORD:-}" ]; then
		docker_process_sql --database=mysql <<<"CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '${MYSQL_PASSWORD//$q/$q$q}';"
		if [ -n "${MYSQL_DATABASE:-}" ]; then docker_process_sql --database=mysql <<<"GRANT ALL ON \`$MYSQL_DATABASE\`.* TO '$MYSQL_USER'@'%';"; fi
	fi
	docker_process_init_files /docker-entrypoint-initdb.d/*
	mysql_note "Stopping temporary server"
	kill "$pid"
	wait "$pid" || true
	mysql_note "MySQL init process done. Ready for start up."
}

_main() {
	if [ "${1:0:1}" = - ]; then set -- mysqld "$@"; fi
	if [ "$1" = mysqld ] || [ "$1" = mariadbd ]; then
		docker_setup_env "$@"
		if [ "$(id -u)" = 0 ]; then
			mkdir -p "$DATADIR" "$(dirname "$SOCKET")"
			chown -R mysql:mysql "$DATADIR" "$(dirname "$SOCKET")"
			# The mysql image re-runs itself as mysql (gosu); setpriv comes with util-linux.
			exec setpriv --reuid=mysql --regid=mysql --init-groups "$BASH_SOURCE" "$@"
		fi
		if [ -z "${DATABASE_ALREADY_EXISTS:-}" ]; then docker_init_database "$@"; fi
	fi
	exec "$@"
}

# Sourced (by an init script that is run, not sourced): define the functions only.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then _main "$@"; fi
