/*
 * Recommendation engine, 0.2.0: product variants.
 *
 * products.group_key groups products that are one product to a customer
 * (sizes, colours sold under the same name, codes that differ only by
 * case in the source system). recommend() treats products sharing a
 * group_key, or sharing a normalised name (lower case, white space
 * collapsed), as one: buying one counts as having bought the others
 * ("already bought", repurchase intervals), and one list holds at most
 * one of them.
 */
ALTER TABLE recgen.products ADD COLUMN group_key text;
COMMENT ON COLUMN recgen.products.group_key IS
    'Products with the same group_key are variants of one product to a customer (NULL: none); recommend() also treats products of the same normalised name as one. The Online Retail loader sets upper(stock code), so codes that differ only by case are one product';

-- strategy "new": the products created recently (recommend() reads them on every call)
CREATE INDEX products_created_idx ON recgen.products (created_at) WHERE active;

-- customer neighbours: the purchase profile of each customer of the model's
-- pool (the recgen.model_customer_pool customers who bought last), so that
-- recommend() can find the customers most like the one it serves
CREATE TABLE recgen.customer_profiles (
    customer_id bigint NOT NULL REFERENCES recgen.customers ON DELETE CASCADE,
    model_id    bigint NOT NULL,
    product_ids bigint[] NOT NULL,
    weights     real[] NOT NULL,
    PRIMARY KEY (customer_id, model_id),
    CHECK (cardinality(product_ids) = cardinality(weights))
);
CREATE INDEX customer_profiles_model_idx ON recgen.customer_profiles (model_id);
ALTER TABLE recgen.customer_profiles
    ALTER COLUMN product_ids SET STATISTICS 0,
    ALTER COLUMN weights SET STATISTICS 0;
ALTER TABLE recgen.customer_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE recgen.customer_profiles FORCE ROW LEVEL SECURITY;
COMMENT ON TABLE recgen.customer_profiles IS
    'Purchase profiles of the customers of a model''s neighbour pool (consented customers who bought most recently, at most recgen.model_customer_pool): the products bought before the model''s as_of, each weighted by its purchases halved every recgen.neighbor_half_life, scaled to unit length. Personal data: row-level security as recgen.events; built and replaced by recgen.refresh_model()';
