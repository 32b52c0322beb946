"""The review queue under thousands of cases: GET /v1/cases latency by page and filter.

Seeds N flagged cases (real validator reports; domains, models, adapters and laundering
varied, a quarter reviewed) on SQLite and PostgreSQL, then times what the review page asks for:
the first page, the last page (the deepest offset), and filtered pages, each with its total and
backlog counts, through the real app in-process (TestClient: routing, auth, JSON included).

    .venv/bin/python -m bench.queue_bench [--cases 10000] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from bench.common import write_section
from service.main import create_app
from service.settings import Settings
from validators.pipeline import validate

BAD = {
    "question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many "
    "clips in May. How many clips did Natalia sell altogether in April and May?",
    "reasoning": "Natalia sold 48/2 = 24 clips in May.\nShe sold 48 + 24 = 70 clips altogether.",
}
DOMAINS = ["math", "medical", "finance", "legal"]
MODELS = ["smollm2-135m", "qwen2.5-0.5b", "llama-3.2-1b"]
ADAPTERS = [None, "fg-cycle-1", "fg-cycle-2"]


def seed(store, n: int) -> None:
    """n cases in batches of 200; every 3rd laundered, every 4th reviewed."""
    laundered = validate({**BAD, "answer": "72"})
    wrong = validate({**BAD, "answer": "70"})
    batch: list[dict] = []
    for i in range(n):
        chain = {**BAD, "id": f"c{i}", "domain": DOMAINS[i % len(DOMAINS)]}
        report = laundered if i % 3 == 0 else wrong
        batch.append(
            {
                "chain": chain,
                "report": report,
                "model": MODELS[i % len(MODELS)],
                "adapter": ADAPTERS[i % len(ADAPTERS)],
            }
        )
        if len(batch) == 200 or i == n - 1:
            out = store.record_validations(batch, request_id="seed", key_id=None)
            for j, rec in enumerate(out):
                if (i - len(out) + 1 + j) % 4 == 0:
                    store.review_case(
                        rec["case_id"], {"verdict": "unfaithful"}, key_id=None, request_id=None
                    )
            batch = []


def _time(client: TestClient, headers: dict, params: dict, rounds: int) -> tuple[float, float]:
    """Median and worst milliseconds of `rounds` GET /v1/cases with `params`."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        r = client.get("/v1/cases", params=params, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, r.text
    return statistics.median(times), max(times)


def measure(url: str, data_dir: Path, n: int, rounds: int) -> dict[str, tuple[float, float]]:
    """Latency of each queue query on one back end."""
    app = create_app(Settings(workers=1, data_dir=data_dir, database_url=url))
    with TestClient(app) as client:
        store = app.state.faithgate.store
        seed(store, n)
        _, secret = store.create_key("bench", ["review"])
        headers = {"Authorization": f"Bearer {secret}"}
        total = client.get("/v1/cases", params={"limit": 1}, headers=headers).json()["total"]
        assert total == n, total
        queries = {
            "first page (50), no filter": {},
            "open cases, first page": {"status": "open"},
            f"last page (offset {n - 50:,})": {"offset": n - 50},
            "laundering + medical": {"laundering": "true", "domain": "medical"},
            "model + adapter, open": {
                "model": MODELS[1],
                "adapter": ADAPTERS[1],
                "status": "open",
            },
        }
        return {name: _time(client, headers, q, rounds) for name, q in queries.items()}


def main(argv: list[str] | None = None) -> int:
    """Run on SQLite and PostgreSQL and write the 'queue' section of BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = measure(
            f"sqlite:///{tmp}/faithgate.db", Path(tmp) / "data", args.cases, args.rounds
        )
        from tests.service import pg

        server = pg.start(fsync=True)
        try:
            url = server.create_database("bench")
            results["PostgreSQL"] = measure(url, Path(tmp) / "pgdata", args.cases, args.rounds)
        finally:
            server.stop()
    rows = [
        "| query (each with its total and backlog) | SQLite median / worst ms "
        "| PostgreSQL median / worst ms |",
        "|---|---:|---:|",
    ]
    for name in results["SQLite"]:
        s, p = results["SQLite"][name], results["PostgreSQL"][name]
        rows.append(f"| {name} | {s[0]:.1f} / {s[1]:.1f} | {p[0]:.1f} / {p[1]:.1f} |")
    body = "\n".join(rows) + (
        f"\n\n{args.cases:,} cases (a third laundered, a quarter reviewed; 4 domains, 3 models, "
        f"3 adapters), {args.rounds} requests per query through the app in-process (routing, "
        "auth, JSON; no network). Each page holds the cases' chains and reports, which the "
        "review page renders."
    )
    print(body)
    if not args.no_write:
        command = ".venv/bin/python -m bench.queue_bench" + (
            f" --cases {args.cases}" if args.cases != 10_000 else ""
        )
        write_section("queue", "Review queue under thousands of cases", command, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
