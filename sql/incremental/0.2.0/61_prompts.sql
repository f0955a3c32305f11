/*
 * Prompts (0.2.0): the composition setting of a template, and email
 * templates written for marketing emails as a team writes them.
 *
 * composition (recgen.prompt_templates):
 *   free   the model writes the whole text (large hosted models)
 *   parts  the model writes short parts in a JSON schema (subject, an
 *          opening about the customer's history, one reason per product, a
 *          closing, a call to action) and recgen assembles the email with
 *          the greeting, the product names and prices, the disclaimer and the
 *          sign-off (small local models; 64_compose.sql)
 *   frame  the model writes only the frame (subject, opening, call to
 *          action) and recgen writes each product's sentence and the
 *          closing itself, as the fallback does (the smallest models, whose
 *          product claims a reader cannot trust)
 * The same row serves both: its examples carry the whole answer
 * ("assistant") and the parts ("parts"), and recgen adds the instruction
 * that says which to write. Switching is one UPDATE of the column (a new
 * version of the template, as for any change of its text).
 *
 * The new rows ship composition frame: with the default local model
 * (Qwen2.5-Coder-1.5B) its first attempts passed the guard in 0.87 and 0.88
 * of 100 retail and 50 bank emails against 0.56 and 0.68 in parts, at 12.3 s
 * an email against about 20 s, and the model's reasons in parts were what a
 * reader could not trust (docs/content.md).
 *
 * The new email template is a row per tone (the shipped tones; a template
 * of the request's tone wins over the catch-all "*"), so the 0.1.0 row
 * (tone "*": one example, one sentence for the first product) is left as
 * it was and serves only tones added later. The new rows have seven examples
 * (two products or three; five for any brand, two for the bank brand) of
 * which each prompt carries one, chosen by the customer
 * (recgen.template_examples; a brand with examples of its own gets only
 * those): rotated examples give varied emails, and no example is copied
 * into all of them.
 */

ALTER TABLE recgen.prompt_templates
    ADD COLUMN composition text NOT NULL DEFAULT 'free' CHECK (composition IN ('free', 'parts', 'frame'));
COMMENT ON COLUMN recgen.prompt_templates.composition IS
    'free: the model writes the whole text; parts: the model writes short parts (subject, opening, one reason per product, closing, call to action) and recgen assembles them with the product names and prices; frame: the model writes the subject, opening and call to action, recgen each product''s sentence and the closing (email only)';
COMMENT ON COLUMN recgen.prompt_templates.examples IS
    'Few-shot examples [{"user": …, "assistant": …, "parts": …, "brand": …}]: the whole answer, the answer in parts (composition parts), and optionally the brand the example is for; a prompt carries one of them, chosen by the customer';

