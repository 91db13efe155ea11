#!/bin/bash
# Sets the app accounts' passwords (API_DB_PASSWORD, ADMIN_DB_PASSWORD, or the files
# named by API_DB_PASSWORD_FILE / ADMIN_DB_PASSWORD_FILE: compose's generated
# secrets), replacing the defaults db/init.sql created them with.
#
# compose mounts it as /docker-entrypoint-initdb.d/20-accounts.sh, after
# 10-init.sql; the mysql image's entrypoint runs it once, when the data volume is
# empty. It *sources* a script that is not executable and *runs* one that is: this
# file is committed executable, but a checkout may lose the bit (and Docker
# Desktop's bind mounts on Mac and Windows show every file as executable), so it
# works both ways. Sourced, the entrypoint's own docker_process_sql (SQL as root
# on the initialisation server) is there already; run, it loads the entrypoint's
# functions itself — the script is safe to source, it only runs its main when
# executed — and reads the server's socket with docker_setup_env.
# Any failure stops the initialisation (the entrypoint runs under `set -e`) rather
# than start a database whose accounts still have init.sql's default passwords.
# The local stack does the same with ALTER USER on every start (local/src/mariadb.ts).

# Fails the script, sourced (return) or run (exit): `bazaar_fail … || return 1 2>/dev/null || exit 1`.
bazaar_fail() {
	echo "accounts.sh: $*" >&2
	return 1
}

if ! declare -F docker_process_sql >/dev/null; then
	entrypoint=${BAZAAR_DOCKER_ENTRYPOINT:-/usr/local/bin/docker-entrypoint.sh} # overridable for tests
	if [ -r "$entrypoint" ]; then
		# shellcheck source=/dev/null
		. "$entrypoint"
		docker_setup_env mysqld
	fi
	declare -F docker_process_sql >/dev/null || bazaar_fail "run me from the mysql image's /docker-entrypoint-initdb.d" || return 1 2>/dev/null || exit 1
fi

# NAME, else the contents of the file NAME_FILE names.
bazaar_secret() {
	local name=$1 file_var="${1}_FILE"
	if [ -n "${!name:-}" ]; then
		printf '%s' "${!name}"
	elif [ -n "${!file_var:-}" ] && [ -r "${!file_var}" ]; then
		cat "${!file_var}"
	fi
}

bazaar_api_password=$(bazaar_secret API_DB_PASSWORD)
bazaar_admin_password=$(bazaar_secret ADMIN_DB_PASSWORD)
if [ -z "$bazaar_api_password" ] || [ -z "$bazaar_admin_password" ]; then
	bazaar_fail "API_DB_PASSWORD and ADMIN_DB_PASSWORD (or their _FILE) must be set" || return 1 2>/dev/null || exit 1
fi

# A quoted SQL string literal: backslashes, then single quotes, escaped (MySQL's
# default sql_mode reads backslash escapes in string literals).
bazaar_sql_string() {
	local s=${1//\\/\\\\}
	local q="'"
	printf "'%s'" "${s//$q/\\$q}"
}

echo "accounts.sh: setting the passwords of bazaar_api and bazaar_admin"
docker_process_sql <<-SQL || bazaar_fail "ALTER USER failed" || return 1 2>/dev/null || exit 1
	ALTER USER 'bazaar_api'@'%' IDENTIFIED BY $(bazaar_sql_string "$bazaar_api_password");
	ALTER USER 'bazaar_admin'@'%' IDENTIFIED BY $(bazaar_sql_string "$bazaar_admin_password");
SQL
unset bazaar_api_password bazaar_admin_password
