/*
 * bank.sql - generate the banking scenario recgen started from: customers
 * with profiles, card transactions by merchant category, a catalog of banking
 * products, the products each customer holds, and short social posts with
 * praise and complaints.
 *
 * Deterministic: every choice is an MD5 hash of a name and the row's ids,
 * so two runs give identical rows (no random(), no now()). Dates fall in a
 * fixed window: holdings 2024-01..2025-12, card transactions and posts
 * 2026-01-01..2026-06-30. Run by tools/load.sh in one transaction; it
 * replaces the recgen tables of the target database.
 *
 * Sizes: 4,000 customers; 17 products; 1-3 holdings per customer; 20-80 card
 * transactions per customer (about 200,000); posts from about a third of
 * the customers (1-3 each). Consent by hash of the id: profiling 85%,
 * marketing 75%, social 55%. Names, e-mails (example.com) and phone
 * numbers (the 07700 900xxx drama range) are fictional.
 */
\set ON_ERROR_STOP on
\set QUIET on
BEGIN;

-- u in [0, 1) from the first 28 bits of MD5(s)
CREATE FUNCTION pg_temp.u(s text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT ('x' || substr(md5(s), 1, 7))::bit(28)::int / 268435456.0 $$;

-- pick from a weighted list: the key whose cumulative weight covers u
CREATE TEMP TABLE weights (list text, key text, weight float8) ON COMMIT DROP;
INSERT INTO weights VALUES
    -- segments
    ('segment', 'student', 12), ('segment', 'young_professional', 25), ('segment', 'family', 28),
    ('segment', 'affluent', 15), ('segment', 'small_business', 10), ('segment', 'retired', 10),
    -- merchant categories per segment
    ('mcc:student', 'groceries', 25), ('mcc:student', 'restaurants', 20), ('mcc:student', 'entertainment', 15),
    ('mcc:student', 'online_shopping', 15), ('mcc:student', 'education', 12), ('mcc:student', 'travel', 5),
    ('mcc:student', 'electronics', 8),
    ('mcc:young_professional', 'groceries', 20), ('mcc:young_professional', 'restaurants', 20),
    ('mcc:young_professional', 'travel', 12), ('mcc:young_professional', 'online_shopping', 15),
    ('mcc:young_professional', 'entertainment', 10), ('mcc:young_professional', 'fuel', 8),
    ('mcc:young_professional', 'electronics', 8), ('mcc:young_professional', 'utilities', 7),
    ('mcc:family', 'groceries', 30), ('mcc:family', 'childcare', 12), ('mcc:family', 'home_improvement', 12),
    ('mcc:family', 'fuel', 12), ('mcc:family', 'utilities', 12), ('mcc:family', 'restaurants', 8),
    ('mcc:family', 'online_shopping', 8), ('mcc:family', 'healthcare', 6),
    ('mcc:affluent', 'travel', 22), ('mcc:affluent', 'restaurants', 20), ('mcc:affluent', 'groceries', 15),
    ('mcc:affluent', 'investments', 12), ('mcc:affluent', 'entertainment', 10),
    ('mcc:affluent', 'home_improvement', 10), ('mcc:affluent', 'electronics', 6), ('mcc:affluent', 'healthcare', 5),
    ('mcc:small_business', 'business_supplies', 30), ('mcc:small_business', 'fuel', 15),
    ('mcc:small_business', 'utilities', 12), ('mcc:small_business', 'online_shopping', 12),
    ('mcc:small_business', 'travel', 10), ('mcc:small_business', 'restaurants', 11),
    ('mcc:small_business', 'groceries', 10),
    ('mcc:retired', 'groceries', 30), ('mcc:retired', 'healthcare', 18), ('mcc:retired', 'travel', 14),
    ('mcc:retired', 'utilities', 14), ('mcc:retired', 'home_improvement', 10), ('mcc:retired', 'restaurants', 14),
    -- products a segment tends to hold
    ('hold:student', 'SAV-EASY', 30), ('hold:student', 'CARD-CASH', 30), ('hold:student', 'LOAN-PERS', 10),
    ('hold:student', 'INS-TRAVEL', 10),
    ('hold:young_professional', 'CARD-TRAVEL', 25), ('hold:young_professional', 'SAV-EASY', 20),
    ('hold:young_professional', 'MORT-FTB', 15), ('hold:young_professional', 'LOAN-CAR', 15),
    ('hold:young_professional', 'CARD-CASH', 20), ('hold:young_professional', 'INV-ROBO', 10),
    ('hold:family', 'MORT-FIX2', 25), ('hold:family', 'MORT-FIX5', 20), ('hold:family', 'SAV-KIDS', 20),
    ('hold:family', 'INS-HOME', 20), ('hold:family', 'CARD-CASH', 20), ('hold:family', 'LOAN-CAR', 10),
    ('hold:affluent', 'CARD-PREM', 25), ('hold:affluent', 'INV-ADVICE', 25), ('hold:affluent', 'SAV-ISA', 20),
    ('hold:affluent', 'MORT-FIX5', 15), ('hold:affluent', 'INS-TRAVEL', 15),
    ('hold:small_business', 'BUS-ACC', 45), ('hold:small_business', 'BUS-LOAN', 25),
    ('hold:small_business', 'CARD-CASH', 15), ('hold:small_business', 'SAV-EASY', 15),
    ('hold:retired', 'SAV-ISA', 30), ('hold:retired', 'INV-ADVICE', 20), ('hold:retired', 'INS-HOME', 20),
    ('hold:retired', 'INS-TRAVEL', 15), ('hold:retired', 'SAV-EASY', 15);

CREATE TEMP TABLE weight_ranges ON COMMIT DROP AS
SELECT list, key,
       (sum(weight) OVER w - weight) / sum(weight) OVER (PARTITION BY list) AS lo,
       sum(weight) OVER w / sum(weight) OVER (PARTITION BY list) AS hi
FROM weights
WINDOW w AS (PARTITION BY list ORDER BY key ROWS UNBOUNDED PRECEDING);

CREATE FUNCTION pg_temp.pick(list text, u float8) RETURNS text
LANGUAGE sql STABLE STRICT
AS $$ SELECT key FROM weight_ranges WHERE list = $1 AND $2 >= lo AND $2 < hi LIMIT 1 $$;

TRUNCATE recgen.social_posts, recgen.events, recgen.anonymous_events,
         recgen.customers, recgen.products RESTART IDENTITY CASCADE;

-- products -----------------------------------------------------------------

INSERT INTO recgen.products (sku, name, category, price, currency, tags, attributes, description,
                             stock, active, created_at)
VALUES
 ('MORT-FIX2', 'Two-Year Fixed Mortgage', 'mortgages', 999, 'GBP', '{home,fixed-rate}',
  '{"tier": 1, "rate_pct": 4.29, "fee_basis": "arrangement fee"}', 'A mortgage with the rate fixed for two years.', NULL, true, '2020-01-01'),
 ('MORT-FIX5', 'Five-Year Fixed Mortgage', 'mortgages', 999, 'GBP', '{home,fixed-rate}',
  '{"tier": 2, "rate_pct": 4.09, "fee_basis": "arrangement fee"}', 'A mortgage with the rate fixed for five years.', NULL, true, '2020-01-01'),
 ('MORT-FTB', 'First-Time Buyer Mortgage', 'mortgages', 0, 'GBP', '{home,first-home}',
  '{"tier": 1, "rate_pct": 4.49, "fee_basis": "no fee"}', 'A mortgage for a first home with a 5% deposit.', NULL, true, '2024-03-01'),
 ('LOAN-PERS', 'Personal Loan', 'loans', 0, 'GBP', '{borrowing}',
  '{"tier": 1, "rate_pct": 6.9}', 'Borrow 1,000 to 25,000 GBP over one to five years.', NULL, true, '2020-01-01'),
 ('LOAN-CAR', 'Car Finance', 'loans', 0, 'GBP', '{borrowing,car}',
  '{"tier": 1, "rate_pct": 7.4}', 'A loan for a new or used car.', NULL, true, '2021-06-01'),
 ('CARD-CASH', 'Cash-Back Credit Card', 'cards', 0, 'GBP', '{cashback,everyday}',
  '{"tier": 1, "cashback_pct": 1.0}', '1% cash back on everyday spending, no annual fee.', NULL, true, '2020-01-01'),
 ('CARD-TRAVEL', 'Travel Rewards Card', 'cards', 36, 'GBP', '{travel,no-fx-fee}',
  '{"tier": 2}', 'No foreign transaction fees and airport lounge passes.', NULL, true, '2022-02-01'),
 ('CARD-PREM', 'Premium Metal Card', 'cards', 195, 'GBP', '{travel,premium}',
  '{"tier": 3}', 'Travel insurance, concierge and higher rewards.', NULL, true, '2023-09-01'),
 ('SAV-EASY', 'Easy Access Saver', 'savings', 0, 'GBP', '{savings,flexible}',
  '{"tier": 1, "rate_pct": 3.1}', 'Save and withdraw whenever you like.', NULL, true, '2020-01-01'),
 ('SAV-ISA', 'Fixed-Rate Cash ISA', 'savings', 0, 'GBP', '{savings,tax-free}',
  '{"tier": 2, "rate_pct": 4.2}', 'Tax-free interest fixed for one year.', NULL, true, '2020-01-01'),
 ('SAV-KIDS', 'Junior Saver', 'savings', 0, 'GBP', '{savings,children}',
  '{"tier": 1, "rate_pct": 3.5}', 'A savings account for children under 16.', NULL, true, '2021-01-01'),
 ('INV-ADVICE', 'Investment Advice Session', 'investments', 250, 'GBP', '{advice,wealth}',
  '{"tier": 3}', 'A session with a qualified financial adviser.', NULL, true, '2020-01-01'),
 ('INV-ROBO', 'Ready-Made Investments', 'investments', 0, 'GBP', '{investing,app}',
  '{"tier": 2, "fee_pct": 0.45}', 'A managed portfolio from 50 GBP a month.', NULL, true, '2025-10-01'),
 ('BUS-ACC', 'Small-Business Current Account', 'business', 60, 'GBP', '{business,everyday}',
  '{"tier": 1}', 'A current account for sole traders and small companies.', NULL, true, '2020-01-01'),
 ('BUS-LOAN', 'Small-Business Loan', 'business', 0, 'GBP', '{business,borrowing}',
  '{"tier": 2, "rate_pct": 8.5}', 'Finance for equipment, stock or growth.', NULL, true, '2020-01-01'),
 ('INS-TRAVEL', 'Annual Travel Insurance', 'insurance', 69, 'GBP', '{travel,insurance}',
  '{"tier": 1}', 'Cover for every trip in the year.', NULL, true, '2020-01-01'),
 ('INS-HOME', 'Home Insurance', 'insurance', 180, 'GBP', '{home,insurance}',
  '{"tier": 1}', 'Buildings and contents cover.', NULL, true, '2020-01-01');

UPDATE recgen.products SET repurchase_interval = interval '1 year' WHERE sku IN ('INS-TRAVEL', 'INS-HOME', 'INV-ADVICE');

-- customers ----------------------------------------------------------------

CREATE TEMP TABLE gen_customer ON COMMIT DROP AS
SELECT 100000 + i AS customer_id,
       pg_temp.pick('segment', pg_temp.u('segment:' || i)) AS segment,
       (ARRAY['Olivia', 'Amelia', 'Isla', 'Ava', 'Emily', 'Sophie', 'Grace', 'Priya', 'Aisha', 'Hannah',
              'Chloe', 'Fatima', 'Oliver', 'George', 'Harry', 'Jack', 'Mohammed', 'Noah', 'Leo',
              'Arjun', 'Thomas', 'James', 'William', 'Daniel'])
           [1 + floor(pg_temp.u('first:' || i) * 24)::int] AS first_name,
       (ARRAY['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies',
              'Patel', 'Khan', 'Evans', 'Thomas', 'Roberts', 'Walker', 'Wright', 'Hughes'])
           [1 + floor(pg_temp.u('last:' || i) * 16)::int] AS last_name,
       i
FROM generate_series(1, 4000) AS i;

INSERT INTO recgen.customers (customer_id, first_name, last_name, email, phone, segment, country,
                              locale, attributes, consent_marketing, consent_profiling,
                              consent_social, created_at)
SELECT c.customer_id, c.first_name, c.last_name,
       lower(c.first_name || '.' || c.last_name || c.i) || '@example.com',
       '+44 7700 900' || lpad((c.i % 1000)::text, 3, '0'),
       c.segment, 'United Kingdom', 'en-GB',
       jsonb_build_object(
           'age', CASE c.segment WHEN 'student' THEN 18 + floor(pg_temp.u('age:' || c.i) * 7)
                                 WHEN 'retired' THEN 65 + floor(pg_temp.u('age:' || c.i) * 25)
                                 ELSE 25 + floor(pg_temp.u('age:' || c.i) * 38) END,
           'income_band', CASE c.segment WHEN 'student' THEN 'low' WHEN 'affluent' THEN 'high'
                                         WHEN 'retired' THEN 'medium'
                                         ELSE (ARRAY['low', 'medium', 'high'])[1 + floor(pg_temp.u('inc:' || c.i) * 3)::int] END,
           'tenure_years', floor(pg_temp.u('tenure:' || c.i) * 20),
           'source', 'bank_generator'),
       pg_temp.u('marketing:' || c.i) < 0.75,
       pg_temp.u('profiling:' || c.i) < 0.85,
       pg_temp.u('social:' || c.i) < 0.55,
       timestamptz '2020-01-01' + floor(pg_temp.u('since:' || c.i) * 1800) * interval '1 day'
FROM gen_customer c
ORDER BY c.customer_id;

UPDATE recgen.customers
SET consent_marketing_at = CASE WHEN consent_marketing THEN created_at END,
    consent_profiling_at = CASE WHEN consent_profiling THEN created_at END,
    consent_social_at    = CASE WHEN consent_social THEN created_at END;

-- holdings: the products a customer opened, as purchase events ---------------

INSERT INTO recgen.events (customer_id, product_id, kind, quantity, amount, occurred_at, basket_id, attributes)
SELECT DISTINCT ON (c.customer_id, p.product_id)
       c.customer_id, p.product_id, 'purchase', 1, p.price,
       timestamptz '2024-01-01' + floor(pg_temp.u('opened:' || c.i || ':' || k) * 730) * interval '1 day',
       'open-' || c.customer_id || '-' || k,
       jsonb_build_object('channel', (ARRAY['app', 'branch', 'web', 'phone'])[1 + floor(pg_temp.u('ch:' || c.i || ':' || k) * 4)::int])
FROM gen_customer c
CROSS JOIN generate_series(1, 3) AS k
JOIN recgen.products p ON p.sku = pg_temp.pick('hold:' || c.segment, pg_temp.u('hold:' || c.i || ':' || k))
WHERE k <= 1 + floor(pg_temp.u('nhold:' || c.i) * 3)
ORDER BY c.customer_id, p.product_id;

-- card transactions ----------------------------------------------------------

CREATE TEMP TABLE mcc_amounts (mcc text PRIMARY KEY, lo numeric, hi numeric, merchants text[]) ON COMMIT DROP;
INSERT INTO mcc_amounts VALUES
    ('groceries', 8, 120, '{Tesco,Sainsbury''s,Aldi,Co-op,Waitrose}'),
    ('restaurants', 10, 90, '{Pret,Nando''s,Wagamama,"The Red Lion",Dishoom}'),
    ('entertainment', 8, 60, '{Odeon,Spotify,Netflix,"Ticketmaster UK"}'),
    ('online_shopping', 10, 150, '{Amazon,ASOS,eBay,Etsy}'),
    ('education', 20, 400, '{"University Bookshop",Coursera,"Language School"}'),
    ('travel', 40, 900, '{"British Airways",easyJet,Trainline,Airbnb,"Premier Inn"}'),
    ('electronics', 30, 900, '{Currys,Apple,"Argos"}'),
    ('fuel', 30, 95, '{Shell,BP,Esso}'),
    ('utilities', 30, 180, '{"British Gas",Octopus,Thames Water,BT}'),
    ('childcare', 40, 600, '{"Little Acorns Nursery","Kids Club","Swim School"}'),
    ('home_improvement', 15, 700, '{B&Q,Wickes,IKEA,Dunelm}'),
    ('healthcare', 8, 250, '{Boots,Superdrug,"Bupa Dental"}'),
    ('investments', 100, 2000, '{Vanguard,"Hargreaves Lansdown"}'),
    ('business_supplies', 20, 800, '{Viking,Screwfix,"Office Depot",Staples}');

INSERT INTO recgen.events (customer_id, product_id, kind, quantity, amount, occurred_at, basket_id, attributes)
SELECT t.customer_id, NULL, 'transaction', 1,
       round(m.lo + (m.hi - m.lo) * pg_temp.u('amt:' || t.i || ':' || t.j)::numeric, 2),
       timestamptz '2026-01-01' + floor(pg_temp.u('when:' || t.i || ':' || t.j) * 181 * 24 * 60) * interval '1 minute',
       NULL,
       jsonb_build_object('merchant_category', t.mcc,
                          'merchant', m.merchants[1 + floor(pg_temp.u('merchant:' || t.i || ':' || t.j) * array_length(m.merchants, 1))::int])
FROM (SELECT c.customer_id, c.i, j,
             pg_temp.pick('mcc:' || c.segment, pg_temp.u('mcc:' || c.i || ':' || j)) AS mcc
      FROM gen_customer c
      CROSS JOIN generate_series(1, 80) AS j
      WHERE j <= 20 + floor(pg_temp.u('ntx:' || c.i) * 61)) t
JOIN mcc_amounts m ON m.mcc = t.mcc
ORDER BY t.customer_id, 6;

-- social posts ----------------------------------------------------------------

CREATE TEMP TABLE post_templates (n int PRIMARY KEY, tone text, body text) ON COMMIT DROP;
INSERT INTO post_templates VALUES
    (1, 'complaint', 'Three weeks and still no answer on my home loan application. Really frustrating.'),
    (2, 'complaint', 'Why is the home loan application process so slow and confusing? Nobody calls back.'),
    (3, 'complaint', 'Charged another overdraft fee without warning. These fees are ridiculous.'),
    (4, 'complaint', 'Hidden fees on my card again. Not happy at all.'),
    (5, 'complaint', 'The mobile app crashed twice while I was paying a bill. Terrible.'),
    (6, 'complaint', 'Waited 45 minutes on hold, customer service is awful lately.'),
    (7, 'complaint', 'My card was declined abroad and nobody could help. Ruined the trip.'),
    (8, 'complaint', 'The savings rate is so low compared to other banks. Disappointed.'),
    (9, 'complaint', 'They closed my local branch and now everything takes twice as long.'),
    (10, 'complaint', 'Applied for a business loan a month ago, still waiting. Poor service.'),
    (11, 'praise', 'Great customer service today, sorted my problem in five minutes!'),
    (12, 'praise', 'Love the new app, paying friends is so easy now.'),
    (13, 'praise', 'Got my mortgage approved quickly, really smooth process. Thank you!'),
    (14, 'praise', 'The cash back on my card paid for a nice dinner. Brilliant.'),
    (15, 'praise', 'Travel card worked perfectly on holiday, no fees. Happy customer.'),
    (16, 'praise', 'Very helpful adviser at the branch, I feel good about my savings plan.'),
    (17, 'neutral', 'Does anyone know when the new ISA rates come out?'),
    (18, 'neutral', 'Switching my salary account this month, we will see how it goes.'),
    (19, 'complaint', 'Second time this year my home loan application paperwork got lost. Unacceptable.'),
    (20, 'praise', 'Quick and friendly help with my small business account. Recommended.');

INSERT INTO recgen.social_posts (customer_id, source, body, posted_at, attributes)
SELECT c.customer_id,
       (ARRAY['twitter', 'facebook', 'review'])[1 + floor(pg_temp.u('src:' || c.i || ':' || k) * 3)::int],
       t.body,
       timestamptz '2026-01-01' + floor(pg_temp.u('posted:' || c.i || ':' || k) * 181 * 24 * 60) * interval '1 minute',
       jsonb_build_object('template', t.n, 'tone', t.tone)
FROM gen_customer c
CROSS JOIN generate_series(1, 3) AS k
JOIN post_templates t ON t.n = 1 + floor(pg_temp.u('tpl:' || c.i || ':' || k) * 20)::int
WHERE pg_temp.u('poster:' || c.i) < 0.35
  AND k <= 1 + floor(pg_temp.u('nposts:' || c.i) * 3)
ORDER BY c.customer_id, k;

SET LOCAL max_parallel_workers_per_gather = 0;  -- keep the report in order
\set QUIET off
\pset footer off
SELECT 'customers' AS what, count(*) AS n FROM recgen.customers
UNION ALL SELECT '  consenting to profiling', count(*) FROM recgen.customers WHERE consent_profiling
UNION ALL SELECT '  consenting to social media use', count(*) FROM recgen.customers WHERE consent_social
UNION ALL SELECT 'products', count(*) FROM recgen.products
UNION ALL SELECT 'holdings (purchase events)', count(*) FROM recgen.events WHERE kind = 'purchase'
UNION ALL SELECT 'card transactions', count(*) FROM recgen.events WHERE kind = 'transaction'
UNION ALL SELECT 'social posts', count(*) FROM recgen.social_posts;
\set QUIET on

COMMIT;
ANALYZE recgen.customers, recgen.products, recgen.events, recgen.social_posts;
