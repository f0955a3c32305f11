"""The guard's claim rules (sql/idempotent/63_guard_reader_claims.sql):
emails Qwen2.5-Coder-1.5B wrote in part-by-part composition that passed
every other rule and that a reader rejects: the first person singular, a
recommended product spoken of as already bought, an offer and an occasion
nobody's data mentions. Each is checked to break only its new rule (so it
passed the guard before), and a sendable variant passes.

No LLM server: the guard is called directly with hand-made contexts."""
import json

import pytest

from content_helpers import connect, fresh_db, one

DB = "recgen_py_guard_claims"


@pytest.fixture(scope="module")
def conn():
    c = connect(fresh_db(DB))
    yield c
    c.close()


def guard(conn, output, context, brand="default"):
    return one(conn, "SELECT recgen.guard('email', %s, %s, %s)", (json.dumps(output), json.dumps(context), brand))


def rules(g):
    return {v["rule"] for v in g["violations"]}


# retail customer 12395 (Emily) as the demo recommends to her
EMILY = {"customer": {"first_name": "Emily", "locale": "en-GB", "segment": "regular"},
         "behaviour": {"recent_categories": ["kitchen & dining", "bags"],
                       "last_purchases": ["CHARLOTTE BAG DOLLY GIRL DESIGN", "SPACEBOY LUNCH BOX"]},
         "concerns": [],
         "items": [{"product_id": 1, "name": "LUNCH BAG SPACEBOY DESIGN", "price": 1.65, "price_text": "£1.65",
                    "category": "bags", "reason": "often bought together with items you chose",
                    "because": ["SPACEBOY LUNCH BOX"]},
                   {"product_id": 2, "name": "SPACEBOY BIRTHDAY CARD", "price": 0.42, "price_text": "£0.42",
                    "category": "cards", "reason": "similar to items you liked", "because": ["SPACEBOY LUNCH BOX"]}]}


def emily(opening, closing="Thank you for shopping with us.",
          second="It is a card with the same spaceboy drawing."):
    return {"subject": "Emily, a Spaceboy lunch bag for you", "preheader": "Picked for you",
            "body": ("Hi Emily,\n\n" + opening + "\n\n"
                     "Since you chose the Spaceboy Lunch Box, the Lunch Bag Spaceboy Design (£1.65) keeps the set together. "
                     "As you picked the Spaceboy Lunch Box, the Spaceboy Birthday Card (£0.42) " + second[3:] + "\n\n"
                     + closing + "\n\nThe team"),
            "cta": "See the lunch bag"}


def with_item(name, category, written):
    """EMILY's context with her first recommendation renamed, and an email
    that names it as written (recgen's product sentence)."""
    ctx = {**EMILY, "items": [{**EMILY["items"][0], "name": name, "category": category}, EMILY["items"][1]]}
    out = emily("We hope the Spaceboy Lunch Box is a hit.")
    out["body"] = out["body"].replace("Lunch Bag Spaceboy Design", written)
    return ctx, out


def with_opening(out, opening):
    return {**out, "body": out["body"].replace("We hope the Spaceboy Lunch Box is a hit.", opening)}


def test_the_sendable_email_passes(conn):
    g = guard(conn, emily("We hope the Spaceboy Lunch Box is a hit at lunchtime."), EMILY)
    assert g["ok"], g


