-- compose.ha.yaml's Galera nodes: the account state transfers (mariabackup on the
-- donor) and the nodes' probe log in with, run once on the first node's first
-- start (/docker-entrypoint-initdb.d/30-galera.sql), after db/init.sql and
-- db/accounts.sh; it reaches the other nodes with the data. unix_socket: only a
-- process of the OS user mysql on the node itself can use it, with no password.
CREATE USER IF NOT EXISTS 'mysql'@'localhost' IDENTIFIED VIA unix_socket;
GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'mysql'@'localhost';
