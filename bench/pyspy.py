"""Sampling profiles of a running process with py-spy: the functions it spends its time in.

    top = profile(pid, seconds=10)   # [(share of samples, "function (file)"), ...]

py-spy reads the process from outside (no code in the service, no slowdown worth counting);
`--nonblocking` keeps it from pausing the process at each sample.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path


def available() -> bool:
    """Whether py-spy is installed beside this Python (the dev extra installs it)."""
    return _binary() is not None


def _binary() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start(pid: int, seconds: float, out: Path, rate: int = 250) -> subprocess.Popen:
    """py-spy recording `pid` for `seconds` into `out` (collapsed stacks); wait() on it."""
    binary = _binary()
    if binary is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    return subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--duration", str(int(seconds))]
        + ["--rate", str(rate), "--format", "raw", "--nonblocking", "--gil", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def self_time(collapsed: str, top: int = 12) -> list[tuple[float, str]]:
    """The `top` functions by share of samples spent in them (not in what they call).

    collapsed: py-spy's raw format, one "frame;frame;...;frame COUNT" line per stack, each
    frame "function (file:line)"; lines of one function are added together.
    """
    return _shares(collapsed, lambda stack: _function(stack.rsplit(";", 1)[-1]))[:top]


def _shares(collapsed: str, label: Callable[[str], str]) -> list[tuple[float, str]]:
    """Share of samples per label(stack), largest first."""
    counts: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            counts[label(stack)] += int(n)
    total = sum(counts.values())
    return [(n / total, name) for name, n in counts.most_common()] if total else []


def _function(frame: str) -> str:
    """ "send (/usr/lib/python3.11/asyncio/sslproto.py:123)" -> "send (asyncio/sslproto.py)"."""
    name, _, where = frame.partition(" (")
    path = "/".join(where.rstrip(")").rsplit(":", 1)[0].split("/")[-2:])
    return f"{name} ({path})" if path else name


def profile(pid: int, seconds: float, top: int = 12) -> list[tuple[float, str]]:
    """Record `pid` for `seconds` and return its top self-time functions."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.txt"
        proc = start(pid, seconds, out)
        _, err = proc.communicate(timeout=seconds + 60)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"py-spy failed: {err.decode(errors='replace').strip()[-300:]}")
        return self_time(out.read_text())


# Parts of the web process, by the files their frames are in. A sample counts for the part of
# its deepest frame that names one (so a database call made by the audit writer is "audit
# store"); the generic parts (the event loop, JSON) only where no other part is on the stack.
WEB_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("HTTP server (uvicorn, httptools)", ("uvicorn/", "httptools/", "h11/")),
    ("framework (FastAPI, Starlette routing)", ("fastapi/", "starlette/")),
    ("request middleware", ("service/middleware.py",)),
    ("handlers and operations", ("service/api/", "service/ops/", "service/errors.py")),
    ("body parsing (pydantic)", ("pydantic/", "pydantic_core/")),
    ("validation pool IPC", ("service/pool.py", "pickle")),
    ("audit writer", ("service/audit_writer.py", "concurrent/futures/")),
    ("audit store (records, SQL)", ("service/store/", "sqlalchemy/", "sqlite3/", "psycopg/")),
    ("metrics", ("prometheus_client/", "service/metrics.py")),
)
GENERIC_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("event loop", ("asyncio/", "uvloop/", "threading.py")),
    ("JSON encoding", ("json/", "orjson")),
)


def by_part(collapsed: str, parts=WEB_PARTS, generic=GENERIC_PARTS) -> list[tuple[float, str]]:
    """Share of samples per part (deepest matching frame wins), largest first."""
    return _shares(
        collapsed, lambda stack: _deepest(stack, parts) or _deepest(stack, generic) or "other"
    )


def _deepest(stack: str, parts) -> str | None:
    """The part of the deepest frame of `stack` that one of `parts` names."""
    for frame in reversed(stack.split(";")):
        for name, markers in parts:
            if any(m in frame for m in markers):
                return name
    return None
