#!/bin/bash
# The start of one Galera node of compose.ha.yaml (its entrypoint, in the mariadb
# image): what the image's own entrypoint lacks for a cluster — a recovery step, and a
# choice of who bootstraps that needs no person. At every start:
#
#   no data, cluster never seeded, first node, no Primary Component up   the image's
#       entrypoint initialises it (/docker-entrypoint-initdb.d: db/init.sql,
#       db/accounts.sh, accounts.sql) with Galera off; then it bootstraps a new
#       cluster (--wsrep-new-cluster) and marks the cluster seeded in its state volume
#   no data otherwise          waits for a node that is Synced and Primary and joins
#       it: a full state transfer (mariabackup SST)
#   data                       its position recovered (mariadbd --wsrep-recover); a
#       Primary Component up somewhere: joins it from that position (IST: only what it
#       missed), a donor that is not the writer first. None up (the whole cluster
#       stopped, cleanly or killed): each node posts its position, the nodes read each
#       other's through their probes (GET /position), and the most advanced one (then
#       safe_to_bootstrap, then the first in GALERA_NODES) bootstraps, once every node
#       has posted, or GALERA_BOOTSTRAP_WAIT seconds passed and most nodes have; the
#       others join it. Fewer (the others' machines gone for good): it waits for a
#       person, who makes it bootstrap with `touch $GALERA_STATE/bootstrap-here`.
#   Joiners go one at a time, in GALERA_NODES order (my_turn).
#
# Beside the server, the node's probe (probe.sh through socat on port 9200, as the
# mysql user): HAProxy's check, compose's health check, and how the nodes ask each
# other whether a Primary Component is up. The same decisions as the local launcher's
# (local/src/galera.ts, planCluster), taken by each node on its own.
#
#   GALERA_NODE             this node's name (db-1), as compose names its service
#   GALERA_NODES            every node, comma-separated, in HAProxy's order (db-1,db-2,db-3)
#   GALERA_STATE            the node's state volume (/var/lib/bazaar-galera): its posted
#                           position, and on the first node "seeded". Nothing in it is
#                           read by another node, so it need not be shared: in compose
#                           the nodes share one, on Swarm each node has its own.
#   GALERA_BOOTSTRAP_WAIT   seconds to wait for every node's position before the most
#                           advanced of a majority bootstraps (60)
set -eo pipefail

