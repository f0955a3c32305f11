/*
 * online_retail.sql - load the UCI Online Retail dataset into recgen's tables.
 *
 * Run by tools/load.sh, which pipes the CSV to psql's standard input
 * (\copy ... FROM pstdin) and runs this whole file in one transaction: a
 * malformed line stops the load with its line number, and the tables stay as
 * they were. A successful load replaces what the recgen tables held.
 *
 * Data: Chen, D. (2015). Online Retail [Dataset]. UCI Machine Learning
 * Repository. https://doi.org/10.24432/C5BW33. CC BY 4.0.
 *
 * Mapping (documented in README.md, "Loading data"):
 *   - every line with a CustomerID becomes an event: a purchase, or a return
 *     when the invoice is a cancellation ("C..."); quantity is stored
 *     positive; the invoice is the basket;
 *   - lines without a CustomerID become anonymous_events (guest baskets),
 *     except stock adjustments (negative quantity on a non-cancellation
 *     invoice) and bad-debt adjustments ("A..." invoices), which are counted
 *     and reported as skipped;
 *   - a stock code is a product when it looks like one (five digits and an
 *     optional letter suffix, or a DCGS gift set); the others (POST, DOT, M,
 *     C2, D, S, BANK CHARGES, AMAZONFEE, CRUK, PADS, B, gift vouchers) are
 *     not products: their lines stay events with product_id NULL and the
 *     code in attributes;
 *   - a product's name is its most common description, its price the median
 *     unit price of its sale lines with a positive price, its category the
 *     first matching rule of tools/loaders/retail_categories.sql, its
 *     created_at the first time it was sold; stock 100 and active for all
 *     (the dataset has no stock levels);
 *   - a customer's country is the one on most of its lines; segment by total
 *     net spend (high_value >= 5,000 GBP, regular >= 1,000, else occasional);
 *     first names are synthetic (the data is anonymised), picked by a hash of
 *     the id; consent flags are a deterministic hash of the id:
 *     profiling 85%, marketing 80%, social 60%.
 */
\set ON_ERROR_STOP on
\set QUIET on
BEGIN;

CREATE TEMP TABLE retail_raw (
    "InvoiceNo"   text NOT NULL,
    "StockCode"   text NOT NULL,
    "Description" text,
    "Quantity"    integer NOT NULL,
    "InvoiceDate" timestamp NOT NULL,
    "UnitPrice"   numeric NOT NULL,
    "CustomerID"  bigint,
    "Country"     text
) ON COMMIT DROP;

\copy retail_raw FROM pstdin WITH (FORMAT csv, HEADER match)

\i tools/loaders/retail_categories.sql

CREATE TEMP TABLE retail_line ON COMMIT DROP AS
SELECT row_number() OVER () AS line_no,
       r."InvoiceNo" AS invoice,
       btrim(r."StockCode") AS code,
       nullif(btrim(r."Description"), '') AS description,
       r."Quantity" AS quantity,
       r."InvoiceDate" AT TIME ZONE 'Europe/London' AS occurred_at,
       r."UnitPrice" AS unit_price,
       r."CustomerID" AS customer_id,
       r."Country" AS country,
       (btrim(r."StockCode") ~ '^[0-9]{5}[A-Za-z]*$' OR btrim(r."StockCode") ~ '^DCGS') AS is_product,
       CASE
           WHEN r."InvoiceNo" LIKE 'A%' THEN 'bad_debt'
           WHEN r."InvoiceNo" LIKE 'C%' THEN 'return'
           WHEN r."Quantity" < 0 THEN 'adjustment'
           ELSE 'purchase'
       END AS line_kind
FROM retail_raw r;

-- Empty the scenario's tables (the load replaces them; still transactional).
TRUNCATE recgen.social_posts, recgen.events, recgen.anonymous_events,
         recgen.customers, recgen.products RESTART IDENTITY CASCADE;

-- products -----------------------------------------------------------------

INSERT INTO recgen.products (sku, name, category, price, currency, tags, attributes,
                             stock, active, created_at)
SELECT p.code,
       coalesce(d.description, 'Item ' || p.code),
       coalesce((SELECT c.category FROM retail_categories c
                 WHERE d.description ~ c.pattern ORDER BY c.priority LIMIT 1), 'other'),
       round(coalesce(pr.median_price, 0)::numeric, 2),
       'GBP',
       coalesce((SELECT array_agg(DISTINCT lower(w) ORDER BY lower(w))
                 FROM regexp_split_to_table(d.description, '[^A-Z]+') AS w
                 WHERE lower(w) IN (SELECT word FROM retail_tag_words)), '{}'),
       jsonb_build_object('source', 'online_retail'),
       100, true, p.first_seen
