"""HTTP throughput and latency of the real service: `faithgate serve` (uvicorn, SQLite) under load.

    .venv/bin/python -m bench.http_bench [--duration 10] [--scenarios single:8 batch16:4 ...]

Starts the service on a free loopback port with a fresh data dir, then runs bench/loadgen.py in
a separate process against POST /v1/validate (one chain per request) and /v1/validate/batch
(SIZE chains per request), over CONNECTIONS keep-alive connections per scenario, with GSM8K
chains (calculator annotations stripped, as a model writes them). Every chain is validated and
audited (SQLite, synchronous=FULL) exactly as in production. Writes the figures to the "http"
section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.common import DATA, ROOT, write_section

GSM8K = DATA / "gsm8k" / "train.jsonl"


def gsm8k_chains(limit: int) -> list[dict]:
    """The first `limit` GSM8K training problems as chains (reasoning without <<...>> notes)."""
    from validators.text.segment import strip_annotations

    chains = []
    with GSM8K.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= limit:
                break
            row = json.loads(line)
            chains.append(
                {
                    "id": f"gsm8k-{i}",
                    "question": row["question"],
                    "reasoning": strip_annotations(row["answer"]),
                    "domain": "math",
                    "model": "gsm8k-reference",
                }
            )
    return chains


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_key(data_dir: Path) -> str:
    """Create a validate-scope key in the bench's own store (before the server opens it)."""
    from service.settings import Settings
    from service.store import Store

    settings = Settings(data_dir=data_dir)
    store = Store(settings.resolved_database_url, data_dir)
    store.migrate()
    _, secret = store.create_key("http-bench", ["validate"])
    store.close()
    return secret


def count_records(data_dir: Path) -> int:
    """Audit records the run left behind (every answered chain must have one)."""
    from service.settings import Settings
    from service.store import Store

    store = Store(Settings(data_dir=data_dir).resolved_database_url, data_dir)
    try:
        return store.count_records()
    finally:
        store.close()


def start_server(data_dir: Path, port: int, workers: int | None) -> subprocess.Popen:
    """`faithgate serve` on 127.0.0.1:port; returns once /readyz answers 200."""
    env = dict(os.environ, FAITHGATE_DATA_DIR=str(data_dir), FAITHGATE_LOG_LEVEL="warning")
    if workers:
        env["FAITHGATE_WORKERS"] = str(workers)
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not become ready in 120 s")


def run_loadgen(
    url: str, key: str, bodies: Path, per_request: int, conns: int, args: argparse.Namespace
) -> dict:
    """One loadgen process against `url`; its JSON figures."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            "--url",
            url,
            "--key",
            key,
            "--bodies",
            str(bodies),
            "--chains-per-request",
            str(per_request),
            "--connections",
            str(conns),
            "--duration",
            str(args.duration),
            "--max-requests",
            str(args.max_requests),
            "--warmup",
            str(args.warmup),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=args.duration * 3 + 120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of the server and of each of its child processes (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")

    def of(p: int) -> float:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    out = {"web": of(pid), "workers": 0.0}
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        try:
            out["workers"] += of(int(child))
        except (OSError, ValueError):
            continue  # a worker replaced meanwhile
    return out


def write_bodies(path: Path, chains: list[dict], batch_size: int) -> None:
    """One JSON body per line: single chains (batch_size 0) or {"chains": [...]} batches."""
    with path.open("w", encoding="utf-8") as fh:
        if batch_size == 0:
            for c in chains:
                fh.write(json.dumps(c) + "\n")
        else:
            for i in range(0, len(chains) - batch_size + 1, batch_size):
                fh.write(json.dumps({"chains": chains[i : i + batch_size]}) + "\n")


def parse_scenario(text: str) -> tuple[int, int]:
    """ "single:8" -> (0, 8); "batch16:4" -> (16, 4): chains per batch (0: single), connections."""
    kind, _, conns = text.partition(":")
    size = 0 if kind == "single" else int(kind.removeprefix("batch"))
    return size, int(conns or 8)


def main(argv: list[str] | None = None) -> int:
    """Run every scenario against one server and write the BENCHMARKS.md section."""
    p = argparse.ArgumentParser(description="HTTP benchmark of faithgate serve")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    p.add_argument(
        "--scenarios",
        nargs="+",
        default=[
            "single:8",
            "single:16",
            "batch8:2",
            "batch8:4",
            "batch16:2",
            "batch16:4",
            "batch64:4",
        ],
        help="single:CONNECTIONS or batchSIZE:CONNECTIONS",
    )
    p.add_argument("--chains", type=int, default=2000, help="distinct GSM8K chains to cycle")
    p.add_argument("--max-requests", type=int, default=200_000)
    p.add_argument("--workers", type=int, default=None, help="validation workers (default: cores)")
    p.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    args = p.parse_args(argv)

    chains = gsm8k_chains(args.chains)
    results = []
    with tempfile.TemporaryDirectory(prefix="faithgate-bench-") as tmp:
        tmp_path = Path(tmp)
        data_dir = tmp_path / "data"
        key = make_key(data_dir)
        port = free_port()
        server = start_server(data_dir, port, args.workers)
        try:
            base = f"http://127.0.0.1:{port}"
            for scenario in args.scenarios:
                size, conns = parse_scenario(scenario)
                bodies = tmp_path / f"bodies-{size}.jsonl"
                write_bodies(bodies, chains, size)
                path = "/v1/validate/batch" if size else "/v1/validate"
                before = cpu_seconds(server.pid)
                result = run_loadgen(f"{base}{path}", key, bodies, max(size, 1), conns, args)
                after = cpu_seconds(server.pid)
                result["endpoint"] = path
                # CPU per chain of the web process and of the workers, warm-up included.
                counted = (result["requests"] + result["warmup_requests"]) * max(size, 1)
                for part in ("web", "workers"):
                    spent = after[part] - before[part]
                    result[f"{part}_us_per_chain"] = round(spent / max(counted, 1) * 1e6)
                print(json.dumps(result), flush=True)
                results.append(result)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        records = count_records(data_dir)
    print(f"audit records written: {records}")
    body = _table(results, args, records)
    print(body)
    if not args.no_write:
        command = ".venv/bin/python -m bench.http_bench " + " ".join(argv or sys.argv[1:])
        write_section("http", "HTTP service (faithgate serve)", command.strip(), body)
    return 0


def _table(results: list[dict], args: argparse.Namespace, records: int) -> str:
    rows = [
        "| endpoint | chains/request | connections | chains/s | p50 ms | p99 ms | errors "
        "| web CPU µs/chain | workers CPU µs/chain |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows.append(
            f"| `{r['endpoint']}` | {r['chains_per_request']} | {r['connections']} | "
            f"{r['chains_per_s']:,.0f} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} | "
            f"{r['web_us_per_chain']} | {r['workers_us_per_chain']} |"
        )
    notes = (
        f"\n\nClosed-loop keep-alive connections from bench/loadgen.py in its own process, "
        f"{args.duration:g} s per row after {args.warmup:g} s of warm-up, {args.chains} distinct "
        "GSM8K chains (annotations stripped). Latency is per request: a batch's chains all have "
        "their batch's latency. Every chain was validated by the worker pool and audited "
        f"(SQLite WAL, synchronous=FULL) before its answer: {records:,} audit records written. "
        "Loopback only; load generator, server and validation workers share the machine's cores. "
        "CPU columns: the web process (HTTP, auth, parsing, audit writes, metrics) and the "
        "validation workers, per chain, estimated over the scenario including its warm-up."
    )
    return "\n".join(rows) + notes


if __name__ == "__main__":
    sys.exit(main())
