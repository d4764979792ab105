-- bench/sql/hops12.sql - the profile ops of the first two CDP hops,
-- examples/cdp/migrations/0.7.1_to_0.7.2.json and 0.7.2_to_0.8.0.json, as
-- the temporary view hops12 (id, doc) over the table `old` (loaded with
-- COPY by bench/20-upgrade.sh). upgrade-2hops.sql and upgrade-3hops.sql
-- include it and INSERT ... SELECT from it into the keyed table `new`; the
-- view is inlined into their queries, so it costs nothing of its own.
--
-- Op semantics as in src/migrate/migrate.h: default sets when absent or
-- null; convert to integer keeps integral numbers, parses strings holding
-- one, maps true/false to 1/0 and fails on anything else (the casts of
-- text to bigint below raise that error); rename moves a present value
-- (null included) and creates the objects on the way; remove and set as
-- named. The two hops are written as their composition, the way one
-- would write it for speed: the large document is taken apart once
-- (minus the five keys the ops touch) and joined once with the new keys;
-- "metadata.schema" gets its final value 0.8.0 directly (hop 1 sets
-- 0.7.2, hop 2 overwrites it). An earlier form with one LATERAL per hop
-- was about 1.5x slower. The output equals ferry's (checked with
-- `jq -S`, which normalises numbers).
CREATE TEMP VIEW hops12 (id, doc) AS
SELECT old.id,
       (old.doc - '{pii,stats,segments,metadata,age}'::text[])
       || jsonb_build_object(
            'stats', coalesce(nullif(old.doc -> 'stats', 'null'), '{}')
               || jsonb_build_object(
                    'visits', coalesce(nullif(old.doc -> 'stats' -> 'visits', 'null'), '0'),
                    'views', coalesce(nullif(old.doc -> 'stats' -> 'views', 'null'), '0')),
            'segments', coalesce(nullif(old.doc -> 'segments', 'null'), '[]'),
            'metadata', coalesce(nullif(old.doc -> 'metadata', 'null'), '{}')
               || '{"schema": "0.8.0"}')
       || CASE
            WHEN coalesce(old.doc -> 'age', 'null') = 'null' THEN
              CASE WHEN old.doc ? 'age' THEN '{"age": null}'::jsonb ELSE '{}' END
            WHEN jsonb_typeof(old.doc -> 'age') IN ('number', 'string') THEN
              jsonb_build_object('age',
                CASE WHEN (old.doc ->> 'age')::numeric = trunc((old.doc ->> 'age')::numeric)
                     THEN (old.doc ->> 'age')::numeric::bigint
                     ELSE ('convert: not an integer: ' || (old.doc ->> 'age'))::bigint END)
            WHEN jsonb_typeof(old.doc -> 'age') = 'boolean' THEN
              jsonb_build_object('age', CASE WHEN (old.doc -> 'age')::boolean THEN 1 ELSE 0 END)
            ELSE jsonb_build_object('age',
                ('convert: not an integer: ' || jsonb_typeof(old.doc -> 'age'))::bigint)
          END
       || CASE WHEN p.pii = '{}' AND p.contact = '{}' THEN '{}'::jsonb
          ELSE jsonb_build_object('data', coalesce(old.doc -> 'data', '{}')
               || CASE WHEN p.pii = '{}' THEN '{}'::jsonb
                  ELSE jsonb_build_object('pii',
                       coalesce(old.doc -> 'data' -> 'pii', '{}') || p.pii) END
               || CASE WHEN p.contact = '{}' THEN '{}'::jsonb
                  ELSE jsonb_build_object('contact',
                       coalesce(old.doc -> 'data' -> 'contact', '{}') || p.contact) END)
          END
FROM old,
LATERAL (
    SELECT CASE WHEN old.doc -> 'pii' ? 'name'
                THEN jsonb_build_object('firstname', old.doc -> 'pii' -> 'name') ELSE '{}' END
        || CASE WHEN old.doc -> 'pii' ? 'surname'
                THEN jsonb_build_object('lastname', old.doc -> 'pii' -> 'surname') ELSE '{}' END
        || CASE WHEN old.doc -> 'pii' ? 'birthdate'
                THEN jsonb_build_object('birthday', old.doc -> 'pii' -> 'birthdate') ELSE '{}' END
           AS pii,
           CASE WHEN old.doc -> 'pii' ? 'email'
                THEN jsonb_build_object('email', old.doc -> 'pii' -> 'email') ELSE '{}' END
        || CASE WHEN old.doc -> 'pii' ? 'telephone'
                THEN jsonb_build_object('phone', old.doc -> 'pii' -> 'telephone') ELSE '{}' END
           AS contact
    OFFSET 0) p;
