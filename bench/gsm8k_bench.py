"""Accuracy and speed of the validators on GSM8K train and its corruptions.

Run: .venv/bin/python -m bench.gsm8k_bench [--limit N] [--no-write] [--show KIND]
     [--baseline REV [--rounds N]]

--baseline measures the speed of another commit in the same run: its own worktree and
compiled build, its chains/s and this checkout's taken in child processes, alternated.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.common import DATA, baseline_tree, write_section
from bench.corrupt import Case, cases, load_gsm8k, split_solution
from validators import native
from validators.pipeline import validate_chain, validators
from validators.types import Chain

ROOT = Path(__file__).resolve().parent.parent


class Timed:
    """Wraps a validator to add up the time its checks take."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.seconds = 0.0

    def check(self, analysis) -> None:
        t = time.process_time()
        try:
            self.inner.check(analysis)
        finally:
            self.seconds += time.process_time() - t


def _flagged(report: dict) -> bool:
    return report["verdict"] == "unfaithful" or report["laundering"]


def evaluate(all_cases: list[Case], show: str | None) -> dict:
    """Run every case; count what each kind is expected to show."""
    stats: dict[str, Counter] = defaultdict(Counter)
    for case in all_cases:
        report = validate_chain(Chain.from_dict(case.chain))
        s = stats[case.kind]
        s["n"] += 1
        s["flagged"] += _flagged(report)
        s["laundering"] += report["laundering"]
        s["faithful"] += report["verdict"] == "faithful"
        s["exact_step"] += (
            case.error_step is not None and report["first_error_step"] == case.error_step
        )
        miss = (case.kind == "reference") == _flagged(report) or (
            case.kind == "result_altered" and report["first_error_step"] != case.error_step
        )
        if show == case.kind and miss:
            print(
                json.dumps(
                    {"chain": case.chain, "expected_step": case.error_step, "report": report}
                )[:3000]
            )
    return stats


def speed(chains: list[Chain], seconds: float = 8.0) -> tuple[float, dict[str, float]]:
    """Chains per CPU-second in this process (one core) and each validator's share of the time.

    CPU time, not wall time: the machine is shared, and a busy neighbour should not count.
    """
    timed = [Timed(v) for v in validators()]
    done, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for chain in chains:
            validate_chain(chain, run=timed)
        done += len(chains)
    total = time.process_time() - start
    spent = sum(t.seconds for t in timed)
    shares = {t.name: t.seconds / total for t in timed}
    shares["segment+report"] = max(0.0, (total - spent) / total)
    return done / total, shares


def _owner(path: str, name: str) -> str:
    """Who a profiled function belongs to: a validators module, a library, or the regex engine."""
    if "re.Pattern" in name or "re.Match" in name:
        return "regular expressions (C)"
    if path == "~":
        return "other built-ins (C)"
    if "validators/" in path:
        return path[path.index("validators/") :]
    if "site-packages/" in path:
        return path[path.index("site-packages/") :].split("/")[1]  # the package
    return path.rsplit("/", 1)[-1].removesuffix(".py")  # the standard library module


def profile_top(chains: list[Chain], n: int = 12) -> list[tuple[str, float]]:
    """Own time over one pass under cProfile, added up by module, as shares of the total.

    cProfile adds a fixed cost to every call, so modules of many small Python functions
    look bigger than they are: the shares show where to look, the speed figure what it costs.
    """
    run = validators()
    profiler = cProfile.Profile()
    profiler.enable()
    for chain in chains:
        validate_chain(chain, run=run)
    profiler.disable()
    owned: Counter = Counter()
    for (path, _, name), row in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        owned[_owner(path, name)] += row[2]
    total = sum(owned.values())
    return [(owner, t / total) for owner, t in owned.most_common(n)]


def math_verify_speed(
    golds: list[str], texts: list[str], seconds: float = 8.0
) -> tuple[float, float] | None:
    """Chains per CPU-second of HF math-verify, `verify(parse(gold), parse(answer))`, on the
    final answers and on the whole chain texts; None when math-verify is not installed.

    math-verify only compares a final answer with the reference, so this is the floor any
    answer checker pays. Its timeouts are off (`parsing_timeout=None`, `timeout_seconds=None`):
    they arm a wall-clock SIGALRM around each call (two system calls and a handler swap each
    time, and a neighbour's load could fire them), which is not the checking being timed.
    """
    try:
        import logging

        from math_verify import parse, verify
    except ImportError:
        return None
    logging.getLogger("math_verify").setLevel(logging.ERROR)  # "timeout is disabled" warnings
    # the answer: what follows the chain's last `####` (as our segmenter finds it)
    pairs = [(g, t.rpartition("####")[2].strip(), t) for g, t in zip(golds, texts, strict=True)]
    rates = []
    for whole in (False, True):
        done, start = 0, time.process_time()
        while time.process_time() - start < seconds / 2:
            for gold, answer, text in pairs:
                verify(
                    parse(gold, parsing_timeout=None),
                    parse(text if whole else answer, parsing_timeout=None),
                    timeout_seconds=None,
                )
            done += len(pairs)
        rates.append(done / (time.process_time() - start))
    return rates[0], rates[1]