@pytest.mark.parametrize("opening,closing,rule", [
    ("I hope you're doing well.", "Thank you for shopping with us.", "first_person"),
    ("We hope the Spaceboy Lunch Box is a hit.", "I hope you enjoy using them!", "first_person"),
    ("We hope the Spaceboy Lunch Box is a hit, and my team agrees.", "Thank you.", "first_person"),
    ("Thank you for choosing the Lunch Bag Spaceboy Design.", "Thank you.", "owned"),
    ("Your Lunch Bag Spaceboy Design is a great match for your Spaceboy Lunch Box.", "Thank you.", "owned"),
    ("You have a great Lunch Bag Spaceboy Design already.", "Thank you.", "owned"),
    ("We hope the Spaceboy Lunch Box is a hit.", "Enjoy money off your next order.", "offer"),
    ("We hope the Spaceboy Lunch Box is a hit.", "Free delivery on everything this week.", "offer"),
    ("We hope the Spaceboy Lunch Box is a hit.", "Use the promo code at checkout.", "offer"),
    ("We've got a great offer for you!", "Thank you.", "offer"),
    ("We hope the Spaceboy Lunch Box is a hit.", "Enjoy your special day!", "occasion"),
    ("We hope the Spaceboy Lunch Box is perfect for your trip to Europe.", "Thank you.", "occasion"),
    ("We hope the Spaceboy Lunch Box is a hit with your child.", "Thank you.", "occasion"),
    ("We hope the Spaceboy Lunch Box is perfect for space-themed vacations.", "Thank you.", "occasion"),
    ("We hope the Spaceboy Lunch Box is a hit with your little ones.", "Thank you.", "occasion"),
    ("We hope the Spaceboy Lunch Box is a hit.", "Your family will love them.", "occasion"),
    # events recgen has no record of (Qwen2.5-Coder-1.5B, measured runs)
    ("Your Spaceboy Lunch Box has arrived!", "Thank you.", "event"),
    ("We noticed you're considering a new lunch bag.", "Thank you.", "event"),
    ("We hope the Spaceboy Lunch Box is a hit.", "The items in your basket are waiting.", "event"),
    ("We hope the Spaceboy Lunch Box is a hit.", "They are back in stock now.", "event"),
    # (composition frame, 100-customer run)
    ("Your Spaceboy Lunch Box is in the mail!", "Thank you.", "event"),
    ("We've just received your recent purchase of the Spaceboy Lunch Box.", "Thank you.", "event"),
    ("We noticed you're looking at a new lunch bag.", "Thank you.", "event"),
    # (make demo, frame: the customer's purchases as the shop's)
    ("We bought the Spaceboy Lunch Box.", "Thank you.", "event"),
    # (frame run: plans nobody told the shop of)
    ("We hope the Spaceboy Lunch Box is a hit.", "We know you're planning something new.", "event"),
    ("We hope the Spaceboy Lunch Box is a hit.", "We hope it helps with your upcoming lunches.", "event"),
    # (third frame run: the customer's purchases as the shop's order, a kitchen nobody mentioned)
    ("We just ordered the Spaceboy Lunch Box.", "Thank you.", "event"),
    ("We hope you're ready for your new kitchen!", "Thank you.", "occasion"),
])
def test_a_claim_no_data_makes_is_rejected(conn, opening, closing, rule):
    g = guard(conn, emily(opening, closing), EMILY)
    assert not g["ok"] and rules(g) == {rule}, g


def test_a_recommended_sibling_of_a_purchase_spoken_of_as_ordered(conn):
    """Seen passing in the frame run: "We're happy you ordered the Alarm
    Clock Bakelike Green" to a customer who bought the Pink one (its shorter
    form "alarm clock bakelike" hid the Green's name); the Pink one may be
    spoken of as ordered, and the Red one is not named by the Green's name."""
    clocks = {**EMILY, "behaviour": {**EMILY["behaviour"], "last_purchases": ["ALARM CLOCK BAKELIKE PINK"]},
              "items": [{**EMILY["items"][0], "name": n, "because": ["ALARM CLOCK BAKELIKE PINK"], "category": "clocks"}
                        for n in ("ALARM CLOCK BAKELIKE GREEN", "ALARM CLOCK BAKELIKE RED")]}
    body = ("Hi Emily,\n\n{}\n\nBecause you chose the Alarm Clock Bakelike Pink, we think you will like the "
            "Alarm Clock Bakelike Green (£1.65). The Alarm Clock Bakelike Red (£1.65) is a pick of shoppers with "
            "tastes like yours.\n\nThe team")
    out = {"subject": "Emily, alarm clocks for you", "body": body.format("We're happy you ordered the Alarm Clock Bakelike Green."),
           "cta": "Have a look"}
    g = guard(conn, out, clocks)
    assert [v["detail"] for v in g["violations"] if v["rule"] == "owned"] == \
        ['speaks of "ALARM CLOCK BAKELIKE GREEN" as the customer\'s own, but it is a product recommended to them'], g
    out["body"] = body.format("We're happy you ordered the Alarm Clock Bakelike Pink.")
    assert "owned" not in rules(guard(conn, out, clocks)), guard(conn, out, clocks)


