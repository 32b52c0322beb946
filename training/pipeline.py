"""One corrective run: data -> baseline -> N x (SFT, DPO, evaluate, gate) -> registry -> report.

The single entry point behind the CLI, the service's job worker, `python -m training.run` and
`accelerate launch`. It knows nothing about HTTP or the database: cases come in as dicts, and
progress, audit records and cancellation go through Hooks.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from training import data as data_mod
from training import gate as gate_mod
from training import model as model_mod
from training.config import TrainConfig, check, check_examples
from training.dpo import run_dpo
from training.engine import LocalEngine
from training.progress import Progress
from training.registry import NAME, Registry, RegistryError
from training.report import write_chart, write_json
from training.sft import run_sft

log = logging.getLogger("faithgate.training")
ADAPTER = "default"  # the PEFT adapter name the trainers use


def _noop_event(event: str, data: dict[str, Any]) -> None:
    return None


@dataclass
class Hooks:
    """How a run talks to its host: progress dicts, audit events, cancellation, log lines."""

    progress: Callable[[dict[str, Any]], None] = lambda _: None
    audit: Callable[[str, dict[str, Any]], None] = _noop_event
    cancelled: Callable[[], bool] = lambda: False
    log: Callable[[str], None] = log.info
    is_main_process: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. {"job_id": ...} for records


def default_name(cases: list[dict]) -> str:
    """fg-<main domain>-<UTC time>, a valid registry name."""
    domains = Counter(str(c.get("domain") or "mixed") for c in cases)
    domain = re.sub(r"[^a-z0-9]+", "-", (domains.most_common(1) or [("mixed", 0)])[0][0].lower())
    return f"fg-{domain.strip('-') or 'mixed'}-{datetime.now(UTC):%Y%m%d-%H%M%S}"


def weighted(rows: list[dict], codes: list[list[str]], focus: set[str], weight: int) -> list[dict]:
    """Rows, with those whose flagged chain shares a focus finding code repeated `weight` times."""
    if not focus or weight <= 1:
        return list(rows)
    out: list[dict] = []
    for row, row_codes in zip(rows, codes, strict=True):
        out.extend([row] * (weight if focus.intersection(row_codes) else 1))
    return out


def _sampler(engine: LocalEngine, k: int, seed: int) -> Callable[[list[dict]], list[str]]:
    def sample(messages: list[dict]) -> list[str]:
        outs = engine.generate_batch([messages] * k, temperature=0.8, top_p=0.95, seed=seed)
        return [o.text for o in outs]

    return sample


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _public(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics without generated text (for audit records)."""
    return {k: v for k, v in metrics.items() if k != "samples"}


def _best(cycles: list[dict[str, Any]]) -> dict[str, Any]:
    passed = [c for c in cycles if c["gate"]["passed"]]
    pool = passed or cycles[-1:]
    return max(
        pool,
        key=lambda c: (c["metrics"]["faithfulness"] or 0, c["metrics"]["general_accuracy"] or 0),
    )


