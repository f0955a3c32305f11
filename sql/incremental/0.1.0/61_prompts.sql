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

CREATE TABLE recgen.tones (
    tone        text PRIMARY KEY CHECK (tone ~ '^[a-z_]+$'),
    instruction text NOT NULL CHECK (btrim(instruction) <> '')
);
COMMENT ON TABLE recgen.tones IS 'Tones of voice a content function accepts, each with the instruction given to the model';
INSERT INTO recgen.tones VALUES
    ('formal', 'Write in a formal, courteous register. No slang, no exclamation marks.'),
    ('friendly', 'Write in a warm, friendly and simple way, as a helpful shop assistant would.'),
    ('professional', 'Write in a clear, professional and concise way.'),
    ('promotional', 'Write in an upbeat promotional way that invites the reader to act, without exaggerating.'),
    ('informative', 'Write in a factual, informative way: what it is and who it suits.'),
    ('subtle_upsell', 'Mention the suggested items gently as natural next steps; never pressure the reader.');
CREATE TABLE recgen.brands (
    brand            text PRIMARY KEY CHECK (brand ~ '^[a-z0-9_]+$'),
    voice            text NOT NULL,
    banned_phrases   text[] NOT NULL DEFAULT '{}',
    overpromising    text[] NOT NULL DEFAULT '{}',
    disclaimer       text,
    disclaimer_kinds text[] NOT NULL DEFAULT '{email}',
    sign_off         text
);
COMMENT ON TABLE recgen.brands IS
    'Brand rules the guard enforces: banned phrases, over-promising words, a required disclaimer (for the kinds listed), and the voice and sign-off given to the model. recgen.brand selects one.';
INSERT INTO recgen.brands VALUES
    ('default', 'A helpful, honest shop that suggests things customers are likely to enjoy.',
     ARRAY['click here', 'act now', 'buy now or', 'once in a lifetime', 'no questions asked'],
     ARRAY['guaranteed', 'guarantee', 'risk-free', 'best ever', 'miracle', 'free money', 'lowest price', 'never again', '100%'],
     NULL, '{}', 'The team'),
    ('bank', 'A trustworthy bank that explains products plainly and never pressures customers.',
     ARRAY['click here', 'act now', 'pre-approved', 'no credit check', 'instant approval'],
     ARRAY['guaranteed', 'guarantee', 'risk-free', 'free money', 'get rich', 'no risk', 'can''t lose', '100%'],
     'Eligibility, terms and conditions apply. Rates may change.', '{email,snippet}', 'Your bank');
CREATE TABLE recgen.channels (
    channel   text PRIMARY KEY,
    max_chars integer NOT NULL CHECK (max_chars > 0)
);
COMMENT ON TABLE recgen.channels IS 'Delivery channels and the longest text each takes (the email body for email)';
INSERT INTO recgen.channels VALUES
    ('email', 2000), ('social', 280), ('sms', 160), ('push', 120), ('web', 600), ('sales', 1200);
CREATE TABLE recgen.prompt_templates (
    kind          text NOT NULL CHECK (kind IN ('email', 'describe', 'summary', 'snippet', 'explain')),
    tone          text NOT NULL DEFAULT '*',
    version       integer NOT NULL DEFAULT 1 CHECK (version > 0),
    system_prompt text NOT NULL,
    user_template text NOT NULL,
    examples      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(examples) = 'array'),
    max_tokens    integer CHECK (max_tokens > 0),
    temperature   real CHECK (temperature BETWEEN 0 AND 2),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, tone, version)
);
CREATE UNIQUE INDEX prompt_templates_active_idx ON recgen.prompt_templates (kind, tone) WHERE active;
COMMENT ON TABLE recgen.prompt_templates IS
    'Versioned prompt templates per kind of content and tone (''*'' for any tone). Placeholders {{path}} are filled from the context JSON. Few-shot examples are [{"user": …, "assistant": …}]. Updating the text of a template keeps the old row as an inactive version.';

/*
 * Default templates. Each has one few-shot example about a fictional
 * product ("Blue Garden Chair"): small models follow an example far
 * better than instructions alone.
 */
