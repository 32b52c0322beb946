"""The run report: JSON, and a PNG chart of faithfulness, laundering, general accuracy and loss."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(report: dict[str, Any], path: Path) -> Path:
    """Write the report as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def _pct(value: float | None) -> float:
    return float("nan") if value is None else 100.0 * value


def tests_line(decision: dict[str, Any]) -> str:
    """The chosen cycle's paired tests in one line: effect, 95 % interval, p-value."""
    parts = []
    # each test's one-sided p-value in the direction the gate tests (a gain for faithfulness,
    # a harm for the others)
    for key, label, direction in (
        ("faithfulness", "faithfulness", "p_increase"),
        ("laundering", "laundering", "p_increase"),
        ("general_accuracy", "general", "p_decrease"),
        ("general_faithfulness", "general faithfulness", "p_decrease"),
        ("general_laundering", "general laundering", "p_increase"),
    ):
        t = (decision.get("tests") or {}).get(key)
        if not t or not t["n"]:
            continue
        lo, hi = t["ci95_points"]
        p = t[direction]
        parts.append(
            f"{label} {t['effect_points']:+.1f} pts [{lo:+.1f}, {hi:+.1f}] p={p:.3g} (n={t['n']})"
        )
    alpha = decision.get("alpha")
    head = f"cycle {decision.get('cycle')}, McNemar one-sided, alpha {alpha}: " if alpha else ""
    return head + "; ".join(parts)


def write_chart(report: dict[str, Any], path: Path) -> Path:
    """Per cycle (cycle 0 = the base model): the three rates, and SFT/DPO loss beside them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [{"cycle": 0, **report["baseline"]}] + [
        {
            "cycle": c["cycle"],
            **c["metrics"],
            "sft_loss": c.get("sft_loss"),
            "dpo_loss": c.get("dpo_loss"),
            "passed": c["gate"]["passed"],
        }
        for c in report["cycles"]
    ]
    xs = [r["cycle"] for r in rows]
    fig, (ax, lx) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    ax.plot(xs, [_pct(r.get("faithfulness")) for r in rows], "o-", label="faithfulness pass rate")
    ax.plot(xs, [_pct(r.get("laundering")) for r in rows], "s-", label="laundering rate")
    ax.plot(
        xs,
        [_pct(r.get("general_accuracy")) for r in rows],
        "^-",
        label="general-reasoning accuracy",
    )
    ax.plot(
        xs,
        [_pct(r.get("general_faithfulness")) for r in rows],
        "d--",
        label="faithfulness on general problems",
    )
    for r in rows[1:]:
        ax.annotate(
            "pass" if r["passed"] else "refused",
            (r["cycle"], 2),
            ha="center",
            fontsize=8,
            color="green" if r["passed"] else "firebrick",
        )
    ax.set_xlabel("cycle (0 = base model)")
    ax.set_ylabel("% of held-back cases / general problems")
    ax.set_xticks(xs)
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Evaluation gate")
    cyc = [r["cycle"] for r in rows[1:]]
    lx.plot(cyc, [r.get("sft_loss") or float("nan") for r in rows[1:]], "o-", label="SFT loss")
    lx.plot(cyc, [r.get("dpo_loss") or float("nan") for r in rows[1:]], "s-", label="DPO loss")
    lx.set_xlabel("cycle")
    lx.set_ylabel("mean training loss in the cycle")
    lx.set_xticks(cyc or [1])
    lx.grid(alpha=0.3)
    lx.legend(fontsize=8)
    lx.set_title("Training loss")
    decision = report.get("decision", {})
    verdict = "promotable" if decision.get("passed") else "not promoted"
    fig.suptitle(f"{report.get('name')}: {verdict}", fontsize=10)
    fig.text(0.01, 0.01, tests_line(decision), fontsize=7, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
