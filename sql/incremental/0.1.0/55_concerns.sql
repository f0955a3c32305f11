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
 * row-level security hides them from analysts and workers meanwhile.
 *
 * Freshness. Statement-level triggers on social_posts recompute the
 * customers whose posts changed; a change to concern_topics recomputes
 * everyone. After catalog changes (product names, categories) call
 * recgen.refresh_concerns().
 */

CREATE TABLE recgen.concern_topics (
    topic       text PRIMARY KEY CHECK (btrim(topic) <> '' AND topic !~ '^(category|product):'),
    pattern     text NOT NULL CHECK (btrim(pattern) <> '' AND ('' ~* pattern) IS NOT NULL),
    categories  text[] NOT NULL DEFAULT '{}',
    remedy_tags text[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE recgen.concern_topics IS
    'Topics customers complain about or praise in social posts: edit freely; changes recompute recgen.customer_concerns';
COMMENT ON COLUMN recgen.concern_topics.topic IS 'Short name of the topic, shown in contexts (the prefixes category: and product: are reserved)';
COMMENT ON COLUMN recgen.concern_topics.pattern IS 'Regular expression (PostgreSQL ARE), matched case-insensitively against post text';
COMMENT ON COLUMN recgen.concern_topics.categories IS 'Product categories the topic is about (a complaint may hold them back)';
COMMENT ON COLUMN recgen.concern_topics.remedy_tags IS 'Product tags of products that address the topic (a complaint may boost them)';
INSERT INTO recgen.concern_topics (topic, pattern, categories, remedy_tags) VALUES
    -- banking
    ('home loan application', '(home loan|mortgage)s? (application|process|paperwork)|\mapplied for a (home loan|mortgage)', '{mortgages}', '{first-home,fixed-rate}'),
    ('fees', '\m(fees?|charges?|charged|overdraft)\M', '{cards}', '{no-fx-fee,cashback}'),
    ('customer service', '(customer service|customer support|on hold|call(s|ed)? back|nobody (calls|could help|answers)|\madviser\M|\mhelp(ful)?\M)', '{}', '{advice}'),
    ('mobile app', '\m(mobile |banking )?app\M', '{}', '{app}'),
    ('savings rate', '(savings? (rate|plan|account)|interest rate|\misa\M)', '{savings}', '{savings,tax-free}'),
    ('card abroad', '\m(abroad|overseas|foreign|holiday|travel(ling)?)\M', '{cards}', '{travel,no-fx-fee}'),
    ('branch', '\mbranch(es)?\M', '{}', '{}'),
    ('business loan', '\mbusiness loan', '{business}', '{business,borrowing}'),
    -- retail
    ('delivery', '\m(deliver(y|ed|ies)?|shipping|shipped|parcel|courier|arrived|tracking)\M', '{}', '{}'),
    ('damaged', '\m(damaged|broken|cracked|faulty|defective|smashed)\M', '{}', '{}'),
    ('price', '\m(prices?|pricey|expensive|overpriced|cheap(er)?|bargain)\M', '{}', '{}'),
    ('quality', '\m(quality|flimsy|fell apart|poorly made|well made|sturdy)\M', '{}', '{}');
CREATE TABLE recgen.customer_concerns (
    customer_id     bigint NOT NULL REFERENCES recgen.customers ON DELETE CASCADE,
    topic           text NOT NULL,
    polarity        smallint NOT NULL CHECK (polarity IN (-1, 1)),
    strength        real NOT NULL CHECK (strength > 0 AND strength <= 1),
    last_seen       timestamptz NOT NULL,
    example_post_id bigint NOT NULL,
    PRIMARY KEY (customer_id, topic, polarity)
);
COMMENT ON TABLE recgen.customer_concerns IS
    'What a consenting customer complained about (polarity -1) or praised (+1) in recent social posts; kept by triggers and recgen.refresh_concerns(). Visible to analysts and workers only with consent_profiling and consent_social.';
COMMENT ON COLUMN recgen.customer_concerns.topic IS 'A recgen.concern_topics topic, or category:<category>, or product:<product name>';
COMMENT ON COLUMN recgen.customer_concerns.polarity IS '-1 complaint, +1 praise';
COMMENT ON COLUMN recgen.customer_concerns.strength IS 'In (0, 1]: sum of |sentiment| of the matching posts, halved every 90 days of age before the customer''s latest post, capped at 1';
COMMENT ON COLUMN recgen.customer_concerns.last_seen IS 'When the latest matching post was posted';
COMMENT ON COLUMN recgen.customer_concerns.example_post_id IS 'The latest matching post (recgen.social_posts.post_id): untrusted text, fence it';
ALTER TABLE recgen.customer_concerns ENABLE ROW LEVEL SECURITY;
ALTER TABLE recgen.customer_concerns FORCE ROW LEVEL SECURITY;
