"""The training worker process: `python -m service.jobs.worker JOB_ID [options]`.

Runs one job out of the request path: reads its cases from the store, runs training.pipeline,
writes progress (step, loss, ETA) and a heartbeat to the job row every few seconds, audits each
stage, and records how it ended. It stops at the next step when the job's cancel flag is set or
on SIGTERM; with --watch-stdin it also stops when its parent (the service or the CLI) dies,
marking the job interrupted rather than leaving it "running".
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from service.jobs.spec import train_config
from service.jobs.store import JobStore
from service.ops.cases import fetch_cases
from service.settings import Settings

log = logging.getLogger("faithgate.jobs.worker")
HEARTBEAT_S = 2.0


class _State:
    """What the worker's threads share."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.parent_gone = False
        self.progress: dict[str, Any] | None = None
        self.lock = threading.Lock()


def _heartbeat(jobs: JobStore, job_id: str, state: _State) -> None:
    while not state.stop.wait(HEARTBEAT_S):
        try:
            with state.lock:
                progress = state.progress
            if jobs.heartbeat(job_id, progress):
                state.stop.set()
        except Exception:  # a busy database must not kill the run; the next beat retries
            log.exception("heartbeat failed")


def _watch_parent(state: _State) -> None:
    # os.read on the descriptor, not sys.stdin: a daemon thread blocked inside the buffered
    # reader holds its lock, and the interpreter aborts at exit when it cannot take it.
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    state.parent_gone = True
    state.stop.set()


def _auditor(store: Any, job: dict[str, Any], config: Any) -> Any:
    def audit(event: str, data: dict[str, Any]) -> None:
        store.append(
            event,
            request_id=job.get("request_id"),
            key_id=job.get("key_id"),
            model=config.base,
            model_hash=data.get("base_model_hash"),
            adapter=data.get("name"),
            adapter_hash=data.get("adapter_hash"),
            data={"job_id": job["id"], **data},
        )

    return audit


def run_job(store: Any, job_id: str, data_dir: Path, state: _State) -> int:
    """Run one claimed (or queued) job to its end; returns the process exit code."""
    from training.config import GuardError
    from training.pipeline import Hooks, run
    from training.progress import Cancelled
    from training.registry import RegistryError

    jobs = JobStore(store)
    job = jobs.get(job_id)
    if job["status"] == "queued" and not jobs.claim(job_id, os.getpid()):
        log.error("job %s was taken by another worker", job_id)
        return 1
    if jobs.get(job_id)["status"] != "running":
        log.error("job %s is %s, not running", job_id, jobs.get(job_id)["status"])
        return 1
    jobs.set_pid(job_id, os.getpid())
    threading.Thread(target=_heartbeat, args=(jobs, job_id, state), daemon=True).start()

    def progress(snapshot: dict[str, Any]) -> None:
        with state.lock:
            state.progress = snapshot

    try:
        config = train_config(job["config"], data_dir)
        cases = fetch_cases(store, job["config"].get("cases") or {})
        log.info("job %s: %d cases", job_id, len(cases))
        hooks = Hooks(
            progress=progress,
            audit=_auditor(store, job, config),
            cancelled=state.stop.is_set,
            log=log.info,
            extra={"job_id": job_id},
        )
        report = run(config, cases, hooks)
    except Cancelled:
        ended = "interrupted" if state.parent_gone else "cancelled"
        why = "the process that ran the worker went away" if state.parent_gone else "cancelled"
        jobs.finish(job_id, ended, error=why, progress=state.progress)
        store.append(
            f"training.{ended}", key_id=job.get("key_id"), data={"job_id": job_id, "reason": why}
        )
        return 3
    except (GuardError, RegistryError, ValueError, FileNotFoundError, OSError) as exc:
        return _failed(store, jobs, job, f"{type(exc).__name__}: {exc}", state)
    except Exception as exc:  # anything else is a bug, but the job must still end as failed
        traceback.print_exc()
        return _failed(store, jobs, job, f"{type(exc).__name__}: {exc}", state)
    finally:
        state.stop.set()
    jobs.finish(job_id, "succeeded", result=_summary(report), progress=state.progress)
    return 0


def _failed(
    store: Any, jobs: JobStore, job: dict[str, Any], message: str, state: _State | None = None
) -> int:
    log.error("job %s failed: %s", job["id"], message)
    jobs.finish(job["id"], "failed", error=message, progress=state and state.progress)
    store.append(
        "training.failed",
        key_id=job.get("key_id"),
        data={"job_id": job["id"], "error": message[:2000]},
    )
    return 1


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    """What the job row keeps of the report (no generated text)."""

    def metrics(m: dict[str, Any]) -> dict[str, Any]:
        keep = (
            "faithfulness",
            "laundering",
            "general_accuracy",
            "general_faithfulness",
            "general_laundering",
            "cases",
            "general",
        )
        return {k: m.get(k) for k in keep}

    return {
        "adapter": report.get("adapter"),
        "decision": report.get("decision"),
        "baseline": metrics(report["baseline"]),
        "cycles": [
            {
                "cycle": c["cycle"],
                "sft_loss": c.get("sft_loss"),
                "dpo_loss": c.get("dpo_loss"),
                "gate": c["gate"],
                **metrics(c["metrics"]),
            }
            for c in report.get("cycles", [])
        ],
        "data": {k: v for k, v in report.get("data", {}).items() if k != "rejected_reasons"},
        "warnings": report.get("warnings"),
        "timing": report.get("timing"),
        "files": report.get("files"),
    }


def worker_settings(args: argparse.Namespace) -> Settings:
    """The same Settings as the service (FAITHGATE_* variables), with what the parent passed."""
    given = {
        "database_url": args.database_url,
        "data_dir": args.data_dir,
        "retention_days": args.retention_days,
    }
    return Settings(**{k: v for k, v in given.items() if v is not None})


def main(argv: list[str] | None = None) -> int:
    """Entry point of the worker process."""
    from service.settings import open_store

    parser = argparse.ArgumentParser(prog="python -m service.jobs.worker")
    parser.add_argument("job_id")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--retention-days", type=int, default=None)
    parser.add_argument(
        "--watch-stdin",
        action="store_true",
        help="stop (job interrupted) when stdin closes: the parent is gone",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = worker_settings(args)
    store = open_store(settings)
    state = _State()
    signal.signal(signal.SIGTERM, lambda *_: state.stop.set())
    if args.watch_stdin:
        threading.Thread(target=_watch_parent, args=(state,), daemon=True).start()
    try:
        return run_job(store, args.job_id, Path(settings.data_dir), state)
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
