/*
 * Prompts as data: tones, brands, channels and versioned prompt templates,
 * with the defaults that ship with the extension. Admins edit the rows;
 * an UPDATE of a template's text keeps the old version (see the trigger).
 *
 * Templates are filled by recgen.fill_template: {{a.b}} is replaced by the
 * value at path a.b of a JSON document (the context, plus tone, brand,
 * channel and campaign); strings are inserted as they are, other values as
 * JSON, missing paths as the empty string.
 */

/*
 * Updating a template's text inserts the new text as the next version and
 * deactivates the old one, so content stored earlier still names the
 * exact version it was written with.
 */
CREATE OR REPLACE FUNCTION recgen.prompt_templates_version() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (NEW.system_prompt, NEW.user_template, NEW.examples, NEW.max_tokens, NEW.temperature, NEW.composition)
       IS NOT DISTINCT FROM
       (OLD.system_prompt, OLD.user_template, OLD.examples, OLD.max_tokens, OLD.temperature, OLD.composition) THEN
        RETURN NEW;             -- only the active flag or the timestamp changed
    END IF;
    UPDATE recgen.prompt_templates SET active = false
     WHERE kind = OLD.kind AND tone = OLD.tone AND version = OLD.version;
    INSERT INTO recgen.prompt_templates
        (kind, tone, version, system_prompt, user_template, examples, max_tokens, temperature, composition, active)
    SELECT NEW.kind, NEW.tone, max(t.version) + 1, NEW.system_prompt, NEW.user_template,
           NEW.examples, NEW.max_tokens, NEW.temperature, NEW.composition, true
      FROM recgen.prompt_templates t WHERE t.kind = NEW.kind AND t.tone = NEW.tone;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION recgen.prompt_templates_version() IS
    'Trigger: an UPDATE of a template''s text or composition becomes a new active version; the old version is kept, inactive';
CREATE OR REPLACE TRIGGER prompt_templates_version BEFORE UPDATE ON recgen.prompt_templates
    FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION recgen.prompt_templates_version();
GRANT SELECT ON recgen.tones, recgen.brands, recgen.channels, recgen.prompt_templates
    TO recgen_admin, recgen_analyst, recgen_worker;
GRANT INSERT, UPDATE, DELETE ON recgen.tones, recgen.brands, recgen.channels, recgen.prompt_templates
    TO recgen_admin;

/*
 * fill_template: replace every {{path}} of tmpl by the value at that path
 * of doc (dot-separated; array elements by index), in one pass over the
 * template: a value is inserted literally, so placeholders inside a value
 * (a campaign name or a customer's field holding "{{...}}") are never
 * expanded and cannot pull other parts of the document into the prompt.
 */
CREATE OR REPLACE FUNCTION recgen.fill_template(tmpl text, doc jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    re constant text := '\{\{([A-Za-z0-9_.]+)\}\}';
    pieces text[] := regexp_split_to_array(tmpl, re);   -- the text between placeholders
    paths text[] := ARRAY(SELECT m[1] FROM regexp_matches(tmpl, re, 'g') WITH ORDINALITY AS x(m, i) ORDER BY i);
    v jsonb;
    out text := pieces[1];
    k integer;
BEGIN
    FOR k IN 1 .. coalesce(cardinality(paths), 0) LOOP
        v := doc #> string_to_array(paths[k], '.');
        out := out || CASE WHEN v IS NULL OR v = 'null' THEN ''
                           WHEN jsonb_typeof(v) = 'string' THEN v #>> '{}'
                           WHEN jsonb_typeof(v) = 'array' AND jsonb_typeof(v -> 0) = 'string'
                               THEN (SELECT string_agg(e, ', ') FROM jsonb_array_elements_text(v) e)
                           ELSE v::text END
                   || pieces[k + 1];
    END LOOP;
    RETURN out;
END
$$;
COMMENT ON FUNCTION recgen.fill_template(text, jsonb) IS
    'Fills {{path}} placeholders of a prompt template from a JSON document in one pass (strings as text, arrays of strings comma-separated, other values as JSON, missing as empty); values are inserted literally, never expanded again';

/*
 * brand_examples: of a template's few-shot examples, those a brand's
 * prompts get: its own when it has some, else those for any brand (no
 * "brand" key); a NULL brand gets all. recgen.template_examples picks one
 * of them per customer; the guard's rule "copied" reads them all.
 */
CREATE OR REPLACE FUNCTION recgen.brand_examples(examples jsonb, brand text) RETURNS SETOF jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e
      FROM jsonb_array_elements(coalesce(examples, '[]')) WITH ORDINALITY AS x(e, o)
     WHERE brand_examples.brand IS NULL
        OR CASE WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(examples, '[]')) y
                              WHERE y ->> 'brand' = brand_examples.brand)
                THEN e ->> 'brand' = brand_examples.brand
                ELSE e ->> 'brand' IS NULL END
     ORDER BY o
$$;
COMMENT ON FUNCTION recgen.brand_examples(jsonb, text) IS
    'The few-shot examples of a template that a brand''s prompts get, in order: the brand''s own when it has some, else those for any brand; all for a NULL brand';
