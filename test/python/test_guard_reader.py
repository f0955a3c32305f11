"""The guard's reader rules (sql/idempotent/63_guard_reader.sql): what a
person would reject. Every email quoted in issue 15 as having passed the
old guard is here and must fail, with the rule that catches it; a good
email passes every rule, so the rules are not simply strict.

No LLM server: the guard is called directly with hand-made contexts."""
import json

import pytest

from content_helpers import connect, fresh_db, one

DB = "recgen_py_guard_reader"


@pytest.fixture(scope="module")
def conn():
    c = connect(fresh_db(DB))
    yield c
    c.close()


def guard(conn, kind, output, context, brand="default", channel=None):
    return one(conn, "SELECT recgen.guard(%s, %s, %s, %s, %s)",
               (kind, json.dumps(output), json.dumps(context), brand, channel))


def rules(g):
    return {v["rule"] for v in g["violations"]}


def item(pid, name, price, reason="often bought together with items you chose", because=None, category="kitchen"):
    i = {"product_id": pid, "name": name, "price": price, "price_text": f"£{price:.2f}",
         "category": category, "reason": reason}
    if because:
        i["because"] = because
    return i


def context(first_name, items, last=(), categories=("kitchen",), locale="en-GB"):
    return {"customer": {"first_name": first_name, "locale": locale, "segment": "regular"},
            "behaviour": {"recent_categories": list(categories), "last_purchases": list(last),
                          "monetary": 120.0, "frequency": 4, "recency_days": 12},
            "concerns": [], "items": items}


# Thomas (customer 12346 in the demo) with the three storage jars he was
# recommended, each because of the jar he bought
THOMAS = context("Thomas", [
    item(2060, "LARGE CERAMIC TOP STORAGE JAR", 1.65, because=["MEDIUM CERAMIC TOP STORAGE JAR"], category="storage"),
    item(2062, "SMALL CERAMIC TOP STORAGE JAR", 0.83, because=["MEDIUM CERAMIC TOP STORAGE JAR"], category="storage"),
    item(1031, "RED RETROSPOT STORAGE JAR", 3.75, "similar to items you liked",
         because=["RED RETROSPOT CHARLOTTE BAG"], category="storage")],
    last=["MEDIUM CERAMIC TOP STORAGE JAR", "RED RETROSPOT CHARLOTTE BAG"], categories=["storage"])

GOOD_THOMAS = {
    "subject": "Thomas, more storage jars for your shelves",
    "preheader": "Chosen from what you bought",
    "body": ("Hi Thomas,\n\nThank you for your recent order of the Medium Ceramic Top Storage Jar. "
             "The Large Ceramic Top Storage Jar (£1.65) is its bigger partner and often bought together with it. "
             "For spices and small things, the Small Ceramic Top Storage Jar (£0.83) completes the set. "
             "And since you chose the Red Retrospot Charlotte Bag, the Red Retrospot Storage Jar (£3.75) "
             "matches it nicely.\n\nWe hope your kitchen shelves enjoy them.\n\nThe team"),
    "cta": "See the jars"}

# the bank demo customer 100002, Grace, and her three recommendations
GRACE = context("Grace", [
    {"product_id": 15, "name": "Small-Business Loan", "price": 0, "rate_pct": 8.5, "price_text": "8.5% rate",
     "category": "business", "reason": "often bought together with items you chose",
     "because": ["Small-Business Current Account"]},
    {"product_id": 6, "name": "Cash-Back Credit Card", "price": 0, "category": "cards",
     "reason": "often bought together with items you chose", "because": ["Small-Business Current Account"]},
    {"product_id": 9, "name": "Easy Access Saver", "price": 0, "rate_pct": 3.1, "price_text": "3.1% rate",
     "category": "savings", "reason": "often bought together with items you chose",
     "because": ["Small-Business Current Account"]}],
    last=["Small-Business Current Account"], categories=["business_supplies", "online_shopping", "travel"])


def test_a_good_email_passes_every_rule(conn):
    g = guard(conn, "email", GOOD_THOMAS, THOMAS)
    assert g["ok"], g["violations"]


# --- the emails quoted in issue 15 ------------------------------------------

