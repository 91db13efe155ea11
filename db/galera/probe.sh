#!/bin/bash
# A Galera node's health for HAProxy, as local/src/galera-probe.ts answers it
# locally: HTTP 200 only while the node is Synced in the Primary Component, 503
# otherwise (a joiner, a donor, a node cut off from the others, or one that does not
# answer). node.sh runs it with socat, one run per connection on port 9200, as the
# OS user mysql (the unix_socket account of db/galera/accounts.sql): what the
# mariadb image already carries, so nothing is added to the data tier.
#
#   socat TCP-LISTEN:9200,reuseaddr,fork EXEC:"bash probe.sh"
# The request (a line and headers up to a blank line) is read, not used.
while IFS= read -r -t 2 line && [ -n "${line%$'\r'}" ]; do :; done
status=$(mariadb --protocol=socket -umysql -N -B --connect-timeout=1 -e \
	"SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_status')" 2>&1)
local_state=$(awk '$1 == "wsrep_local_state_comment" { print $2 }' <<<"$status")
cluster=$(awk '$1 == "wsrep_cluster_status" { print $2 }' <<<"$status")
if [ "$local_state" = Synced ] && [ "$cluster" = Primary ]; then
	code="200 OK" body="Synced / Primary"
else
	code="503 Service Unavailable" body=${local_state:+$local_state / $cluster}
	body=${body:-$(head -c 200 <<<"$status" | tr '\n' ' ')}
fi
printf 'HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n' \
	"$code" $((${#body} + 1)) "$body"
