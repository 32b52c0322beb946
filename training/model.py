"""The base model for training: 4-bit NF4 (QLoRA) when bitsandbytes is there, else plain LoRA."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("faithgate.training")


@dataclass
class ModelConfig:
    r"""The base model, its quantization and the LoRA adapter trained on it.

    Parameters:
        quantization (`str`, defaults to `"auto"`):
            `"nf4"`: 4-bit NormalFloat base weights (bitsandbytes) under LoRA, i.e. QLoRA;
            `"none"`: plain LoRA on full-precision weights; `"auto"`: nf4 when bitsandbytes
            imports, else none.
        double_quant (`bool`, defaults to `True`):
            Quantize the 4-bit quantization constants too (QLoRA's double quantization).
        compute_dtype (`str`, defaults to `"auto"`):
            Dtype of the 4-bit matmuls and the LoRA weights: `"auto"` is bfloat16 on a GPU and
            float32 on a CPU (CPUs without bf16 units run bf16 about 13x slower).
        device (`str`, defaults to `"auto"`):
            `"cpu"`, `"cuda"` or `"auto"` (cuda when available).
        lora_r (`int`, defaults to `16`):
            LoRA rank.
        lora_alpha (`int`, defaults to `32`):
            LoRA scaling numerator (the update is scaled by alpha / r).
        lora_dropout (`float`, defaults to `0.05`):
            Dropout on the LoRA input.
        target_modules (`str` or `list[str]`, defaults to `"all-linear"`):
            Modules that get LoRA matrices; `"all-linear"` as in the QLoRA paper.
        gradient_checkpointing (`bool` or `None`, defaults to `None`):
            Recompute activations in the backward pass to save memory; `None`: on for GPUs,
            off for CPUs (small models fit, and recomputation costs a third more time).
        quant_storage (`str` or `None`, defaults to `None`):
            Storage dtype of the packed 4-bit weights; FSDP needs it equal to the compute dtype
            (`"bfloat16"`) to shard a QLoRA model (deploy/training/fsdp_qlora.yaml).
        cpu_threads (`int`, defaults to `0`):
            torch threads on a CPU; 0 keeps torch's default (one per core). On cores shared
            with other busy processes, 1 thread avoids OpenMP oversubscription (measured 5x
            faster generation than 2 threads on 2 loaded cores).
    """

    quantization: str = field(default="auto", metadata={"help": "nf4 | none | auto"})
    double_quant: bool = field(default=True, metadata={"help": "Double quantization."})
    compute_dtype: str = field(default="auto", metadata={"help": "auto | float32 | bfloat16"})
    device: str = field(default="auto", metadata={"help": "cpu | cuda | auto"})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    target_modules: str | list[str] = field(default="all-linear", metadata={"help": "Targets."})
    gradient_checkpointing: bool | None = field(default=None, metadata={"help": "None: auto."})
    quant_storage: str | None = field(default=None, metadata={"help": "4-bit storage dtype."})
    cpu_threads: int = field(default=0, metadata={"help": "torch CPU threads (0: default)."})

    def __post_init__(self) -> None:
        if self.quantization not in ("auto", "nf4", "none"):
            raise ValueError("quantization must be auto, nf4 or none")
        if self.compute_dtype not in ("auto", "float32", "bfloat16", "float16"):
            raise ValueError("compute_dtype must be auto, float32, bfloat16 or float16")
        if self.quant_storage not in (None, "uint8", "bfloat16", "float16", "float32"):
            raise ValueError("quant_storage must be uint8, bfloat16, float16 or float32")


@dataclass
class Loaded:
    """A loaded base model with what was decided about it."""

    model: Any
    tokenizer: Any
    device: str
    quantization: str  # nf4 | none
    compute_dtype: str
    gradient_checkpointing: bool
    lora: Any = None  # the peft LoraConfig to attach on the first cycle

    def trainer_args(self, output_dir: str, seed: int) -> dict[str, Any]:
        """The TRL config arguments that follow from the device, the same for SFT and DPO."""
        return {
            "output_dir": output_dir,
            "bf16": self.compute_dtype == "bfloat16",  # bf16 only on a GPU: ~13x slower on CPUs
            "fp16": self.compute_dtype == "float16",
            "use_cpu": self.device == "cpu",
            "gradient_checkpointing": self.gradient_checkpointing,
            "save_strategy": "no",
            "report_to": [],
            "seed": seed,
            "data_seed": seed,
            "disable_tqdm": True,
        }


def warmup_steps(value: float, max_steps: int) -> int:
    """Warm-up steps that leave real training: at most a third of `max_steps`, floored.

    `value` is a count, or a share of the steps when below 1. Linear warm-up starts at a
    learning rate of 0: transformers rounds a share up (ceil), so a 1-step stage with the default
    0.1 warmed up for its only step and trained nothing (every lora_B stayed zero).
    """
    wanted = int(value) if value >= 1 else math.floor(max_steps * value)
    return max(0, min(wanted, max_steps // 3))


def bitsandbytes_available() -> bool:
    """True when bitsandbytes can be imported (it runs 4-bit NF4 on CPUs from 0.44 on)."""
    if importlib.util.find_spec("bitsandbytes") is None:
        return False
    try:
        import bitsandbytes  # noqa: F401
    except Exception:  # a broken native library must mean "no QLoRA", not a crash
        return False
    return True


def resolve_device(wanted: str) -> str:
    """cpu, or cuda:<LOCAL_RANK> (each process of `accelerate launch` takes its own GPU)."""
    import torch

    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    if wanted == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("device cuda asked for, but torch sees no GPU")
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return wanted


def load(base: str, cfg: ModelConfig) -> Loaded:
    """The base model (4-bit or not) and its tokenizer, ready for a LoRA adapter."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    device = resolve_device(cfg.device)
    if device == "cpu" and cfg.cpu_threads > 0:
        torch.set_num_threads(cfg.cpu_threads)
    dtype_name = cfg.compute_dtype
    if dtype_name == "auto":
        dtype_name = "bfloat16" if device.startswith("cuda") else "float32"
    dtype = getattr(torch, dtype_name)
    quant = cfg.quantization
    if quant == "auto":
        quant = "nf4" if bitsandbytes_available() else "none"
    elif quant == "nf4" and not bitsandbytes_available():
        log.warning("bitsandbytes is not available: training plain LoRA instead of QLoRA")
        quant = "none"
    kwargs: dict[str, Any] = {"dtype": dtype}
    if quant == "nf4":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=cfg.double_quant,
            bnb_4bit_compute_dtype=dtype,
            **(
                {"bnb_4bit_quant_storage": getattr(torch, cfg.quant_storage)}
                if cfg.quant_storage
                else {}
            ),
        )
        kwargs["device_map"] = {"": device}
    model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    if quant == "none":
        model.to(device)
    checkpointing = (
        cfg.gradient_checkpointing
        if cfg.gradient_checkpointing is not None
        else device.startswith("cuda")
    )
    if quant == "nf4":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=checkpointing)
        keep_4bit_originals(model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return Loaded(model, tokenizer, device, quant, dtype_name, checkpointing, lora_config(cfg))


def lora_config(cfg: ModelConfig) -> Any:
    """The peft LoraConfig for a causal LM."""
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=cfg.target_modules,
        task_type="CAUSAL_LM",
    )


