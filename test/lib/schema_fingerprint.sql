-- schema_fingerprint.sql - one line per fact of recgen's catalog, sorted, so
-- two databases' schemas can be compared with diff (test/integration/
-- 040_upgrade.sh: a fresh install against an upgraded one).
--
-- Covers what an upgrade can get wrong: relations and their options, row
-- security flags, columns (order, type, default, nullability, identity,
-- statistics target), constraints, indexes, triggers and whether they fire,
-- policies, functions with their whole definition (body, volatility,
-- security, settings), views, sequences, enum labels, privileges (ACLs,
-- grantee by name, sorted), comments, and which objects belong to the
-- extension. Object ids and other per-database numbers are left out.
\pset format unaligned
\pset tuples_only on
WITH
ns AS (SELECT oid FROM pg_namespace WHERE nspname = 'recgen'),
acl(kind, obj, acl) AS (
    SELECT 'rel', c.oid::regclass::text, c.relacl FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'func', p.oid::regprocedure::text, p.proacl FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'schema', n.nspname::text, n.nspacl FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'type', t.oid::regtype::text, t.typacl FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'column ' || a.attrelid::regclass::text, a.attname::text, a.attacl
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace IN (SELECT oid FROM ns) AND a.attacl IS NOT NULL
),
facts(line) AS (
    -- relations
    SELECT format('relation %s kind=%s persistence=%s rls=%s force_rls=%s options=%s',
                  c.oid::regclass, c.relkind, c.relpersistence, c.relrowsecurity,
                  c.relforcerowsecurity, c.reloptions)
    FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns)
    UNION ALL
    -- columns, numbered among the live ones (dropped columns leave gaps)
    SELECT format('column %s #%s %s %s notnull=%s default=%s identity=%s generated=%s collation=%s stats=%s',
                  a.attrelid::regclass,
                  row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
                  a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                  a.attcollation::regcollation, a.attstattarget)
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace IN (SELECT oid FROM ns) AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('constraint %s %s %s', co.conrelid::regclass, co.conname, pg_get_constraintdef(co.oid))
    FROM pg_constraint co WHERE co.connamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT format('trigger %s enabled=%s', pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace IN (SELECT oid FROM ns) AND NOT t.tgisinternal
    UNION ALL
    SELECT format('policy %s on %s cmd=%s permissive=%s roles=%s using=%s check=%s',
                  p.polname, p.polrelid::regclass, p.polcmd, p.polpermissive,
                  (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END, ',' ORDER BY 1)
                     FROM unnest(p.polroles) r),
                  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT format('function %s', replace(pg_get_functiondef(p.oid), E'\n', E'\n    '))
    FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM ns) AND p.prokind IN ('f', 'p', 'w')
    UNION ALL
    SELECT format('aggregate %s', p.oid::regprocedure)
    FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM ns) AND p.prokind = 'a'
    UNION ALL
    SELECT format('view %s %s', c.oid::regclass, replace(pg_get_viewdef(c.oid), E'\n', ' '))
    FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns) AND c.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('sequence %s type=%s start=%s inc=%s min=%s max=%s cache=%s cycle=%s',
                  s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement,
                  s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT format('type %s kind=%s labels=%s', t.oid::regtype, t.typtype,
                  (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))
    FROM pg_type t
    WHERE t.typnamespace IN (SELECT oid FROM ns) AND t.typtype IN ('e', 'd', 'r', 'm')
    UNION ALL
    -- privileges, one line per grant
    SELECT format('grant %s %s to %s: %s%s', a.kind, a.obj,
                  CASE WHEN x.grantee = 0 THEN 'public' ELSE x.grantee::regrole::text END,
                  x.privilege_type, CASE WHEN x.is_grantable THEN ' with grant option' ELSE '' END)
    FROM acl a, aclexplode(a.acl) x
    WHERE a.acl IS NOT NULL
    UNION ALL
    SELECT format('acl-default %s %s', a.kind, a.obj) FROM acl a WHERE a.acl IS NULL
    UNION ALL
    -- comments on anything in the schema (and on the schema itself)
    SELECT format('comment %s: %s', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description)
    FROM pg_description d
    WHERE d.classoid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass,
                         'pg_namespace'::regclass, 'pg_constraint'::regclass, 'pg_trigger'::regclass,
                         'pg_policy'::regclass)
      AND pg_describe_object(d.classoid, d.objoid, d.objsubid) ~ 'recgen'
    UNION ALL
    -- membership of the extension
    SELECT format('member %s', pg_describe_object(dep.classid, dep.objid, dep.objsubid))
    FROM pg_depend dep JOIN pg_extension e ON e.oid = dep.refobjid
    WHERE dep.refclassid = 'pg_extension'::regclass AND e.extname = 'recgen' AND dep.deptype = 'e'
)
SELECT line FROM facts ORDER BY line COLLATE "C";
