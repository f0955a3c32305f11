"""ceiling.py - what the LLM server itself delivers at 1, 2, 4 ... requests at once.

    .venv/bin/python bench/llm/ceiling.py URL [--levels 1,2,4] [--per-level 8]
                                           [--max-tokens 120] [--schema full|plain|none]

Sends email-shaped chat requests (the shipped email prompt's length, a
few-shot example, JSON output) straight to an OpenAI-compatible server,
bypassing recgen, and prints completion tokens per second at each level of
concurrency and the ratio to one at a time. This is the ceiling of
recgen.email_batch against sequential recgen.email(): recgen cannot batch
faster than the server does. Answers end where the model ends them, or,
with --fixed-length (no schema only), after max_tokens.

--schema full sends the email JSON schema as recgen does (string lengths
bounded), plain the same schema without the bounds, object any JSON object,
none no response_format: the constrained-output grammar is sampled per
request, outside the batch.
"""
import argparse
import json
import threading
import time
import urllib.request

SYSTEM = ("You write short marketing emails for Recgen Retail. Warm, clear and honest; "
          "British spelling. Be friendly and personal, like a note from a shop you know. "
          "Only mention the products listed, with their exact names and prices. Never invent "
          "products, prices, discounts or promises. Never include e-mail addresses or phone "
          "numbers. Answer in JSON with subject, preheader, body and cta.")
EXAMPLE_USER = ("Customer: Sam. Products to suggest:\n- Blue Garden Chair (£24.00): popular in "
                "garden, a category you buy\nWrite the email.")
EXAMPLE_ANSWER = json.dumps({
    "subject": "Sam, a chair for sunny days", "preheader": "Picked for your garden",
    "body": "Hi Sam,\n\nWe think you would enjoy the Blue Garden Chair (£24.00). It is popular "
            "with people who love their garden, just like you.\n\nHave a lovely week!",
    "cta": "See the chair"})
USER = ("Customer: {name}. Products to suggest:\n"
        "- White Hanging Heart T-Light Holder (£2.95): customers who bought what you bought also bought it\n"
        "- Regency Cakestand 3 Tier (£12.75): popular in kitchen, a category you buy\n"
        "- Jumbo Bag Red Retrospot (£2.08): you bought it before\n"
        "Write the email.")
NAMES = ["Ana", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hugo", "Isla", "Jack",
         "Kira", "Leo", "Maya", "Noah", "Olive", "Priya"]


def schema(kind):
    bounds = kind == "full"

    def s(lo, hi):
        d = {"type": "string"}
        if bounds:
            if lo:
                d["minLength"] = lo
            d["maxLength"] = hi
        return d
    return {"type": "object", "additionalProperties": False,
            "required": ["subject", "preheader", "body", "cta"],
            "properties": {"subject": s(3, 60), "preheader": s(0, 90),
                           "body": s(20, 400), "cta": s(2, 30)}}


def request(url, i, args):
    body = {"model": "bench", "max_tokens": args.max_tokens, "temperature": 0.2,
            "seed": i,
            "messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": EXAMPLE_USER},
                         {"role": "assistant", "content": EXAMPLE_ANSWER},
                         {"role": "user", "content": USER.format(name=NAMES[i % len(NAMES)])}]}
    if args.fixed_length:
        body["ignore_eos"] = True  # every answer max_tokens long
    if args.schema == "object":
        body["response_format"] = {"type": "json_object"}
    elif args.schema != "none":
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": "email", "schema": schema(args.schema)}}
    req = urllib.request.Request(url + "/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)


def level(url, k, n, args):
    """n requests, k in flight at a time; returns (completion tokens, seconds, answers)."""
    todo = list(range(n))
    lock = threading.Lock()
    out = []

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            ans = request(url, i, args)
            with lock:
                out.append(ans)
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    return sum(a["usage"]["completion_tokens"] for a in out), secs, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url", help="base URL, e.g. http://127.0.0.1:8631/v1")
    ap.add_argument("--levels", default="1,2,4")
    ap.add_argument("--per-level", type=int, default=8, help="requests per level (at least the level)")
    ap.add_argument("--max-tokens", type=int, default=120)
    ap.add_argument("--schema", choices=["full", "plain", "object", "none"], default="full")
    ap.add_argument("--fixed-length", action="store_true",
                    help="ignore end of text: every answer max_tokens long (only without a schema)")
    args = ap.parse_args()
    level(args.url, 1, 1, args)  # warm-up, unmeasured
    base = None
    print(f"schema={args.schema} max_tokens={args.max_tokens} fixed_length={args.fixed_length}")
    print("in flight | requests | completion tok/s | ratio to 1 | mean prompt ms | mean predicted ms/token")
    for k in (int(x) for x in args.levels.split(",")):
        n = max(args.per_level, k)
        toks, secs, out = level(args.url, k, n, args)
        rate = toks / secs
        base = base or rate
        tm = [a.get("timings", {}) for a in out]
        pms = sum(t.get("prompt_ms", 0) for t in tm) / len(tm)
        per_tok = sum(t.get("predicted_per_token_ms", 0) for t in tm) / len(tm)
        print(f"{k:9d} | {n:8d} | {rate:16.1f} | {rate / base:10.2f}x | {pms:14.1f} | {per_tok:.2f}")


if __name__ == "__main__":
    main()