def test_issue_hannah_names_no_product(conn):
    ctx = context("Hannah", [item(1, "Red Enamel Mug", 6.50), item(3, "Stoneware Teapot", 24.00)])
    g = guard(conn, "email", {"subject": "Hannah, for you", "preheader": "",
                              "body": "Hi Hannah, you have a great product, I just love it.", "cta": "See it"}, ctx)
    assert not g["ok"] and "products_named" in rules(g), g


def test_issue_love_your_love_repeats_itself(conn):
    ctx = context("Hannah", [item(1, "SET OF 36 COLOURING PENCILS DOILEY", 1.25)])
    body = "We love your set of 36, they are so special, just like you love your love of your colours."
    g = guard(conn, "email", {"subject": "Hannah, your colours", "body": body, "cta": "See them"}, ctx)
    assert not g["ok"] and {"repetition", "products_named"} <= rules(g), g


def test_issue_bank_business_loan_rambles_with_a_fragment_cta(conn):
    body = ("Hi Grace, I have a business I would like to lend you a small business loan. I would love to hear "
            "about your business, and I would love to help you with your business, including your business "
            "plans and business plans for your business.\n\nEligibility, terms and conditions apply. "
            "Rates may change.\n\nYour bank")
    g = guard(conn, "email", {"subject": "Grace, a loan with a small business", "body": body,
                              "cta": "See the loan, I would love to,"}, GRACE, "bank")
    assert not g["ok"]
    assert {"cta", "repetition", "products_named"} <= rules(g), g
    details = " ".join(v["detail"] for v in g["violations"])
    assert "Cash-Back Credit Card" in details and "Easy Access Saver" in details


def test_issue_sammy_is_not_thomas(conn):
    body = ("Hi Sammy,\n\nI think you would enjoy the SMALL CERAMIC TOP STORAGE JAR (£0.83), the LARGE CERAMIC "
            "TOP STORAGE JAR (£1.65) and the RED RETROSPOT STORAGE JAR (£3.75).\n\nThe team")
    g = guard(conn, "email", {"subject": "Thomas, storage jars", "body": body, "cta": "See the jars"}, THOMAS)
    assert not g["ok"] and "name" in rules(g), g
    assert any("Sammy" in v["detail"] for v in g["violations"] if v["rule"] == "name")


def test_issue_a_fallback_without_products_is_not_deliverable(conn):
    ctx = context("Hannah", [])
    body = "Hi Hannah,\n\nBased on what you like, we think these could suit you:\n\nThe team"
    g = guard(conn, "email", {"subject": "Hannah, a few picks for you", "body": body, "cta": "See your picks"}, ctx)
    assert not g["ok"] and "products_named" in rules(g)
    # and the fallback renderer cannot make one that passes
    out = one(conn, "SELECT recgen.render_fallback('email', %s, 'default')", (json.dumps(ctx),))
    assert not guard(conn, "email", out, ctx)["ok"]


def test_issue_pablo_in_the_third_person(conn):
    ctx = context("Pablo", THOMAS["items"], last=THOMAS["behaviour"]["last_purchases"], categories=["storage"])
    body = GOOD_THOMAS["body"].replace("Hi Thomas,", "Hi Pablo,").replace(
        "Thank you for your recent order of the Medium Ceramic Top Storage Jar.",
        "Pablo recently purchased the Medium Ceramic Top Storage Jar.")
    g = guard(conn, "email", {**GOOD_THOMAS, "subject": "Pablo, storage jars", "body": body}, ctx)
    assert not g["ok"] and rules(g) == {"second_person"}, g


def test_the_name_as_an_object_is_the_third_person_but_not_when_addressed(conn):
    # seen in a measured run: "It suits Priya as they often buy together ..."
    # and "a great offer for James!" (passed as addressed, "!" after the name;
    # "a great offer" is an offer too now, so a pick here)
    for said in ("It suits Thomas as he often buys jars.", "A gift for Thomas and the family.",
                 "The jar is a great pick for Thomas!"):
        body = GOOD_THOMAS["body"].replace("We hope", said + " We hope")
        g = guard(conn, "email", {**GOOD_THOMAS, "body": body}, THOMAS)
        assert not g["ok"] and rules(g) == {"second_person"}, g
    # speaking to him by name is not speaking of him
    body = GOOD_THOMAS["body"].replace("We hope", "We picked these for you, Thomas. Thanks to Thomas! We hope")
    g = guard(conn, "email", {**GOOD_THOMAS, "body": body}, THOMAS)
    assert "second_person" not in rules(g), g


