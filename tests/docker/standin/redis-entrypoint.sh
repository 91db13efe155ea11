#!/bin/sh
# The redis image's defaults for a container: no protected mode (the network is the
# boundary), every interface. A first argument that is an option means redis-server.
set -e
case "$1" in -*) set -- redis-server "$@" ;; esac
if [ "$1" = redis-server ]; then
	shift
	conf=""
	case "$1" in *.conf) conf=$1; shift ;; esac
	exec redis-server $conf --protected-mode no "$@"
fi
exec "$@"