def match_adapter_dtype(model: Any, dtype_name: str) -> None:
    """Cast trainable (LoRA) weights to the compute dtype.

    TRL casts a quantized model's LoRA weights to bfloat16 (the QLoRA paper's GPU choice); on a
    CPU that makes every LoRA matmul a slow bf16 one, so they go back to float32 there.
    """
    import torch

    dtype = getattr(torch, dtype_name)
    for param in model.parameters():
        if param.requires_grad and param.dtype != dtype:
            param.data = param.data.to(dtype)


def keep_4bit_originals(model: Any) -> int:
    """Remember every 4-bit layer's packed weight and quant state (see unpack_for_training)."""
    try:
        from bitsandbytes.nn import Linear4bit
    except ImportError:
        return 0
    count = 0
    for module in model.modules():
        state = getattr(getattr(module, "weight", None), "quant_state", None)
        if isinstance(module, Linear4bit) and state is not None:
            module._faithgate_original = (module.weight.data.clone(), copy.deepcopy(state))
            count += 1
    return count


def unpack_for_training(model: Any) -> int:
    """Restore 4-bit layers that bitsandbytes repacked for CPU inference; returns how many.

    On CPUs with AVX512-BF16, a Linear4bit in eval mode repacks its weight in place for a fast
    inference kernel (gemv_4bit, about 2x faster generation here) that has no backward, and
    never packs it back: training after an evaluation would silently drop the gradient through
    every frozen 4-bit matmul (torch only warns). bitsandbytes' own inverse re-quantizes the
    scales (a small drift each cycle), so the exact originals kept at load time are restored.
    """
    count = 0
    for module in model.modules():
        original = getattr(module, "_faithgate_original", None)
        state = getattr(getattr(module, "weight", None), "quant_state", None)
        if original is None or not getattr(state, "packing_format_for_cpu", False):
            continue
        data, saved = original
        module.weight.data, module.weight.quant_state = data.clone(), copy.deepcopy(saved)
        if getattr(module, "quant_state", None) is not None:
            module.quant_state = module.weight.quant_state
        count += 1
    return count


