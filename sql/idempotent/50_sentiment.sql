/*
 * Sentiment of text: the VADER method (Hutto & Gilbert, 2014) in C.
 *
 * recgen.sentiment() agrees with the reference Python package vaderSentiment
 * 3.3.2 (test/python/test_sentiment_conformance.py). Its lexicon is a data
 * file installed with the extension (share/extension/recgen_vader_*.txt, MIT
 * licence, notice beside it), read once per backend: the function is
 * IMMUTABLE, so it must not read a table an admin can edit.
 *
 * Social posts get their score when inserted or when their text changes.
 */

CREATE OR REPLACE FUNCTION recgen.sentiment(body text) RETURNS real
AS 'MODULE_PATHNAME', 'recgen_sentiment'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recgen.sentiment(text) IS
    'VADER compound sentiment score of a text in [-1, 1] (-1 most negative, 0 neutral, 1 most positive), as vaderSentiment 3.3.2 computes it';
CREATE OR REPLACE FUNCTION recgen.sentiment_detail(body text,
    OUT pos real, OUT neu real, OUT neg real, OUT compound real)
AS 'MODULE_PATHNAME', 'recgen_sentiment_detail'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION recgen.sentiment_detail(text) IS
    'VADER scores of a text: proportions of positive, neutral and negative words (pos + neu + neg = 1) and the compound score';
GRANT EXECUTE ON FUNCTION recgen.sentiment(text), recgen.sentiment_detail(text)
    TO recgen_admin, recgen_analyst, recgen_worker;
CREATE OR REPLACE FUNCTION recgen.social_posts_sentiment() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.sentiment := recgen.sentiment(NEW.body);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION recgen.social_posts_sentiment() IS
    'Trigger: stores the compound sentiment of a social post when it is inserted or its body changes (an UPDATE of sentiment itself is recomputed too, so the stored score is always the computed one)';
CREATE OR REPLACE TRIGGER social_posts_sentiment
    BEFORE INSERT OR UPDATE OF body, sentiment ON recgen.social_posts
    FOR EACH ROW EXECUTE FUNCTION recgen.social_posts_sentiment();