def run(config: TrainConfig, cases: list[dict], hooks: Hooks | None = None) -> dict[str, Any]:
    """Run the whole corrective pipeline; returns the report (also written to disk)."""
    hooks = hooks or Hooks()
    started = time.monotonic()
    params = model_mod.safetensors_parameters(config.base)
    warnings = check(config, params)  # GuardError before any heavy work
    name = config.name or default_name(cases)
    if not NAME.match(name):
        raise ValueError(f"invalid adapter name {name!r} (lower-case letters, digits, . _ -)")
    registry = Registry(config.registry_dir)
    if (registry.root / name).exists():
        raise RegistryError(f"adapter {name!r} already exists")
    run_dir = Path(config.output_dir) / name
    base_hash = model_mod.base_hash(config.base)
    for w in warnings:
        hooks.log("warning: " + w)
    hooks.audit("training.started", {**hooks.extra, "name": name, "base_model": config.base,
                                     "base_model_hash": base_hash, "parameters": params,
                                     "config": config.to_dict(), "warnings": warnings})
    loaded = model_mod.load(config.base, config.model)
    engine = LocalEngine(loaded.model, loaded.tokenizer, config.base, base_hash)
    sampler = (_sampler(engine, config.data.regenerations, config.seed)
               if config.data.regenerations > 0 else None)
    bundle = data_mod.build(cases, config.data, sampler)
    if not bundle.sft and not bundle.dpo:
        raise ValueError("no training examples: no case has a correction or a passing chain "
                         f"({len(bundle.rejected)} refused; see the reasons with cases export)")
    examples = len(bundle.sft) + len(bundle.dpo)
    if (w := check_examples(examples)) is not None:
        warnings.append(w)
        hooks.log("warning: " + w)
    hooks.audit("training.data", {**hooks.extra, "name": name, **bundle.summary(),
                                  "cases": bundle.case_ids, "held_back_cases": bundle.held_back})
    g = config.gate
    eval_units = gate_mod.units(len(bundle.eval_items), len(bundle.general_eval), g)
    per_cycle = config.sft.max_steps * bool(bundle.sft) + config.dpo.max_steps * bool(bundle.dpo)
    progress = Progress(eval_units * (config.cycles + 1) + per_cycle * config.cycles,
                        hooks.progress, hooks.cancelled)
    progress.stage("baseline evaluation")
    baseline = gate_mod.evaluate(engine, bundle.eval_items, bundle.general_eval, adapter=None,
                                 cfg=g, tick=progress.advance)
    hooks.audit("training.baseline", {**hooks.extra, "name": name, "metrics": _public(baseline)})
    model, focus, cycles = loaded.model, set(), []
    step_times: dict[str, list[float]] = {"sft": [], "dpo": []}
    for k in range(1, config.cycles + 1):
        record: dict[str, Any] = {"cycle": k, "focus_codes": sorted(focus)}
        sft_rows = weighted(bundle.sft, bundle.sft_codes, focus, g.focus_weight)
        dpo_rows = weighted(bundle.dpo, bundle.dpo_codes, focus, g.focus_weight)
        record["focus_examples"] = len(sft_rows) - len(bundle.sft) + len(dpo_rows) - len(bundle.dpo)
        if sft_rows:
            progress.stage(f"cycle {k}/{config.cycles}: sft")
            t0 = time.monotonic()
            model, losses = run_sft(loaded, model, sft_rows, config.sft,
                                    str(run_dir / "trainer"), progress, config.seed + k)
            step_times["sft"].append((time.monotonic() - t0) / max(1, config.sft.max_steps))
            record["sft_loss"] = _mean(losses)
        if dpo_rows:
            progress.stage(f"cycle {k}/{config.cycles}: dpo")
            t0 = time.monotonic()
            model, losses = run_dpo(loaded, model, dpo_rows, config.dpo,
                                    str(run_dir / "trainer"), progress, config.seed + k)
            step_times["dpo"].append((time.monotonic() - t0) / max(1, config.dpo.max_steps))
            record["dpo_loss"] = _mean(losses)
        engine.model = model
        progress.stage(f"cycle {k}/{config.cycles}: evaluation")
        metrics = gate_mod.evaluate(engine, bundle.eval_items, bundle.general_eval,
                                    adapter=ADAPTER, cfg=g, tick=progress.advance)
        record["metrics"] = metrics
        record["gate"] = gate_mod.decide(baseline, metrics, g)
        checkpoint = run_dir / f"cycle-{k}"
        if hooks.is_main_process:
            model.save_pretrained(str(checkpoint), selected_adapters=[ADAPTER])
        record["checkpoint"] = str(checkpoint)
        cycles.append(record)
        hooks.audit("training.cycle", {**hooks.extra, "name": name, **{
            key: v for key, v in record.items() if key != "metrics"}, "metrics": _public(metrics)})
        focus = set(metrics["failing_codes"])
    best = _best(cycles)
    decision = {**best["gate"], "cycle": best["cycle"]}
    report: dict[str, Any] = {
        "name": name, "base_model": config.base, "base_model_hash": base_hash,
        "parameters": params, "quantization": loaded.quantization,
        "compute_dtype": loaded.compute_dtype, "device": loaded.device,
        "config": config.to_dict(), "data": bundle.summary(), "warnings": warnings,
        "baseline": baseline, "cycles": cycles, "decision": decision,
        "timing": {"total_s": round(time.monotonic() - started, 1),
                   "sft_step_s": _mean(step_times["sft"]), "dpo_step_s": _mean(step_times["dpo"])},
        **hooks.extra,
    }
    if not hooks.is_main_process:
        return report
    report_path = write_json(report, run_dir / "report.json")
    chart_path = write_chart(report, run_dir / "chart.png")
    report["files"] = {"report": str(report_path), "chart": str(chart_path)}
    meta = {
        "base_model": config.base, "base_model_hash": base_hash, "gate": decision,
        "metrics": {"baseline": _public(baseline), "chosen": _public(best["metrics"])},
        "lineage": {"cases": bundle.case_ids, "held_back": bundle.held_back,
                    "data_hash": bundle.data_hash, "general_source": config.data.general_source,
                    "sft_examples": len(bundle.sft), "dpo_examples": len(bundle.dpo)},
        "config": config.to_dict(), "quantization": loaded.quantization,
        "report": str(report_path), "chart": str(chart_path), **hooks.extra,
    }
    info = registry.register(Path(best["checkpoint"]), name, meta)
    report["adapter"] = {"name": name, "status": info["status"], "path": info["path"],
                         "content_hash": info["content_hash"]}
    hooks.audit("adapter.registered", {**hooks.extra, "name": name, "status": info["status"],
                                       "adapter_hash": info["content_hash"], "gate": decision,
                                       "data_hash": bundle.data_hash})
    if config.auto_promote and decision["passed"]:
        registry.promote(name, by=hooks.extra.get("job_id") or "training")
        report["adapter"]["status"] = "active"
        hooks.audit("adapter.promoted", {**hooks.extra, "name": name, "automatic": True,
                                         "adapter_hash": info["content_hash"]})
    report["timing"]["total_s"] = round(time.monotonic() - started, 1)
    write_json(report, report_path)
    return report