def lora_delta(folder: str | Path) -> float:
    """Frobenius norm of the weight change a saved LoRA adapter makes (sum of |B @ A| per module).

    PEFT starts every lora_B at zero, so an adapter whose learning rate never left 0 is exactly
    the base model: this is 0.0 for it, and the pipeline refuses to register it.
    """
    import torch
    from safetensors.torch import load_file

    weights = load_file(str(Path(folder) / "adapter_model.safetensors"))
    total = 0.0
    for key, a in weights.items():
        if ".lora_A." not in key:
            continue
        b = weights.get(key.replace(".lora_A.", ".lora_B."))
        if b is not None:
            total += float(torch.linalg.matrix_norm(b.float() @ a.float()))
    return total


def safetensors_parameters(base: str | Path) -> int | None:
    """Parameters of a model folder, read from its safetensors headers (no weights loaded)."""
    files = sorted(Path(base).glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for path in files:
        with path.open("rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            if size <= 0 or size > 100_000_000:
                return None
            header = json.loads(fh.read(size))
        for name, meta in header.items():
            if name == "__metadata__" or not isinstance(meta, dict):
                continue
            count = 1
            for dim in meta.get("shape", []):
                count *= int(dim)
            total += count
    return total


# The one definition of the model and adapter digests (service.engines.model_files uses these),
# so that the base and adapter hashes in training's audit records equal the engine's.
MARKER = "faithgate-model.json"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


def _feed(digest: Any, path: Path) -> None:
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)


def weights_hash(folder: str | Path) -> str:
    """SHA-256 over a model folder's weight files (names and contents, in name order)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).iterdir() if p.suffix in _WEIGHT_SUFFIXES):
        digest.update(path.name.encode() + b"\0")
        _feed(digest, path)
    return digest.hexdigest()


def base_hash(folder: str | Path) -> str:
    """The base model's hash: the conversion marker's when there is one, else weights_hash."""
    marker = Path(folder) / MARKER
    if marker.is_file():
        try:
            value = json.loads(marker.read_text(encoding="utf-8")).get("sha256")
            if isinstance(value, str):
                return value
        except (OSError, ValueError):
            pass
    return weights_hash(folder)


def files_hash(folder: str | Path) -> str:
    """SHA-256 over every regular file of a folder (relative path and contents, in path order)."""
    digest = hashlib.sha256()
    root = Path(folder)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        _feed(digest, path)
    return digest.hexdigest()