def test_a_product_of_an_example_is_copied_unless_the_customer_has_it(conn):
    """Seen passing in the frame run: "We hope you're enjoying your
    notebooks and desk lamp" (the purchases of a few-shot example) to a
    customer who bought neither."""
    opening = "We hope you're enjoying your notebooks and desk lamp."
    g = guard(conn, emily(opening), EMILY)
    assert not g["ok"] and rules(g) == {"copied"} and "desk lamp" in g["violations"][0]["detail"], g
    g = guard(conn, emily("We hope the Garden Chair has found a good spot."), EMILY)
    assert rules(g) == {"copied"}, g
    # a customer who did buy them may hear of them
    theirs = {**EMILY, "behaviour": {**EMILY["behaviour"],
                                     "last_purchases": EMILY["behaviour"]["last_purchases"] + ["NOTEBOOK", "DESK LAMP"]}}
    assert guard(conn, emily(opening), theirs)["ok"], guard(conn, emily(opening), theirs)


def test_an_example_sentence_is_copied_whole(conn):
    """Seen passing in the 100-email frame run: "We hope you enjoy writing with
    it." after a cake stand and birthday cards, the Priya example's closing
    (six words, shorter than the eight-word runs the rule looked for)."""
    for closing in ["We hope you enjoy writing with it.", "We hope you enjoy writing with them.",
                    "Ask us whenever you like."]:
        g = guard(conn, emily("We hope the Spaceboy Lunch Box is a hit.", closing), EMILY)
        assert rules(g) == {"copied"}, (closing, g)
        assert "copies the sentence" in g["violations"][0]["detail"], g
    # a sentence that only starts like one is the writer's own
    g = guard(conn, emily("We hope the Spaceboy Lunch Box is a hit.", "We hope you enjoy lunchtime with them."), EMILY)
    assert g["ok"], g


def test_the_shop_does_not_buy_the_customers_purchase(conn):
    g = guard(conn, emily("We recently bought the Spaceboy Lunch Box, and we really like it."), EMILY)
    assert rules(g) == {"event"}, g


def test_a_product_spoken_of_as_owned_without_its_count(conn):
    """Seen passing in the 100-email run: "We hope you enjoy your new teatime
    fairy cake cases" of the recommended 60 Teatime Fairy Cake Cases (the
    model dropped the count, so the name was not found)."""
    ctx, out = with_item("60 TEATIME FAIRY CAKE CASES", "baking", "60 Teatime Fairy Cake Cases")
    assert guard(conn, out, ctx)["ok"], guard(conn, out, ctx)
    g = guard(conn, with_opening(out, "We hope you enjoy your new teatime fairy cake cases."), ctx)
    assert rules(g) == {"owned"}, g


def test_a_product_spoken_of_as_owned_by_its_name_before_with(conn):
    """Seen passing in make demo: "enjoy your jam making set" of the
    recommended Jam Making Set with Jars (a writer drops the "with ...")."""
    ctx, out = with_item("JAM MAKING SET WITH JARS", "kitchen", "Jam Making Set with Jars")
    assert guard(conn, out, ctx)["ok"], guard(conn, out, ctx)
    g = guard(conn, with_opening(out, "We hope you enjoy your jam making set."), ctx)
    assert rules(g) == {"owned"}, g


