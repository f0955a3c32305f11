/*
 * Guard word lists (0.2.0): the data the guard's reader rules need, as
 * rows admins extend.
 *
 *   recgen.person_names     given names: a text may name no person but the
 *                           customer (a name copied from a few-shot example
 *                           or invented by the model is flagged)
 *   recgen.attribute_words  words that state a product fact (colour,
 *                           material, size, feature): one in a text must be
 *                           in the data of the context's products
 *
 * The seeds are short hand-made lists of common names and attribute words
 * (English; the demo data's names included). Names that are also ordinary
 * words a text may start a sentence with (Will, May, Hope, Summer...) are
 * left out on purpose.
 */

CREATE TABLE recgen.person_names (
    name text PRIMARY KEY CHECK (name ~ '^[[:upper:]][[:lower:]''-]+$')
);
COMMENT ON TABLE recgen.person_names IS
    'Given names the guard looks for: a generated text may name no person but its customer (rule "name"). Capitalised, one word; add your customers'' names.';
INSERT INTO recgen.person_names (name)
SELECT unnest(ARRAY[
    -- the demo data's synthetic names
    'Olivia', 'Amelia', 'Isla', 'Ava', 'Emily', 'Sophie', 'Grace', 'Mia', 'Lucy', 'Ella', 'Hannah',
    'Chloe', 'Anna', 'Laura', 'Claire', 'Marie', 'Oliver', 'George', 'Harry', 'Jack', 'Jacob', 'Noah',
    'Charlie', 'Thomas', 'Oscar', 'James', 'William', 'Henry', 'Lukas', 'Pierre', 'Pablo', 'Sven',
    'Aisha', 'Arjun', 'Daniel', 'Fatima', 'Leo', 'Mohammed', 'Priya',
    -- common given names
    'Aaron', 'Abigail', 'Adam', 'Adrian', 'Ahmed', 'Aidan', 'Alan', 'Albert', 'Alex', 'Alexander',
    'Alexandra', 'Alfie', 'Alice', 'Alicia', 'Alison', 'Amanda', 'Amber', 'Amir', 'Amy', 'Andrea',
    'Andrew', 'Andy', 'Angela', 'Anita', 'Ann', 'Anne', 'Anthony', 'Antonio', 'Archie', 'Arthur',
    'Ashley', 'Barbara', 'Ben', 'Benjamin', 'Beth', 'Bethany', 'Bob', 'Brian', 'Callum', 'Cameron',
    'Carl', 'Carla', 'Carlos', 'Caroline', 'Catherine', 'Charlotte', 'Chris', 'Christian', 'Christina',
    'Christine', 'Christopher', 'Clara', 'Connor', 'Craig', 'Daisy', 'Dan', 'Danny', 'David', 'Deborah',
    'Dev', 'Diana', 'Diego', 'Dominic', 'Donna', 'Dylan', 'Edward', 'Eleanor', 'Elena', 'Eliza',
    'Elizabeth', 'Ellie', 'Emma', 'Eric', 'Erin', 'Ethan', 'Eva', 'Evan', 'Eve', 'Evie', 'Felix',
    'Finn', 'Fiona', 'Florence', 'Francesca', 'Francesco', 'Freddie', 'Freya', 'Gabriel', 'Gary',
    'Gemma', 'Georgia', 'Giovanni', 'Giulia', 'Graham', 'Hans', 'Harper', 'Harriet', 'Harrison',
    'Heather', 'Helen', 'Hugo', 'Ian', 'Imogen', 'Isaac', 'Isabel', 'Isabella', 'Isabelle', 'Ivan',
    'Jake', 'Jamie', 'Jan', 'Jane', 'Janet', 'Jasmine', 'Jason', 'Javier', 'Jay', 'Jenny', 'Jennifer',
    'Jessica', 'Joan', 'Joe', 'Joel', 'John', 'Jonathan', 'Jordan', 'Jose', 'Joseph', 'Joshua', 'Juan',
    'Julia', 'Julie', 'Karen', 'Kate', 'Katie', 'Kevin', 'Kira', 'Laila', 'Leah', 'Lena', 'Leon', 'Liam',
    'Lily', 'Linda', 'Lisa', 'Logan', 'Louis', 'Louise', 'Luca', 'Lucas', 'Luis', 'Luke', 'Maria',
    'Marco', 'Margaret', 'Martin', 'Mary', 'Matteo', 'Matthew', 'Max', 'Maya', 'Megan', 'Michael',
    'Michelle', 'Miguel', 'Mila', 'Millie', 'Mohamed', 'Muhammad', 'Nancy', 'Natalie', 'Nathan',
    'Neil', 'Nicola', 'Nicole', 'Nina', 'Olive', 'Omar', 'Owen', 'Patrick', 'Paul', 'Paula', 'Peter',
    'Philip', 'Phoebe', 'Rachel', 'Rebecca', 'Richard', 'Robert', 'Rosie', 'Ryan', 'Sam', 'Samantha',
    'Sammy', 'Samuel', 'Sandra', 'Sara', 'Sarah', 'Scarlett', 'Sean', 'Sebastian', 'Simon', 'Sofia',
    'Sophia', 'Stephen', 'Steven', 'Susan', 'Teresa', 'Theo', 'Theodore', 'Thomas', 'Tim', 'Timothy',
    'Tom', 'Tony', 'Tyler', 'Victoria', 'Wendy', 'Yusuf', 'Zara', 'Zoe'
]) ON CONFLICT DO NOTHING;

