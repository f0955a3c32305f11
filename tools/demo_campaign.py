"""demo_campaign.py - the campaign part of "make demo" (tools/demo_campaign.sh
starts the local LLM first).

A newsletter campaign of about 20 Online Retail customers in Germany, two
variants (friendly, professional) and a 20% holdout, scheduled through
pg_cron when it is installed (else run with recgen.run_campaign), generated
by the background workers on the local LLM and delivered to a local webhook
receiver that this script starts and stops. Prints the progress as the
NOTIFY recgen_progress messages arrive, then the quality and outcome views,
two of the contents and what the receiver verified.

    .venv/bin/python tools/demo_campaign.py DSN LLM_URL
"""
import json
import os
import signal
import subprocess
import sys
import time

import psycopg

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NAME = "demo-germany-newsletter"
ENDPOINT = "demo-crm"


def rows(conn, sql, params=None):
    cur = conn.execute(sql, params)
    return [d.name for d in cur.description], cur.fetchall()


def table(conn, sql, params=None):
    cols, data = rows(conn, sql, params)
    text = [[("" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))) for v in r] for r in data]
    widths = [max([len(c)] + [len(r[i]) for r in text]) for i, c in enumerate(cols)]
    print("  " + "  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for r in text:
        print("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)))


def main():
    dsn, llm_url = sys.argv[1], sys.argv[2]
    # stopped (Ctrl-C, SIGTERM): still stop the receiver
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("SET client_min_messages = warning")
    db = conn.info.dbname
    # the workers of this database talk to the local LLM; on a small CPU the
    # server's 8 slots answer 8 emails at once in 2 to 3 minutes, longer than
    # the default recgen.llm_timeout of 2 min, so the demo database allows 10
    conn.execute(f"ALTER DATABASE {db} SET recgen.llm_url = '{llm_url}'")
    conn.execute(f"ALTER DATABASE {db} SET recgen.llm_timeout = '10min'")

    secret = conn.execute("SELECT recgen.webhook_secret()").fetchone()[0]
    log = os.path.join(ROOT, ".pgdata", "demo-webhooks.log")
    receiver = subprocess.Popen([sys.executable, os.path.join(ROOT, "tools", "webhook_receiver.py"),
                                 "--secret", secret, "--log", log], stdout=subprocess.PIPE, text=True)
    port = int(receiver.stdout.readline().split()[1])
    try:
        run(conn, db, secret, port)
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
        print(f"\nrecgen: stopped the webhook receiver (its log: {os.path.relpath(log, ROOT)})")


def run(conn, db, secret, port):
    # the previous demo run goes, so that its contacts do not cap this one
    conn.execute("DELETE FROM recgen.campaigns WHERE name = %s", (NAME,))
    conn.execute("DELETE FROM recgen.deliveries WHERE endpoint = %s", (ENDPOINT,))
    conn.execute("DELETE FROM recgen.webhook_endpoints WHERE name = %s", (ENDPOINT,))
    conn.execute("INSERT INTO recgen.webhook_endpoints (name, url, secret) VALUES (%s, %s, %s)",
                 (ENDPOINT, f"http://127.0.0.1:{port}/hooks/recgen", secret))
    cron = conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_cron'").fetchone()[0] > 0
    pg = psycopg.connect(conn.info.dsn.replace(f"dbname={db}", "dbname=postgres"), autocommit=True)
    if cron:
        try:
            pg.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
            pg.execute("SELECT cron.schedule_in_database(%s, '* * * * *', 'SELECT recgen.run_due_schedules()', %s)",
                       (f"recgen schedules {db}", db))
        except psycopg.Error as e:
            print(f"recgen: pg_cron is not usable here ({e.diag.message_primary}); running the campaign by hand")
            cron = False
    conn.execute("""
        INSERT INTO recgen.campaigns (name, goal, trigger, schedule, segment, variants, holdout_pct,
                                      quiet_hours, endpoint, n_products)
        VALUES (%s, 'newsletter', %s, %s,
                '{"country": ["Germany"], "min_orders": 2, "limit": 24}',
                '[{"name": "a", "split": 50}, {"name": "b", "split": 50, "tone": "professional"}]',
                20, 'ignore', %s, 3)""",
                 (NAME, "schedule" if cron else "manual", "* * * * *" if cron else None, ENDPOINT))
    print(f"\n== Campaign {NAME} ==")
    print("  segment: customers in Germany with at least 2 orders (a fixed sample of 24), variants a (friendly)")
    print("  and b (professional), 20% holdout, delivered to a local webhook receiver; quiet hours ignored so")
    print("  the demo runs at any hour (the campaign default holds customers until 08:00 their time).")
    table(conn, """SELECT coalesce(variant, 'holdout') AS assigned, count(*) AS customers,
                          count(*) FILTER (WHERE NOT consent_marketing) AS without_marketing_consent
                     FROM recgen.campaign_audience(%s) GROUP BY 1 ORDER BY 1""", (NAME,))

    listener = psycopg.connect(conn.info.dsn, autocommit=True)
    listener.execute("LISTEN recgen_progress")
    if cron:
        print("\nwaiting for pg_cron's next minute (cron job: SELECT recgen.run_due_schedules() every minute) ...")
        run_id = None
        deadline = time.time() + 90
        while run_id is None and time.time() < deadline:
            time.sleep(1)
            run_id = conn.execute("""SELECT r.run_id FROM recgen.campaign_runs r JOIN recgen.campaigns c USING (campaign_id)
                                      WHERE c.name = %s ORDER BY r.run_id LIMIT 1""", (NAME,)).fetchone()
            run_id = run_id[0] if run_id else None
        # one run is the demo: no more ticks
        conn.execute("UPDATE recgen.campaigns SET active = false WHERE name = %s", (NAME,))
        if run_id is None:
            print("recgen: pg_cron did not tick within 90 s; running the campaign by hand")
            conn.execute("UPDATE recgen.campaigns SET active = true, trigger = 'manual', schedule = NULL WHERE name = %s", (NAME,))
            run_id = conn.execute("SELECT recgen.run_campaign(%s, 'demo')", (NAME,)).fetchone()[0]
            conn.execute("UPDATE recgen.campaigns SET active = false WHERE name = %s", (NAME,))
        else:
            key = conn.execute("SELECT run_key FROM recgen.campaign_runs WHERE run_id = %s", (run_id,)).fetchone()[0]
            print(f"pg_cron started run {run_id} ({key})")
        pg.execute("SELECT cron.unschedule(%s)", (f"recgen schedules {db}",))
    else:
        run_id = conn.execute("SELECT recgen.run_campaign(%s, 'demo')", (NAME,)).fetchone()[0]
    pg.close()

    print("\nprogress (NOTIFY recgen_progress, at most one a second; 'view': read from")
    print("recgen.campaign_progress after 15 s without a message, as a dashboard would):")
    started = time.time()
    finished = False
    last = None
    while not finished and time.time() - started < 1800:
        for n in listener.notifies(timeout=15):
            m = json.loads(n.payload)
            if m["run"] != run_id:
                continue
            source = "notify"
            break
        else:
            # changes within a second of the last message wait for the next
            # one: when none comes, the view has the state
            m = conn.execute("""SELECT queued, running, done, held, delivered, finished,
                                       extract(epoch FROM eta)::integer AS eta_seconds
                                  FROM recgen.campaign_progress WHERE run = %s""", (run_id,)).fetchone()
            m = dict(zip(("queued", "running", "done", "held", "delivered", "finished", "eta_seconds"), m))
            source = "view"
        state = (m["queued"], m["running"], m["done"], m["held"], m["delivered"])
        if state != last or m["finished"]:
            print(f"  {time.time() - started:6.1f}s  queued {m['queued']:2}  running {m['running']:2}  "
                  f"done {m['done']:2}  held {m['held']:2}  delivered {m['delivered']:2}  "
                  f"eta {m['eta_seconds'] if m['eta_seconds'] is not None else '?'}s  ({source})")
        last = state
        finished = m["finished"]
    print(f"  generated in {time.time() - started:.0f} s")
    # deliveries follow the contents by a moment
    deadline = time.time() + 60
    while time.time() < deadline and conn.execute(
            "SELECT delivering FROM recgen.campaign_progress WHERE run = %s", (run_id,)).fetchone()[0] > 0:
        time.sleep(0.5)
    listener.close()

    print("\n== recgen.campaign_progress ==")
    table(conn, """SELECT entries, done, failed, held, holdout, capped, no_consent, delivered, delivery_failed,
                          prompt_tokens + completion_tokens AS tokens, estimated_cost, finished
                     FROM recgen.campaign_progress WHERE run = %s""", (run_id,))
    print("\n== recgen.campaign_quality ==")
    table(conn, """SELECT variant, contents, round(first_attempt_pass, 2) AS first_pass,
                          round(fallback, 2) AS fallback, round(personalization, 2) AS personal,
                          round(products_named, 1) AS products, round(distinct_2, 2) AS distinct_2,
                          round(mean_similarity, 2) AS similarity, round(mean_words) AS words,
                          round(llm_ms_per_content) AS llm_ms
                     FROM recgen.campaign_quality WHERE campaign = %s ORDER BY variant""", (NAME,))
    print("\n== recgen.campaign_outcomes ==")
    table(conn, """SELECT variant, customers, window_open, converted, conversion_rate, lift, p_value
                     FROM recgen.campaign_outcomes WHERE campaign = %s ORDER BY is_holdout, variant""", (NAME,))
    print("  (conversions: purchases within 7 days of the content; the data ends in 2011, so none follow yet)")
    for variant in ("a", "b"):
        r = conn.execute("""SELECT customer_id, subject, body, products, verdict, delivery_state
                              FROM recgen.latest_content WHERE campaign = %s AND variant = %s
                             ORDER BY customer_id LIMIT 1""", (NAME, variant)).fetchone()
        if r:
            print(f"\n== variant {variant}: customer {r[0]} (verdict {r[4]}, delivery {r[5]}) ==")
            print(f"subject: {r[1]}\n\n{r[2]}\n\nproducts: {', '.join(r[3] or [])}")
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/received", timeout=10) as resp:
        got = json.loads(resp.read())
    ok = sum(1 for g in got if g["verified_local"] and g["verified_library"] is not False)
    print(f"\nwebhook receiver: {len(got)} POSTs, {ok} with a valid Standard Webhooks signature, "
          f"{len({g['id'] for g in got if g['status'] == 200})} contents processed, "
          f"{sum(1 for g in got if g['duplicate'])} duplicates dropped")


if __name__ == "__main__":
    main()
