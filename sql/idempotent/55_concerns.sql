/*
 * Concerns: what consenting customers complain about, or praise, in their
 * recent social posts.
 *
 * recgen.concern_topics is an admin-edited list of topics, each a regular
 * expression matched (case-insensitively) against post text, with the
 * product categories the topic is about and the product tags that address
 * it. Besides these topics, a post is matched against the active catalog:
 * a category name (singular or plural, as a whole word) gives the topic
 * 'category:<category>', a product name gives 'product:<name>'.
 *
 * recgen.customer_concerns holds one row per customer, topic and polarity
 * (-1 complaint: posts with sentiment <= -0.05; +1 praise: >= 0.05, the
 * usual VADER thresholds). "Recent" is relative to the customer's own latest
 * post: posts up to 365 days before it count, each weighted by |sentiment|
 * halved every 90 days of age before that latest post, so the rows do not
 * change merely because time passes; last_seen says how old they are.
 * strength = least(1, sum of the weights).
 *
 * Consent. Only customers with consent_profiling AND consent_social get
 * rows, filtered explicitly (the refresh runs as the extension owner, which
 * row-level security does not bind). Withdrawing either consent deletes the
 * customer's rows in the same transaction (trigger on customers), and
 * row-level security hides them from analysts and workers at once.
 *
 * Lock order. A withdrawal never waits for a refresh: a refresh left open
 * (a worker's transaction) holds the rows it deleted and inserted, so the
 * withdrawal deletes the rows nobody holds (SKIP LOCKED) and leaves the
 * rest to the refresh. A refresh checks, as it commits, the consent of
 * every customer it wrote rows for (a deferred trigger on
 * customer_concerns), and deletes its rows of a customer who withdrew
 * meanwhile or whose consent is being changed right now (a customers row
 * another transaction holds: SKIP LOCKED again, so the refresh waits for
 * nobody either). A refresh that rolls back gives the rows it had deleted
 * back, also those of a customer who withdrew meanwhile: hidden by the
 * policy, and deleted by the next refresh of that customer or of everyone.
 *
 * Freshness. Statement-level triggers on social_posts recompute the
 * customers whose posts changed; a change to concern_topics recomputes
 * everyone. After catalog changes (product names, categories) call
 * recgen.refresh_concerns().
 */

DROP POLICY IF EXISTS admin_all ON recgen.customer_concerns;
CREATE POLICY admin_all ON recgen.customer_concerns TO recgen_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS consented_social ON recgen.customer_concerns;
CREATE POLICY consented_social ON recgen.customer_concerns FOR SELECT
    TO recgen_analyst, recgen_worker
    USING (recgen.social_allowed(customer_id));
COMMENT ON POLICY admin_all ON recgen.customer_concerns IS 'recgen_admin reads every concern';
COMMENT ON POLICY consented_social ON recgen.customer_concerns IS
    'Analysts and workers see concerns only of customers who consented to profiling and to social media use';
GRANT SELECT, INSERT, UPDATE, DELETE ON recgen.concern_topics TO recgen_admin;
GRANT SELECT ON recgen.concern_topics TO recgen_analyst, recgen_worker;
GRANT SELECT, DELETE ON recgen.customer_concerns TO recgen_admin;
GRANT SELECT ON recgen.customer_concerns TO recgen_analyst, recgen_worker;

/*
 * The work of every refresh: recompute the concerns of the listed customers
 * (all when NULL). Not granted to anyone: callers go through
 * refresh_concerns() or the triggers.
 */
