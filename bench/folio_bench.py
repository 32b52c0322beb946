"""Logic benchmark over FOLIO train: parsing of premise FOL, premise-set consistency, entailment.

Run: .venv/bin/python -m bench.folio_bench [--limit N] [--timeout SECONDS] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter

import z3

from bench.common import DATA, write_section
from validators.logic import fol
from validators.logic.entail import Prover

COMMAND = ".venv/bin/python -m bench.folio_bench"


def load(limit: int | None = None) -> list[dict]:
    """FOLIO v0.0 train items (each: premises-FOL, label, ...)."""
    items = []
    with (DATA / "folio" / "folio-v0.0-train.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if limit is not None and len(items) >= limit:
                break
            items.append(json.loads(line))
    return items


def run_item(item: dict, timeout_ms: int) -> dict:
    """Parse an item's premises, then ask z3 about the set and about each premise."""
    started, cpu = time.perf_counter(), time.process_time()
    out: Counter = Counter()
    premises = []
    for text in item["premises-FOL"]:
        out["formulas"] += 1
        try:
            parsed = fol.parse(text)
        except fol.FolError:
            continue
        out["formulas_parsed"] += 1
        out["formulas_repaired"] += parsed.repaired is not None
        premises.append(parsed.formula)
    if len(premises) == len(item["premises-FOL"]):
        out["items_parsed"] += 1
        prover = Prover(premises, timeout_ms=timeout_ms)
        consistency = prover.consistency()
        out[f"sets_{consistency}"] += 1
        if consistency == z3.sat:
            for premise in premises:
                out["premises"] += 1
                # Asked as P ∧ P, so that z3 decides it rather than the premise look-up.
                if prover.check(fol.Nary("and", (premise, premise))).result == "entailed":
                    out["premises_entailed"] += 1
                if prover.check(fol.Not(premise)).result == "contradicted":
                    out["negations_contradicted"] += 1
    out["seconds"] = time.perf_counter() - started
    out["cpu_seconds"] = time.process_time() - cpu
    return out


def share(part: int, whole: int) -> str:
    """`part/whole (xx.x %)`."""
    return f"{part}/{whole} ({100 * part / whole:.1f} %)" if whole else f"{part}/0"


def report(totals: Counter, items: int, seconds: list[float], timeout_s: float) -> str:
    """The markdown body of the BENCHMARKS.md section."""
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    mean, median = statistics.mean(ms), statistics.median(ms)
    parsed, premises = totals["items_parsed"], totals["premises"]
    cpu = 1000 * totals["cpu_seconds"] / items
    rows = [
        ("items whose premise formulas all parse", share(parsed, items)),
        ("premise formulas that parse", share(totals["formulas_parsed"], totals["formulas"])),
        ("of those, read through a one-parenthesis repair", totals["formulas_repaired"]),
        ("parsed premise sets found consistent (sat)", share(totals["sets_sat"], parsed)),
        ("parsed premise sets found inconsistent (unsat)", totals["sets_unsat"]),
        ("parsed premise sets undecided (z3 unknown)", totals["sets_unknown"]),
        ("premises entailed by their consistent set", share(totals["premises_entailed"], premises)),
        (
            "premise negations contradicted by their set",
            share(totals["negations_contradicted"], premises),
        ),
        (
            "time per item: mean / median / p95 / max",
            " / ".join(f"{v:.1f}" for v in (mean, median, p95, ms[-1])) + " ms",
        ),
        ("CPU time per item (mean; wall time above varies with load)", f"{cpu:.1f} ms"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return f"""
FOLIO v0.0 train: {items} items; premises-FOL parsed by `validators.logic.fol`;
z3 {z3.get_version_string()}, {timeout_s:g} s z3 timeout per question.

| measure | value |
|---|---|
{table}

Unparsed formulas are refused, not guessed: the empty premise, `^` (FOLIO uses it for ∧),
a missing connective, unbalanced parentheses that balance two different ways, and an unbound
variable (`∃x ∃x (… Harmful(y))`, which z3 would read as a constant y). The
inconsistent sets are real annotation errors: `∀x ∀y (Larger(x, y) ↔ ¬Larger(y, x))` fails at
x = y, and the prerequisite story says a course without prerequisites can and cannot be taken.
Each premise is asked as `P ∧ P`, so that z3 proves it rather than the prover's look-up of
premises. FOLIO v0.0 has no conclusion FOL (the `conclusion-FOL` field is missing), so the
held-out True/False/Uncertain evaluation cannot be run on this data.
"""


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the section, and write it to BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="only the first N items")
    parser.add_argument("--timeout", type=float, default=5.0, help="z3 seconds per question")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    items = load(args.limit)
    totals: Counter = Counter()
    seconds = []
    for item in items:
        result = run_item(item, int(args.timeout * 1000))
        seconds.append(result.pop("seconds"))
        totals["cpu_seconds"] += result.pop("cpu_seconds")
        totals.update(result)
    body = report(totals, len(items), seconds, args.timeout)
    print(body)
    if not args.no_write:
        write_section("folio", "Logic: FOLIO train", COMMAND, body)


if __name__ == "__main__":
    main()
