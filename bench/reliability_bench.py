"""Reliability figures: the fault tests run for real, their figures collected into BENCHMARKS.md.

It runs the suite's own reliability tests (kill -9 under load on SQLite and PostgreSQL, a stalled
and a stopped PostgreSQL, bundle tampering, the route x scope matrix, the schemathesis run, the
validators fuzz with the long profile unless --fuzz ci) with FAITHGATE_BENCH_FIGURES set, and
writes what they measured: acknowledged vs found, tamperings detected, matrix size, 5xx counts,
fuzz examples and duration.

    python -m bench.reliability_bench [--fuzz ci|long] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, write_section

TESTS = [
    "tests/e2e/test_e2e_crash.py",
    "tests/e2e/test_e2e_db_faults.py",
    "tests/service/test_tamper.py",
    "tests/service/test_access.py",
    "tests/service/test_schemathesis.py",
    "tests/validators/test_fuzz.py",
]
COMMAND = "python -m bench.reliability_bench"


def run(fuzz: str) -> tuple[list[dict], int, float]:
    """Run the tests; (their figures, pytest's exit status, seconds)."""
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as figures:
        env = {**os.environ, "FAITHGATE_BENCH_FIGURES": figures.name, "FAITHGATE_FUZZ": fuzz}
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
            cwd=ROOT,
            env=env,
        )
        took = time.monotonic() - started
        rows = [json.loads(line) for line in Path(figures.name).read_text().splitlines() if line]
    return rows, done.returncode, took


def table(rows: list[dict], status: int, took: float) -> str:
    """The BENCHMARKS.md section body."""
    by = {}
    for row in rows:
        by.setdefault(row["test"], []).append(row)
    lines = [
        f"pytest exit status {status} ({'all passed' if status == 0 else 'FAILURES'}), "
        f"{took:.0f} s in all.",
        "",
        "| scenario | figures |",
        "|---|---|",
    ]
    for name in ("kill9-sqlite", "kill9-postgresql"):
        for r in by.get(name, []):
            lines.append(
                f"| kill -9 of `faithgate serve` mid-burst ({name[6:]}) | "
                f"{r['found']} of {r['acknowledged']} acknowledged answers in the trail; "
                "chain verifies |"
            )
    for name in ("audit-kill9-sqlite", "audit-kill9-postgresql"):
        for r in by.get(name, []):
            lines.append(
                f"| kill -9 of the audit writer process mid-burst ({name[12:]}) | "
                f"{r['found']} of {r['acknowledged']} acknowledged answers in the trail; "
                f"{r['refused']} refused (503) while it was replaced; chain verifies |"
            )
    for name, what in (("pg-stalled", "SIGSTOP"), ("pg-stopped", "stopped")):
        for r in by.get(name, []):
            lines.append(
                f"| PostgreSQL {what}, {r['requests']} keyed requests at once | all 503 + "
                f"Retry-After, slowest {r['slowest_503_s']} s; /healthz at most "
                f"{r['healthz_max_s']} s; recovered unaided in {r['recovered_s']} s |"
            )
    for r in by.get("tamper", []):
        lines.append(f"| bundle tampering | {r['detected']} of {r['kinds']} kinds detected |")
    matrix = by.get("matrix", [])
    if matrix:
        calls = sum(r["calls"] for r in matrix)
        lines.append(
            f"| route × scope matrix (from the app's routes; SQLite and PostgreSQL) | {calls} "
            f"requests, {max(r['e5xx'] for r in matrix)} 5xx other than 503 |"
        )
    for r in by.get("schemathesis", []):
        lines.append(
            f"| schemathesis over /openapi.json, all-scope key | {r['calls']} calls over "
            f"{r['operations']} operations; {r['e500']} × 500, {r['e503']} × 503 (documented) |"
        )
    for r in by.get("fuzz", []):
        lines.append(
            f"| hypothesis fuzz of `validators.validate` ({r['profile']} profile) | "
            f"{r['examples']} chains and JSON values, none raised; slowest {r['slowest_s']} s; "
            f"{r['duration_s']} s |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run and report; exit status is pytest's."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz", choices=["ci", "long"], default="long")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    args = parser.parse_args(argv)
    rows, status, took = run(args.fuzz)
    body = table(rows, status, took)
    print(body)
    if not args.no_write:
        command = COMMAND + ("" if args.fuzz == "long" else " --fuzz ci")
        write_section("reliability", "Reliability under faults and edge input", command, body)
    return status


if __name__ == "__main__":
    sys.exit(main())