CREATE OR REPLACE FUNCTION recgen.refresh_concerns_of(customer_ids bigint[]) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM recgen.customer_concerns cc
     WHERE customer_ids IS NULL OR cc.customer_id = ANY (customer_ids);

    WITH latest AS (
        SELECT p.customer_id, max(p.posted_at) AS latest
          FROM recgen.social_posts p
          JOIN recgen.customers c ON c.customer_id = p.customer_id
         WHERE (customer_ids IS NULL OR p.customer_id = ANY (customer_ids))
           AND c.consent_profiling AND c.consent_social
         GROUP BY p.customer_id
    ), posts AS (
        SELECT p.customer_id, p.post_id, p.body, p.posted_at,
               CASE WHEN p.sentiment < 0 THEN -1 ELSE 1 END::smallint AS polarity,
               abs(p.sentiment) * power(0.5, extract(epoch FROM l.latest - p.posted_at) / (90 * 86400.0)) AS weight
          FROM recgen.social_posts p
          JOIN latest l ON l.customer_id = p.customer_id
         WHERE p.posted_at > l.latest - interval '365 days'
           AND abs(p.sentiment) >= 0.05
    ), categories AS (
        SELECT DISTINCT category FROM recgen.products
         WHERE active AND length(category) >= 3 AND category NOT IN ('other', 'misc', 'general')
    ), matches AS (
        SELECT po.*, t.topic
          FROM posts po JOIN recgen.concern_topics t ON po.body ~* t.pattern
        UNION ALL
        SELECT po.*, 'category:' || k.category
          FROM posts po JOIN categories k
            ON po.body ~* ('\m' || regexp_replace(regexp_replace(k.category, 's$', ''),
                                                  '([^[:alnum:][:space:]])', '\\\1', 'g') || 's?\M')
        UNION ALL
        SELECT po.*, 'product:' || pr.name
          FROM posts po JOIN recgen.products pr
            ON pr.active AND length(pr.name) >= 4
           AND po.body ~* ('\m' || regexp_replace(pr.name, '([^[:alnum:][:space:]])', '\\\1', 'g') || '\M')
    )
    INSERT INTO recgen.customer_concerns
           (customer_id, topic, polarity, strength, last_seen, example_post_id)
    SELECT customer_id, topic, polarity,
           least(1.0, sum(weight))::real,
           max(posted_at),
           (array_agg(post_id ORDER BY posted_at DESC, post_id DESC))[1]
      FROM matches
     GROUP BY customer_id, topic, polarity
    HAVING sum(weight) > 0;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION recgen.refresh_concerns_of(bigint[]) IS
    'Internal: recomputes recgen.customer_concerns for the listed customers (all when NULL); returns the rows written';
REVOKE ALL ON FUNCTION recgen.refresh_concerns_of(bigint[]) FROM PUBLIC;
CREATE OR REPLACE FUNCTION recgen.refresh_concerns(customer_id bigint DEFAULT NULL) RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT recgen.refresh_concerns_of(CASE WHEN $1 IS NULL THEN NULL ELSE ARRAY[$1] END)
$$;
COMMENT ON FUNCTION recgen.refresh_concerns(bigint) IS
    'Recomputes the concerns of one customer (all customers when NULL) from their recent social posts; customers without consent_profiling and consent_social get none. Returns the number of concern rows written.';
REVOKE ALL ON FUNCTION recgen.refresh_concerns(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.refresh_concerns(bigint) TO recgen_admin, recgen_worker;

-- keeping concerns fresh ----------------------------------------------------
CREATE OR REPLACE FUNCTION recgen.social_posts_concerns() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT customer_id) INTO ids FROM new_posts;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT customer_id) INTO ids FROM old_posts;
    ELSE
        SELECT array_agg(DISTINCT customer_id) INTO ids
          FROM (SELECT customer_id FROM new_posts UNION SELECT customer_id FROM old_posts) u;
    END IF;
    IF ids IS NOT NULL THEN
        PERFORM recgen.refresh_concerns_of(ids);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.social_posts_concerns() IS
    'Trigger: recomputes the concerns of the customers whose social posts were inserted, changed or deleted';
CREATE OR REPLACE TRIGGER social_posts_concerns_ins AFTER INSERT ON recgen.social_posts
    REFERENCING NEW TABLE AS new_posts
    FOR EACH STATEMENT EXECUTE FUNCTION recgen.social_posts_concerns();
CREATE OR REPLACE TRIGGER social_posts_concerns_upd AFTER UPDATE ON recgen.social_posts
    REFERENCING OLD TABLE AS old_posts NEW TABLE AS new_posts
    FOR EACH STATEMENT EXECUTE FUNCTION recgen.social_posts_concerns();
CREATE OR REPLACE TRIGGER social_posts_concerns_del AFTER DELETE ON recgen.social_posts
    REFERENCING OLD TABLE AS old_posts
    FOR EACH STATEMENT EXECUTE FUNCTION recgen.social_posts_concerns();