FROM (SELECT code, min(occurred_at) AS first_seen
      FROM retail_line WHERE is_product GROUP BY code) p
LEFT JOIN (
      -- the most common description; upper-case ones are product names,
      -- lower-case ones stock notes ("damaged", "check")
      SELECT DISTINCT ON (code) code, description
      FROM (SELECT code, description, count(*) AS n FROM retail_line
            WHERE is_product AND description IS NOT NULL GROUP BY code, description) x
      ORDER BY code, description ~ '[a-z]', n DESC, description) d ON d.code = p.code
LEFT JOIN (
      SELECT code, percentile_cont(0.5) WITHIN GROUP (ORDER BY unit_price) AS median_price
      FROM retail_line
      WHERE is_product AND line_kind = 'purchase' AND unit_price > 0
      GROUP BY code) pr ON pr.code = p.code
ORDER BY p.code;

-- variants: stock codes that differ only by letter case (84997D and 84997d)
-- and codes sold under the same name are one product to a customer; each
-- group's group_key is the smallest upper-case code connected to it
-- through either relation (recommend() also groups by name on its own,
-- but a key shared by both keeps the groups transitive)
UPDATE recgen.products SET group_key = upper(sku);
DO $$
DECLARE
    by_name bigint;
    by_code bigint;
BEGIN
    LOOP
        UPDATE recgen.products p SET group_key = m.g
        FROM (SELECT recgen.variant_name(name) AS k, min(group_key) AS g
              FROM recgen.products GROUP BY 1) m
        WHERE recgen.variant_name(p.name) = m.k AND p.group_key > m.g;
        GET DIAGNOSTICS by_name = ROW_COUNT;
        UPDATE recgen.products p SET group_key = m.g
        FROM (SELECT upper(sku) AS k, min(group_key) AS g
              FROM recgen.products GROUP BY 1) m
        WHERE upper(p.sku) = m.k AND p.group_key > m.g;
        GET DIAGNOSTICS by_code = ROW_COUNT;
        EXIT WHEN by_name + by_code = 0;
    END LOOP;
END
$$;
-- variants of one product share its category (the one of the group's first
-- code: names of case-variant codes can differ and match other keywords)
UPDATE recgen.products p SET category = g.category
FROM (SELECT DISTINCT ON (group_key) group_key, category
      FROM recgen.products ORDER BY group_key, product_id) g
WHERE p.group_key = g.group_key AND p.category IS DISTINCT FROM g.category;

-- customers ----------------------------------------------------------------

INSERT INTO recgen.customers (customer_id, first_name, segment, country, locale, attributes,
                              consent_marketing, consent_profiling, consent_social,
                              consent_marketing_at, consent_profiling_at, consent_social_at,
                              created_at)
SELECT c.customer_id,
       pg_temp.retail_first_name(c.customer_id),
       CASE WHEN c.net_spend >= 5000 THEN 'high_value'
            WHEN c.net_spend >= 1000 THEN 'regular'
            ELSE 'occasional' END,
       c.country,
       coalesce((SELECT l.locale FROM retail_locales l WHERE l.country = c.country), 'en-GB'),
       jsonb_build_object('source', 'online_retail'),
       pg_temp.retail_hash('marketing:' || c.customer_id) < 80,
       pg_temp.retail_hash('profiling:' || c.customer_id) < 85,
       pg_temp.retail_hash('social:' || c.customer_id) < 60,
       c.first_seen, c.first_seen, c.first_seen,
       c.first_seen
FROM (SELECT customer_id,
             mode() WITHIN GROUP (ORDER BY country) AS country,
             sum(CASE WHEN line_kind = 'return' THEN -abs(quantity * unit_price)
                      ELSE quantity * unit_price END) AS net_spend,
             min(occurred_at) AS first_seen
      FROM retail_line WHERE customer_id IS NOT NULL GROUP BY customer_id) c
ORDER BY c.customer_id;

