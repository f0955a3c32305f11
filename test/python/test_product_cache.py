"""The product facts cache of recommend() (src/product_cache.c): a backend
that has cached a product sees other sessions' committed changes at its
next call, never their uncommitted ones, its own uncommitted ones at once,
and its transaction's snapshot under REPEATABLE READ."""
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
