-- recgen.sentiment(), the social_posts trigger, concerns and their consent rules
BEGIN;
SELECT plan(35);

-- the functions and their declared properties
SELECT has_function('recgen', 'sentiment', ARRAY['text']);
SELECT volatility_is('recgen', 'sentiment', ARRAY['text'], 'immutable');
SELECT is((SELECT proisstrict AND proparallel = 's' FROM pg_proc WHERE oid = 'recgen.sentiment(text)'::regprocedure),
          true, 'sentiment is strict and parallel safe');
SELECT volatility_is('recgen', 'sentiment_detail', ARRAY['text'], 'immutable');
SELECT is(recgen.sentiment(NULL), NULL, 'NULL in, NULL out');

-- the method's behaviour (signs and orderings, not stored numbers)
SELECT cmp_ok(recgen.sentiment('The service was good.'), '>', 0::real, 'a positive word scores positive');
SELECT cmp_ok(recgen.sentiment('The service was not good.'), '<', 0::real, 'negation flips the sign');
SELECT cmp_ok(recgen.sentiment('The service was very good.'), '>', recgen.sentiment('The service was good.'), 'a booster raises the score');
SELECT cmp_ok(recgen.sentiment('The service was kind of good.'), '<', recgen.sentiment('The service was good.'), 'a dampener lowers the score');
SELECT cmp_ok(recgen.sentiment('The service was GOOD.'), '>', recgen.sentiment('The service was good.'), 'ALL CAPS emphasis');
SELECT cmp_ok(recgen.sentiment('The service was good!!!'), '>', recgen.sentiment('The service was good.'), 'exclamation marks emphasise');
SELECT cmp_ok(recgen.sentiment('The food was good, but the service was awful'), '<', 0::real, '"but" shifts the weight to what follows');
SELECT cmp_ok(recgen.sentiment('I ❤️ this 😁'), '>', 0::real, 'emoji count through their descriptions');
SELECT is(recgen.sentiment('the bus leaves at nine from the station'), 0::real, 'no sentiment words: neutral');
SELECT is(recgen.sentiment(''), 0::real, 'empty text: neutral');
SELECT ok((SELECT abs(pos + neu + neg - 1) < 0.002 AND compound = recgen.sentiment('Great app, awful fees!')
             FROM recgen.sentiment_detail('Great app, awful fees!')),
          'detail proportions sum to one and compound matches sentiment()');
SELECT ok((SELECT bool_and(recgen.sentiment(repeat(w || ' ', 2000)) BETWEEN -1 AND 1)
             FROM unnest(ARRAY['love', 'hate', 'but', '😁', 'NOT good!?']) w),
          'long texts stay within [-1, 1]');

-- trigger on social posts
INSERT INTO recgen.customers (customer_id, first_name, consent_profiling, consent_social)
VALUES (9001, 'Ann', true, true), (9002, 'Bob', true, false);
INSERT INTO recgen.social_posts (post_id, customer_id, body, posted_at) VALUES
    (1, 9001, 'My home loan application is a nightmare, so slow and confusing.', '2026-03-01'),
    (2, 9001, 'Terrible hidden fees again. Not happy.', '2026-03-05'),
    (3, 9001, 'Great customer service today, thank you!', '2026-03-06'),
    (4, 9002, 'Awful delivery, the parcel arrived broken.', '2026-03-07');
SELECT is((SELECT count(*) FROM recgen.social_posts WHERE sentiment IS NULL), 0::bigint, 'insert stores sentiment');
SELECT is((SELECT sentiment FROM recgen.social_posts WHERE post_id = 2), recgen.sentiment('Terrible hidden fees again. Not happy.'),
          'the stored score is recgen.sentiment(body)');
UPDATE recgen.social_posts SET body = 'Fees refunded, brilliant!' WHERE post_id = 2;
SELECT cmp_ok((SELECT sentiment FROM recgen.social_posts WHERE post_id = 2), '>', 0::real, 'a changed body is rescored');
UPDATE recgen.social_posts SET sentiment = -1 WHERE post_id = 2;
SELECT cmp_ok((SELECT sentiment FROM recgen.social_posts WHERE post_id = 2), '>', 0::real, 'the score cannot be overwritten by hand');

-- concerns follow the posts
SELECT ok(EXISTS (SELECT 1 FROM recgen.customer_concerns WHERE customer_id = 9001 AND topic = 'home loan application'
                  AND polarity = -1 AND example_post_id = 1 AND strength > 0),
          'a home loan complaint becomes a concern');
SELECT ok(EXISTS (SELECT 1 FROM recgen.customer_concerns WHERE customer_id = 9001 AND topic = 'customer service' AND polarity = 1),
          'praise is recorded with polarity +1');
SELECT ok(EXISTS (SELECT 1 FROM recgen.customer_concerns WHERE customer_id = 9001 AND topic = 'fees' AND polarity = 1)
          AND NOT EXISTS (SELECT 1 FROM recgen.customer_concerns WHERE customer_id = 9001 AND topic = 'fees' AND polarity = -1),
          'editing a post moves its concern');
SELECT is((SELECT count(*) FROM recgen.customer_concerns WHERE customer_id = 9002), 0::bigint,
          'no concerns without social consent');
SELECT is(recgen.refresh_concerns(9002), 0, 'refresh_concerns gives a non-consenting customer nothing');
INSERT INTO recgen.concern_topics (topic, pattern) VALUES ('nightmare', '\mnightmare\M');
SELECT ok(EXISTS (SELECT 1 FROM recgen.customer_concerns WHERE customer_id = 9001 AND topic = 'nightmare'),
          'a new topic applies at once');
INSERT INTO recgen.products (sku, name, category, price) VALUES ('T-MORT', 'Tracker Mortgage', 'mortgages', 0);
SELECT ok(recgen.refresh_concerns() > 0, 'refresh_concerns recomputes everyone');
SELECT is((SELECT categories FROM recgen.customer_concern_targets WHERE customer_id = 9001 AND topic = 'home loan application' AND polarity = -1),
          ARRAY['mortgages'], 'concern targets resolve the categories of a topic');

-- row-level security for analysts, and withdrawal of consent
CREATE ROLE recgen_tap_analyst IN ROLE recgen_analyst;
SET LOCAL ROLE recgen_tap_analyst;
SELECT is((SELECT count(*) FROM recgen.social_posts WHERE customer_id = 9002), 0::bigint, 'analysts do not see posts without social consent');
SELECT ok((SELECT count(*) FROM recgen.customer_concerns WHERE customer_id = 9001) > 0, 'analysts see concerns of consenting customers');
RESET ROLE;
UPDATE recgen.customers SET consent_social = false WHERE customer_id = 9001;
SELECT is((SELECT count(*) FROM recgen.customer_concerns WHERE customer_id = 9001), 0::bigint,
          'withdrawing social consent deletes the concerns at once');
UPDATE recgen.customers SET consent_social = true WHERE customer_id = 9001;
SELECT ok((SELECT count(*) FROM recgen.customer_concerns WHERE customer_id = 9001) > 0,
          'giving consent again recomputes them');
UPDATE recgen.customers SET consent_profiling = false WHERE customer_id = 9001;
SELECT is((SELECT count(*) FROM recgen.customer_concerns WHERE customer_id = 9001), 0::bigint,
          'withdrawing profiling consent deletes the concerns at once too');
UPDATE recgen.customers SET consent_profiling = true WHERE customer_id = 9001;
SELECT ok((SELECT count(*) FROM recgen.customer_concerns WHERE customer_id = 9001) > 0,
          'and giving it again recomputes them');

SELECT * FROM finish();
ROLLBACK;