def test_words_the_data_says_are_no_invention(conn):
    # "birthday" is in a product's name, a purchase may be "yours"
    g = guard(conn, emily("We hope your Spaceboy Lunch Box is a hit.", "Thank you.",
                          "It is a birthday card with the same spaceboy drawing."), EMILY)
    assert g["ok"], g
    # a repeat purchase may be spoken of as theirs
    again = {**EMILY, "items": [{**EMILY["items"][0], "reason": "you have bought it before"}, EMILY["items"][1]]}
    g = guard(conn, emily("Your Lunch Bag Spaceboy Design could use a partner.", "Thank you."), again)
    assert "owned" not in rules(g), g
    # a purchase whose name starts like a recommended product is the purchase
    bags = {**EMILY, "behaviour": {**EMILY["behaviour"], "last_purchases": ["LUNCH BAG SPACEBOY"]}}
    g = guard(conn, emily("We hope your Lunch Bag Spaceboy is a hit.", "Thank you."), bags)
    assert "owned" not in rules(g), g
    # an offer the product's data makes, a trip its description mentions
    bank = {"customer": {"first_name": "James", "locale": "en-GB", "segment": "regular"},
            "behaviour": {"recent_categories": ["cards"], "last_purchases": ["Cash-Back Credit Card"]},
            "concerns": [],
            "items": [{"product_id": 16, "name": "Annual Travel Insurance", "price": 69, "price_text": "£69.00",
                       "category": "insurance", "reason": "often bought together with items you chose",
                       "description": "Cover for every trip in the year, with free delivery of documents.",
                       "because": ["Cash-Back Credit Card"]}]}
    out = {"subject": "James, the Annual Travel Insurance", "preheader": "For you",
           "body": ("Hello James,\n\nThank you for choosing the Cash-Back Credit Card.\n\n"
                    "Since you chose the Cash-Back Credit Card, the Annual Travel Insurance (£69.00) covers all your trips "
                    "and comes with free delivery of documents.\n\nWe are glad to help.\n\nEligibility, terms and "
                    "conditions apply. Rates may change.\n\nYour bank"), "cta": "Compare the options"}
    g = guard(conn, out, bank, "bank")
    assert not ({"offer", "occasion", "owned", "first_person"} & rules(g)), g


def test_a_name_that_holds_the_word_is_no_claim(conn):
    ctx = {**EMILY, "items": [{**EMILY["items"][0], "name": "I LOVE LONDON MINI BACKPACK", "because": ["SPACEBOY LUNCH BOX"]},
                              EMILY["items"][1]]}
    out = emily("We hope the Spaceboy Lunch Box is a hit.")
    out["body"] = out["body"].replace("Lunch Bag Spaceboy Design", "I Love London Mini Backpack")
    g = guard(conn, out, ctx)
    assert "first_person" not in rules(g), g


def test_two_products_of_one_price_make_no_phrase(conn):
    """recgen writes each product's price after its name: "(£1.65) goes with
    the" twice is the model's three words "goes with the", not a phrase of
    four (it was rejected as "repeats the phrase "£1.65 goes with the"")."""
    out = emily("We hope the Spaceboy Lunch Box is a hit.")
    ctx = {**EMILY, "items": [EMILY["items"][0], {**EMILY["items"][1], "price": 1.65, "price_text": "£1.65"}]}
    out["body"] = out["body"].replace("(£1.65) keeps the set together", "(£1.65) goes with the lunch box") \
                             .replace("(£0.42) is a card with the same spaceboy drawing.",
                                      "(£1.65) goes with the spaceboy drawing you like.")
    g = guard(conn, out, ctx)
    assert "repetition" not in rules(g), g
    # four words of the model's own still count
    out["body"] = out["body"].replace("goes with the spaceboy drawing", "goes with the lunch box and the drawing")
    assert "repetition" in rules(guard(conn, out, ctx))


@pytest.mark.parametrize("closing", ["Happy baking!", "Happy knitting!", "Have fun gardening with them.",
                                     "We hope you enjoy making delicious desserts."])
