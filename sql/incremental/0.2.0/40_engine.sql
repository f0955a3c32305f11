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
