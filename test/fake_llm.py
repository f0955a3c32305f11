"""fake_llm.py - a small fake OpenAI-compatible chat-completions server for
recgen's tests: exact, deterministic answers and scripted faults.

    python test/fake_llm.py [PORT]      (0 or none: a free port)

Listens on 127.0.0.1 only and prints "PORT <n>" once ready. The behaviour
is chosen by the request's "model" (recgen.llm_model):

  fake-normal       an email greeting the prompt's customer and naming every
                    product of the prompt with a reason (a text: the first);
                    asked for an email in parts, the parts (one reason a product;
                    no reasons when asked for the frame)
  fake-hallucinate  names ZETA TEST LANTERN at 999.99, not in any context
  fake-banned       uses an over-promising word ("guaranteed")
  fake-pii          includes an e-mail address and a phone number
  fake-fix          breaks a rule first, answers correctly once told why
  fake-partfix      asked for parts, writes a closing about an occasion (in
                    a frame, which has no closing, the opening);
                    asked for that part again (a part retry), mends it
  fake-429          429 with Retry-After: 1 on the first call, then normal
  fake-500once      500 on the first call, then normal
  fake-500          always 500
  fake-malformed    200 with a body that is not JSON
  fake-slow         sleeps 60 s before answering
  fake-slowonce     sleeps 60 s on its first call, then answers like fake-normal
  fake-slowstream   sends the headers, then one byte every 2 s for 60 s
  fake-sleep1       like fake-normal after 1 s (for counting requests in flight)
  fake-sleep5       like fake-normal after 5 s (a request still in flight while a test acts)

GET /requests returns what was received (bodies and the Authorization
header), GET /inflight the most requests that were in flight at once,
GET /abandoned how many slow requests (fake-slow, fake-slowstream) the
client hung up on before the answer was complete (a cancelled request), and
GET /reset forgets it and the per-model call counters.
"""
import json
import re
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
RECEIVED = []
COUNTS = {}
INFLIGHT = [0, 0]  # now, max
ABANDONED = [0]

ITEM_RE = re.compile(r"^(?:- |[0-9]+\. )(.+?) \(([^)]*)\)", re.M)
PRODUCT_RE = re.compile(r"Product: (.+?) \((?:category [^,]*, price )?([^)]*)\)")


def first_product(messages):
    """Name and price text of the first product of the prompt."""
    text = last_user(messages)
    m = PRODUCT_RE.search(text) or ITEM_RE.search(text)
    if m:
        return m.group(1), m.group(2)
    return "our range", ""


CUSTOMER_RE = re.compile(r"Customer: ([^.,\n]+)[.,]")
# one phrasing per product, so a normal email repeats no phrase (guard)
FRAMES = ["The {0} goes well with what you chose.",
          "You may also like the {0}, a favourite of customers like you.",
          "The {0} is similar to things you liked before.",
          "Have a look at the {0} too: it pairs with your last order."]


# the reasons of an email in parts, one a product ("It" becomes its name)
PART_FRAMES = ["It goes well with what you chose.",
               "It is a favourite of customers like you.",
               "It is similar to things you liked before.",
               "It pairs with your last order."]


def last_user(messages):
    """The last user message that lists products (a rewrite request comes
    after the prompt it is about), else the last user message."""
    text = listed = ""
    for m in messages:
        if m.get("role") == "user":
            text = m.get("content") or ""
            if ITEM_RE.search(text):
                listed = text
    return listed or text


def normal_email(messages):
    """An email that passes the guard: the customer's name, every product of
    the prompt with a reason, a closing."""
    text = last_user(messages)
    who = CUSTOMER_RE.search(text)
    items = [f"{n} ({p})" if p else n for n, p in ITEM_RE.findall(text)] or ["our range"]
    lines = [FRAMES[k % len(FRAMES)].format(item) for k, item in enumerate(items)]
    greeting = f"Hi {who.group(1).strip()}," if who else "Hello,"
    return greeting + "\n\n" + " ".join(lines) + "\n\nEnjoy the rest of your week."


