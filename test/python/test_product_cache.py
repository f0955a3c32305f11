"""The per-backend caches of the catalog: the product facts of recommend()
(src/product_cache.c) and the name index of the guard's product rule
(src/catalog_names.c). A backend that has cached the catalog sees other
sessions' committed changes at its next call, never their uncommitted
ones, its own uncommitted ones at once, and its transaction's snapshot
under REPEATABLE READ."""
import psycopg
import pytest

from content_helpers import connect, fresh_db, one

DB = "recgen_py_cache"
CUSTOMER = 1


@pytest.fixture(scope="module")
def db():
    return fresh_db(DB)


@pytest.fixture
def sessions(db):
    reader, writer = connect(db), connect(db)
    yield reader, writer
    for c in (reader, writer):
        c.close()
    with psycopg.connect(db, autocommit=True) as c:
        c.execute("UPDATE recgen.products SET stock = NULL, active = product_id <> 7")


def recommended(conn, strategy="balanced"):
    rows = conn.execute("SELECT product_id FROM recgen.recommend(%s, 5, %s)",
                        (CUSTOMER, strategy)).fetchall()
    return [r[0] for r in rows]


def top(conn):
    ids = recommended(conn)
    assert ids, "the seed gives customer 1 recommendations"
    return ids[0]


def test_other_sessions_commit_is_seen_at_next_call(sessions):
    reader, writer = sessions
    pid = top(reader)                 # cached in the reader's backend now
    writer.execute("UPDATE recgen.products SET stock = 0 WHERE product_id = %s", (pid,))
    assert pid not in recommended(reader)
    writer.execute("UPDATE recgen.products SET stock = 5 WHERE product_id = %s", (pid,))
    assert pid in recommended(reader)


def test_uncommitted_change_of_another_session_is_not_seen(sessions):
    reader, writer = sessions
    pid = top(reader)
    writer.autocommit = False
    writer.execute("UPDATE recgen.products SET active = false WHERE product_id = %s", (pid,))
    assert pid in recommended(reader)
    writer.commit()
    assert pid not in recommended(reader)


def test_own_uncommitted_change_is_seen_and_rollback_restores(sessions):
    reader, _ = sessions
    pid = top(reader)
    reader.autocommit = False
    reader.execute("UPDATE recgen.products SET stock = 0 WHERE product_id = %s", (pid,))
    assert pid not in recommended(reader)
    reader.rollback()
    reader.autocommit = True
    assert pid in recommended(reader)


def test_repeatable_read_keeps_its_snapshot(sessions):
    reader, writer = sessions
    pid = top(reader)
    reader.autocommit = False
    reader.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    assert pid in recommended(reader)            # snapshot taken here
    writer.execute("UPDATE recgen.products SET stock = 0 WHERE product_id = %s", (pid,))
    assert pid in recommended(reader)            # the snapshot still has stock
    reader.commit()
    reader.autocommit = True
    assert pid not in recommended(reader)


def test_new_renamed_and_deleted_products_are_seen(sessions):
    reader, writer = sessions
    recommended(reader)
    # a product added after the reader cached the catalog is recommended as new
    writer.execute("""INSERT INTO recgen.products (product_id, sku, name, category, price, active)
                      VALUES (99, 'NEW-99', 'Brand New Kettle', 'kitchen', 30, true)""")
    assert 99 in recommended(reader, "new")
    assert one(reader, "SELECT name FROM recgen.recommend(%s, 5, 'new') WHERE product_id = 99",
               (CUSTOMER,)) == "Brand New Kettle"
    writer.execute("UPDATE recgen.products SET name = 'Renamed Kettle' WHERE product_id = 99")
    assert one(reader, "SELECT name FROM recgen.recommend(%s, 5, 'new') WHERE product_id = 99",
               (CUSTOMER,)) == "Renamed Kettle"
    writer.execute("DELETE FROM recgen.products WHERE product_id = 99")
    assert 99 not in recommended(reader, "new")


def test_the_trigger_is_enabled_always_so_replication_fires_it(db):
    with psycopg.connect(db, autocommit=True) as c:
        enabled = one(c, """SELECT tgenabled FROM pg_trigger
                            WHERE tgname = 'products_changed'
                              AND tgrelid = 'recgen.products'::regclass""")
    assert enabled == "A"


def names_in(conn, text):
    return one(conn, "SELECT recgen.catalog_names_in(lower(%s))", (text,))


def test_catalog_names_agree_with_a_scan_of_the_catalog(sessions):
    reader, _ = sessions
    text = one(reader, """SELECT string_agg(name, ' and the ' ORDER BY product_id)
                          FROM recgen.products WHERE product_id % 3 = 0""")
    expected = one(reader, """SELECT array_agg(DISTINCT name ORDER BY name) FROM recgen.products
                              WHERE length(name) >= 6 AND strpos(lower(%s), lower(name)) > 0""", (text,))
    assert expected, "the seed catalog has names of 6 characters or more"
    assert sorted(names_in(reader, text)) == expected
    assert names_in(reader, "nothing of the catalog here") == []


def test_catalog_names_follow_other_sessions_commits(sessions):
    reader, writer = sessions
    text = "Try our Brand New Kettle, or the Renamed Kettle"
    assert names_in(reader, text) == []          # index cached now
    writer.execute("""INSERT INTO recgen.products (product_id, sku, name, category, price, active)
                      VALUES (98, 'NEW-98', 'Brand New Kettle', 'kitchen', 30, true)""")
    assert names_in(reader, text) == ["Brand New Kettle"]
    writer.autocommit = False
    writer.execute("UPDATE recgen.products SET name = 'Renamed Kettle' WHERE product_id = 98")
    assert names_in(reader, text) == ["Brand New Kettle"]    # not committed yet
    writer.commit()
    assert names_in(reader, text) == ["Renamed Kettle"]
    writer.execute("DELETE FROM recgen.products WHERE product_id = 98")
    writer.commit()
    assert names_in(reader, text) == []


def test_catalog_names_see_own_uncommitted_change(sessions):
    reader, _ = sessions
    text = "the Copper Kettle Deluxe is back"
    assert names_in(reader, text) == []
    reader.autocommit = False
    reader.execute("""INSERT INTO recgen.products (product_id, sku, name, category, price, active)
                      VALUES (97, 'NEW-97', 'Copper Kettle Deluxe', 'kitchen', 45, true)""")
    assert names_in(reader, text) == ["Copper Kettle Deluxe"]
    reader.rollback()
    reader.autocommit = True
    assert names_in(reader, text) == []
