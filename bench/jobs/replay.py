"""replay.py - what the LLM server alone serves with given requests.

    .venv/bin/python bench/jobs/replay.py URL MODEL REQUESTS.jsonl [--concurrency 8]

REQUESTS.jsonl holds one recgen.llm_chat request per line (messages,
max_tokens, temperature, schema, schema_name: what the generation pipeline
asks for). Each is turned into the chat-completions body recgen's client
sends (src/llm.c: the schema's properties in the order of its "required"
list, strict JSON schema as response_format) and posted straight to
URL/chat/completions, CONCURRENCY at a time, bypassing recgen. Prints one
line of JSON: requests, seconds, requests/s, completion tokens and tokens/s.
This is the ceiling bench/jobs/email.sh compares the workers with.
"""
import argparse
import json
import threading
import time
import urllib.request


def ordered_schema(schema):
    """The schema with its properties in the order of "required" (as llm.c)."""
    props = schema.get("properties")
    required = schema.get("required")
    if not isinstance(props, dict) or not isinstance(required, list):
        return schema
    ordered = {k: props[k] for k in required if k in props}
    ordered.update({k: v for k, v in props.items() if k not in ordered})
    return dict(schema, properties=ordered)


def body(req, model):
    b = {"model": model, "messages": req["messages"],
         "max_tokens": req.get("max_tokens", 256), "temperature": req.get("temperature", 0.2),
         "stream": False}
    if isinstance(req.get("schema"), dict):
        b["response_format"] = {"type": "json_schema", "json_schema": {
            "name": req.get("schema_name", "content"), "strict": True,
            "schema": ordered_schema(req["schema"])}}
    return b


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("model")
    p.add_argument("requests")
    p.add_argument("--concurrency", type=int, default=8)
    args = p.parse_args()
    with open(args.requests) as f:
        reqs = [json.loads(line) for line in f if line.strip()]
    lock = threading.Lock()
    todo = list(enumerate(reqs))
    tokens = [0]
    failed = [0]

    def run():
        while True:
            with lock:
                if not todo:
                    return
                _, r = todo.pop(0)
            data = json.dumps(body(r, args.model)).encode()
            http = urllib.request.Request(args.url + "/chat/completions", data=data,
                                          headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(http, timeout=600) as resp:
                    answer = json.load(resp)
                with lock:
                    tokens[0] += answer.get("usage", {}).get("completion_tokens", 0)
            except OSError:
                with lock:
                    failed[0] += 1

    t0 = time.time()
    threads = [threading.Thread(target=run) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.time() - t0
    print(json.dumps({"requests": len(reqs), "failed": failed[0], "seconds": round(secs, 2),
                      "per_second": round(len(reqs) / secs, 3), "completion_tokens": tokens[0],
                      "tokens_per_second": round(tokens[0] / secs, 1)}))


if __name__ == "__main__":
    main()
