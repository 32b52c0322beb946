"""Algebra validator over model-written PARC chains (and GSM8K reference solutions).

For each PARC file: chains with at least one checked equation, steps verified, chains
flagged, and (where PARC annotates step errors) how many flags fall on an annotated
error step. On the correct (`*_positives`) files every flag is a false accusation.

Run: .venv/bin/python -m bench.algebra_bench [--no-write] [--gsm8k-limit N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from bench.common import DATA, write_section
from validators.algebra.validator import AlgebraValidator
from validators.pipeline import validate_chain
from validators.types import Chain

COMMAND = ".venv/bin/python -m bench.algebra_bench"
PARC_FILES = [
    "metamathqa_positives.json",
    "orcamath_positives.json",
    "metamathqa_negatives.json",
    "orcamath_negatives.json",
    "metamathqa_positives_perturbed.json",
    "orcamath_positives_perturbed.json",
]


def _report(question: str, reasoning: list[str] | str, answer: str | None) -> dict:
    chain = Chain(question=question, reasoning=reasoning, answer=answer)
    return validate_chain(chain, run=[AlgebraValidator()])


def _flagged_steps(report: dict) -> list[int | None]:
    steps = [s["index"] for s in report["steps"] for f in s["findings"] if f["severity"] == "error"]
    return steps + [None for f in report["findings"] if f["severity"] == "error"]


def parc_row(name: str) -> dict:
    """Counts for one PARC file."""
    items = json.loads((DATA / "parc" / name).read_text(encoding="utf-8"))
    row = {"file": name, "chains": len(items), "checked": 0, "verified": 0, "flagged": 0}
    row.update(on_error_step=0, flags=0, ms=[])
    for item in items:
        started = time.perf_counter()
        r = _report(item["question"], item["steps"], str(item["model_answer"]))
        row["ms"].append((time.perf_counter() - started) * 1000)
        verified = sum(s["status"] == "verified" for s in r["steps"])
        flags = _flagged_steps(r)
        row["checked"] += bool(verified or flags)
        row["verified"] += verified
        row["flagged"] += bool(flags)
        row["flags"] += len(flags)
        levels = item["error_annotation"]["error_annotations"]["step_level"]
        wrong = {s["step_number"] - 1 for s in levels if s["has_error"]}  # PARC counts from 1
        row["on_error_step"] += sum(f in wrong for f in flags)
    return row


def gsm8k_row(limit: int | None) -> dict:
    """Flags on GSM8K reference solutions (few contain variables at all)."""
    row = {"chains": 0, "checked": 0, "flagged": 0}
    with (DATA / "gsm8k" / "train.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if limit is not None and row["chains"] >= limit:
                break
            item = json.loads(line)
            r = _report(item["question"], item["answer"], None)
            row["chains"] += 1
            row["checked"] += any(s["status"] != "unchecked" for s in r["steps"])
            row["flagged"] += bool(_flagged_steps(r))
    return row


def main() -> None:
    """Run the benchmark, print it, and (unless --no-write) update BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--gsm8k-limit", type=int, default=None)
    args = parser.parse_args()
    lines = [
        "| PARC file | chains | with a checked equation | steps verified | chains flagged "
        "| flags on an annotated error step | median / max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in PARC_FILES:
        r = parc_row(name)
        lines.append(
            f"| {r['file']} | {r['chains']} | {r['checked']} | {r['verified']} | {r['flagged']} "
            f"| {r['on_error_step']} of {r['flags']} "
            f"| {statistics.median(r['ms']):.1f} / {max(r['ms']):.1f} |"
        )
    g = gsm8k_row(args.gsm8k_limit)
    body = "\n".join(lines) + (
        f"\n\nGSM8K train reference solutions: {g['chains']} chains, {g['checked']} with a checked "
        f"equation, {g['flagged']} flagged (each read by hand when written: real errors in the "
        "references, e.g. `100 = A + 2A + 3A` then `100 = 5A`).\n\n"
        "`*_positives` are correct chains: every flag there is a false accusation. "
        "`*_perturbed` have one injected error. PARC's labels are a development aid, not gold."
    )
    print(body)
    if not args.no_write:
        write_section("algebra", "Algebra validator (PARC, GSM8K)", COMMAND, body)


if __name__ == "__main__":
    main()
