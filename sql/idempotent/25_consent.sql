/*
 * Consent checks shared by every function that works on one customer.
 *
 * A customer the calling role cannot see (an analyst or worker asking for
 * one who refused profiling) gets the same error as one that does not
 * exist, whatever the reason: which consents a hidden customer gave cannot
 * be probed. Visibility is the outer caller's (recgen.caller_sees_customer,
 * C: the role outside every SECURITY DEFINER function, under its policies),
 * so the answer is the same whether an analyst calls check_consent or a
 * content function that runs as the extension's owner does. For a customer
 * the caller sees, each missing consent is named (insufficient_privilege),
 * so "no consent" is never mistaken for "unknown customer".
 */

CREATE OR REPLACE FUNCTION recgen.caller_sees_customer(customer_id bigint) RETURNS boolean
LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'recgen_caller_sees_customer';
COMMENT ON FUNCTION recgen.caller_sees_customer(bigint) IS
    'Whether the calling role (current_user outside SECURITY DEFINER functions) sees the customer in recgen.customers under its row-level security';
REVOKE ALL ON FUNCTION recgen.caller_sees_customer(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.caller_sees_customer(bigint) TO recgen_admin, recgen_analyst, recgen_worker;


CREATE OR REPLACE FUNCTION recgen.check_consent(customer_id bigint, VARIADIC purposes text[])
RETURNS void
LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    p text;
    granted boolean;
BEGIN
    SELECT cu.consent_marketing, cu.consent_profiling, cu.consent_social
      INTO c
      FROM recgen.customers cu
     WHERE cu.customer_id = check_consent.customer_id;
    IF NOT FOUND OR NOT recgen.caller_sees_customer(customer_id) THEN
        -- the same for an unknown customer and one hidden from the caller
        RAISE EXCEPTION 'customer % is unknown or not visible to you', customer_id
            USING ERRCODE = 'no_data_found',
                  HINT = 'Customers are rows of recgen.customers; analysts and workers see only those who consented to profiling.';
    END IF;
    FOREACH p IN ARRAY purposes LOOP
        granted := CASE p
            WHEN 'marketing' THEN c.consent_marketing
            WHEN 'profiling' THEN c.consent_profiling
            WHEN 'social' THEN c.consent_social
        END;
        IF granted IS NULL THEN
            RAISE EXCEPTION 'unknown consent purpose "%"', p
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Purposes are marketing, profiling and social.';
        END IF;
        IF NOT granted THEN
            RAISE EXCEPTION 'customer % has not consented to %', customer_id, p
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('recgen.customers.consent_%s is false for this customer.', p),
                      HINT = 'Content and recommendations are only produced for customers who consented.';
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION recgen.check_consent(bigint, text[]) IS
    'Raises an error unless the customer is visible to the caller and has given every listed consent (marketing, profiling, social); an unknown or hidden customer gets the same no_data_found error';
REVOKE ALL ON FUNCTION recgen.check_consent(bigint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recgen.check_consent(bigint, text[])
    TO recgen_admin, recgen_analyst, recgen_worker;