INSERT INTO recgen.prompt_templates (kind, tone, version, composition, system_prompt, user_template, examples, max_tokens, temperature)
SELECT 'email', tn.tone, 1 + coalesce((SELECT max(version) FROM recgen.prompt_templates t
                                        WHERE t.kind = 'email' AND t.tone = tn.tone), 0), 'frame',
 'You write marketing emails in English for {{brand.name}}. {{brand.voice}} {{tone.instruction}} Write to the customer as "you", warmly and concretely, as a good shop assistant who knows what they bought would. Use only the facts given: never invent products, prices, discounts, colours, sizes, materials or features. Never write a person''s name and never write about the customer as "he", "she" or by name. No placeholders, no links, no e-mail addresses or phone numbers.',
 E'Customer: {{customer.first_name}}. They read the email: write to them as "you", never "he", "she" or their name after the greeting.{{campaign_line}}\n{{history_text}}\nProducts to recommend, in this order:\n{{products_text}}\n{{format_text}}',
 jsonb_build_array(
  jsonb_build_object(
   'user', E'Customer: Sam.\nRecent purchases: Garden Chair.\nFavourite categories: garden.\nProducts to recommend, in this order:\n1. Striped Seat Cushion (£8.50). Why: often bought together with items you chose (Garden Chair).\n2. Solar Path Light (£6.00). Why: popular with customers like you.\nSubject words: "Striped", "Seat", "Cushion", "Solar", "Path", "Light", "garden".',
   'assistant', '{"subject": "Sam, a cushion for your garden chair", "preheader": "Two small things for long evenings outside", "body": "Hi Sam,\n\nWe hope the Garden Chair has found a good spot outside.\n\nThe Striped Seat Cushion (£8.50) is made for a chair like yours and is often bought with it. The Solar Path Light (£6.00) is a garden favourite with shoppers who like what you like.\n\nEnjoy your time in the garden.", "cta": "See the garden picks"}',
   'parts', '{"subject": "A cushion for your garden chair", "opening": "We hope the Garden Chair has found a good spot outside.", "reasons": [{"item": "Striped Seat Cushion", "reason": "It is made for a chair like yours and is often bought with it."}, {"item": "Solar Path Light", "reason": "It is a garden favourite with shoppers who like what you like."}], "closing": "Enjoy your time in the garden.", "cta": "See the garden picks"}'),
  jsonb_build_object(
   'user', E'Customer: Maya.\nRecent purchases: Pie Dish.\nFavourite categories: kitchen, baking.\nProducts to recommend, in this order:\n1. Pastry Brush Set (£3.20). Why: often bought together with items you chose (Pie Dish).\n2. Lattice Pastry Cutter (£4.75). Why: similar to items you liked (Pie Dish).\n3. Recipe Card Tin (£7.90). Why: from a category you like.\nSubject words: "Pastry", "Brush", "Lattice", "Cutter", "Recipe", "kitchen", "baking".',
   'assistant', '{"subject": "Maya, more for your pie dish", "preheader": "Three ideas for your next bake", "body": "Hi Maya,\n\nThank you for your order of the Pie Dish.\n\nThe Pastry Brush Set (£3.20) is what many pie dish owners add next. The Lattice Pastry Cutter (£4.75) is a close cousin of your dish in our baking range. And the Recipe Card Tin (£7.90) comes from the kitchen shelf you shop most.\n\nHappy baking!", "cta": "Shop the baking picks"}',
   'parts', '{"subject": "More for your pie dish", "opening": "Thank you for your order of the Pie Dish.", "reasons": [{"item": "Pastry Brush Set", "reason": "It is what many pie dish owners add next."}, {"item": "Lattice Pastry Cutter", "reason": "It is a close cousin of your dish in our baking range."}, {"item": "Recipe Card Tin", "reason": "It comes from the kitchen shelf you shop most."}], "closing": "Happy baking!", "cta": "Shop the baking picks"}'),
  jsonb_build_object(
   'brand', 'bank',
   'user', E'Customer: Leo.\nRecent purchases: Everyday Current Account.\nFavourite categories: travel, groceries.\nProducts to recommend, in this order:\n1. Holiday Saver (2.5% rate). Why: often bought together with items you chose (Everyday Current Account). About it: put money aside for trips and take it out when you need it.\n2. Overseas Debit Card. Why: from a category you like. About it: no fee on card payments abroad.\nSubject words: "Holiday", "Saver", "Overseas", "Debit", "travel", "groceries".',
   'assistant', '{"subject": "Leo, ready for your next trip?", "preheader": "Two ways to make travel money simpler", "body": "Hi Leo,\n\nYour Everyday Current Account sees plenty of travel and grocery spending.\n\nThe Holiday Saver (2.5% rate) keeps trip money apart, and you can take it out any time. As you travel often, the Overseas Debit Card charges no fee on card payments abroad.\n\nAsk us any time about either one.", "cta": "Compare the options"}',
   'parts', '{"subject": "Ready for your next trip?", "opening": "Your Everyday Current Account sees plenty of travel and grocery spending.", "reasons": [{"item": "Holiday Saver", "reason": "It keeps trip money apart, and you can take it out any time."}, {"item": "Overseas Debit Card", "reason": "It charges no fee on card payments abroad, handy as you travel often."}], "closing": "Ask us any time about either one.", "cta": "Compare the options"}'),
  jsonb_build_object(
   'user', E'Customer: Priya.\nRecent purchases: Notebook, Desk Lamp.\nFavourite categories: stationery.\nProducts to recommend, in this order:\n1. Fountain Pen Ink (£5.40). Why: often bought together with items you chose (Notebook).\n2. Desk Organiser Tray (£12.00). Why: goes well with what you already have (Desk Lamp).\n3. Wax Seal Kit (£9.99). Why: new in our range.\nSubject words: "Fountain", "Desk", "Organiser", "Tray", "Seal", "stationery".',
   'assistant', '{"subject": "Priya, new pages deserve good ink", "preheader": "Picked for your writing desk", "body": "Hi Priya,\n\nYour Notebook and Desk Lamp make a good start for a writing desk.\n\nThe Fountain Pen Ink (£5.40) is what many notebook lovers fill their pens with. Next to the lamp, the Desk Organiser Tray (£12.00) keeps pens and clips within reach. And the Wax Seal Kit (£9.99), new in our range, adds a finishing touch to your letters.\n\nWe hope you enjoy writing with them.", "cta": "See your desk picks"}',
   'parts', '{"subject": "New pages deserve good ink", "opening": "Your Notebook and Desk Lamp make a good start for a writing desk.", "reasons": [{"item": "Fountain Pen Ink", "reason": "It is what many notebook lovers fill their pens with."}, {"item": "Desk Organiser Tray", "reason": "It keeps pens and clips within reach next to the lamp."}, {"item": "Wax Seal Kit", "reason": "It is new in our range and adds a finishing touch to your letters."}], "closing": "We hope you enjoy writing with them.", "cta": "See your desk picks"}'),
  jsonb_build_object(
   'user', E'Customer: Nina.\nRecent purchases: Herb Garden Kit.\nFavourite categories: garden, kitchen.\nProducts to recommend, in this order:\n1. Watering Can (£7.50). Why: often bought together with items you chose (Herb Garden Kit).\n2. Plant Labels Pack (£2.25). Why: popular with customers like you.\nSubject words: "Watering", "Plant", "Labels", "garden", "kitchen".',
   'assistant', '{"subject": "Nina, a watering can for your herbs", "preheader": "Two helpers for your windowsill garden", "body": "Hi Nina,\n\nWe hope the Herb Garden Kit is already sprouting on your windowsill.\n\nThe Watering Can (£7.50) gives each pot just the right splash without a mess. Many herb growers add the Plant Labels Pack (£2.25): it helps you tell the basil from the mint at a glance.\n\nEnjoy your first harvest.", "cta": "Shop for your herbs"}',
   'parts', '{"subject": "A watering can for your herbs", "opening": "We hope the Herb Garden Kit is already sprouting on your windowsill.", "reasons": [{"item": "Watering Can", "reason": "It gives each pot just the right splash without a mess."}, {"item": "Plant Labels Pack", "reason": "It helps you tell the basil from the mint at a glance."}], "closing": "Enjoy your first harvest.", "cta": "Shop for your herbs"}'),
  jsonb_build_object(
   'user', E'Customer: Felix.\nRecent purchases: Mug Tree, Tea Towel.\nFavourite categories: kitchen.\nProducts to recommend, in this order:\n1. Tea Caddy (£3.10). Why: often bought together with items you chose (Mug Tree).\n2. Cork Coaster Set (£5.60). Why: similar to items you liked (Tea Towel).\n3. Biscuit Tin (£1.95). Why: from a category you like.\nSubject words: "Caddy", "Cork", "Coaster", "Biscuit", "kitchen".',
   'assistant', '{"subject": "Felix, a tea caddy for your mug tree", "preheader": "Three ideas for your kitchen", "body": "Hi Felix,\n\nWe hope the Mug Tree and Tea Towel have found their place in your kitchen.\n\nThe Tea Caddy (£3.10) is a frequent partner of the mug tree. Close to the tea towel you chose, the Cork Coaster Set (£5.60) fits the same corner. And the Biscuit Tin (£1.95) is one more kitchen pick for you.\n\nEnjoy the next cup.", "cta": "See the kitchen picks"}',
   'parts', '{"subject": "A tea caddy for your mug tree", "opening": "We hope the Mug Tree and Tea Towel have found their place in your kitchen.", "reasons": [{"item": "Tea Caddy", "reason": "It is a frequent partner of the mug tree."}, {"item": "Cork Coaster Set", "reason": "It fits the same corner as the tea towel you chose."}, {"item": "Biscuit Tin", "reason": "It is one more kitchen pick for you."}], "closing": "Enjoy the next cup.", "cta": "See the kitchen picks"}'),
  jsonb_build_object(
   'brand', 'bank',
   'user', E'Customer: Omar.\nRecent purchases: Personal Loan.\nFavourite categories: home, utilities.\nProducts to recommend, in this order:\n1. Home Contents Cover. Why: often bought together with items you chose (Personal Loan). About it: cover for the things inside your home.\n2. Rainy Day Saver (2.8% rate). Why: popular with customers like you. About it: save and take money out whenever you need it.\nSubject words: "Home", "Contents", "Cover", "Rainy", "Saver", "home".',
   'assistant', '{"subject": "Omar, cover for your home, and a saver", "preheader": "Two steady choices for your household", "body": "Hi Omar,\n\nWe hope your Personal Loan is going smoothly.\n\nThe Home Contents Cover covers the things inside your home if the unexpected happens. Many customers like you also open the Rainy Day Saver (2.8% rate), a rainy-day cushion you can dip into when needed.\n\nAsk us whenever you like.", "cta": "Explore your options"}',
   'parts', '{"subject": "Cover for your home, and a saver", "opening": "We hope your Personal Loan is going smoothly.", "reasons": [{"item": "Home Contents Cover", "reason": "It covers the things inside your home if the unexpected happens."}, {"item": "Rainy Day Saver", "reason": "It builds a rainy-day cushion you can dip into when needed."}], "closing": "Ask us whenever you like.", "cta": "Explore your options"}')),
 400, 0.7
  FROM recgen.tones tn;
