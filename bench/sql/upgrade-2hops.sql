-- bench/sql/upgrade-2hops.sql - the first two CDP hops (0.7.1 -> 0.8.0) of
-- the profiles in `old` into the keyed table `new`, for bench/20-upgrade.sh
-- (psql -f). The ops are in hops12.sql.
\ir hops12.sql
INSERT INTO new (id, doc) SELECT id, doc FROM hops12;
