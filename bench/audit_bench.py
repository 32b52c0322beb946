"""Audit store throughput on SQLite (WAL, synchronous=FULL) and PostgreSQL (fsync on).

Measures single-record appends (one transaction each), record_validations batches (one
transaction per batch), group commit of several requests, verify_chain and export. Each record
carries a real validator report, so the payload size is what the service writes.

    .venv/bin/python bench/audit_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import write_section  # noqa: E402
from service.store import Store  # noqa: E402

CHAIN = {
    "question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many "
    "clips in May. How many clips did Natalia sell altogether in April and May?",
    "reasoning": "Natalia sold 48/2 = 24 clips in May.\nShe sold 48 + 24 = 70 clips altogether.",
    "answer": "72",
    "domain": "math",
}


def _report() -> dict:
    from validators.pipeline import validate

    return validate(CHAIN)


def _rate(n: int, fn) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def measure(url: str, data_dir: Path, report: dict, quick: bool) -> dict[str, float]:
    """Records/s of each operation on one back end."""
    store = Store(url, data_dir)
    singles = 200 if quick else 1000
    batches, batch = (10, 64) if quick else (50, 64)
    groups, group_size, per_group = (5, 16, 4) if quick else (25, 16, 4)
    item = {"chain": CHAIN, "report": report, "model": "smollm2-135m", "adapter": None}
    out = {}
    out["append (1 record per transaction)"] = _rate(
        singles,
        lambda: [store.append("validation", data=report, input=CHAIN) for _ in range(singles)],
    )
    out[f"record_validations, batches of {batch}"] = _rate(
        batches * batch,
        lambda: [
            store.record_validations([item] * batch, request_id="b", key_id="k")
            for _ in range(batches)
        ],
    )
    group = [
        {"items": [item] * per_group, "request_id": "g", "key_id": "k", "redact": False}
    ] * group_size
    out[f"record_validation_groups, {group_size} requests x {per_group}"] = _rate(
        groups * group_size * per_group,
        lambda: [store.record_validation_groups(group) for _ in range(groups)],
    )
    total = store.count_records()
    out["verify_chain"] = _rate(total, store.verify_chain)
    out["export_bundle"] = _rate(total, lambda: store.export_bundle(io.BytesIO()))
    out["_records"] = total
    store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    """Run on SQLite and PostgreSQL and write the 'audit' section of BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer records (smoke run)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md")
    args = parser.parse_args(argv)
    report = _report()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = measure(
            f"sqlite:///{tmp}/faithgate.db", Path(tmp) / "data", report, args.quick
        )
        from tests.service import pg

        server = pg.start(fsync=True)
        try:
            server.create_database("bench")
            results["PostgreSQL"] = measure(
                server.url("bench"), Path(tmp) / "data", report, args.quick
            )
        finally:
            server.stop()
    ops = [k for k in results["SQLite"] if not k.startswith("_")]
    rows = ["| operation | SQLite records/s | PostgreSQL records/s |", "|---|---:|---:|"]
    rows += [
        f"| {op} | {results['SQLite'][op]:,.0f} | {results['PostgreSQL'][op]:,.0f} |" for op in ops
    ]
    payload = len(str(report))
    body = "\n".join(rows) + (
        f"\n\nEach record holds a real validator report (~{payload:,} characters) and its chain. "
        "SQLite runs WAL with synchronous=FULL (one fsync per commit); PostgreSQL is a local "
        "server started by tests/service/pg.py with fsync on. A batch or a group is one "
        "transaction."
    )
    print(body)
    if not args.no_write:
        command = ".venv/bin/python bench/audit_bench.py" + (" --quick" if args.quick else "")
        write_section("audit", "Audit store throughput", command, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