name=${GALERA_NODE:?GALERA_NODE: this node\'s name}
IFS=, read -ra nodes <<<"${GALERA_NODES:?GALERA_NODES: every node, comma-separated}"
state=${GALERA_STATE:-/var/lib/bazaar-galera}
wait_all=${GALERA_BOOTSTRAP_WAIT:-60}
here=$(dirname "${BASH_SOURCE[0]}")
datadir=/var/lib/mysql
probe_port=9200

note() { printf '%s [Note] [galera-node %s]: %s\n' "$(date -u +%FT%TZ)" "$name" "$*"; }

peers=()
for n in "${nodes[@]}"; do [ "$n" = "$name" ] || peers+=("$n"); done
# The nodes asked for a state transfer: the others from the last, since HAProxy's
# writer is the first healthy one (a donor is Desynced while it sends, so its probe
# fails); the trailing comma lets any node donate when none of these can.
donors=""
for ((i = ${#peers[@]} - 1; i >= 0; i--)); do donors+="${peers[i]},"; done

# The body of node $1's probe's answer to GET $2, if it answers 200 within 2 s.
ask() {
	local answer
	answer=$(timeout 2 bash -c "exec 3<>/dev/tcp/$1/$probe_port && printf 'GET $2 HTTP/1.0\r\n\r\n' >&3 && cat <&3" 2>/dev/null) || return 1
	[[ $answer == HTTP/1.?' 200 '* ]] || return 1
	tail -n 1 <<<"$answer"
}

# Whether node $1's probe answers 200 (Synced and Primary).
synced() {
	ask "$1" / >/dev/null
}

# A peer in the Primary Component, if any.
primary_peer() {
	local p
	for p in "${peers[@]}"; do
		if synced "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Whether this node may join now: joiners go one at a time, in GALERA_NODES order (two
# at once, one's IST came short and it hung: MariaDB 10.11). Every node before this
# one is Synced, or not running (its name does not resolve), or it waited long enough.
my_turn() {
	local n
	((SECONDS - since > wait_all)) && return 0
	for n in "${nodes[@]}"; do
		[ "$n" = "$name" ] && return 0
		getent hosts "$n" >/dev/null || continue
		synced "$n" || return 1
	done
}

# mariadbd in the foreground as the mysql user, replacing this script (it gets the
# container's SIGTERM). Only the nodes whose names resolve now are listed: Galera
# learns the others from them.
start() {
	local members=() n
	for n in "${nodes[@]}"; do getent hosts "$n" >/dev/null && members+=("$n"); done
	note "starting mariadbd $*"
	local IFS=,
	exec gosu mysql mariadbd --wsrep_node_name="$name" --wsrep_cluster_address="gcomm://${members[*]}" \
		--wsrep_sst_donor="$donors" "$@"
}

mkdir -p "$state" /run/mysqld
chown mysql:mysql "$state" "$datadir" /run/mysqld
gosu mysql socat -T2 "TCP-LISTEN:$probe_port,reuseaddr,fork" EXEC:"bash $here/probe.sh" &

# ---- no data ---------------------------------------------------------------------
# (A Primary Component up means the cluster exists: its seeded mark was lost, not its data.)
if [ ! -e "$state/seeded" ] && [ "$name" = "${nodes[0]}" ] && ! primary_peer >/dev/null; then
	# A first load cut short leaves a half-made data dir: start it again from scratch.
	if [ -d "$datadir/mysql" ]; then
		note "the cluster was never seeded: the first load starts again"
		find "$datadir" -mindepth 1 -delete
	fi
	note "first start: loading /docker-entrypoint-initdb.d with Galera off, then bootstrapping"
	docker-entrypoint.sh mariadbd --wsrep_on=OFF &
	init=$!
	# The entrypoint's temporary server has no networking: 3306 answers once it has
	# finished and started the real one, which is stopped once it answers a query —
	# not sooner: a SIGTERM between its listening and its being ready was never acted
	# on (MariaDB 10.11; seen once on Swarm: the node hung there for good).
	until timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/3306' 2>/dev/null &&
		gosu mysql mariadb --protocol=socket -umysql --connect-timeout=1 -e 'SELECT 1' >/dev/null 2>&1; do
		kill -0 "$init" 2>/dev/null || {
			note "initialisation failed"
			exit 1
		}
		sleep 0.5
	done
	kill -TERM "$init"
	wait "$init" || true
	touch "$state/seeded"
	start --wsrep-new-cluster
fi
if [ ! -d "$datadir/mysql" ]; then
	note "no data: waiting for a Synced node to copy it from (the nodes before this one first)"
	since=$SECONDS
	until primary_peer >/dev/null && my_turn; do sleep 1; done
	start
fi

# ---- data: recover, then join or bootstrap -----------------------------------------
log=$(mktemp)
chown mysql "$log"
gosu mysql mariadbd --wsrep-recover --log-error="$log" || true
position=$(sed -n 's/.*Recovered position: *\([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' "$log" | tail -n 1)
rm -f "$log"
seqno=${position##*:}
seqno=${seqno:--1}
safe=$(sed -n 's/^safe_to_bootstrap: *//p' "$datadir/grastate.dat" 2>/dev/null || true)
note "recovered position ${position:-none}, safe_to_bootstrap ${safe:-none}"
from=()
if [ -n "$position" ] && [ "$seqno" -ge 0 ]; then from=(--wsrep-start-position="$position"); fi

# Posts this node's position: "seqno safe_to_bootstrap epoch what" (written whole).
post() {
	printf '%s %s %s %s\n' "$seqno" "${safe:-0}" "$(date +%s)" "$1" >"$state/.pos-$name.tmp"
	mv -f "$state/.pos-$name.tmp" "$state/pos-$name"
}

# The position node $1 posted: this node's from its file, a peer's through its probe.
position_of() {
	if [ "$1" = "$name" ]; then
		cat "$state/pos-$name" 2>/dev/null
		return
	fi
	ask "$1" /position
}

# The node to bootstrap: of the positions posted in the last 5 s, the highest seqno,
# then safe_to_bootstrap, then the first in GALERA_NODES; empty while one is
# bootstrapping (posted in the last minute), while a node has not posted and the wait
# is not over, and after the wait unless most nodes posted: a node that cannot reach
# the others must not start a cluster of its own beside theirs (on Swarm a peer it
# cannot see may well be running), so a lone survivor waits for a person.
choose() {
	local now n s sf at what best="" best_s=-2 best_sf=-1 posted=0
	if [ -e "$state/bootstrap-here" ]; then
		rm -f "$state/bootstrap-here"
		note "told to bootstrap ($state/bootstrap-here)"
		echo "$name"
		return 0
	fi
	now=$(date +%s)
	for n in "${nodes[@]}"; do
		read -r s sf at what < <(position_of "$n") || continue
		if [ "$what" = bootstrapping ] && ((now - at <= 60)) && [ "$n" != "$name" ]; then return 0; fi
		((now - at <= 5)) && [ "$what" = waiting ] || continue
		posted=$((posted + 1))
		if ((s > best_s || (s == best_s && sf > best_sf))); then best=$n best_s=$s best_sf=$sf; fi
	done
	if ((posted == ${#nodes[@]} || (SECONDS - since > wait_all && 2 * posted > ${#nodes[@]}))); then echo "$best"; fi
}

since=$SECONDS
announced=""
while :; do
	if p=$(primary_peer); then
		if my_turn; then
			note "joining the Primary Component through $p"
			rm -f "$state/pos-$name"
			start "${from[@]}"
		fi
		sleep 1
		continue
	fi
	post waiting
	chosen=$(choose)
	if [ "$chosen" = "$name" ]; then
		note "no Primary Component up, and this node is the most advanced: bootstrapping"
		post bootstrapping
		sed -i 's/^safe_to_bootstrap: *0/safe_to_bootstrap: 1/' "$datadir/grastate.dat" 2>/dev/null || true
		start --wsrep-new-cluster "${from[@]}"
	fi
	if [ -z "$announced" ]; then
		note "no Primary Component up: waiting for the others' positions (the most advanced bootstraps; alone, touch $state/bootstrap-here to bootstrap this one)"
		announced=1
	fi
	sleep 1
done
