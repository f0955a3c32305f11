-- Video narration scripts: the video_script kind, speech_text, the guard's
-- narration rules and the fallback narration.
BEGIN;
SELECT plan(29);

SELECT is((SELECT consents FROM recgen.content_kinds WHERE kind = 'video_script'), '{marketing,profiling}'::text[],
          'a narration needs consent to marketing and profiling');
SELECT ok((SELECT needs_items FROM recgen.content_kinds WHERE kind = 'video_script'),
          'a narration is never made without a product to recommend');
SELECT is((SELECT max_chars FROM recgen.channels WHERE channel = 'video'), 1600, 'the video channel takes 1600 characters');
SELECT ok(EXISTS (SELECT 1 FROM recgen.prompt_templates WHERE kind = 'video_script' AND active), 'a narration template ships');
SELECT ok(NOT EXISTS (SELECT 1 FROM recgen.content_kinds k WHERE kind = 'video_script'
                        AND NOT EXISTS (SELECT 1 FROM recgen.channels c WHERE c.channel = k.default_channel)),
          'the narration''s channel exists');

-- speech
SELECT is(recgen.speech_text('The card costs £12.50 a month.'), 'The card costs 12 pounds 50 a month.', 'a price is spoken as an amount');
SELECT is(recgen.speech_text('Only £0.99, then £1,200.00 or 36 GBP.'), 'Only 99 pence, then 1,200 pounds or 36 pounds.',
          'pence, thousands and currency codes');
SELECT is(recgen.speech_text('It pays 4.1% a year & more.'), 'It pays 4.1 percent a year and more.', 'percent and ampersand');
SELECT is(recgen.speech_text('See https://bank.example/offers?id=1 or www.bank.example now, or mail me@bank.example.'),
          'See or now, or mail.', 'links and e-mail addresses are not read out');
SELECT is(recgen.speech_text(E'Ideas:\n- First idea\n* Second idea \u2728\n\n\n\nBye'), E'Ideas:\nFirst idea\nSecond idea\n\nBye',
          'list markers and emoji go, paragraphs stay');
SELECT is(recgen.speech_text('£5/month, 24/7, cards/loans'), '5 pounds a month, 24 7, cards or loans', 'slashes become words');
SELECT is(recgen.spoken_money(1, 'GBP'), '1 pound', 'one pound');
SELECT is(recgen.spoken_money(2.05, 'EUR'), '2 euros 5', 'euros and cents');

-- the fallback narration of a context passes the guard and follows the rules of a narration
CREATE TEMP TABLE ctx AS SELECT jsonb_build_object(
    'customer', jsonb_build_object('first_name', 'Anna'),
    'concerns', jsonb_build_array(jsonb_build_object('topic', 'fees', 'feeling', 'negative')),
    'items', jsonb_build_array(
        jsonb_build_object('product_id', 1, 'name', 'Cash-Back Credit Card', 'category', 'cards',
                           'reason', 'customers like you often choose it'),
        jsonb_build_object('product_id', 2, 'name', 'Fixed-Rate Cash ISA', 'category', 'savings', 'price_text', '4.2% rate',
                           'rate_pct', 4.2, 'reason', 'it is popular in your segment'),
        jsonb_build_object('product_id', 3, 'name', 'Home Insurance', 'category', 'insurance', 'price', 12.5,
                           'price_text', '£12.50', 'reason', 'it goes well with your mortgage'))) AS c;
CREATE TEMP TABLE fb AS SELECT recgen.render_fallback('video_script', c, 'bank', 'video') AS o FROM ctx;
SELECT ok((SELECT (recgen.guard('video_script', o, c, 'bank', 'video') ->> 'ok')::boolean FROM fb, ctx),
          'the fallback narration passes the guard');
SELECT ok((SELECT array_length(regexp_split_to_array(recgen.speech_text(o ->> 'text'), '\s+'), 1) BETWEEN 150 AND 220 FROM fb),
          'the fallback narration has 150 to 220 words');
