-- bench/sql/upgrade-3hops.sql - all three CDP hops (0.7.1 -> 0.8.1) of the
-- profiles in `old` into the keyed table `new`, for bench/20-upgrade.sh
-- (psql -f). The first two hops are the view of hops12.sql; the third is
-- examples/cdp/migrations/0.8.0_to_0.8.1.json, its Lua op
-- (0.8.1/profile.lua) written in SQL:
--   engagement  min(10, views / visits * ln(1 + visits)), rounded to two
--               decimals (0 without visits); stats members that are not
--               numbers count as 0;
--   tier        "new" (at most one visit), "engaged" (engagement >= 5),
--               else "casual";
-- set as data.metrics (data becomes {} if it is not an object or array),
-- then metadata.schema = "0.8.1".
-- OFFSET 0 keeps the hop-2 document a computed row: without it the
-- planner pastes the whole hop12 expression into each of the four places
-- that read it here.
\ir hops12.sql
INSERT INTO new (id, doc)
SELECT h.id,
       h.doc
       || jsonb_build_object('data',
            CASE WHEN jsonb_typeof(h.doc -> 'data') IN ('object', 'array')
                 THEN h.doc -> 'data' ELSE '{}' END
            || jsonb_build_object('metrics', jsonb_build_object(
                 'engagement', m.engagement,
                 'tier', CASE WHEN m.visits <= 1 THEN 'new'
                              WHEN m.engagement >= 5 THEN 'engaged'
                              ELSE 'casual' END)))
       || jsonb_build_object('metadata', (h.doc -> 'metadata') || '{"schema": "0.8.1"}')
FROM (SELECT id, doc FROM hops12 OFFSET 0) h,
LATERAL (
    SELECT s.visits,
           floor(CASE WHEN s.visits > 0
                      THEN least(10.0, s.views / s.visits * ln(1 + s.visits))
                      ELSE 0 END * 100 + 0.5) / 100 AS engagement
    FROM (SELECT CASE WHEN jsonb_typeof(h.doc -> 'stats' -> 'visits') = 'number'
                      THEN (h.doc -> 'stats' ->> 'visits')::float8 ELSE 0 END AS visits,
                 CASE WHEN jsonb_typeof(h.doc -> 'stats' -> 'views') = 'number'
                      THEN (h.doc -> 'stats' ->> 'views')::float8 ELSE 0 END AS views
          OFFSET 0) s
    OFFSET 0) m;
