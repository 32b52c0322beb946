"""Starting a worker process for a job (shared by the service's runner and the CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service.settings import Settings


def log_path(data_dir: Path, job_id: str) -> Path:
    """Where a job's worker writes its output."""
    return data_dir / "training" / "logs" / f"{job_id}.log"


def spawn(job_id: str, settings: Settings) -> subprocess.Popen:
    """Start `python -m service.jobs.worker JOB_ID` with its output in the job's log file.

    The store settings go on the command line, so that the worker opens the store exactly as
    its parent does (whether the parent read them from the environment or was given them).
    The worker holds the read end of a pipe as stdin; when this process dies, the pipe closes
    and the worker marks its job interrupted and stops.
    """
    data_dir = Path(settings.data_dir)
    log = log_path(data_dir, job_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "service.jobs.worker",
                job_id,
                "--database-url",
                settings.resolved_database_url,
                "--data-dir",
                str(data_dir),
                "--retention-days",
                str(settings.retention_days),
                "--watch-stdin",
            ],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # a Ctrl-C in the terminal reaches the parent only
        )


def is_worker(pid: int | None, job_id: str) -> bool:
    """True when `pid` is alive and is the worker of `job_id` (not a recycled pid)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"service.jobs.worker" in cmdline and job_id.encode() in cmdline


def tail(path: Path, max_bytes: int = 16_384) -> str:
    """The end of a log file (empty when there is none)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