def test_issue_chinese_characters_in_an_english_email(conn):
    body = GOOD_THOMAS["body"].replace("matches it nicely.", "matches it nicely 非常好.")
    g = guard(conn, "email", {**GOOD_THOMAS, "body": body}, THOMAS)
    assert not g["ok"] and rules(g) == {"script"}, g
    # a locale that writes Chinese may
    zh = {**THOMAS, "customer": {**THOMAS["customer"], "locale": "zh-CN"}}
    assert guard(conn, "email", {**GOOD_THOMAS, "body": body}, zh)["ok"]


def test_issue_reason_attached_to_the_wrong_product(conn):
    body = GOOD_THOMAS["body"].replace(
        "For spices and small things, the Small Ceramic Top Storage Jar (£0.83) completes the set.",
        "Since you chose the Red Retrospot Charlotte Bag, the Small Ceramic Top Storage Jar (£0.83) is for you.")
    g = guard(conn, "email", {**GOOD_THOMAS, "body": body}, THOMAS)
    assert not g["ok"] and "reason" in rules(g), g
    assert any("given the reason of" in v["detail"] for v in g["violations"])


def test_issue_invented_product_facts(conn):
    body = GOOD_THOMAS["body"].replace("completes the set.", "is handmade, waterproof and completes the set.")
    g = guard(conn, "email", {**GOOD_THOMAS, "body": body}, THOMAS)
    assert not g["ok"] and rules(g) == {"attribute"}, g
    detail = g["violations"][0]["detail"]
    assert '"handmade"' in detail and '"waterproof"' in detail


def test_issue_cloned_example_sentence(conn):
    # a sentence of the active email template's example answer, copied
    example = one(conn, "SELECT (examples -> 0 ->> 'assistant')::jsonb ->> 'body' FROM recgen.prompt_templates "
                        "WHERE kind = 'email' AND active AND tone = 'friendly'")
    sentence = max(example.replace("\n", " ").split(". "), key=len).strip().rstrip(".") + "."
    body = GOOD_THOMAS["body"].replace("We hope your kitchen shelves enjoy them.", sentence)
    g = guard(conn, "email", {**GOOD_THOMAS, "body": body}, THOMAS)
    assert "copied" in rules(g), (sentence, g)


def test_issue_cut_off_sentence_and_subject_about_nothing(conn):
    body = GOOD_THOMAS["body"].replace("We hope your kitchen shelves enjoy them.",
                                       "I would love to hear about your small-b")
    g = guard(conn, "email", {**GOOD_THOMAS, "subject": "Thomas, picked for your life", "body": body}, THOMAS)
    assert {"cut_off", "subject"} <= rules(g), g


@pytest.mark.parametrize("ending", [
    "Don't forget to check out our lighting,",                       # a comma ends the paragraph
    "You also got a children's apron design, which we've.",           # a full stop after a word that needs more
    "They have been a big hit with a. We hope you enjoy them.",       # ... inside the line, before another sentence
    "We have a great storage jar, with a 8.",                         # "8.5%" cut at its decimal point (the bank demo)
])
def test_a_part_cut_off_at_the_token_limit_is_cut_off(conn, ending):
    body = GOOD_THOMAS["body"].replace("We hope your kitchen shelves enjoy them.", ending)
    assert "cut_off" in rules(guard(conn, "email", {**GOOD_THOMAS, "body": body}, THOMAS))



# --- gaps the reading of model-written emails found (passed before) ---------

def test_gap_anna_greeted_twice(conn):
    anna = context("Anna", THOMAS["items"], last=THOMAS["behaviour"]["last_purchases"], categories=["storage"])
    good = GOOD_THOMAS["body"].replace("Hi Thomas,", "Hi Anna,")
    assert guard(conn, "email", {**GOOD_THOMAS, "subject": "Anna, storage jars", "body": good}, anna)["ok"]
    for body in [good.replace("Hi Anna,\n\nThank you", "Hi Anna,\n\nHi Anna, thanks, and thank you"),
                 good.replace("Hi Anna,\n\nThank you", "Hi Anna,\n\nAnna, thank you"),
                 good.replace("Hi Anna,\n\nThank you", "Hi Anna, hi Anna, thank you")]:
        g = guard(conn, "email", {**GOOD_THOMAS, "subject": "Anna, storage jars", "body": body}, anna)
        assert not g["ok"] and rules(g) == {"name"}, (body, g)
        assert any("twice" in v["detail"] for v in g["violations"])


