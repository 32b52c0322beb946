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
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench import pyspy
from bench.common import DATA, ROOT, checkout, git_rev, write_section

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


def make_key(tree: Path, data_dir: Path) -> str:
    """Create a validate-scope key with the CLI of `tree` (before its server opens the store)."""
    out = subprocess.run(
        [sys.executable, "-m", "service", "keys", "create", "--name", "http-bench"]
        + ["--scopes", "validate"],
        cwd=tree,
        env=_env(tree, data_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def count_records(data_dir: Path) -> int:
    """Audit records the run left behind (every answered chain must have one)."""
    from service.settings import Settings
    from service.store import Store

    store = Store(Settings(data_dir=data_dir).resolved_database_url, data_dir)
    try:
        return store.count_records()
    finally:
        store.close()


def _env(tree: Path, data_dir: Path, workers: int | None = None) -> dict[str, str]:
    """The server's environment: its own data dir, and `tree`'s code before the installed one."""
    env = dict(os.environ, FAITHGATE_DATA_DIR=str(data_dir), FAITHGATE_LOG_LEVEL="warning")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    if workers:
        env["FAITHGATE_WORKERS"] = str(workers)
    return env


def start_server(tree: Path, data_dir: Path, port: int, workers: int | None) -> subprocess.Popen:
    """`faithgate serve` from the code in `tree` on 127.0.0.1:port, once /readyz answers 200."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tree,
        env=_env(tree, data_dir, workers),
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
    """CPU seconds (user + system) of the server, its validation workers and its audit writer
    process (Linux; the children are told apart by their command line)."""
    tick = os.sysconf("SC_CLK_TCK")

    def of(p: int) -> float:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    out = {"web": of(pid), "workers": 0.0, "audit": 0.0}
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            part = "audit" if b"service.audit_process" in command else "workers"
            out[part] += of(int(child))
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


@dataclass
class Target:
    """One server under test: `name`'s code (a checkout) on its own port and data dir."""

    name: str
    tree: Path
    data_dir: Path
    port: int = 0
    key: str = ""
    server: subprocess.Popen | None = None
    profile: str = ""  # py-spy's collapsed stacks of its web process (--profile)

    def start(self, workers: int | None) -> None:
        """Its key, then its server."""
        self.key = make_key(self.tree, self.data_dir)
        self.port = free_port()
        self.server = start_server(self.tree, self.data_dir, self.port, workers)

    def stop(self) -> None:
        """SIGTERM, then kill past 30 s."""
        if self.server is None:
            return
        self.server.send_signal(signal.SIGTERM)
        try:
            self.server.wait(30)
        except subprocess.TimeoutExpired:
            self.server.kill()


def audit_groups(port: int) -> tuple[float, float] | None:
    """(records, transactions) the server's group-commit histogram has counted so far."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    found = {}
    for line in text.splitlines():
        for suffix in ("_sum", "_count"):
            if line.startswith(f"faithgate_audit_group_records{suffix} "):
                found[suffix] = float(line.split()[-1])
    return (found["_sum"], found["_count"]) if len(found) == 2 else None  # older servers: none


def measure(target: Target, scenario: str, tmp: Path, chains: list[dict], args) -> dict:
    """One loadgen run of `scenario` against `target`: its figures, CPU per chain included."""
    size, conns = parse_scenario(scenario)
    bodies = tmp / f"bodies-{size}.jsonl"
    if not bodies.exists():
        write_bodies(bodies, chains, size)
    path = "/v1/validate/batch" if size else "/v1/validate"
    assert target.server is not None
    spy = None
    if scenario == args.profile and not target.profile:
        spy_out = tmp / f"profile-{target.name}.txt"
        spy = pyspy.start(target.server.pid, args.duration + args.warmup, spy_out)
    groups_before = audit_groups(target.port)
    before = cpu_seconds(target.server.pid)
    url = f"http://127.0.0.1:{target.port}{path}"
    result = run_loadgen(url, target.key, bodies, max(size, 1), conns, args)
    after = cpu_seconds(target.server.pid)
    groups_after = audit_groups(target.port)
    result["records_per_tx"] = None
    if groups_before and groups_after and groups_after[1] > groups_before[1]:
        records, txs = (a - b for a, b in zip(groups_after, groups_before, strict=True))
        result["records_per_tx"] = round(records / txs, 1)
    if spy is not None:
        spy.wait(60)
        target.profile = spy_out.read_text() if spy_out.exists() else ""
        if args.profile_out and spy_out.exists():
            args.profile_out.mkdir(parents=True, exist_ok=True)
            shutil.copy(spy_out, args.profile_out / f"{target.name.split()[0]}.txt")
    result.update(endpoint=path, target=target.name, scenario=scenario)
    # CPU per chain of the web process, the workers and the audit process, warm-up included.
    counted = (result["requests"] + result["warmup_requests"]) * max(size, 1)
    for part in ("web", "workers", "audit"):
        spent = after[part] - before[part]
        result[f"{part}_us_per_chain"] = round(spent / max(counted, 1) * 1e6)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run every scenario (against this checkout, and a baseline if asked) and write the section."""
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
    p.add_argument(
        "--baseline",
        metavar="REF",
        help="also run a git ref (e.g. a commit before a change) on the same load, interleaved",
    )
    p.add_argument("--rounds", type=int, default=1, help="runs of each scenario per server")
    p.add_argument(
        "--profile",
        metavar="SCENARIO",
        help="py-spy the web process during the first run of this scenario (e.g. single:16)",
    )
    p.add_argument(
        "--profile-out", type=Path, metavar="DIR", help="keep py-spy's raw stacks in DIR"
    )
    p.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    args = p.parse_args(argv)
    if args.profile and not pyspy.available():
        p.error("--profile needs py-spy (pip install py-spy)")

    chains = gsm8k_chains(args.chains)
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="faithgate-bench-") as tmp, ExitStack() as stack:
        tmp_path = Path(tmp)
        targets = [Target(f"this ({git_rev()})", ROOT, tmp_path / "data")]
        if args.baseline:
            tree = stack.enter_context(checkout(args.baseline, tmp_path / "baseline"))
            targets.insert(0, Target(f"baseline ({args.baseline})", tree, tmp_path / "data-base"))
        try:
            for target in targets:
                target.start(args.workers)
            # Interleaved (baseline, this, baseline, this...): a drift in the machine's load
            # falls on both alike.
            for scenario in args.scenarios:
                for _ in range(args.rounds):
                    for target in targets:
                        result = measure(target, scenario, tmp_path, chains, args)
                        print(json.dumps(result), flush=True)
                        results.append(result)
        finally:
            for target in targets:
                target.stop()
        records = sum(count_records(t.data_dir) for t in targets)
    print(f"audit records written: {records}")
    body = _table(results, targets, args, records)
    print(body)
    if not args.no_write:
        command = ".venv/bin/python -m bench.http_bench " + " ".join(argv or sys.argv[1:])
        write_section("http", "HTTP service (faithgate serve)", command.strip(), body)
    return 0


def _figure(values: list[float], fmt: str = "{:,.0f}") -> str:
    """The median of the rounds, and their range when there are several."""
    mid = fmt.format(statistics.median(values))
    if len(values) == 1:
        return mid
    return f"{mid} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def _table(results: list[dict], targets: list[Target], args, records: int) -> str:
    """The figures per scenario and server (median of the rounds, range), then the profiles."""
    rows = [
        "| server | endpoint | chains/request | connections | chains/s | p50 ms | p99 ms "
        "| errors | web CPU µs/chain | workers CPU µs/chain | audit process CPU µs/chain "
        "| records/transaction |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in args.scenarios:
        for target in targets:
            runs = [r for r in results if r["scenario"] == scenario and r["target"] == target.name]
            first = runs[0]
            rate, web, workers = (
                _figure([r[k] for r in runs])
                for k in ("chains_per_s", "web_us_per_chain", "workers_us_per_chain")
            )
            audit_cpu = [r["audit_us_per_chain"] for r in runs]
            audit = _figure(audit_cpu) if any(audit_cpu) else "–"
            p50, p99 = (_figure([r[k] for r in runs], "{:.2f}") for k in ("p50_ms", "p99_ms"))
            grouped = [r["records_per_tx"] for r in runs if r["records_per_tx"] is not None]
            per_tx = _figure(grouped, "{:.1f}") if grouped else "–"
            rows.append(
                f"| {target.name} | `{first['endpoint']}` | {first['chains_per_request']} | "
                f"{first['connections']} | {rate} | {p50} | {p99} | "
                f"{sum(r['errors'] for r in runs)} | {web} | {workers} | {audit} | {per_tx} |"
            )
    rounds = f"{args.rounds} runs of each row, interleaved across servers; median (range)"
    notes = (
        f"\n\nClosed-loop keep-alive connections from bench/loadgen.py in its own process, "
        f"{args.duration:g} s per run after {args.warmup:g} s of warm-up, "
        f"{rounds if args.rounds > 1 else 'one run of each row'}. {args.chains} distinct "
        "GSM8K chains (annotations stripped). Latency is per request: a batch's chains all have "
        "their batch's latency. Every chain was validated by the worker pool and audited "
        f"(SQLite WAL, synchronous=FULL) before its answer: {records:,} audit records written. "
        "Loopback only; load generator, server and validation workers share the machine's cores. "
        "CPU columns: the web process (HTTP, auth, parsing, metrics; audit writes too where "
        "the server has no audit process), the validation workers (which also make each audit "
        "record where there is an audit process) and the audit writer process (servers "
        "without one: –), per chain, measured over the run including its warm-up. "
        "Records/transaction: validation records per audit commit (group commit), from the "
        "service's faithgate_audit_group_records histogram (servers without it: –)."
    )
    return "\n".join(rows) + notes + "".join(_profile(t, args) for t in targets if t.profile)


def _profile(target: Target, args) -> str:
    """The web process's profile for one server: by part, then the top functions."""
    lines = [
        f"\n\nWeb process of {target.name} under `{args.profile}`, sampled by py-spy (250 Hz, "
        "the whole run, samples of the thread holding the GIL): by part (the deepest frame "
        "that names one), then the functions the samples were in.\n",
        "| share of samples | part |",
        "|---:|---|",
    ]
    lines += [f"| {share:.1%} | {name} |" for share, name in pyspy.by_part(target.profile)]
    lines += ["", "| share of samples | function (file) |", "|---:|---|"]
    lines += [f"| {share:.1%} | `{name}` |" for share, name in pyspy.self_time(target.profile)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
