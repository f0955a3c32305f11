"""llm_alone.py - the LLM server alone with recgen's own prompts: the baseline
of bench/campaigns/throughput.sh.

    .venv/bin/python bench/campaigns/llm_alone.py URL REQUESTS.jsonl CONCURRENCY MODEL

REQUESTS.jsonl holds one LLM request per line as recgen's generation pipeline
builds it (recgen.generation_requests: messages, max_tokens, temperature,
schema, schema_name). Each is sent as recgen's client sends it
(src/llm.c: model, messages, max_tokens, temperature, stream false, the
schema as a strict json_schema response_format with properties in required
order), CONCURRENCY at a time, straight to URL/chat/completions. Prints one
JSON line: requests, seconds, completion tokens, failures.
"""
import json
import sys
import threading
import time
import urllib.request


def body_of(req, model):
    b = {"model": model, "messages": req["messages"],
         "max_tokens": req.get("max_tokens") or 256,
         "temperature": req.get("temperature") if req.get("temperature") is not None else 0.2,
         "stream": False}
    schema = req.get("schema")
    if isinstance(schema, dict):
        props = schema.get("properties", {})
        ordered = {k: props[k] for k in schema.get("required", []) if k in props}
        ordered.update({k: v for k, v in props.items() if k not in ordered})
        schema = dict(schema, properties=ordered)
        b["response_format"] = {"type": "json_schema",
                                "json_schema": {"name": req.get("schema_name") or "answer", "strict": True,
                                                "schema": schema}}
    return json.dumps(b).encode()


def main():
    url, path, conc, model = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    with open(path) as f:
        bodies = [body_of(json.loads(line), model) for line in f if line.strip()]
    lock = threading.Lock()
    state = {"next": 0, "tokens": 0, "failed": 0}

    def worker():
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= len(bodies):
                return
            req = urllib.request.Request(url.rstrip("/") + "/chat/completions", data=bodies[i],
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=300) as r:
                    ans = json.loads(r.read())
                with lock:
                    state["tokens"] += ans.get("usage", {}).get("completion_tokens", 0)
            except Exception:
                with lock:
                    state["failed"] += 1

    t0 = time.time()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"requests": len(bodies), "seconds": time.time() - t0,
                      "completion_tokens": state["tokens"], "failed": state["failed"]}))


if __name__ == "__main__":
    main()