TRAVEL = context("Grace", [
    {"product_id": 7, "name": "Travel Rewards Card", "price": 0, "category": "cards",
     "reason": "from a category you like", "because": ["Small-Business Current Account"],
     "description": "No foreign transaction fees and airport lounge passes."}],
    last=["Small-Business Current Account"], categories=["travel"])
TRAVEL_OK = {"subject": "Grace, a card for your travel",
             "body": ("Hi Grace,\n\nThank you for choosing the Small-Business Current Account.\n\n"
                      "As you travel often, the Travel Rewards Card has no foreign transaction fees and airport "
                      "lounge passes.\n\nEligibility, terms and conditions apply. Rates may change.\n\nYour bank"),
             "cta": "See the card"}


def test_gap_a_flipped_negation(conn):
    assert guard(conn, "email", TRAVEL_OK, TRAVEL, "bank")["ok"], guard(conn, "email", TRAVEL_OK, TRAVEL, "bank")
    for said in ["has foreign transaction fees and", "charges low foreign transaction fees and"]:
        body = TRAVEL_OK["body"].replace("has no foreign transaction fees and", said)
        g = guard(conn, "email", {**TRAVEL_OK, "body": body}, TRAVEL, "bank")
        assert not g["ok"] and rules(g) == {"negation"}, (said, g)
        assert '"foreign transaction fees"' in g["violations"][0]["detail"]
    # said without the fees, or with another negation, it stays right
    for said in ["charges you no foreign transaction fees and", "comes without foreign transaction fees and"]:
        body = TRAVEL_OK["body"].replace("has no foreign transaction fees and", said)
        assert "negation" not in rules(guard(conn, "email", {**TRAVEL_OK, "body": body}, TRAVEL, "bank"))


@pytest.mark.parametrize("invented", [
    "matches it nicely and can be customized to match your decor.",      # Olivia's charlotte bag
    "looks great in any kitchen.",
    "can be used as a blanket or a pillow.",                              # the hot water bottle
    "doubles as a lamp.",
])
def test_gap_invented_attribute_or_use(conn, invented):
    body = GOOD_THOMAS["body"].replace("matches it nicely.", invented)
    g = guard(conn, "email", {**GOOD_THOMAS, "body": body}, THOMAS)
    assert not g["ok"] and rules(g) == {"attribute"}, (invented, g)


def test_a_use_the_data_states_is_no_invention(conn):
    body = GOOD_THOMAS["body"].replace("matches it nicely.", "can be used for storage.")
    assert guard(conn, "email", {**GOOD_THOMAS, "body": body}, THOMAS)["ok"]

# --- each rule on its own ---------------------------------------------------

