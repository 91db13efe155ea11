#!/bin/bash
# Sets the app accounts' passwords from the environment (API_DB_PASSWORD,
# ADMIN_DB_PASSWORD), replacing the defaults db/init.sql created them with.
#
# compose mounts it as /docker-entrypoint-initdb.d/20-accounts.sh, after
# 10-init.sql. The mysql image's entrypoint *sources* it (it is not executable:
# keep it mode 644), once, when the data volume is empty; docker_process_sql is the
# entrypoint's own function for running SQL as root on the initialisation server.
# Being sourced, it fails with `return 1`: the entrypoint runs under `set -e`, so
# that stops the container with the message instead of starting a database whose
# accounts still have init.sql's default passwords.
# The local stack does the same with ALTER USER on every start (local/src/mariadb.ts).

if ! declare -F docker_process_sql >/dev/null; then
	echo "accounts.sh: run me from the mysql image's /docker-entrypoint-initdb.d" >&2
	return 1 2>/dev/null || exit 1
fi

if [ -z "${API_DB_PASSWORD:-}" ] || [ -z "${ADMIN_DB_PASSWORD:-}" ]; then
	echo "accounts.sh: API_DB_PASSWORD and ADMIN_DB_PASSWORD must be set" >&2
	return 1
fi

# A quoted SQL string literal: backslashes, then single quotes, escaped (MySQL's
# default sql_mode reads backslash escapes in string literals).
bazaar_sql_string() {
	local s=${1//\\/\\\\}
	local q="'"
	printf "'%s'" "${s//$q/\\$q}"
}

echo "accounts.sh: setting the passwords of bazaar_api and bazaar_admin"
docker_process_sql <<-SQL
	ALTER USER 'bazaar_api'@'%' IDENTIFIED BY $(bazaar_sql_string "$API_DB_PASSWORD");
	ALTER USER 'bazaar_admin'@'%' IDENTIFIED BY $(bazaar_sql_string "$ADMIN_DB_PASSWORD");
SQL