def test_a_pastime_no_product_is_about_is_rejected(conn, closing):
    """Seen passing in the frame runs: "Happy baking!" after three bags; a
    lunch bag and a birthday card are about none of these (cooking is: her
    favourite category is kitchen & dining)."""
    g = guard(conn, emily("We hope the Spaceboy Lunch Box is a hit.", closing), EMILY)
    assert rules(g) == {"activity"}, g
    assert "a pastime" in g["violations"][0]["detail"], g


def test_a_pastime_the_products_are_about_passes(conn):
    # a birthday card is for writing; cake cases for baking, by a word's stem
    for closing in ["Enjoy writing your cards!", "Happy cooking!"]:
        g = guard(conn, emily("We hope the Spaceboy Lunch Box is a hit.", closing), EMILY)
        assert g["ok"], (closing, g)
    ctx, out = with_item("60 TEATIME FAIRY CAKE CASES", "baking", "60 Teatime Fairy Cake Cases")
    out["body"] = out["body"].replace("Thank you for shopping with us.", "Happy baking!")
    assert "Happy baking!" in out["body"] and guard(conn, out, ctx)["ok"], guard(conn, out, ctx)
    out["body"] = out["body"].replace("Happy baking!", "We hope you enjoy your desserts.")
    assert guard(conn, out, ctx)["ok"], guard(conn, out, ctx)       # cake cases are for desserts
    # ... and so does a purchase of the customer's
    bakes = {**EMILY, "behaviour": {**EMILY["behaviour"], "last_purchases": ["SET OF 3 CAKE TINS PANTRY DESIGN"]}}
    assert guard(conn, emily("We hope the Spaceboy Lunch Box is a hit.", "Happy baking!"), bakes)["ok"]


@pytest.mark.parametrize("opening", [
    "We hope the Spaceboy Lunch Box Mug is a hit.",            # a word the name does not have
    "Spaceboy Lunch Tins are a great match for you.",          # two of its words and another
])
def test_a_product_name_the_context_has_no_product_of(conn, opening):
    """Seen passing in the frame run: "the Regency Cakestand Tins" beside the
    Regency Cakestand 3 Tier, "Jumbo Bag Red Retrospot Mug": a reader takes
    them for products' names, and the shop has no such product."""
    g = guard(conn, emily(opening), EMILY)
    assert rules(g) == {"product_name"}, g
    assert 'the nearest is "SPACEBOY LUNCH BOX"' in g["violations"][0]["detail"], g


@pytest.mark.parametrize("opening", [
    "We hope the Spaceboy Lunch Box is a hit.",
    "Your Spaceboy Lunch Box is a favourite of ours.",          # a sentence's first word and "your"
    "Lunch Boxes like yours are popular.",                      # plural, one word of the name
    "We hope the Spaceboy Box is a hit.",                       # a shorter form is the product
    "Dear Emily, Spaceboy Lunch Box fans love it.",             # the customer's name, not a word of a product
])
def test_a_product_name_written_as_the_data_has_it_passes(conn, opening):
    g = guard(conn, emily(opening), EMILY)
    assert "product_name" not in rules(g), g


def test_a_count_written_apart_is_the_product(conn):
    """Seen passing in the frame run: "Your Round Snack Boxes Set Of 4
    Woodland" of the recommended ROUND SNACK BOXES SET OF4 WOODLAND: the name
    was not found, so it was not seen as spoken of as the customer's."""
    ctx, out = with_item("ROUND SNACK BOXES SET OF4 WOODLAND", "kitchen", "Round Snack Boxes Set of 4 Woodland")
    assert guard(conn, out, ctx)["ok"], guard(conn, out, ctx)
    g = guard(conn, with_opening(out, "Your Round Snack Boxes Set Of 4 Woodland is a hit."), ctx)
    assert rules(g) == {"owned"}, g


