/*
 * retail_categories.sql - the documented rules the Online Retail loader uses
 * to derive what the dataset does not carry: a product's category and tags
 * from its description, a customer's locale from the country, synthetic
 * first names, and the deterministic hash behind consent flags.
 *
 * Categories: the first rule (lowest priority number) whose pattern matches
 * the upper-case description wins; no match is "other". Patterns match at
 * word starts (\m), so "CARD" matches "CARDHOLDER" but not "POSTCARD".
 */

CREATE TEMP TABLE retail_categories (priority int, category text, pattern text) ON COMMIT DROP;
INSERT INTO retail_categories VALUES
    (10, 'christmas',           '\m(CHRISTMAS|XMAS|ADVENT|SANTA|REINDEER|SNOWFLAKE|BAUBLE|NATIVITY)'),
    (20, 'lighting',            '\m(CANDLE|T-LIGHT|TEA ?LIGHT|TEALIGHT|LANTERN|LIGHTS?|LAMP|CANDLEHOLDER)'),
    (30, 'bags',                '\m(BAGS?|SHOPPER|TOTE|RUCKSACK|BACKPACK)\M'),
    (40, 'kitchen & dining',    '\m(MUGS?|CUPS?|TEACUPS?|TEAPOT|PLATES?|BOWLS?|JUG|TRAY|CAKE|CAKESTAND|BAKING|KITCHEN|NAPKINS?|CUTLERY|SPOONS?|EGG|TEA TOWELS?|APRON|LUNCH BOX|LUNCHBOX|BOTTLE|GLASS|BEAKERS?|CHOPSTICKS|COASTERS?|PICNIC|JAM|BISCUIT|SUGAR|COFFEE|TEA)\M'),
    (50, 'party & gift wrap',   '\m(WRAP|PARTY|BUNTING|BALLOONS?|GIFT TAGS?|RIBBONS?|TISSUES?|CONFETTI|PAPER CHAIN|CRACKERS?|GARLAND)'),
    (60, 'stationery & cards',  '\m(CARDS?|NOTEBOOK|PENCILS?|PENS?|ERASERS?|STICKERS?|DIARY|JOURNAL|CALENDAR|NOTEPAD|STATIONERY|ENVELOPES?|BOOK|CRAYONS|CHALK|SKETCHBOOK|RULER)\M'),
    (70, 'toys & games',        '\m(TOYS?|GAMES?|DOLLS?|JIGSAW|PUZZLES?|PLAYHOUSE|SKITTLES|DOMINOES|SPACEBOY|DINOSAUR|BLOCKS|TEDDY|SOLDIER|KIDS|CHILDRENS|CHILDS|MAGIC|SNAKES|LADDERS|BINGO|MARBLES|SPINNING TOP)\M'),
    (80, 'jewellery & accessories', '\m(NECKLACE|BRACELET|EARRINGS|RING|HAIR|CLIPS?|BROOCH|CHARM|PURSE|WALLET|UMBRELLA|GLOVES|SCARF|HANDBAG|BEAD|DIAMANTE|KEY ?RING)\M'),
    (90, 'garden & outdoor',    '\m(GARDEN|PLANTERS?|PLANT|FLOWER POT|WATERING|BIRD|BIRDHOUSE|HERB|SEEDS?|PARASOL|OUTDOOR|GNOME|WINDMILL)\M'),
    (100, 'textiles',           '\m(BLANKET|THROW|HOT WATER BOTTLE|TOWELS?|QUILT|FABRIC|CUSHION|DOORMAT|MAT|FELT|KNITTED)\M'),
    (110, 'bathroom',           '\m(BATH|SOAP|TOILET|BATHROOM|SPONGE|SHOWER)\M'),
    (120, 'storage',            '\m(BOX|BOXES|TINS?|BASKETS?|STORAGE|DRAWERS?|CHEST|CASE|HAMPER|CRATE|JARS?)\M'),
    (130, 'home decor',         '\m(SIGN|FRAME|CLOCK|MIRROR|WALL|ORNAMENTS?|HOOKS?|COAT HANGERS?|HANGER|VASE|DECORATION|HEARTS?|PLAQUE|BLACKBOARD|DOORSTOP|WREATH|CHANDELIER|WICKER|PICTURE|MOBILE|CHIME|DOOR)\M');

