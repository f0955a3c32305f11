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

/*
 * Media: the files a render produced for a content (video, narration audio,
 * subtitles, thumbnail), under recgen.media_dir. Keyed by customer_id
 * first like every per-customer table; deleting the content (or
 * forgetting the customer) deletes the rows, and a trigger removes the
 * files when that commits.
 */
CREATE TABLE recgen.media (
    customer_id bigint NOT NULL,
    media_id    bigint GENERATED ALWAYS AS IDENTITY,
    content_id  bigint NOT NULL,
    job_id      bigint,
    kind        text NOT NULL CHECK (kind IN ('video', 'audio', 'subtitles', 'thumbnail')),
    format      text NOT NULL CHECK (format IN ('mp4', 'wav', 'srt', 'vtt', 'png')),
    path        text NOT NULL UNIQUE CHECK (path LIKE '/%'),
    bytes       bigint NOT NULL CHECK (bytes >= 0),
    duration    double precision CHECK (duration >= 0),
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    options     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, media_id),
    FOREIGN KEY (customer_id, content_id) REFERENCES recgen.content (customer_id, content_id) ON DELETE CASCADE
);
CREATE INDEX media_content_idx ON recgen.media (customer_id, content_id);
CREATE UNIQUE INDEX media_job_idx ON recgen.media (customer_id, job_id, format) WHERE job_id IS NOT NULL;
ALTER TABLE recgen.media ENABLE ROW LEVEL SECURITY;
ALTER TABLE recgen.media FORCE ROW LEVEL SECURITY;
COMMENT ON TABLE recgen.media IS
    'Files rendered for a content (recgen.render_video): kind, path under recgen.media_dir, size, duration, SHA-256 and the options used; visible like the content (row-level security)';
COMMENT ON COLUMN recgen.media.path IS 'Absolute path of the file, under recgen.media_dir; the file is removed when the row is deleted';
COMMENT ON COLUMN recgen.media.duration IS 'Seconds of the video or narration (NULL for subtitles and thumbnails)';
COMMENT ON COLUMN recgen.media.job_id IS 'The render job (recgen.jobs) that produced it; one file per format and job';

-- the render job (recgen.render_video): one attempt runs recgen-render once
INSERT INTO recgen.job_kinds (kind, handler, validator, max_attempts, timeout, uses_llm, description) VALUES
    ('render_video', 'recgen.job_render_video', 'recgen.job_validate_render_video', 3, '1 hour', false,
     'Renders the narrated video of a video_script content with recgen-render; payload {"content_id", "options"}');
