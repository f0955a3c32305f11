-- guc: settings exist with documented defaults, are validated, and the API
-- key is hidden from everyone but superusers.
SELECT name, setting, unit, context FROM pg_settings
WHERE name IN ('recgen.llm_url', 'recgen.llm_model', 'recgen.llm_connect_timeout',
               'recgen.llm_timeout', 'recgen.llm_max_retries', 'recgen.llm_concurrency',
               'recgen.prompt_personal_data', 'recgen.llm_api_key', 'recgen.llm_api_key_file')
ORDER BY name;
SET recgen.llm_timeout = '30s';
SHOW recgen.llm_timeout;
SET recgen.llm_timeout = 0;
SET recgen.llm_connect_timeout = '2min';
SHOW recgen.llm_connect_timeout;
SET recgen.prompt_personal_data = 'everything';
-- the URL must be http(s)
SET recgen.llm_url = 'ftp://example.invalid/v1';
SET recgen.llm_url = 'http://127.0.0.1:9/v1';
SHOW recgen.llm_url;
-- several endpoints, separated by commas; each must be http(s)
SET recgen.llm_url = 'http://127.0.0.1:9/v1, http://127.0.0.1:10/v1';
SHOW recgen.llm_url;
SET recgen.llm_url = 'http://127.0.0.1:9/v1,ftp://example.invalid/v1';
SET recgen.llm_url = 'http://127.0.0.1:9/v1 http://127.0.0.1:10/v1';
RESET recgen.llm_url;
-- misspelt settings are errors, not placeholders
SET recgen.llm_tiemout = 5;
-- a non-superuser cannot see or set the key, nor change the endpoint
SET recgen.llm_api_key = 'sk-secret-for-test';
DROP ROLE IF EXISTS recgen_guc_tester;
CREATE ROLE recgen_guc_tester LOGIN IN ROLE recgen_analyst;
SET ROLE recgen_guc_tester;
SHOW recgen.llm_api_key;
SELECT count(*) AS key_rows FROM pg_settings WHERE name = 'recgen.llm_api_key';
SELECT count(*) AS key_in_settings FROM pg_settings WHERE setting LIKE '%sk-secret%';
SET recgen.llm_api_key = 'sk-other';
SET recgen.llm_url = 'http://attacker.invalid/v1';
SET recgen.prompt_personal_data = 'full_name';
SET recgen.llm_timeout = '10s';
SHOW recgen.llm_timeout;
RESET ROLE;
SHOW recgen.llm_api_key;
DROP ROLE recgen_guc_tester;