-- Words that become tags when they appear in a product name.
CREATE TEMP TABLE retail_tag_words (word text PRIMARY KEY) ON COMMIT DROP;
INSERT INTO retail_tag_words VALUES
    ('red'), ('pink'), ('blue'), ('green'), ('white'), ('black'), ('ivory'), ('cream'),
    ('gold'), ('silver'), ('purple'), ('yellow'), ('orange'), ('vintage'), ('retro'),
    ('regency'), ('victorian'), ('french'), ('english'), ('spotty'), ('polkadot'),
    ('floral'), ('rose'), ('heart'), ('star'), ('owl'), ('cat'), ('dog'), ('bird'),
    ('glass'), ('wooden'), ('metal'), ('ceramic'), ('paper'), ('jumbo'), ('mini'),
    ('large'), ('small'), ('set'), ('party'), ('christmas'), ('easter'), ('union');

CREATE TEMP TABLE retail_locales (country text PRIMARY KEY, locale text) ON COMMIT DROP;
INSERT INTO retail_locales VALUES
    ('United Kingdom', 'en-GB'), ('EIRE', 'en-IE'), ('Germany', 'de-DE'), ('France', 'fr-FR'),
    ('Netherlands', 'nl-NL'), ('Spain', 'es-ES'), ('Belgium', 'nl-BE'), ('Switzerland', 'de-CH'),
    ('Portugal', 'pt-PT'), ('Australia', 'en-AU'), ('Norway', 'nb-NO'), ('Italy', 'it-IT'),
    ('Channel Islands', 'en-GB'), ('Finland', 'fi-FI'), ('Cyprus', 'el-CY'), ('Sweden', 'sv-SE'),
    ('Austria', 'de-AT'), ('Denmark', 'da-DK'), ('Japan', 'ja-JP'), ('Poland', 'pl-PL'),
    ('USA', 'en-US'), ('Israel', 'he-IL'), ('Singapore', 'en-SG'), ('Iceland', 'is-IS'),
    ('Canada', 'en-CA'), ('Greece', 'el-GR'), ('Malta', 'en-MT'), ('United Arab Emirates', 'ar-AE'),
    ('European Community', 'en-GB'), ('RSA', 'en-ZA'), ('Lebanon', 'ar-LB'), ('Lithuania', 'lt-LT'),
    ('Brazil', 'pt-BR'), ('Czech Republic', 'cs-CZ'), ('Bahrain', 'ar-BH'), ('Saudi Arabia', 'ar-SA'),
    ('Unspecified', 'en-GB');

-- A stable hash of a text to 0..99 (first 28 bits of its MD5).
CREATE FUNCTION pg_temp.retail_hash(s text) RETURNS int
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT (('x' || substr(md5(s), 1, 7))::bit(28)::int % 100) $$;

-- Synthetic first names (the dataset is anonymised), picked by hash.
CREATE FUNCTION pg_temp.retail_first_name(id bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$
    SELECT (ARRAY['Olivia', 'Amelia', 'Isla', 'Ava', 'Emily', 'Sophie', 'Grace', 'Mia',
                  'Lucy', 'Ella', 'Hannah', 'Chloe', 'Anna', 'Laura', 'Claire', 'Marie',
                  'Oliver', 'George', 'Harry', 'Jack', 'Jacob', 'Noah', 'Charlie', 'Thomas',
                  'Oscar', 'James', 'William', 'Henry', 'Lukas', 'Pierre', 'Pablo', 'Sven'])
           [1 + (('x' || substr(md5('name:' || id), 1, 7))::bit(28)::int % 32)]
$$;