# Issue 16's speed work started from this profile (commit 7dc7b1d, same measure as the
# table the bench writes above it, one run on the shared 2-core machine): kept as history.
PROFILE_BEFORE = (
    "Before issue 16's second speed pass (commit 7dc7b1d, same measure): sympy 18.9 %, "
    "validators/extract.py 15.1 %, validators/arithtokens.py 14.5 %, regular expressions "
    "13.2 %, other built-ins 10.5 %, fractions 4.1 %, validators/grounding.py 3.5 %, "
    "validators/exact.py 2.8 %. Most of sympy's share went to Groebner bases and polynomials "
    "for linear systems, which exact elimination (validators/linear.py) now decides. Speed "
    "then, on this machine (2 shared cores), alternated with this pass's code in one session "
    "(three runs each, 8 CPU-seconds): 2,406 chains/s before, 3,024 after (1.26×); every "
    "report stayed byte-identical apart from elapsed_ms."
)


def reference_chains(limit: int | None, n: int = 2000) -> list[Chain]:
    """The first n reference chains: what the speed figures are measured on."""
    items = load_gsm8k(DATA / "gsm8k" / "train.jsonl", limit)
    return [Chain.from_dict(c.chain) for c in cases(items) if c.kind == "reference"][:n]


def source_speed(limit: int | None, seconds: float) -> dict:
    """Speed and profile of the same validators run from source (FAITHGATE_NATIVE=0), measured
    in a child process of this run; cProfile sees only Python functions, so the profile of
    where the time goes is taken there."""
    return _child_speed(ROOT, limit, seconds, native=False)


def _child_speed(tree: Path, limit: int | None, seconds: float, native: bool = True) -> dict:
    """{state, rate, top} of the validators of `tree` (a checkout), measured in a child process."""
    cmd = [sys.executable, "-m", "bench.gsm8k_bench", "--speed-json", "--speed-seconds"]
    cmd += [str(seconds)] + (["--limit", str(limit)] if limit else [])
    env = dict(os.environ, FAITHGATE_NATIVE="1" if native else "0")
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(
            f"speed of {tree} failed (--speed-json needs commit 2272faa or later):\n"
            f"{done.stderr[-2000:]}"
        )
    return json.loads(done.stdout.splitlines()[-1])


def baseline_speeds(
    ref: str, limit: int | None, seconds: float, rounds: int, build: bool = True
) -> dict:
    """Chains/s of this checkout and of commit `ref`, each measured `rounds` times in child
    processes, alternated (ref, this, ref, this...) so that a drift in the shared machine's
    speed falls on both alike; `ref` gets a worktree and (with `build`) a compiled build."""
    with baseline_tree(ref, build) as tree:
        runs: dict[str, list[dict]] = {"baseline": [], "this": []}
        for _ in range(rounds):
            runs["baseline"].append(_child_speed(tree, limit, seconds))
            runs["this"].append(_child_speed(ROOT, limit, seconds))
    return {
        name: {"rates": [r["rate"] for r in done], "state": done[-1]["state"]}
        for name, done in runs.items()
    }


def _baseline_text(ref: str, rounds: int, seconds: float, measured: dict) -> str:
    this, base = measured["this"], measured["baseline"]
    ratio = statistics.median(this["rates"]) / statistics.median(base["rates"])
    overlap = min(this["rates"]) <= max(base["rates"]) and min(base["rates"]) <= max(this["rates"])

    def shown(m: dict) -> str:
        rates = m["rates"]
        return (
            f"{statistics.median(rates):,.0f} chains/s (median; {min(rates):,.0f}–"
            f"{max(rates):,.0f}; validators {m['state']})"
        )

    return (
        f"Against commit {ref} in the same run ({rounds} rounds of {seconds:g} CPU-seconds, "
        f"each in a child process, alternated with this checkout's): this checkout "
        f"{shown(this)}, {ref} {shown(base)}; ratio of medians {ratio:.2f}×"
        + (
            " (the ranges overlap: within the noise)."
            if overlap
            else " (the ranges do not overlap)."
        )
        + "\n\n"
    )


def _speed_json(limit: int | None, seconds: float) -> None:
    refs = reference_chains(limit)
    rate, _ = speed(refs, seconds)
    print(json.dumps({"state": native.state, "rate": rate, "top": profile_top(refs)}))


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.2f} % ({a}/{b})" if b else "n/a"


