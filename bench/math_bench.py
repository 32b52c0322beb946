"""Precision of the validators on reasoning that models write: MATH-style LaTeX chains.

Per set: chains flagged before the labelled first error (false accusations), flagged
exactly at it, flagged after it, human-correct steps with status `error`, verdicts and
mean coverage. Sets: PRM800K GPT-4 chains (steps before `first_error_step` were rated
correct by a human), NuminaMath olympiad reference solutions (correct: flag none), PARC's
MATH, MetaMathQA and Orca-Math chains (`*_positives` correct, `*_perturbed` one injected
error, `*_negatives` the model's own errors, labelled).

Run: .venv/bin/python -m bench.math_bench [--no-write] [--show SET] [--baseline REV [--rounds N]]

--baseline times every chain under another commit's validators in the same run (its own
worktree and compiled build), alternated with this checkout's, each pass in a child process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.common import DATA, ROOT, baseline_tree, write_section
from validators.pipeline import validate, validators

COMMAND = ".venv/bin/python -m bench.math_bench"
NOTE = (
    "\n\nA chain counts as flagged when its verdict is `unfaithful` or it is laundering. "
    "*Before* counts flags on a chain with no labelled error, or whose first `error` step "
    "comes before the labelled one: each is a false accusation. PRM800K's chains stop at "
    "(or just after) the labelled step; the answer is what the last step states. "
    "p99 ms is CPU time per chain in this process."
)
PARC_SETS = [
    "math_positives",
    "math_positives_perturbed",
    "math_negatives",
    "metamathqa_positives",
    "metamathqa_positives_perturbed",
    "metamathqa_negatives",
    "orcamath_positives",
    "orcamath_positives_perturbed",
    "orcamath_negatives",
]


@dataclass
class Labelled:
    """One chain and the 0-based index of its first wrong step (None: the chain is correct)."""

    chain: dict
    first_error: int | None


def prm800k() -> Iterator[Labelled]:
    """PRM800K: the model's steps; the answer is what its last step states."""
    with (DATA / "prm800k" / "prm800k_gpt4_steps.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            chain = {"id": item["id"], "question": item["question"], "reasoning": item["steps"]}
            yield Labelled(chain, item["first_error_step"])


def numinamath() -> Iterator[Labelled]:
    """NuminaMath olympiad reference solutions: correct, with their stated answer."""
    with (DATA / "numinamath" / "numinamath_olympiad.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            chain = {
                "id": item["id"],
                "question": item["question"],
                "reasoning": item["solution"],
                "answer": item["answer"],
            }
            yield Labelled(chain, None)


def parc(name: str) -> Iterator[Labelled]:
    """A PARC file: the model's steps and answer; the first step annotated wrong."""
    items = json.loads((DATA / "parc" / f"{name}.json").read_text(encoding="utf-8"))
    for n, item in enumerate(items):
        levels = item["error_annotation"]["error_annotations"]["step_level"]
        wrong = sorted(s["step_number"] - 1 for s in levels if s["has_error"])  # PARC counts from 1
        first = wrong[0] if wrong and not name.endswith("_positives") else None
        chain = {
            "id": f"{name}-{n}",
            "question": item["question"],
            "reasoning": item["steps"],
            "answer": str(item["model_answer"]),
        }
        yield Labelled(chain, first)


def sets() -> dict[str, list[Labelled]]:
    """Every labelled set, by name."""
    out = {"prm800k": list(prm800k()), "numinamath": list(numinamath())}
    out.update({f"parc/{name}": list(parc(name)) for name in PARC_SETS})
    return out


def flagged(report: dict) -> bool:
    """A chain sent to a reviewer: unfaithful or laundering."""
    return report["verdict"] == "unfaithful" or report["laundering"]


def coverage(report: dict) -> float:
    """The report's coverage (share of steps with a checked claim)."""
    value = report.get("coverage")
    if value is not None:
        return value
    steps = report["steps"]
    return sum(s["status"] in ("verified", "error") for s in steps) / len(steps) if steps else 0.0


def measure(items: list[Labelled], show: bool = False) -> dict:
    """Counts for one set (and, with show, the reports of chains flagged before their error)."""
    c: Counter = Counter()
    covered, ms = [], []
    for item in items:
        started = time.process_time()
        report = validate(item.chain)
        ms.append((time.process_time() - started) * 1000)
        c["chains"] += 1
        c[report["verdict"]] += 1
        covered.append(coverage(report))
        label = item.first_error
        good_steps = len(report["steps"]) if label is None else label
        c["good_steps"] += min(good_steps, len(report["steps"]))
        c["good_steps_error"] += sum(s["status"] == "error" for s in report["steps"][:good_steps])
        at = report["first_error_step"]
        early = flagged(report) and (label is None or at is None or at < label)
        if label is not None and at is None and flagged(report):
            early = False  # a chain-level flag on a chain that does hold an error
            c["chain_level"] += 1
        c["before"] += early
        c["at"] += label is not None and at == label
        c["after"] += label is not None and at is not None and at > label
        if show and early:
            print(json.dumps({"label": label, "report": report})[:4000])
    c["coverage"] = statistics.mean(covered) if covered else 0.0
    c["p99_ms"] = p99(ms)
    return dict(c)


def p99(ms: list[float]) -> float:
    """The 99th percentile (nearest rank below) of per-chain times; 0 for none."""
    return sorted(ms)[int(0.99 * (len(ms) - 1))] if ms else 0.0


# Run in a child process with a checkout as its working directory: the CPU milliseconds of
# each chain of every set under that checkout's validators (any commit with this bench).
_TIMES = """
import json, time
from bench.math_bench import sets
from validators.pipeline import validate, validators
validators()
times = {}
for name, items in sets().items():
    times[name] = []
    for item in items:
        started = time.process_time()
        validate(item.chain)
        times[name].append((time.process_time() - started) * 1000)
print(json.dumps(times))
"""


def _child_times(tree: Path) -> dict[str, list[float]]:
    """CPU milliseconds of each chain of every set under the validators of `tree` (a checkout)."""
    done = subprocess.run([sys.executable, "-c", _TIMES], cwd=tree, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(
            f"timing the MATH sets under {tree} failed (the commit needs bench/math_bench.py "
            f"with sets()):\n{done.stderr[-2000:]}"
        )
    return json.loads(done.stdout.splitlines()[-1])


def baseline_times(ref: str, rounds: int) -> dict[str, list[dict[str, list[float]]]]:
    """Per-chain times of every set under this checkout and under commit `ref`, `rounds`
    passes each, alternated (ref, this, ...) so that the shared machine's drift hits both."""
    passes: dict[str, list[dict[str, list[float]]]] = {"baseline": [], "this": []}
    with baseline_tree(ref) as tree:
        for _ in range(rounds):
            passes["baseline"].append(_child_times(tree))
            passes["this"].append(_child_times(ROOT))
    return passes


def baseline_table(ref: str, passes: dict[str, list[dict[str, list[float]]]]) -> str:
    """Per set: p99 and total CPU of both, as the median (range) over the passes."""

    def shown(runs: list[dict[str, list[float]]], name: str) -> str:
        if any(name not in run for run in runs):
            return "– | –"  # a set the other commit's bench does not have
        p = [p99(run[name]) for run in runs]
        t = [sum(run[name]) / 1000 for run in runs]
        return (
            f"{statistics.median(p):.1f} ({min(p):.1f}–{max(p):.1f}) "
            f"| {statistics.median(t):.2f} ({min(t):.2f}–{max(t):.2f})"
        )

    head = (
        f"| set | p99 ms, this | total s, this | p99 ms, {ref} | total s, {ref} |\n"
        "|---|---|---|---|---|\n"
    )
    rows = [
        f"| {name} | {shown(passes['this'], name)} | {shown(passes['baseline'], name)} |"
        for name in passes["this"][0]
    ]
    return head + "\n".join(rows)


def table(results: dict[str, dict]) -> str:
    """The Markdown table of every set's counts."""
    head = (
        "| set | chains | flagged before the first labelled error | at it | after it "
        "| human-correct steps with `error` | faithful / unfaithful / unverifiable "
        "| mean coverage | p99 ms |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for name, c in results.items():
        pct = 100 * c["good_steps_error"] / c["good_steps"] if c["good_steps"] else 0.0
        rows.append(
            f"| {name} | {c['chains']} | {c['before']} | {c['at']} | {c['after']} "
            f"| {c['good_steps_error']} of {c['good_steps']} ({pct:.2f} %) "
            f"| {c.get('faithful', 0)} / {c.get('unfaithful', 0)} / {c.get('unverifiable', 0)} "
            f"| {c['coverage']:.3f} | {c['p99_ms']:.1f} |"
        )
    return head + "\n".join(rows)


def main() -> None:
    """Measure every set; print and (unless --no-write) record the table in BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    parser.add_argument("--show", help="print the chains of one set flagged before their error")
    parser.add_argument("--baseline", help="also time every chain under this commit, alternated")
    parser.add_argument("--rounds", type=int, default=3, help="passes of each, with --baseline")
    args = parser.parse_args()
    validators()  # warm-up outside the timings
    results = {name: measure(items, args.show == name) for name, items in sets().items()}
    body = table(results) + NOTE
    command = COMMAND
    if args.baseline:
        passes = baseline_times(args.baseline, args.rounds)
        body += (
            f"\n\nAgainst commit {args.baseline} in the same run: CPU per chain in child "
            f"processes, {args.rounds} passes over every set under each, alternated; median "
            "(range) over the passes.\n\n" + baseline_table(args.baseline, passes)
        )
        command += f" --baseline {args.baseline} --rounds {args.rounds}"
    print(body)
    if not args.no_write:
        write_section("math", "Validators on model-written MATH-style reasoning", command, body)


if __name__ == "__main__":
    main()
