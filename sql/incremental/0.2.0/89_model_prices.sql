/*
 * Model prices of the local models (content, 0.2.0): a row of
 * recgen.model_prices (created by 80_campaigns.sql, so this file comes after
 * it) for each model tools/llm_models.py serves, under the name the local
 * server reports (its alias, recgen.llm_model). They run on this machine:
 * no price per token, so campaign cost estimates say 0 rather than nothing.
 * The 0.1.0-era row for smollm2-135m-instruct is the campaigns' seed.
 */
INSERT INTO recgen.model_prices (model)
VALUES ('qwen2.5-coder-1.5b-instruct'), ('qwen2.5-coder-0.5b-instruct')
ON CONFLICT (model) DO NOTHING;