def test_a_recommended_product_owned_in_the_subject_or_the_button(conn):
    """make demo: the call to action "Enjoy your jam making set" of the
    recommended Jam Making Set with Jars (the rule read the body alone); and
    "you picked up the ..." is "you picked"."""
    ctx, out = with_item("JAM MAKING SET WITH JARS", "kitchen", "Jam Making Set with Jars")
    assert guard(conn, out, ctx)["ok"], guard(conn, out, ctx)
    for field, text in [("cta", "Enjoy your jam making set"), ("subject", "Emily, your Jam Making Set with Jars")]:
        g = guard(conn, {**out, field: text}, ctx)
        assert rules(g) == {"owned"}, (field, g)
    picked = with_opening(out, "We are glad you picked up the Jam Making Set with Jars.")
    assert rules(guard(conn, picked, ctx)) == {"owned"}, guard(conn, picked, ctx)


def test_a_size_written_to_its_number_is_the_name(conn):
    """The fallback of retail customer 12722: "We hope the Black Christmas
    Tree 120cm is everything you wanted" (a run that stopped at "120")."""
    bought = {**EMILY, "behaviour": {**EMILY["behaviour"], "last_purchases": ["BLACK CHRISTMAS TREE 120CM"]}}
    g = guard(conn, emily("We hope the Black Christmas Tree 120cm is everything you wanted."), bought)
    assert "product_name" not in rules(g), g
    g = guard(conn, emily("We hope the Black Christmas Tree 150cm is everything you wanted."), bought)
    assert "product_name" in rules(g), g


def test_a_recommended_product_owned_by_its_name_without_the_first_word(conn):
    """Seen passing in the bank's frame run: "We're glad you found the rewards
    card helpful" of the Travel Rewards Card recommended to them."""
    ctx = {"customer": {"first_name": "Sophie", "locale": "en-GB", "segment": "regular"},
           "behaviour": {"recent_categories": ["cards"], "last_purchases": ["Cash-Back Credit Card"]},
           "concerns": [],
           "items": [{"product_id": 12, "name": "Travel Rewards Card", "price": 36, "price_text": "£36.00",
                      "category": "cards", "reason": "often bought together with items you chose",
                      "because": ["Cash-Back Credit Card"]}]}
    body = ("Hello Sophie,\n\n{}\n\nTo go with your Cash-Back Credit Card, have a look at the Travel Rewards Card "
            "(£36.00).\n\nEligibility, terms and conditions apply. Rates may change.\n\nYour bank")
    out = {"subject": "Sophie, the Travel Rewards Card", "body": body.format("We hope you are well."), "cta": "Compare the options"}
    assert guard(conn, out, ctx, "bank")["ok"], guard(conn, out, ctx, "bank")
    for opening in ["We're glad you found the rewards card helpful.", "Your rewards card is waiting."]:
        g = guard(conn, {**out, "body": body.format(opening)}, ctx, "bank")
        assert rules(g) == {"owned"}, (opening, g)
    # a hope about what they may choose is no owning
    g = guard(conn, {**out, "body": body.format("We hope you find the rewards card useful.")}, ctx, "bank")
    assert "owned" not in rules(g), g
    # the purchase's own words are theirs: "your credit card" is the Cash-Back Credit Card
    g = guard(conn, {**out, "body": body.format("We hope your credit card serves you well.")}, ctx, "bank")
    assert "owned" not in rules(g), g


@pytest.mark.parametrize("opening,owned", [
    ("Thanks for ordering the Spaceboy Lunch Bag.", True),         # the Lunch Bag Spaceboy Design, reordered
    ("Your Spaceboy Birthday is a great addition.", True),         # the Spaceboy Birthday Card, short
    ("We hope you enjoy your new lunch bags.", True),
    ("Shop for your lunch bags whenever you like.", False),        # for your: no owning
    ("We hope you enjoy your Spaceboy lunch box.", False),         # all words of her purchase
    ("Your spaceboy taste shows.", False),                          # one word of the name
    ("We hope you love your new card collection.", True),           # "your new": one word is enough
    ("We hope you love your new spaceboy cup.", False),             # a word of her Spaceboy Lunch Box
    ("We hope you love your new lunchtime routine.", False),        # no word of a name
    ("We saw you picked up some spaceboy birthday cards.", True),  # "picked up some": the card is recommended
])
def test_a_recommended_product_owned_in_other_words(conn, opening, owned):
    """Seen passing in the second frame run: "Thanks for ordering the
    Spaceboy Lunch Bag", "Your Regency Cakestand is a great addition to your
    kitchen" of recommended products."""
    g = guard(conn, emily(opening), EMILY)
    assert ("owned" in rules(g)) == owned, g