def main() -> None:
    """Measure and (unless --no-write) record the figures in BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="first N problems only")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    parser.add_argument("--show", help="print the misses of one kind (e.g. reference)")
    parser.add_argument("--speed-seconds", type=float, default=8.0)
    parser.add_argument("--speed-json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", help="also measure the speed of this commit, alternated")
    parser.add_argument(
        "--rounds", type=int, default=3, help="speed rounds of each, with --baseline"
    )
    args = parser.parse_args()
    if args.speed_json:  # the child of source_speed()
        _speed_json(args.limit, args.speed_seconds)
        return
    items = load_gsm8k(DATA / "gsm8k" / "train.jsonl", args.limit)
    all_cases = list(cases(items))
    t0 = time.process_time()
    stats = evaluate(all_cases, args.show)
    accuracy_s = time.process_time() - t0
    ref, res = stats["reference"], stats["result_altered"]
    ans, foreign = stats["answer_altered"], stats["foreign_reasoning"]
    refs = reference_chains(args.limit)
    rate, shares = speed(refs, args.speed_seconds)
    source = source_speed(args.limit, args.speed_seconds)
    golds = [split_solution(item["answer"])[1] for item in items][: len(refs)]
    texts = [c.chain["reasoning"] for c in all_cases if c.kind == "reference"][: len(refs)]
    mv = math_verify_speed(golds, texts, args.speed_seconds)
    against = (
        _baseline_text(
            args.baseline,
            args.rounds,
            args.speed_seconds,
            baseline_speeds(args.baseline, args.limit, args.speed_seconds, args.rounds),
        )
        if args.baseline
        else ""
    )
    rows = [
        (
            "reference: flagged unfaithful or laundering (goal ≤ 0.5 %)",
            _pct(ref["flagged"], ref["n"]),
        ),
        ("reference: judged faithful (goal ≥ 97 %)", _pct(ref["faithful"], ref["n"])),
        (
            "one stated result altered: flagged unfaithful (goal ≥ 99.5 %)",
            _pct(res["flagged"], res["n"]),
        ),
        (
            "one stated result altered: exact first_error_step (goal ≥ 99 %)",
            _pct(res["exact_step"], res["n"]),
        ),
        ("final answer altered: laundering (goal ≥ 99 %)", _pct(ans["laundering"], ans["n"])),
        (
            "another problem's reasoning, right answer: laundering (goal ≥ 99 %)",
            _pct(foreign["laundering"], foreign["n"]),
        ),
    ]
    body = "| measure | result |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    body += (
        f"\n\n{len(items)} GSM8K train problems, {len(all_cases)} chains, corruption seed 0 "
        f"(bench/corrupt.py); accuracy pass took {accuracy_s:.1f} s.\n\n"
        f"Speed, in-process on one core (CPU time) over {len(refs)} reference chains, with "
        f"the validators {_compiled(native.state)}: **{rate:,.0f} chains/s** "
        f"({1e6 / rate:.0f} µs per chain). The same validators from source "
        f"(`FAITHGATE_NATIVE=0`, a child process of the same run, measured right after): "
        f"{source['rate']:,.0f} chains/s; compiled / source = {rate / source['rate']:.2f}×.\n\n"
        + against
        + (
            "HF math-verify 0.9.0 in the same run, `verify(parse(gold), parse(answer))` per "
            f"chain (it only compares the final answer with the reference): **{mv[0]:,.0f} "
            f"chains/s** on the final answers, {mv[1]:,.0f} chains/s when it parses the whole "
            "chain text to find the answer.\n\n"
            if mv
            else "HF math-verify is not installed (`pip install -e .[dev]`): no comparison.\n\n"
        )
        + "| stage | share of time |\n|---|---|\n"
        + "\n".join(
            f"| {k} | {100 * v:.1f} % |" for k, v in sorted(shares.items(), key=lambda kv: -kv[1])
        )
        + "\n\nWhere the time goes, in the source run (cProfile does not see compiled "
        "functions): each function's own time over one pass of the same chains under cProfile "
        "(which inflates many small Python calls), added up by module.\n\n"
        "| module | share of own time |\n|---|---|\n"
        + "\n".join(f"| `{where}` | {100 * share:.1f} % |" for where, share in source["top"])
        + "\n\n"
        + PROFILE_BEFORE
    )
    print(body)
    if not args.no_write:
        cmd = (
            "make bench"
            if os.environ.get("FAITHGATE_BENCH_VIA_MAKE")
            else "python -m bench.gsm8k_bench"
            + (f" --baseline {args.baseline} --rounds {args.rounds}" if args.baseline else "")
        )
        write_section("gsm8k", "Validators: GSM8K train and corruptions", cmd, body)


def _compiled(state: str) -> str:
    return {
        "native": "compiled by mypyc (`make native`, validators/native.py)",
        "off": "run from source (FAITHGATE_NATIVE=0)",
    }.get(state, f"run from source (no current build: {state}; `make native`)")


if __name__ == "__main__":
    main()
