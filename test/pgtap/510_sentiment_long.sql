-- 510_sentiment_long.sql - recgen.sentiment() on a 10 MB post: linear time
-- (the "but" rule through per-value heaps, identical to the reference's
-- first-equal-value walk), cancellable while it scores, and the backend's
-- memory back to what it was afterwards.
BEGIN;
SELECT plan(5);

-- the backend's memory before any long text (the lexicon loaded)
CREATE TEMP TABLE mem (at text, bytes bigint);
SELECT recgen.sentiment('warm the lexicon up: good');
INSERT INTO mem SELECT 'before', sum(total_bytes) FROM pg_backend_memory_contexts;

-- a guard, not a measurement: the quadratic walk needed hours for this text
SET LOCAL statement_timeout = '120s';

-- 'good but bad ' x n: good 1.9 and bad -2.5; the first "but" halves the
-- first good, every later good and bad is the first of its value when its
-- turn comes and is multiplied by 1.5: pos = 1.95 + 3.85 (n - 1),
-- neg = 4.75 n, neu = n (the buts), each divided by their sum
SELECT is((SELECT row(d.pos, d.neu, d.neg)::text
           FROM recgen.sentiment_detail(repeat('good but bad ', 800000)) d),
          (SELECT row(round((p / t)::numeric, 3)::real, round((u / t)::numeric, 3)::real,
                      round((g / t)::numeric, 3)::real)::text
           FROM (SELECT 1.95 + 3.85 * (n - 1) AS p, 4.75 * n AS g, n::float8 AS u,
                        1.95 + 3.85 * (n - 1) + 4.75 * n + n AS t
                 FROM (VALUES (800000)) v(n)) x),
          'a 10.4 MB post with 800,000 "but"s scores, its proportions as the rule gives them');
SELECT is(recgen.sentiment(repeat('good but bad ', 3)), recgen.sentiment('good but bad good but bad good but bad '),
          'a short text with the same words scores the same');
RESET statement_timeout;

-- cancel: the cancel is pending when scoring starts; it must stop inside
-- recgen.sentiment (the context names it), not after the text was scored.
-- The posts are rows (a literal would be scored while planning).
CREATE TEMP TABLE long_post (id int, body text);
INSERT INTO long_post VALUES (1, repeat('good bad ', 1200000)),
                             (2, repeat('très bon 😀 but mauvais ', 400000));
CREATE FUNCTION pg_temp.cancel_while_scoring(post int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    ctx text;
    r boolean;
BEGIN
    SELECT pg_cancel_backend(pg_backend_pid()) AND recgen.sentiment(p.body) > -2 INTO r
    FROM long_post p WHERE p.id = post;
    RETURN 'not cancelled';
EXCEPTION WHEN query_canceled THEN
    GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
    RETURN ctx;
END
$$;
SELECT matches(pg_temp.cancel_while_scoring(1), 'recgen\.sentiment of a text of 10800000 bytes',
               'a cancel stops the scoring of a 10.8 MB post from inside recgen.sentiment');
SELECT matches(pg_temp.cancel_while_scoring(2), 'recgen\.sentiment of a text of 10800000 bytes',
               'and of a non-ASCII one');

-- memory: what the 10 MB posts needed is given back
SELECT recgen.sentiment(repeat('good bad ', 1200000));
SELECT recgen.sentiment_detail(repeat('très bon 😀 but mauvais ', 400000));
INSERT INTO mem SELECT 'after', sum(total_bytes) FROM pg_backend_memory_contexts;
SELECT cmp_ok((SELECT bytes FROM mem WHERE at = 'after') - (SELECT bytes FROM mem WHERE at = 'before'),
              '<', 2 * 1024 * 1024::bigint,
              'after scoring two 10 MB posts the backend holds less than 2 MB more than before');

SELECT * FROM finish();
ROLLBACK;
