#!/bin/bash
# A Galera node's health for HAProxy, as local/src/galera-probe.ts answers it
# locally: HTTP 200 only while the node is Synced in the Primary Component, 503
# otherwise (a joiner, a donor, a node cut off from the others, or one that does not
# answer). node.sh runs it with socat, one run per connection on port 9200, as the
# OS user mysql (the unix_socket account of db/galera/accounts.sql): what the
# mariadb image already carries, so nothing is added to the data tier.
#
#   socat TCP-LISTEN:9200,reuseaddr,fork EXEC:"bash probe.sh"
#
# GET /position answers instead with the position this node posted while no Primary
# Component is up (node.sh's post: "seqno safe_to_bootstrap epoch what"), 404 when it
# posted none: how the nodes compare positions, on one host or several. GET /alive
# is the health check of an orchestrator that replaces unhealthy tasks (Swarm:
# deploy/stack.ha.yaml), for which a donor, a joiner or a node cut off from the others
# is busy, not dead: 200 while the server answers, whatever its state, and while no
# server listens on its socket (node.sh waiting for its turn or for the others'
# positions, a state transfer under way — the socket file may be left from the
# position's recovery); 503 only for a server that takes the connection and does not
# answer. (On Swarm a task that is not healthy is not in the DNS: a waiting node
# marked unhealthy could not be found by the others.)
read -r -t 2 _ target _ || true
while IFS= read -r -t 2 line && [ -n "${line%$'\r'}" ]; do :; done
reply() {
	printf 'HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n' \
		"$1" $((${#2} + 1)) "$2"
}
if [ "$target" = /position ]; then
	posted=$(cat "${GALERA_STATE:-/var/lib/bazaar-galera}/pos-${GALERA_NODE}" 2>/dev/null) || posted=""
	if [ -n "$posted" ]; then reply "200 OK" "$posted"; else reply "404 Not Found" "no position posted"; fi
	exit 0
fi
status=$(mariadb --protocol=socket -umysql -N -B --connect-timeout=1 -e \
	"SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_status')" 2>&1)
local_state=$(awk '$1 == "wsrep_local_state_comment" { print $2 }' <<<"$status")
cluster=$(awk '$1 == "wsrep_cluster_status" { print $2 }' <<<"$status")
if [ "$local_state" = Synced ] && [ "$cluster" = Primary ] || { [ "$target" = /alive ] && [ -n "$local_state" ]; }; then
	code="200 OK" body="$local_state / $cluster"
elif [ "$target" = /alive ] && [[ $status == *"ERROR 2002 "* ]]; then
	code="200 OK" body="starting (no server on the socket yet)"
else
	code="503 Service Unavailable" body=${local_state:+$local_state / $cluster}
	body=${body:-$(head -c 200 <<<"$status" | tr '\n' ' ')}
fi
reply "$code" "$body"
