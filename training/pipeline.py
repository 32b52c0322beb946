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


class _Run:
    """One run's state, stage by stage (see run())."""

    def __init__(self, config: TrainConfig, cases: list[dict], hooks: Hooks) -> None:
        self.config, self.cases, self.hooks = config, cases, hooks
        self.started = time.monotonic()
        self.params = model_mod.safetensors_parameters(config.base)
        self.warnings = check(config, self.params)  # GuardError before any heavy work
        self.name = config.name or default_name(cases)
        if not NAME.match(self.name):
            raise ValueError(f"invalid adapter name {self.name!r} (lower-case, digits, . _ -)")
        self.registry = Registry(config.registry_dir)
        if (self.registry.root / self.name).exists():
            raise RegistryError(f"adapter {self.name!r} already exists")
        self.run_dir = Path(config.output_dir) / self.name
        self.base_hash = model_mod.base_hash(config.base)
        self.step_times: dict[str, list[float]] = {"sft": [], "dpo": []}
        self.eval_times: list[float] = []

    def audit(self, event: str, **data: Any) -> None:
        self.hooks.audit(event, {**self.hooks.extra, "name": self.name, **data})

    def warn(self, text: str) -> None:
        self.hooks.log("warning: " + text)

    def prepare(self) -> None:
        """Audit the start, load the model, build the data, set up progress."""
        config = self.config
        for w in self.warnings:
            self.warn(w)
        self.audit(
            "training.started",
            base_model=config.base,
            base_model_hash=self.base_hash,
            parameters=self.params,
            config=config.to_dict(),
            warnings=self.warnings,
        )
        self.loaded = model_mod.load(config.base, config.model)
        self.engine = LocalEngine(
            self.loaded.model, self.loaded.tokenizer, config.base, self.base_hash
        )
        sampler = None
        if config.data.regenerations > 0:
            sampler = _sampler(self.engine, config.data.regenerations, config.seed)
        self.bundle = bundle = data_mod.build(self.cases, config.data, sampler)
        if not bundle.sft and not bundle.dpo:
            raise ValueError(
                "no training examples: no case has a correction or a passing chain "
                f"({len(bundle.rejected)} refused; see the reasons with cases export)"
            )
        for w in bundle.warnings:
            self.warnings.append(w)
            self.warn(w)
        if (w := check_examples(len(bundle.sft) + len(bundle.dpo))) is not None:
            self.warnings.append(w)
            self.warn(w)
        self.audit(
            "training.data",
            **{**bundle.summary(), "cases": bundle.case_ids, "held_back_cases": bundle.held_back},
        )
        units = gate_mod.units(len(bundle.eval_items), len(bundle.general_eval), config.gate)
        steps = config.sft.max_steps * bool(bundle.sft) + config.dpo.max_steps * bool(bundle.dpo)
        total = units * (config.cycles + 1) + steps * config.cycles
        self.progress = Progress(total, self.hooks.progress, self.hooks.cancelled)

    def evaluate(self, adapter: str | None) -> dict[str, Any]:
        """The gate's measurements for the base (None) or the trained adapter."""
        t0 = time.monotonic()
        metrics = gate_mod.evaluate(
            self.engine,
            self.bundle.eval_items,
            self.bundle.general_eval,
            adapter=adapter,
            cfg=self.config.gate,
            tick=self.progress.advance,
        )
        self.eval_times.append(time.monotonic() - t0)
        return metrics

    def cycle(self, k: int, model: Any, focus: set[str], baseline: dict) -> tuple[Any, dict]:
        """Train SFT then DPO on the adapter, evaluate, gate, checkpoint; the cycle's record."""
        config, bundle, g = self.config, self.bundle, self.config.gate
        record: dict[str, Any] = {"cycle": k, "focus_codes": sorted(focus)}
        sft_rows = weighted(bundle.sft, bundle.sft_codes, focus, g.focus_weight)
        dpo_rows = weighted(bundle.dpo, bundle.dpo_codes, focus, g.focus_weight)
        record["focus_examples"] = len(sft_rows) - len(bundle.sft) + len(dpo_rows) - len(bundle.dpo)
        trainer_dir = str(self.run_dir / "trainer")
        for stage, rows, stage_cfg, train in (
            ("sft", sft_rows, config.sft, run_sft),
            ("dpo", dpo_rows, config.dpo, run_dpo),
        ):
            if not rows:
                continue
            self.progress.stage(f"cycle {k}/{config.cycles}: {stage}")
            model, losses, steps = train(
                self.loaded, model, rows, stage_cfg, trainer_dir, self.progress, config.seed + k
            )
            self.step_times[stage].extend(steps)
            record[f"{stage}_loss"] = _mean(losses)
        self.engine.model = model
        self.progress.stage(f"cycle {k}/{config.cycles}: evaluation")
        record["metrics"] = metrics = self.evaluate(ADAPTER)
        record["gate"] = gate_mod.decide(baseline, metrics, g)
        checkpoint = self.run_dir / f"cycle-{k}"
        if self.hooks.is_main_process:
            model.save_pretrained(str(checkpoint), selected_adapters=[ADAPTER])
        record["checkpoint"] = str(checkpoint)
        public = {key: v for key, v in record.items() if key != "metrics"}
        self.audit("training.cycle", **public, metrics=_public(metrics))
        return model, record

    def report(self, baseline: dict, cycles: list[dict], best: dict) -> dict[str, Any]:
        """The report dict (not yet written)."""
        loaded = self.loaded
        return {
            "name": self.name,
            "base_model": self.config.base,
            "base_model_hash": self.base_hash,
            "parameters": self.params,
            "quantization": loaded.quantization,
            "compute_dtype": loaded.compute_dtype,
            "device": loaded.device,
            "config": self.config.to_dict(),
            "data": self.bundle.summary(),
            "warnings": self.warnings,
            "baseline": baseline,
            "cycles": cycles,
            "decision": {**best["gate"], "cycle": best["cycle"]},
            "timing": {
                "total_s": round(time.monotonic() - self.started, 1),
                "sft_step_s": _mean(self.step_times["sft"]),
                "dpo_step_s": _mean(self.step_times["dpo"]),
                "evaluation_s": _mean(self.eval_times),
            },
            **self.hooks.extra,
        }

    def register(self, report: dict, baseline: dict, best: dict) -> None:
        """Write report and chart, register the best cycle's adapter, promote if asked."""
        config, bundle, decision = self.config, self.bundle, report["decision"]
        report_path = write_json(report, self.run_dir / "report.json")
        chart_path = write_chart(report, self.run_dir / "chart.png")
        report["files"] = {"report": str(report_path), "chart": str(chart_path)}
        meta = {
            "base_model": config.base,
            "base_model_hash": self.base_hash,
            "gate": decision,
            "metrics": {"baseline": _public(baseline), "chosen": _public(best["metrics"])},
            "lineage": {
                "cases": bundle.case_ids,
                "held_back": bundle.held_back,
                "data_hash": bundle.data_hash,
                "general_source": config.data.general_source,
                "sft_examples": len(bundle.sft),
                "dpo_examples": len(bundle.dpo),
            },
            "config": config.to_dict(),
            "quantization": self.loaded.quantization,
            "report": str(report_path),
            "chart": str(chart_path),
            **self.hooks.extra,
        }
        delta = model_mod.lora_delta(best["checkpoint"])
        if delta == 0.0:
            self.audit("training.unchanged", cycle=best["cycle"], report=str(report_path))
            raise RegistryError(
                f"adapter {self.name!r} not registered: its weights did not change (every LoRA "
                "B matrix is still zero, so it is the base model). The learning rate never left "
                "0 or no step ran: give the stages more max_steps or fewer warmup_steps."
            )
        meta["lora_delta_norm"] = round(delta, 6)
        info = self.registry.register(Path(best["checkpoint"]), self.name, meta)
        report["adapter"] = {key: info[key] for key in ("status", "path", "content_hash")}
        report["adapter"]["name"] = self.name
        self.audit(
            "adapter.registered",
            status=info["status"],
            adapter_hash=info["content_hash"],
            gate=decision,
            data_hash=bundle.data_hash,
        )
        if config.auto_promote and decision["passed"]:
            # Recorded under the registry's lock before the change, as every promotion is.
            def record(meta: dict[str, Any], previous: str | None) -> None:
                self.audit(
                    "adapter.promoted",
                    automatic=True,
                    previous=previous,
                    adapter_hash=info["content_hash"],
                )

            by = self.hooks.extra.get("job_id") or "training"
            self.registry.promote(self.name, by=by, before=record)
            report["adapter"]["status"] = "active"
        report["timing"]["total_s"] = round(time.monotonic() - self.started, 1)
        write_json(report, report_path)


def run(config: TrainConfig, cases: list[dict], hooks: Hooks | None = None) -> dict[str, Any]:
    """Run the whole corrective pipeline; returns the report (also written to disk)."""
    state = _Run(config, cases, hooks or Hooks())
    state.prepare()
    state.progress.stage("baseline evaluation")
    baseline = state.evaluate(None)
    state.audit("training.baseline", metrics=_public(baseline))
    model, focus, cycles = state.loaded.model, set(), []
    for k in range(1, config.cycles + 1):
        model, record = state.cycle(k, model, focus, baseline)
        cycles.append(record)
        # Only the codes of what still fails cross the split, never a held-back case's text.
        focus = set(record["metrics"]["failing_codes"])
    best = _best(cycles)
    report = state.report(baseline, cycles, best)
    if state.hooks.is_main_process:
        state.register(report, baseline, best)
    return report
