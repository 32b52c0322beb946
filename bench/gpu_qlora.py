"""QLoRA against plain LoRA on one GPU: peak GPU memory and step time (SFT and DPO).

Not run in this project's CI or on its CPU machines; run it on a GPU box:

    .venv/bin/python -m bench.gpu_qlora --base /models/SmolLM2-135M-Instruct
    .venv/bin/python -m bench.gpu_qlora --base /models/Llama-3.1-8B-Instruct --steps 20

Each variant loads the base the way training/ does (4-bit NF4 with double quantisation and
bf16 compute, or bf16 weights), attaches the same LoRA adapter, and runs the pipeline's own
SFT and DPO stages on generated problems for a few steps. torch.cuda.max_memory_allocated is
reset before each stage; step time is the median over the steps after the first.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
from typing import Any

from bench.common import write_section


def _rows(n: int) -> tuple[list[dict], list[dict]]:
    from training import mix
    from training.generator import problems

    rng = random.Random(0)
    pool = list(problems(n, seed=123, prefix="gpu"))
    sft = [mix.sft_row(p) for p in pool]
    dpo = [r for r in (mix.dpo_row(p, rng) for p in pool) if r is not None]
    return sft, dpo


def measure(base: str, quantization: str, steps: int, batch: int) -> dict[str, Any]:
    """Peak memory (GiB) and median step time (s) of SFT and DPO for one variant."""
    import torch

    from training.dpo import DPOStageConfig, run_dpo
    from training.model import ModelConfig, load
    from training.progress import Progress
    from training.sft import SFTStageConfig, run_sft

    sft_rows, dpo_rows = _rows(max(64, steps * batch * 2))
    torch.cuda.reset_peak_memory_stats()
    loaded = load(base, ModelConfig(quantization=quantization, device="cuda"))
    load_gib = torch.cuda.max_memory_allocated() / 2**30
    out: dict[str, Any] = {"quantization": loaded.quantization, "load_peak_gib": load_gib}
    with tempfile.TemporaryDirectory() as tmp:
        torch.cuda.reset_peak_memory_stats()
        sft = SFTStageConfig(max_steps=steps, per_device_train_batch_size=batch, max_length=512)
        model, _, sft_s = run_sft(loaded, loaded.model, sft_rows, sft, tmp, Progress(steps))
        out["sft_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
        out["sft_step_s"] = statistics.median(sft_s[1:] or sft_s)
        torch.cuda.reset_peak_memory_stats()
        dpo = DPOStageConfig(max_steps=steps, per_device_train_batch_size=max(1, batch // 2))
        model, _, dpo_s = run_dpo(loaded, model, dpo_rows, dpo, tmp, Progress(steps))
        out["dpo_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
        out["dpo_step_s"] = statistics.median(dpo_s[1:] or dpo_s)
    del model, loaded
    gc.collect()
    torch.cuda.empty_cache()
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure both variants; print JSON and write the BENCHMARKS.md section."""
    parser = argparse.ArgumentParser(prog="python -m bench.gpu_qlora")
    parser.add_argument("--base", required=True, help="base model folder")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("no GPU: this benchmark measures GPU memory and needs CUDA", file=sys.stderr)
        return 2
    results = [measure(args.base, q, args.steps, args.batch) for q in ("nf4", "none")]
    print(json.dumps(results, indent=2))
    if args.no_write:
        return 0
    gpu = torch.cuda.get_device_name(0)
    lines = [
        "| variant | load peak | SFT peak | SFT step | DPO peak | DPO step |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        name = "QLoRA (NF4, double quant, bf16)" if r["quantization"] == "nf4" else "LoRA (bf16)"
        lines.append(
            f"| {name} | {r['load_peak_gib']:.2f} GiB | {r['sft_peak_gib']:.2f} GiB | "
            f"{r['sft_step_s']:.3f} s | {r['dpo_peak_gib']:.2f} GiB | "
            f"{r['dpo_step_s']:.3f} s |"
        )
    body = (
        f"{gpu}; base {args.base}; SFT batch {args.batch}, DPO batch "
        f"{max(1, args.batch // 2)}, {args.steps} steps each, median step time.\n\n"
        + "\n".join(lines)
    )
    write_section(
        "gpu_qlora",
        "QLoRA vs LoRA on a GPU",
        f".venv/bin/python -m bench.gpu_qlora --base {args.base}",
        body,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