def answer_text(req, mode, count):
    messages = req.get("messages", [])
    name, price = first_product(messages)
    told = any("broke these rules" in (m.get("content") or "") for m in messages if m.get("role") == "user")
    price_part = f" ({price})" if price else ""
    schema = ((req.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
    props = schema.get("properties", {})
    if props and not {"reasons", "body", "text", "subject"} & set(props):
        # a part retry (only the parts the guard pointed at): fake-partfix
        # mends them, the other modes keep their fault
        fixed = {"opening": "We hope you are enjoying your last order.", "closing": "Enjoy the rest of your week.",
                 "cta": "Have a look"}
        out = {k: fixed.get(k, PART_FRAMES[int(k.split("_")[-1]) % len(PART_FRAMES)] if k.startswith("reason_") else "")
               for k in props}
        faulty = next((k for k in ("closing", "opening") if k in out), None)
        if mode in ("fake-banned", "fake-fix") and faulty:
            out[faulty] = "Every one is guaranteed to delight you."
        return json.dumps(out)
    if "opening" in props:
        # an email in parts (composition parts) or its frame (composition
        # frame, no reasons): recgen assembles it
        n = schema["properties"]["reasons"].get("minItems", 1) if "reasons" in props else 0
        reasons = [PART_FRAMES[k % len(PART_FRAMES)] for k in range(n)]
        # each reason with its product's name when the schema fixes it
        per = schema["properties"].get("reasons", {}).get("prefixItems")
        if per:
            reasons = [{"item": p["properties"]["item"]["const"], "reason": r} for p, r in zip(per, reasons)]
        parts = {"subject": f"Picked for you: the {name}", "opening": "We hope you are enjoying your last order.",
                 "reasons": reasons, "closing": "Enjoy the rest of your week.", "cta": "Have a look"}
        # the fault of the mode in the closing, or in the opening of a frame
        # (which has no closing: recgen writes it)
        last = "closing" if "closing" in props else "opening"
        if mode == "fake-hallucinate":
            parts["opening"] = "You will love the ZETA TEST LANTERN (£999.99), our best seller."
        elif mode == "fake-banned" or (mode == "fake-fix" and not told):
            parts[last] = "Every one is guaranteed to delight you."
        elif mode == "fake-partfix":
            parts[last] = "Enjoy your special day!"
        elif mode == "fake-pii":
            parts[last] = "Write to sales@example.com or call +44 7700 900123."
        return json.dumps({k: v for k, v in parts.items() if k in props})
    if req.get("response_format"):
        # an email: the normal one, with the fault of the mode added
        body = normal_email(messages)
        if mode == "fake-hallucinate":
            body = "You will love the ZETA TEST LANTERN (£999.99), our best seller. " + body
        elif mode == "fake-banned" or (mode == "fake-fix" and not told):
            body += " Every one is guaranteed to delight you."
        elif mode == "fake-pii":
            body += " Write to sales@example.com or call +44 7700 900123."
        return json.dumps({"subject": f"Picked for you: the {name}", "preheader": "Chosen for you",
                           "body": body, "cta": "Have a look"})
    body = f"We think you will like the {name}{price_part}: it suits what you enjoy."
    if mode == "fake-hallucinate":
        body = "You will love the ZETA TEST LANTERN (£999.99), our best seller."
    elif mode == "fake-banned" or (mode == "fake-fix" and not told):
        body = f"{name}{price_part} is guaranteed to delight you."
    elif mode == "fake-pii":
        body = f"{name}{price_part} is ready. Write to sales@example.com or call +44 7700 900123."
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # answer in one segment, not headers then body after a delayed ACK
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def client_hung_up(self, seconds):
        """Wait up to `seconds`; True as soon as the client closes the
        connection (it has nothing more to send, so readable means closed)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return True
                except OSError:
                    return True
        return False

    def do_GET(self):
        if self.path == "/requests":
            with LOCK:
                self.send_json(200, RECEIVED)
        elif self.path == "/inflight":
            with LOCK:
                self.send_json(200, {"max": INFLIGHT[1]})
        elif self.path == "/abandoned":
            with LOCK:
                self.send_json(200, {"abandoned": ABANDONED[0]})
        elif self.path == "/reset":
            with LOCK:
                RECEIVED.clear()
                COUNTS.clear()
                INFLIGHT[1] = 0
                ABANDONED[0] = 0
            self.send_json(200, {"ok": True})
        elif self.path == "/health":
            self.send_json(200, {"status": "ok"})
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            req = json.loads(raw)
        except ValueError:
            self.send_json(400, {"error": {"message": "bad json"}})
            return
        mode = req.get("model", "fake-normal")
        with LOCK:
            COUNTS[mode] = COUNTS.get(mode, 0) + 1
            count = COUNTS[mode]
            RECEIVED.append({"path": self.path, "body": req,
                             "authorization": self.headers.get("Authorization")})
        if not self.path.endswith("/chat/completions"):
            self.send_json(404, {"error": {"message": "not found"}})
            return
        if mode == "fake-429" and count == 1:
            self.send_json(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"})
            return
        if mode == "fake-500" or (mode == "fake-500once" and count == 1):
            self.send_json(500, {"error": {"message": "boom"}})
            return
        if mode == "fake-malformed":
            data = b"{this is not json"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if mode == "fake-slow" or (mode == "fake-slowonce" and count == 1):
            if self.client_hung_up(60):
                with LOCK:
                    ABANDONED[0] += 1
                return
        if mode in ("fake-sleep1", "fake-sleep5"):
            with LOCK:
                INFLIGHT[0] += 1
                INFLIGHT[1] = max(INFLIGHT[1], INFLIGHT[0])
            time.sleep(int(mode[len("fake-sleep"):]))
            with LOCK:
                INFLIGHT[0] -= 1
        if mode == "fake-slowstream":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(30):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    if self.client_hung_up(2):
                        raise BrokenPipeError
            except OSError:
                with LOCK:
                    ABANDONED[0] += 1
            return
        content = answer_text(req, mode, count)
        self.send_json(200, {
            "id": f"chatcmpl-{count}", "object": "chat.completion", "model": mode,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        })


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