@pytest.mark.parametrize("field,value,rule", [
    ("body", GOOD_THOMAS["body"].replace("Hi Thomas,", "Hi there,"), "name"),
    ("body", GOOD_THOMAS["body"].replace("Hi Thomas,", "Dear Olivia,"), "name"),
    ("body", GOOD_THOMAS["body"].replace("We hope", "Sam from our team hopes"), "name"),
    ("body", GOOD_THOMAS["body"].replace(" For spices and small things, the Small Ceramic Top Storage Jar (£0.83) "
                                         "completes the set.", ""), "products_named"),
    ("body", GOOD_THOMAS["body"].replace("For spices and small things, the Small Ceramic Top Storage Jar (£0.83) "
                                         "completes the set.", "The Small Ceramic Top Storage Jar (£0.83) is here."),
     "reason"),
    ("body", GOOD_THOMAS["body"].replace("We hope", "Thomas's shelves will love them. We hope"), "second_person"),
    ("body", GOOD_THOMAS["body"].replace("We hope", "The customer will love them. We hope"), "second_person"),
    ("body", GOOD_THOMAS["body"].replace("The team", "[Your Name]\nThe team"), "placeholder"),
    ("body", GOOD_THOMAS["body"].replace("We hope", "Hello {first_name}. We hope"), "placeholder"),
    ("body", GOOD_THOMAS["body"].replace("We hope", "Dear <name>, we hope"), "placeholder"),
    ("body", GOOD_THOMAS["body"].replace("We hope", "Это хорошо. We hope"), "script"),
    ("cta", "Shop the jars and", "cta"),
    ("cta", "See them, you will", "cta"),
    ("cta", "Click to see every one of our lovely new jars today", "cta"),
    ("cta", "Call us now to get started", "cta"),                     # a sentence, not a button (the bank demo)
    ("body", GOOD_THOMAS["body"].replace("We hope your kitchen shelves enjoy them.",
                                         "We hope you enjoy them and we hope you enjoy them soon."), "repetition"),
    ("body", GOOD_THOMAS["body"].replace("matches it nicely.", "comes in a lovely pink velvet box."), "attribute"),
    ("subject", "Thomas, something lovely", "subject"),
])
def test_each_reader_rule(conn, field, value, rule):
    g = guard(conn, "email", {**GOOD_THOMAS, field: value}, THOMAS)
    assert not g["ok"] and rule in rules(g), g


def test_second_person_needed_in_customer_texts_not_in_sales_summaries(conn):
    text = "Thomas buys storage jars; the Large Ceramic Top Storage Jar (£1.65) would suit him."
    assert "second_person" in rules(guard(conn, "snippet", {"text": text}, THOMAS, "default", "social"))
    assert "second_person" not in rules(guard(conn, "summary", {"text": text}, THOMAS))


def test_names_of_products_and_categories_are_not_people(conn):
    ctx = context("Thomas", [item(7, "UNION JACK FLAG", 2.00, because=["HOLLY WREATH"], category="party")],
                  last=["HOLLY WREATH"], categories=["party"])
    out = {"subject": "Thomas, a flag for your party",
           "body": ("Hi Thomas,\n\nSince you chose the Holly Wreath, the Union Jack Flag (£2.00) "
                    "would brighten your next party.\n\nThe team"),
           "cta": "See the flag"}
    g = guard(conn, "email", out, ctx)
    assert g["ok"], g


def test_without_a_first_name_no_name_is_used(conn):
    anon = {**THOMAS, "customer": {"locale": "en-GB"}}
    hello = GOOD_THOMAS["body"].replace("Hi Thomas,", "Hello,")
    assert guard(conn, "email", {**GOOD_THOMAS, "subject": "More storage jars for your shelves", "body": hello},
                 anon)["ok"]
    g = guard(conn, "email", {**GOOD_THOMAS, "subject": "More storage jars for your shelves",
                              "body": GOOD_THOMAS["body"].replace("Hi Thomas,", "Hi Olivia,")}, anon)
    assert "name" in rules(g)


def test_a_snippet_names_its_one_product(conn):
    assert "products_named" in rules(guard(conn, "snippet", {"text": "Thomas, you might like our jars."},
                                           THOMAS, "default", "social"))
    ok = "Thomas, you might like the Large Ceramic Top Storage Jar (£1.65)."
    assert guard(conn, "snippet", {"text": ok}, THOMAS, "default", "social")["ok"]


def test_repeated_list_lines_are_not_repetition(conn):
    text = ("Thomas (segment regular): recent categories storage.\nSuggested next:\n"
            "- LARGE CERAMIC TOP STORAGE JAR (£1.65): often bought together with items you chose\n"
            "- SMALL CERAMIC TOP STORAGE JAR (£0.83): often bought together with items you chose")
    assert "repetition" not in rules(guard(conn, "summary", {"text": text}, THOMAS))


def test_description_amounts_are_grounded(conn):
    ctx = context("Grace", [{**GRACE["items"][1], "description": "1% cash back on everyday spending, no annual fee."}])
    text = "Grace, the Cash-Back Credit Card gives you 1% cash back and has no annual fee."
    assert guard(conn, "snippet", {"text": text + " Eligibility, terms and conditions apply. Rates may change."},
                 ctx, "bank", "social")["ok"]
    assert "price" in rules(guard(conn, "snippet", {"text": text.replace("1%", "2%")}, ctx, "bank", "social"))