CREATE OR REPLACE FUNCTION recgen.customers_consent_concerns() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.consent_social AND NEW.consent_profiling THEN
        PERFORM recgen.refresh_concerns_of(ARRAY[NEW.customer_id]);
    ELSE
        -- rows a refresh holds are its to delete as it commits (see above)
        DELETE FROM recgen.customer_concerns cc
         WHERE (cc.customer_id, cc.topic, cc.polarity) IN (
                   SELECT x.customer_id, x.topic, x.polarity FROM recgen.customer_concerns x
                    WHERE x.customer_id = NEW.customer_id
                      FOR UPDATE SKIP LOCKED);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.customers_consent_concerns() IS
    'Trigger: deletes a customer''s concerns when consent_social or consent_profiling is withdrawn (never waiting for a refresh: rows one holds are left to it), and recomputes them when both are given';

/*
 * As a transaction that wrote concern rows commits: keep a row only when
 * its customer (still) consents and nobody is changing the customer's row
 * right now. Never waits.
 */
CREATE OR REPLACE FUNCTION recgen.customer_concerns_recheck() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM 1 FROM recgen.customers c
     WHERE c.customer_id = NEW.customer_id AND c.consent_social AND c.consent_profiling
       FOR SHARE SKIP LOCKED;
    IF NOT FOUND THEN
        DELETE FROM recgen.customer_concerns
         WHERE customer_id = NEW.customer_id AND topic = NEW.topic AND polarity = NEW.polarity;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.customer_concerns_recheck() IS
    'Deferred trigger: as the transaction that wrote a concern row commits, deletes it unless its customer still consents to profiling and social use and no other transaction is changing the customer';
REVOKE ALL ON FUNCTION recgen.customer_concerns_recheck() FROM PUBLIC;
DROP TRIGGER IF EXISTS customer_concerns_recheck ON recgen.customer_concerns;
CREATE CONSTRAINT TRIGGER customer_concerns_recheck AFTER INSERT ON recgen.customer_concerns
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION recgen.customer_concerns_recheck();
CREATE OR REPLACE TRIGGER customers_consent_concerns
    AFTER UPDATE OF consent_social, consent_profiling ON recgen.customers
    FOR EACH ROW
    WHEN ((OLD.consent_social AND OLD.consent_profiling) IS DISTINCT FROM
          (NEW.consent_social AND NEW.consent_profiling))
    EXECUTE FUNCTION recgen.customers_consent_concerns();
CREATE OR REPLACE FUNCTION recgen.concern_topics_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM recgen.refresh_concerns_of(NULL);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.concern_topics_changed() IS
    'Trigger: recomputes every customer''s concerns after recgen.concern_topics changed';
CREATE OR REPLACE TRIGGER concern_topics_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recgen.concern_topics
    FOR EACH STATEMENT EXECUTE FUNCTION recgen.concern_topics_changed();

/*
 * What each concern points at in the catalog, for rules in recommend():
 * the categories it is about and the tags of products that address it.
 */
CREATE OR REPLACE VIEW recgen.customer_concern_targets WITH (security_barrier, security_invoker) AS
SELECT cc.customer_id, cc.topic, cc.polarity, cc.strength, cc.last_seen,
       CASE
           WHEN cc.topic LIKE 'category:%' THEN ARRAY[substr(cc.topic, 10)]
           WHEN cc.topic LIKE 'product:%' THEN
               ARRAY(SELECT DISTINCT p.category FROM recgen.products p WHERE p.name = substr(cc.topic, 9))
           ELSE coalesce(t.categories, '{}')
       END AS categories,
       coalesce(t.remedy_tags, '{}') AS remedy_tags,
       CASE WHEN cc.topic LIKE 'product:%' THEN
               ARRAY(SELECT p.product_id FROM recgen.products p WHERE p.name = substr(cc.topic, 9))
            ELSE '{}'::bigint[]
       END AS product_ids
  FROM recgen.customer_concerns cc
  LEFT JOIN recgen.concern_topics t ON t.topic = cc.topic;
COMMENT ON VIEW recgen.customer_concern_targets IS
    'recgen.customer_concerns resolved to catalog terms: categories the concern is about, product tags that address it, products it names. Security invoker: the caller''s row-level security applies.';
GRANT SELECT ON recgen.customer_concern_targets TO recgen_admin, recgen_analyst, recgen_worker;
