"""webhook_receiver.py - a local Standard Webhooks receiver, as a CRM or
email tool would run one: for recgen's tests, demo and benchmark.

    python tools/webhook_receiver.py [--port N] [--secret whsec_...] [--log FILE]

Listens on 127.0.0.1 (port 0 or none: a free one) and prints "PORT <n>"
once ready. Every POST is verified twice, independently: with the
`standardwebhooks` package and with an HMAC-SHA256 computed here, and
de-duplicated by its webhook-id, as a receiver must: a message seen before
is acknowledged (200) and not processed again.

POST /control {"secret": "whsec_..."} sets the secret to verify with.
Scripted faults, set with POST /control {"mode": ..., "count": n} (the
mode applies to the next n deliveries, then "ok" again; count omitted:
until changed):
  ok        200 after processing
  500       500, nothing processed
  429       429 with Retry-After: <retry_after> (default 1), nothing processed
  410       410 Gone
  timeout   waits <delay> seconds (default 30) before answering 200
  reject    400 (a permanent refusal)

GET /received   every request: id, timestamp, verified (library, local),
                duplicate, status answered, body
GET /processed  the bodies processed, once per webhook-id
GET /health     {"status": "ok"}
"""
import argparse
import base64
import hashlib
import hmac
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError:  # the demo can run without it: the local HMAC still checks
    Webhook = None
    WebhookVerificationError = Exception

LOCK = threading.Lock()
STATE = {"mode": "ok", "count": None, "retry_after": 1, "delay": 30}
RECEIVED = []
PROCESSED = {}
ARGS = None


def local_verify(secret, msg_id, ts, body, header):
    """Recompute v1 signatures ourselves; True when one of the header's matches."""
    key = base64.b64decode(secret[len("whsec_"):])
    want = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    sigs = [p.split(",", 1)[1] for p in (header or "").split() if p.startswith("v1,")]
    return any(hmac.compare_digest(want, s) for s in sigs)


def library_verify(secret, body, headers):
    if Webhook is None:
        return None
    try:
        Webhook(secret).verify(body.decode(), headers)
        return True
    except WebhookVerificationError:
        return False


def take_mode():
    with LOCK:
        mode = STATE["mode"]
        if STATE["count"] is not None:
            STATE["count"] -= 1
            if STATE["count"] <= 0:
                STATE["mode"], STATE["count"] = "ok", None
        return mode


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def reply(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with LOCK:
            if self.path == "/received":
                self.reply(200, RECEIVED)
            elif self.path == "/processed":
                self.reply(200, list(PROCESSED.values()))
            elif self.path == "/health":
                self.reply(200, {"status": "ok"})
            else:
                self.reply(404, {"error": "not found"})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/control":
            ctl = json.loads(raw)
            with LOCK:
                if "secret" in ctl:
                    ARGS.secret = ctl.pop("secret")
                STATE.update(ctl)
            self.reply(200, STATE)
            return
        mode = take_mode()
        msg_id = self.headers.get("webhook-id")
        ts = self.headers.get("webhook-timestamp")
        sig = self.headers.get("webhook-signature")
        headers = {"webhook-id": msg_id or "", "webhook-timestamp": ts or "", "webhook-signature": sig or ""}
        secret = ARGS.secret
        rec = {"id": msg_id, "timestamp": ts, "signature": sig, "mode": mode, "at": time.time(),
               "verified_local": bool(secret and msg_id and ts and local_verify(secret, msg_id, ts, raw, sig)),
               "verified_library": library_verify(secret, raw, headers) if secret else None}
        status, extra = 200, {}
        if mode == "500":
            status = 500
        elif mode == "429":
            status, extra = 429, {"Retry-After": str(STATE["retry_after"])}
        elif mode == "410":
            status = 410
        elif mode == "reject":
            status = 400
        elif mode == "timeout":
            time.sleep(float(STATE["delay"]))
        verified = rec["verified_local"] and rec["verified_library"] is not False
        if status == 200 and not verified:
            status = 401                # a receiver drops what it cannot verify
        with LOCK:
            rec["duplicate"] = msg_id in PROCESSED
            if status == 200 and not rec["duplicate"]:
                PROCESSED[msg_id] = {"id": msg_id, "body": json.loads(raw)}
            rec["status"] = status
            rec["body"] = raw.decode()
            RECEIVED.append(rec)
            if ARGS.log:
                with open(ARGS.log, "a") as f:
                    f.write(json.dumps({k: rec[k] for k in ("id", "status", "duplicate", "verified_local")}) + "\n")
        try:
            self.reply(status, {"ok": status == 200}, extra)
        except OSError:
            pass                        # the sender gave up (its timeout)


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--secret", default=None)
    p.add_argument("--log", default=None)
    ARGS = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