INSERT INTO recgen.prompt_templates (kind, system_prompt, user_template, examples, max_tokens, temperature) VALUES
('email',
 'You write short marketing emails for {{brand.name}}. {{brand.voice}} {{tone.instruction}} Only mention the products listed, with their exact names and prices. Never invent products, prices, discounts or promises. Never include e-mail addresses or phone numbers. Answer in JSON with subject, preheader, body and cta.',
 E'Customer: {{customer.first_name}}.{{campaign_line}} Products to suggest:\n{{items_text}}\nWrite the email.',
 jsonb_build_array(jsonb_build_object(
    'user', E'Customer: Sam. Products to suggest:\n- Blue Garden Chair (£24.00): popular in garden, a category you buy\nWrite the email.',
    'assistant', '{"subject": "Sam, a chair for sunny days", "preheader": "Picked for your garden", "body": "Hi Sam,\n\nWe think you would enjoy the Blue Garden Chair (£24.00). It is popular with people who love their garden, just like you.\n\nHave a lovely week!", "cta": "See the chair"}')),
 250, 0.2),
('describe',
 'You write product descriptions for {{brand.name}}. {{brand.voice}} {{tone.instruction}} Use only the facts given. Never invent prices, features or promises. At most 3 sentences.',
 E'Product: {{product.name}} (category {{product.category}}, price {{product.price_text}}).{{customer_line}}\nWrite the description.',
 jsonb_build_array(jsonb_build_object(
    'user', E'Product: Blue Garden Chair (category garden, price £24.00).\nWrite the description.',
    'assistant', 'The Blue Garden Chair brings colour to any garden or balcony. At £24.00 it is a simple, comfortable seat for sunny afternoons.')),
 120, 0.2),
('summary',
 'You brief a sales team about one customer. Be factual and concise. Use only the facts given. Never include e-mail addresses or phone numbers.',
 E'Customer: {{customer.first_name}}, segment {{customer.segment}}, country {{customer.country}}. Last purchase {{behaviour.recency_days}} days ago; {{behaviour.frequency}} orders; total spend {{behaviour.monetary_text}}. Recent categories: {{behaviour.recent_categories}}.\n{{concerns_text}}Suggested next products:\n{{items_text}}\nWrite a 3-sentence summary for the sales team.',
 jsonb_build_array(jsonb_build_object(
    'user', E'Customer: Sam, segment regular, country United Kingdom. Last purchase 12 days ago; 8 orders; total spend £310.00. Recent categories: garden, kitchen.\nSuggested next products:\n- Blue Garden Chair (£24.00): popular in garden, a category you buy\nWrite a 3-sentence summary for the sales team.',
    'assistant', 'Sam is a regular customer in the United Kingdom with 8 orders and £310.00 spent, the last one 12 days ago. He mostly buys garden and kitchen items. A good next step is the Blue Garden Chair (£24.00).')),
 160, 0.2),
('snippet',
 'You write one short {{channel.name}} message for {{brand.name}}. {{tone.instruction}} At most {{channel.max_chars}} characters. Mention one product with its exact name. No hashtags, links, e-mail addresses or phone numbers.',
 E'Customer: {{customer.first_name}}. Product: {{items.0.name}} ({{items.0.price_text}}). Why: {{items.0.reason}}.\nWrite the message.',
 jsonb_build_array(jsonb_build_object(
    'user', E'Customer: Sam. Product: Blue Garden Chair (£24.00). Why: popular in garden, a category you buy.\nWrite the message.',
    'assistant', 'Sam, sunny days ahead: the Blue Garden Chair (£24.00) is waiting for your garden.')),
 70, 0.2),
('explain',
 'You explain to a customer, in 2 sentences, why a product suits them. {{tone.instruction}} Use only the facts given; never invent prices or promises.',
 E'Customer: {{customer.first_name}}. Likes: {{behaviour.recent_categories}}. Product: {{product.name}} ({{product.price_text}}). Reason from our recommender: {{product.reason}}.\nWrite the explanation, addressed to the customer.',
 jsonb_build_array(jsonb_build_object(
    'user', E'Customer: Sam. Likes: garden, kitchen. Product: Blue Garden Chair (£24.00). Reason from our recommender: popular in garden, a category you buy.\nWrite the explanation, addressed to the customer.',
    'assistant', 'You often shop for your garden, and the Blue Garden Chair (£24.00) is a favourite of garden lovers. It would make your outdoor time more comfortable.')),
 100, 0.2);