CREATE TABLE recgen.attribute_words (
    word text PRIMARY KEY CHECK (word ~ '^[a-z0-9]+( [a-z0-9]+)*$'),
    kind text NOT NULL CHECK (kind IN ('colour', 'material', 'size', 'feature', 'offer', 'occasion', 'event', 'activity')),
    -- kind activity: the beginnings of the words of a context that support
    -- it ("baking" is supported by a cake tin: stems bak, cake, ...)
    stems text[] CHECK (stems IS NULL OR kind = 'activity')
);
COMMENT ON TABLE recgen.attribute_words IS
    'Words that state a product fact (colour, material, size, feature): a word or a phrase of up to three words, lower case, words separated by one space (hyphenated words as two: "dishwasher safe"). The guard flags one that is in no product of the context: not in its name, category, tags, attributes or description, nor in the customer''s history (rule "attribute"). Kinds offer, occasion and event are claims rather than product facts (rules "offer", "occasion", "event": a discount, an occasion or person of the customer''s life, an event such as a delivery or a visit that no data of the context records). Kind activity is a pastime ("Happy baking!", "enjoy writing with them") that no word of the context supports: stems lists the beginnings of the words that do (rule "activity").';
INSERT INTO recgen.attribute_words (word, kind)
SELECT w, 'colour' FROM unnest(ARRAY[
    'red', 'blue', 'green', 'yellow', 'pink', 'purple', 'orange', 'black', 'white', 'grey', 'gray',
    'brown', 'beige', 'ivory', 'cream', 'gold', 'golden', 'silver', 'turquoise', 'navy', 'teal',
    'lilac', 'violet', 'crimson', 'scarlet', 'maroon', 'magenta', 'khaki', 'pastel', 'multicoloured'
]) w
UNION ALL
SELECT w, 'material' FROM unnest(ARRAY[
    'wood', 'wooden', 'oak', 'pine', 'bamboo', 'ceramic', 'porcelain', 'stoneware', 'glass', 'crystal',
    'metal', 'steel', 'iron', 'copper', 'brass', 'aluminium', 'enamel', 'cotton', 'linen', 'wool',
    'woollen', 'silk', 'satin', 'velvet', 'leather', 'suede', 'felt', 'cardboard', 'plastic',
    'acrylic', 'resin', 'rubber', 'marble', 'slate', 'wicker', 'rattan', 'jute', 'hessian', 'canvas',
    'denim', 'lace'
]) w
UNION ALL
SELECT w, 'size' FROM unnest(ARRAY[
    'small', 'large', 'mini', 'medium', 'tiny', 'huge', 'giant', 'jumbo', 'oversized', 'compact',
    'extra large'
]) w
UNION ALL
SELECT w, 'feature' FROM unnest(ARRAY[
    'waterproof', 'handmade', 'hand made', 'handcrafted', 'hand painted', 'organic', 'eco friendly',
    'recycled', 'recyclable', 'biodegradable', 'vegan', 'dishwasher safe',
    'microwave safe', 'rechargeable', 'battery', 'wireless', 'scented', 'unscented',
    'antique', 'reversible', 'adjustable', 'foldable', 'washable', 'personalised', 'engraved',
    'non stick', 'insulated', 'fairtrade', 'limited edition', 'award winning',
    'interest free', 'fee free', 'no fee', 'no annual fee', 'tax free', 'cashback', 'cash back',
    'contactless', 'overdraft', 'fixed rate', 'variable rate', 'lounge', 'concierge', 'insurance',
    -- invented customisation and claims that it suits every home
    'customized', 'customised', 'customizable', 'customisable', 'customize', 'customise',
    'monogrammed', 'your decor', 'any decor', 'any kitchen', 'any room',
    'any home', 'any space', 'any style', 'any occasion', 'any outfit', 'any table', 'any garden',
    -- goods no product of the context is ("Gift tags for your recent purchases"
    -- after paper chains and bags, third frame run)
    'gift tag', 'gift tags', 'gift wrap'
]) w
UNION ALL
-- an offer no data of the brand or the products makes (rule "offer")
SELECT w, 'offer' FROM unnest(ARRAY[
    'discount', 'discounts', 'discounted', 'sale', 'on sale', 'coupon', 'coupons', 'voucher', 'vouchers',
    'promo', 'promo code', 'promotion', 'special offer', 'exclusive offer', 'limited offer', 'limited time',
    'free shipping', 'free delivery', 'free postage', 'free gift', 'bargain', 'half price', 'clearance',
    'great deal', 'best deal', 'deals', 'off your', 'percent off', 'money off',
    -- "We've got a great offer for you!" (frame run)
    'great offer', 'an offer', 'offer for you', 'our offer'
]) w
UNION ALL
-- an occasion, a trip, an event or a person of the customer's life the
-- customer's data does not mention (rule "occasion": "for your trip to
-- Europe", "Enjoy your special day", "your child")
SELECT w, 'occasion' FROM unnest(ARRAY[
    'birthday', 'birthdays', 'anniversary', 'wedding', 'weddings', 'christmas', 'xmas', 'easter',
    'halloween', 'valentine', 'valentines', 'mothers day', 'fathers day', 'holiday', 'holidays',
    'vacation', 'vacations', 'trip', 'trips', 'journey', 'journeys', 'travels', 'travel', 'travelling', 'abroad', 'europe',
    'anniversaries', 'celebrations',
    'party', 'parties', 'celebration', 'special day', 'big day', 'special occasion', 'honeymoon',
    'graduation', 'retirement', 'new baby', 'baby shower', 'new home', 'housewarming',
    -- "We hope you're ready for your new kitchen!" (third frame run)
    'new kitchen', 'new house', 'new flat', 'new apartment', 'moving house',
    -- people of the customer's life nothing tells of
    'your child', 'your children', 'your kids', 'your son', 'your daughter', 'your husband', 'your wife',
    'your partner', 'your baby', 'your grandchildren', 'your grandchild', 'your grandkids', 'your kid',
    'your little one', 'your little ones', 'your family', 'your loved ones', 'your loved one',
    'your mum', 'your mom', 'your dad', 'your mother', 'your father', 'your parents', 'your friend',
    'your friends', 'your niece', 'your nephew', 'your grandson', 'your granddaughter', 'your spouse',
    'your boyfriend', 'your girlfriend', 'your pet', 'your dog', 'your cat', 'your guests', 'your colleagues'
]) w
UNION ALL
-- an event of the customer's dealings with the brand that no data records
-- (rule "event": "Your Plasters in Tin has arrived!", "We noticed you're
-- considering a Regency Cakestand", "the items in your basket", "We bought
-- the Set of 3 Cake Tins", "We recently bought the Lunch Bag Woodland", the
-- customer's purchase as the shop's): recgen
-- knows the customer's purchases, not deliveries, visits, baskets or intentions
SELECT w, 'event' FROM unnest(ARRAY[
    'arrived', 'has arrived', 'have arrived', 'delivered', 'dispatched', 'shipped', 'on its way',
    'on their way', 'back in stock', 'your basket', 'your cart', 'your shopping cart', 'your wishlist',
    'your wish list', 'you viewed', 'you browsed', 'recently viewed', 'you looked at', 'you left',
    'you re considering', 'you are considering', 'you were considering', 'youre considering',
    'your visit', 'you visited', 'your review', 'you reviewed', 'you signed up', 'your enquiry',
    'your inquiry', 'you asked', 'you requested', 'in the mail', 'in the post', 'we ve received',
    'we have received', 'we received', 'just received', 're looking at', 'are looking at',
    'we bought', 'we purchased', 'we ordered', 'we recently bought', 'we recently purchased',
    'we recently ordered', 'we just bought', 'we just ordered', 'we just purchased',
    -- plans nobody told the shop of ("you're planning on taking a trip next
    -- summer", frame run)
    'you re planning', 'you are planning', 'youre planning', 'you re thinking of', 'you are thinking of',
    'your upcoming', 'travel plans'
]) w
ON CONFLICT DO NOTHING;

-- a pastime the products and the customer's history give no reason to
-- mention (rule "activity": "Happy baking!" after three lunch bags, "We hope
-- you enjoy writing with them" after a jam making set; Qwen2.5-Coder-1.5B,
-- composition frame): supported by a word of the context that starts with
-- one of its stems ("bak" of "baking set", "cake" of "cake tins")
INSERT INTO recgen.attribute_words (word, kind, stems)
SELECT w, 'activity', stems
  FROM (VALUES
    ('{baking,bake}'::text[], '{bak,cake,cupcake,muffin,biscuit,cookie,pastr,scone,oven}'::text[]),
    ('{cooking,cook}', '{cook,kitchen,recipe,pan,saucepan,spice,utensil,apron,chef,baking,jam}'),
    -- "We hope you enjoy making delicious jams and desserts." after a jam
    -- set, scales and a recipe box (make demo)
    ('{desserts,dessert}', '{dessert,pudding,cake,cupcake,bak,jelly,trifle,sweet,chocolate,ice cream,sundae}'),
    ('{gardening}', '{garden,plant,seed,flower,watering,herb}'),
    -- a drawing, a painting, the writing on a card: nouns as often, so
    -- only as a pastime ("happy writing", "enjoy writing with them")
    ('{happy writing,enjoy writing,writing with}', '{writ,pen,pencil,notebook,note,paper,journal,stationer,letter,card,diary}'),
    ('{happy reading,enjoy reading,reading with}', '{book,read}'),
    ('{happy painting,enjoy painting,painting with}', '{paint,brush,canvas,art}'),
    ('{happy drawing,enjoy drawing,drawing with}', '{draw,pencil,crayon,colour,sketch,art,chalk}'),
    ('{happy colouring,enjoy colouring}', '{colour,pencil,crayon,draw,art,chalk}'),
    ('{crafting}', '{craft,sew,knit,ribbon,glue,art,paper,kit}'),
    ('{sewing}', '{sew,needle,thread,fabric,button,craft}'),
    ('{knitting}', '{knit,wool,yarn,needle,craft}'),
    ('{camping}', '{camp,tent,outdoor}'),
    ('{picnic,picnics}', '{picnic,lunch,hamper,flask}'),
    ('{decorating}', '{decor,ornament,garland,bunting,light,bauble}'),
    ('{gift wrapping}', '{wrap,gift,paper,ribbon}'),
    ('{cleaning}', '{clean,brush,mop,duster}')
  ) v(words, stems), unnest(v.words) w
ON CONFLICT DO NOTHING;