@pytest.mark.parametrize("brand,db_ctx", [("default", "THOMAS"), ("bank", "GRACE")])
def test_the_email_fallback_passes_and_reads_as_an_email(conn, brand, db_ctx):
    ctx = {"THOMAS": THOMAS, "GRACE": GRACE}[db_ctx]
    out = one(conn, "SELECT recgen.render_fallback('email', %s, %s)", (json.dumps(ctx), brand))
    assert guard(conn, "email", out, ctx, brand)["ok"], out
    body = out["body"]
    assert body.split("\n")[0] in [g + " " + ctx["customer"]["first_name"] + "," for g in ("Hi", "Hello", "Dear")]
    # the opening refers to the customer's own purchase, and every product has its own sentence
    last = ctx["behaviour"]["last_purchases"][0].lower()
    assert last in body.lower()
    sentences = [s for s in body.replace("\n", " ").split(". ")]
    for i in ctx["items"]:
        assert sum(i["name"].lower() in s.lower() for s in sentences) == 1, (i["name"], body)
    words = len(body.split())
    assert 40 <= words <= 150, words


@pytest.mark.parametrize("first_name", ["Grace", "Ava", "Leo", "Mia", "Noah", "Zoe"])
def test_the_fallback_opens_on_spending_as_spending(conn, first_name):
    """A bank customer's categories are where they spend (groceries,
    online shopping), not products: the fallback said "We have gathered a
    few business supplies and online shopping ideas". Without a purchase
    to open on it speaks of their spending; a catalog category stays an
    interest ("kitchen ideas")."""
    bank = {**GRACE, "customer": {**GRACE["customer"], "first_name": first_name},
            "behaviour": {**GRACE["behaviour"], "last_purchases": []}}
    out = one(conn, "SELECT recgen.render_fallback('email', %s, 'bank')", (json.dumps(bank),))
    opening = out["body"].split("\n\n")[1].split(". ")[0]
    assert "business supplies" in opening and ("spend" in opening or "account" in opening), out["body"]
    assert " ideas we think" not in opening and "among your favourites" not in opening, opening
    assert "what you like" not in out["preheader"], out["preheader"]
    assert guard(conn, "email", out, bank, "bank")["ok"], out
    shop = context(first_name, THOMAS["items"], categories=["kitchen"])
    opening = one(conn, "SELECT recgen.render_fallback('email', %s, 'default')",
                  (json.dumps(shop),))["body"].split("\n\n")[1]
    assert "kitchen" in opening and "spend" not in opening, opening


def test_a_sibling_variant_does_not_name_the_product(conn):
    """Seen in a measured run: the reason "It goes with the Alarm Clock
    Bakelike Pink you bought" was left as it was for the Alarm Clock
    Bakelike Green, and the guard counted the green clock as named: its
    shorter form "Alarm Clock Bakelike" is also the start of the pink one's
    name. A purchase whose name is inside the product's still lets it be
    named."""
    ctx = context("Charlie", [item(1637, "ALARM CLOCK BAKELIKE GREEN", 3.75, "chosen by customers like you",
                                   because=["ALARM CLOCK BAKELIKE PINK"], category="home decor")],
                  last=["ALARM CLOCK BAKELIKE PINK"], categories=["home decor"])
    body = ("Hi Charlie,\n\nThanks for your order of the Alarm Clock Bakelike Pink.\n\n"
            "It goes with the Alarm Clock Bakelike Pink you bought and is a similar style.\n\nEnjoy it.\n\nThe team")
    out = {"subject": "Charlie, a clock for your home decor", "preheader": "For you", "body": body, "cta": "See it"}
    assert "products_named" in rules(guard(conn, "email", out, ctx)), body
    named = body.replace("It goes with", "The Alarm Clock Bakelike Green (£3.75) goes with")
    assert "products_named" not in rules(guard(conn, "email", {**out, "body": named}, ctx))
    # a purchase named inside the product's name
    cake = context("Charlie", [item(20, "REGENCY CAKESTAND 3 TIER", 12.75, because=["REGENCY CAKESTAND"])],
                   last=["REGENCY CAKESTAND"])
    body = ("Hi Charlie,\n\nThanks for your order of the Regency Cakestand.\n\nBecause you chose the Regency "
            "Cakestand, the Regency Cakestand 3 Tier (£12.75) gives your cakes more room.\n\nEnjoy it.\n\nThe team")
    assert "products_named" not in rules(guard(conn, "email", {**out, "body": body}, cake))


