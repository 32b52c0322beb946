"""`faithgate train`: a corrective fine-tuning job run now, with a progress bar.

The job goes into the same job table the service uses and runs in the same worker process
(`python -m service.jobs.worker`); this command starts the worker itself and shows its progress
(step, loss, ETA). Ctrl-C cancels the job. With --detach the job is only queued, for a running
service to pick up.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from service.cli.storeopts import add_store_options, cli_settings

EXIT_REFUSED = 3  # trained, but the gate refused the adapter


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `train` subcommand."""
    p = subparsers.add_parser(
        "train", help="fine-tune a corrective LoRA adapter on reviewed cases (QLoRA + gate)"
    )
    add_store_options(p)
    p.add_argument("--base", help="base model folder (default: the model the service serves)")
    p.add_argument(
        "--cases",
        default="status=reviewed",
        help="case filter: key=value,... over status, domain, model, adapter, "
        "laundering, verdict, since, until (reviewed cases unless status= is given); or 'all'",
    )
    p.add_argument("--cycles", type=int, default=4, help="refinement cycles (default 4)")
    p.add_argument(
        "--mix", type=float, default=0.15, help="share of general-reasoning examples (default 0.15)"
    )
    p.add_argument(
        "--general", help="JSONL file (GSM8K format) for the mix instead of the generator"
    )
    p.add_argument(
        "--lr", dest="learning_rate", type=float, help="learning rate of both stages (guarded)"
    )
    p.add_argument("--force", action="store_true", help="run despite a refused learning rate")
    p.add_argument("--name", help="adapter name (default: fg-<domain>-<time>)")
    p.add_argument(
        "--promote", dest="auto_promote", action="store_true", help="promote when the gate passes"
    )
    p.add_argument(
        "--options", type=Path, help="JSON file of stage options: {model|data|sft|dpo|gate: {...}}"
    )
    p.add_argument(
        "--detach",
        action="store_true",
        help="only queue the job (a running service starts it); print its id",
    )
    p.set_defaults(func=run)


def _request(args: argparse.Namespace) -> Any:
    """The job as the operations layer takes it (service.ops.jobs.JobRequest)."""
    from dataclasses import fields

    from service.ops.cases import parse_filter
    from service.ops.jobs import JobRequest

    options = json.loads(args.options.read_text()) if args.options else {}
    if args.general:
        options.setdefault("data", {})["general_source"] = str(Path(args.general).resolve())
    # The options named as JobRequest's fields (base, cycles, mix, learning_rate, force, ...).
    given = {f.name: getattr(args, f.name) for f in fields(JobRequest) if hasattr(args, f.name)}
    given.update(cases=parse_filter(args.cases), overrides=options)
    return JobRequest(**given)


def run(args: argparse.Namespace) -> int:
    """Queue the job, run its worker, draw the progress bar, print the gate's decision."""
    from service.jobs.store import HOST, JobStore
    from service.ops import jobs as job_ops
    from service.ops.audit import cli_actor
    from service.ops.errors import OpError
    from service.settings import open_store

    settings, actor = cli_settings(args), cli_actor()
    try:
        request = _request(args)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = open_store(settings)
    try:
        try:
            job, _ = job_ops.create_job(store, settings, request, actor, triggered_by="cli")
        except OpError as exc:
            label = "refused" if exc.code == "guard_refused" else "error"
            print(f"{label}: {exc.message}", file=sys.stderr)
            return 2
        for warning in job["config"].get("warnings") or []:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"job {job['id']} queued", file=sys.stderr)
        if args.detach:
            print(job["id"])
            return 0
        # Claimed here, before the worker starts, so that a running service cannot take it.
        JobStore(store).claim(job["id"], owner=f"{HOST}/cli")
        return _follow(store, job["id"], settings, actor)
    finally:
        store.close()


def _follow(store: Any, job_id: str, settings: Any, actor: Any) -> int:
    """Run the worker and draw its progress until the job ends (Ctrl-C cancels, audited)."""
    from tqdm import tqdm

    from service.jobs import launch
    from service.jobs.store import JobStore
    from service.ops.jobs import cancel_job

    jobs = JobStore(store)
    data_dir = Path(settings.data_dir)
    proc = launch.spawn(job_id, settings)
    print(f"worker {proc.pid}; log: {launch.log_path(data_dir, job_id)}", file=sys.stderr)
    bar = tqdm(total=1, unit="step", dynamic_ncols=True, file=sys.stderr)
    try:
        while True:
            job = jobs.get(job_id)
            _draw(bar, job.get("progress"))
            if job["status"] not in ("queued", "running") or proc.poll() is not None:
                break
            time.sleep(1.0)
    except KeyboardInterrupt:
        print("\ncancelling…", file=sys.stderr)
        cancel_job(store, job_id, actor)
        try:
            proc.wait(120)
        except Exception:
            proc.kill()
    finally:
        bar.close()
    proc.wait()
    job = jobs.get(job_id)
    if job["status"] in ("queued", "running"):  # the worker died without recording its end
        jobs.finish(job_id, "failed", error=f"the worker exited with code {proc.returncode}")
        job = jobs.get(job_id)
    return _summary(job, data_dir)


def _draw(bar, progress: dict | None) -> None:
    if not progress:
        return
    bar.total = progress.get("total_steps") or bar.total
    bar.n = progress.get("step") or 0
    loss, eta = progress.get("loss"), progress.get("eta_s")
    bar.set_description(str(progress.get("stage", ""))[:40])
    bar.set_postfix_str(
        (f"loss {loss:.3f} " if loss is not None else "")
        + (f"eta {eta / 60:.1f} min" if eta is not None else "")
    )
    bar.refresh()


def _summary(job: dict, data_dir: Path) -> int:
    from service.jobs import launch

    status = job["status"]
    if status == "cancelled":
        print(f"job {job['id']} cancelled", file=sys.stderr)
        return 130
    if status != "succeeded":
        print(f"job {job['id']} {status}: {job.get('error')}", file=sys.stderr)
        print(launch.tail(launch.log_path(data_dir, job["id"]), 3000), file=sys.stderr)
        return 1
    result = job.get("result") or {}
    decision, adapter = result.get("decision") or {}, result.get("adapter") or {}
    base = result.get("baseline") or {}
    print(f"baseline: {_rates(base)}")
    for c in result.get("cycles", []):
        verdict = "pass" if c["gate"]["passed"] else "refused"
        print(f"cycle {c['cycle']}: {_rates(c)}  [{verdict}]")
    print(
        f"adapter {adapter.get('name')}: {adapter.get('status')} "
        f"(sha256 {str(adapter.get('content_hash'))[:16]}…)"
    )
    for reason in decision.get("reasons") or []:
        print(f"  not promoted: {reason}")
    files = result.get("files") or {}
    if files:
        print(f"report: {files.get('report')}\nchart: {files.get('chart')}")
    return 0 if decision.get("passed") else EXIT_REFUSED


def _rates(m: dict) -> str:
    def pct(v):
        return "n/a" if v is None else f"{100 * v:.1f}%"

    return (
        f"faithfulness {pct(m.get('faithfulness'))}, laundering {pct(m.get('laundering'))}, "
        f"general accuracy {pct(m.get('general_accuracy'))}, "
        f"general faithfulness {pct(m.get('general_faithfulness'))}"
    )
