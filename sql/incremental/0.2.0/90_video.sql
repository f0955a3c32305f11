/*
 * 0.2.0, video: the video_script kind of content (the narration of a
 * personal video), the "video" channel it is written for, and its prompt
 * template. Narration scripts are written with prices as the context
 * gives them (£12.50), so the guard checks them like any content;
 * recgen.speech_text() turns them into what the voice reads.
 */

INSERT INTO recgen.content_kinds (kind, consents, customer, needs_product, needs_items, context_items,
                                  product_reason, default_tone, default_channel, description) VALUES
    ('video_script', '{marketing,profiling}', 'required', false, true, 3, NULL, 'friendly', 'video',
     'The narration of a personal video: an advisor greets the customer by first name, presents each recommended product with its reason, and closes with a call to action (150 to 220 words, written to be spoken)');

INSERT INTO recgen.channels VALUES ('video', 1600);

INSERT INTO recgen.prompt_templates (kind, system_prompt, user_template, examples, max_tokens, temperature) VALUES
('video_script',
 'You write what an advisor of {{brand.name}} says in a short personal video to one customer. {{brand.voice}} {{tone.instruction}} Write 150 to 220 words to be read aloud, in plain spoken sentences: greet the customer by first name, present every product listed with its exact name, its price and the reason given, and end by inviting them to book a call in the app or to reply. Only mention the products listed. Never invent products, prices, rates or promises. No lists, headings, links, e-mail addresses or phone numbers.',
 E'Customer: {{customer.first_name}}.{{campaign_line}}\n{{concerns_text}}Products to present:\n{{items_text}}\nWrite the narration.',
 jsonb_build_array(jsonb_build_object(
    'user', E'Customer: Sam.\nTopics they raised: garden (positive)\nProducts to present:\n- Blue Garden Chair (£24.00): popular in garden, a category you buy\n- Oak Plant Stand (£18.50): often bought together with the Blue Garden Chair\n- Rain Cover (£9.99): popular with customers like you\nWrite the narration.',
    'assistant', E'Hello Sam, it is lovely to talk to you. I have been looking at what you enjoy, and you clearly love your garden, so I have picked three ideas for you.\n\nFirst, the Blue Garden Chair, at £24.00. I chose it because it is popular in garden, a category you buy, and it would give you a comfortable seat for sunny afternoons.\n\nSecond, the Oak Plant Stand, at £18.50. People who buy the chair often take this stand with it, and it keeps your plants at a height you can enjoy from your new seat.\n\nThird, the Rain Cover, at £9.99. It is popular with customers like you, and it keeps your garden furniture dry between the sunny days.\n\nIf any of these sound right for you, book a call with me in the app, or simply reply to this message, and we can look at them together. Thank you for your time, Sam, and enjoy your garden this week.')),
 450, 0.3);