def test_a_birthday_a_product_is_for_is_not_the_customers(conn):
    """Seen passing in the second frame run: "We hope you're having a great
    birthday!" beside a Pink Happy Birthday Bunting. The Spaceboy Birthday
    Card allows the word for the card, not the customer's own birthday."""
    for opening in ["We hope you're having a great birthday!", "Enjoy your birthday with the Spaceboy Lunch Box."]:
        g = guard(conn, emily(opening), EMILY)
        assert rules(g) == {"occasion"}, (opening, g)
        assert '"birthday"' in g["violations"][0]["detail"], g
    g = guard(conn, emily("We hope the Spaceboy Lunch Box is a hit.", "Thank you.",
                          "It is a birthday card for a friend's birthday."), EMILY)
    assert g["ok"], g
    # a thing of the day, not the day (a first run of the rule rejected it)
    g = guard(conn, emily("We hope your birthday card was a success."), EMILY)
    assert "occasion" not in rules(g), g


@pytest.mark.parametrize("field,value,rule", [
    ("subject", "A Spaceboy Lunch Set for you", "product_name"),   # "Regency Tea Set" of a Regency Tea Plate
    ("cta", "Shop the Spaceboy Lunch Set", "product_name"),
    ("cta", "See your desk picks", "copied"),                       # an example's Desk Lamp
    ("subject", "Gift tags for your lunch box", "attribute"),       # no product is a gift tag
])
def test_the_subject_and_call_to_action_name_no_product_there_is_not(conn, field, value, rule):
    """Seen passing in the third frame run: the subjects "Regency Tea Set"
    (beside a Regency Tea Plate Roses and a Regency Teapot Roses) and "Gift
    tags for your recent purchases" (paper chains and bags), the button "See
    your desk picks" after a cakestand and a doormat (the Priya example's
    Desk Lamp). The body's rules read those lines too; the sendable ones
    pass."""
    g = guard(conn, {**emily("We hope the Spaceboy Lunch Box is a hit."), field: value}, EMILY)
    assert rules(g) == {rule}, g
    # the preheader is recgen's own in a composed email, not read by these
    # (the bank's "Chosen for how you use your account" has the "account" of
    # its example's Everyday Current Account: a first run of the rule
    # rejected 36 of 50 bank emails for it)
    g = guard(conn, {**emily("We hope the Spaceboy Lunch Box is a hit."), "preheader": "Chosen for your desk"}, EMILY)
    assert g["ok"], g
    for ok in ("Spaceboy Lunch Bag picks", "See the lunch bag picks", "A Spaceboy card for you"):
        g = guard(conn, {**emily("We hope the Spaceboy Lunch Box is a hit."), field: ok}, EMILY)
        assert g["ok"], (ok, g)


def test_a_label_of_the_prompt_is_a_placeholder(conn):
    """Seen passing in the third frame run (bank): "Thank you for choosing
    Home Insurance as one of your Recent purchases." The prompt's labels
    inside a sentence are template text; the words in lower case are not."""
    g = guard(conn, emily("Thank you for choosing the Spaceboy Lunch Box as one of your Recent purchases."), EMILY)
    assert rules(g) == {"placeholder"} and "Recent purchases" in g["violations"][0]["detail"], g
    g = guard(conn, emily("The Spaceboy Lunch Box is one of your recent purchases we like most."), EMILY)
    assert "placeholder" not in rules(g), g