-- The trigger stamps consent_*_at with now() only when they are NULL; clear
-- the stamps of flags that are false.
UPDATE recgen.customers
SET consent_marketing_at = CASE WHEN consent_marketing THEN consent_marketing_at END,
    consent_profiling_at = CASE WHEN consent_profiling THEN consent_profiling_at END,
    consent_social_at    = CASE WHEN consent_social THEN consent_social_at END;

-- events -------------------------------------------------------------------

-- One event row per line that becomes an event, with or without a customer.
CREATE TEMP VIEW retail_event_line AS
SELECT l.line_no, l.customer_id, p.product_id,
       CASE WHEN l.line_kind = 'return' THEN 'return' ELSE 'purchase' END::recgen.event_kind AS kind,
       abs(l.quantity) AS quantity, abs(l.quantity) * l.unit_price AS amount,
       l.occurred_at, l.invoice AS basket_id,
       CASE WHEN l.is_product THEN '{}'::jsonb
            ELSE jsonb_build_object('stock_code', l.code, 'description', l.description,
                                    'unit_price', l.unit_price) END AS attributes
FROM retail_line l
LEFT JOIN recgen.products p ON p.sku = l.code AND l.is_product
WHERE l.line_kind IN ('purchase', 'return') AND l.quantity <> 0;

INSERT INTO recgen.events (customer_id, product_id, kind, quantity, amount, occurred_at,
                           basket_id, attributes)
SELECT customer_id, product_id, kind, quantity, amount, occurred_at, basket_id, attributes
FROM retail_event_line WHERE customer_id IS NOT NULL ORDER BY line_no;

INSERT INTO recgen.anonymous_events (product_id, kind, quantity, amount, occurred_at,
                                     basket_id, attributes)
SELECT product_id, kind, quantity, amount, occurred_at, basket_id, attributes
FROM retail_event_line WHERE customer_id IS NULL ORDER BY line_no;

-- report -------------------------------------------------------------------

SET LOCAL max_parallel_workers_per_gather = 0;  -- keep the report in order
\set QUIET off
\pset footer off
SELECT 'lines read' AS what, count(*) AS n FROM retail_line
UNION ALL SELECT 'lines with a customer -> events', count(*) FROM retail_line WHERE customer_id IS NOT NULL
UNION ALL SELECT '  of which purchases', count(*) FROM recgen.events WHERE kind = 'purchase'
UNION ALL SELECT '  of which returns (cancellations)', count(*) FROM recgen.events WHERE kind = 'return'
UNION ALL SELECT '  of which non-product lines (postage, fees...)', count(*) FROM recgen.events WHERE product_id IS NULL
UNION ALL SELECT 'lines without a customer', count(*) FROM retail_line WHERE customer_id IS NULL
UNION ALL SELECT '  kept as anonymous basket lines', count(*) FROM recgen.anonymous_events
UNION ALL SELECT '  skipped: stock adjustments', count(*) FROM retail_line WHERE customer_id IS NULL AND line_kind = 'adjustment'
UNION ALL SELECT '  skipped: bad-debt adjustments', count(*) FROM retail_line WHERE customer_id IS NULL AND line_kind = 'bad_debt'
UNION ALL SELECT '  skipped: zero quantity', count(*) FROM retail_line WHERE customer_id IS NULL AND line_kind IN ('purchase', 'return') AND quantity = 0
UNION ALL SELECT 'customers', count(*) FROM recgen.customers
UNION ALL SELECT '  consenting to profiling', count(*) FROM recgen.customers WHERE consent_profiling
UNION ALL SELECT 'products', count(*) FROM recgen.products
UNION ALL SELECT 'non-product stock codes', count(DISTINCT code) FROM retail_line WHERE NOT is_product;

\set QUIET on
-- every line is accounted for, or the load fails
DO $$
DECLARE
    lines bigint; accounted bigint;
BEGIN
    SELECT count(*) INTO lines FROM retail_line;
    SELECT (SELECT count(*) FROM recgen.events)
         + (SELECT count(*) FROM recgen.anonymous_events)
         + (SELECT count(*) FROM retail_line WHERE customer_id IS NULL
              AND (line_kind IN ('adjustment', 'bad_debt') OR quantity = 0))
      INTO accounted;
    IF lines <> accounted THEN
        RAISE EXCEPTION 'online_retail: % lines read but % accounted for', lines, accounted;
    END IF;
END
$$;

COMMIT;
ANALYZE recgen.customers, recgen.products, recgen.events, recgen.anonymous_events;