def test_a_sibling_variants_sentence_is_not_the_products_reason(conn):
    """Found in the fallbacks of the first 300 retail customers: the Regency
    Tea Plate Green's own sentence gives its reason, but the guard took the
    Regency Tea Plate Roses' sentence for the green plate's (the shorter
    form "Regency Tea Plate" of both) and found no reason there."""
    ctx = context("Sven", [
        item(11, "REGENCY TEA PLATE ROSES", 1.65, because=["ROSES REGENCY TEACUP AND SAUCER"]),
        item(12, "REGENCY TEA PLATE GREEN", 1.65, "from a category you like", category="kitchen")],
        last=["ROSES REGENCY TEACUP AND SAUCER"], categories=["kitchen"])
    body = ("Hi Sven,\n\nWe hope the Roses Regency Teacup and Saucer is everything you wanted. Since the Roses "
            "Regency Teacup and Saucer is already yours, the Regency Tea Plate Roses (£1.65) could be a good "
            "addition. From our kitchen range, the Regency Tea Plate Green (£1.65) is another good match for "
            "you.\n\nEnjoy them.\n\nThe team")
    out = {"subject": "Sven, a tea plate for your kitchen", "preheader": "For you", "body": body, "cta": "See them"}
    g = guard(conn, "email", out, ctx)
    assert "reason" not in rules(g), g
    # the green plate's sentence without a reason still has none
    bare = body.replace("From our kitchen range, the Regency Tea Plate Green (£1.65) is another good match for you.",
                        "The Regency Tea Plate Green (£1.65) is here.")
    assert "reason" in rules(guard(conn, "email", {**out, "body": bare}, ctx))


def test_two_products_that_follow_one_purchase_are_no_loop(conn):
    """The composition leads both sentences with the purchase behind them:
    the purchase's name twice on a line is not a run of words repeated."""
    body = ("Hi Thomas,\n\nThank you for your recent order.\n\nSince you chose the Medium Ceramic Top Storage Jar, "
            "the Large Ceramic Top Storage Jar (£1.65) is its bigger partner. As you picked the Medium Ceramic Top "
            "Storage Jar, the Small Ceramic Top Storage Jar (£0.83) completes the set. To go with your Red "
            "Retrospot Charlotte Bag, the Red Retrospot Storage Jar (£3.75) is a match.\n\nEnjoy them.\n\nThe team")
    g = guard(conn, "email", {**GOOD_THOMAS, "body": body}, THOMAS)
    assert "repetition" not in rules(g), g
    # a loop still is one
    loop = body.replace("Enjoy them.", "we hope you like them and we hope you like them and we hope you like them")
    assert "repetition" in rules(guard(conn, "email", {**GOOD_THOMAS, "body": loop}, THOMAS))



@pytest.mark.parametrize("reason", ["similar customers", "chosen by customers like you"])
def test_the_fallback_words_every_reason_as_a_sentence(conn, reason):
    """The engine's reason code similar_customers came through as "similar
    customers" and the fallback wrote "The Lunch Bag (£1.65) is similar
    customers."; a reason that does not follow "it is" gets general words."""
    assert one(conn, "SELECT recgen.reason_text('similar_customers')") == "chosen by customers like you"
    ctx = context("Thomas", [item(1, "LUNCH BAG RED RETROSPOT", 1.65, reason, category="bags"),
                             item(2, "LUNCH BAG BLACK SKULL", 1.65, reason, category="bags"),
                             item(3, "LUNCH BAG VINTAGE DOILY", 1.65, reason, category="bags")],
                  last=["JUMBO BAG WOODLAND"], categories=["bags"])
    for name in ["Thomas", "Anna", "Ben", "Chloe", "Dev", "Ella"]:
        c = {**ctx, "customer": {**ctx["customer"], "first_name": name}}
        out = one(conn, "SELECT recgen.render_fallback('email', %s, 'default')", (json.dumps(c),))
        assert "is similar customers" not in out["body"] and "as it is similar customers" not in out["body"], out
        assert guard(conn, "email", out, c)["ok"], out