SELECT ok((SELECT o ->> 'text' ~ '^Hello Anna' AND o ->> 'text' ~ 'Third, the Home Insurance, in our insurance selection, for £12.50'
                   AND o ->> 'text' ~ 'Second, the Fixed-Rate Cash ISA, a choice from our savings, at a rate of 4.2%' FROM fb),
          'it greets by first name and presents each product with its price');
SELECT ok((SELECT o ->> 'text' LIKE '%concerns about fees%' AND o ->> 'text' LIKE '%terms and conditions apply%' FROM fb),
          'it mentions the consented concern and the brand''s disclaimer');
SELECT ok((SELECT recgen.speech_text(o ->> 'text') LIKE '%for 12 pounds 50.%' FROM fb), 'and its speech says the price');
SELECT ok((SELECT o ->> 'text' ~ 'First, the Cash-Back Credit Card, from our cards range\. ' FROM fb),
          'a product without a price is presented without one (no dangling "at")');

-- the guard's rules of a narration
SELECT is((SELECT jsonb_path_query_array(recgen.guard('video_script', jsonb_build_object('text', 'Hello Anna. Book a call.'),
                                                       c, 'default', 'video'), '$.violations[*].rule') FROM ctx),
          '["length", "products", "products", "products"]'::jsonb, 'a short narration without the products is rejected');
SELECT ok((SELECT recgen.guard('video_script', jsonb_build_object('text', replace(o ->> 'text', 'Hello Anna', 'Hello there')),
                               c, 'bank', 'video') -> 'violations' @> '[{"rule": "greeting"}]' FROM fb, ctx),
          'a narration that does not greet the customer by name is rejected');
SELECT ok((SELECT recgen.guard('video_script', jsonb_build_object('text', regexp_replace(o ->> 'text',
                                   'I would be happy.*', 'That is all for today. Terms and conditions apply.')),
                               c, 'bank', 'video') -> 'violations' @> '[{"rule": "cta"}]' FROM fb, ctx),
          'a narration without a call to action is rejected');
SELECT ok((SELECT recgen.guard('video_script', jsonb_build_object('text', (o ->> 'text') || ' See https://bank.example.'),
                               c, 'bank', 'video') -> 'violations' @> '[{"rule": "speech"}]' FROM fb, ctx),
          'a narration with a link is rejected');
SELECT ok((SELECT recgen.guard('video_script', jsonb_build_object('text', replace(o ->> 'text', '£12.50', '£9.50')),
                               c, 'bank', 'video') -> 'violations' @> '[{"rule": "price"}]' FROM fb, ctx),
          'a narration with a price not in the context is rejected (the common guard)');
SELECT ok(has_function_privilege('recgen_analyst', 'recgen.video_script(bigint,text,text)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'recgen.video_script(bigint,text,text)', 'EXECUTE'),
          'analysts, not PUBLIC, may generate narrations');

SELECT is(recgen.render_card_args('{"items": [{"name": "RED ENAMEL MUG", "price_text": "£6.50"},
                                              {"name": "Saver | Plus"}, {"price_text": "£1"},
                                              {"name": "  ", "price_text": "£2"}]}', true),
          '["--card", "Red Enamel Mug|£6.50", "--card", "Saver / Plus"]'::jsonb,
          'a card per named product of the context: its name as content shows it, its price; no "|" inside a name, none for a blank name');
SELECT is(recgen.render_card_args('{"items": [{"name": "RED ENAMEL MUG", "price_text": "£6.50"}]}', false),
          '[]'::jsonb, 'product_cards false: no cards');
SELECT is(recgen.render_options('{}') -> 'product_cards', 'true'::jsonb, 'product cards are on by default');
SELECT throws_ok($$SELECT recgen.render_options('{"product_cards": "sometimes"}')$$, '22023',
                 'a numeric or boolean video option has a value that is not one',
                 'product_cards must be a boolean');

SELECT * FROM finish();
ROLLBACK;
