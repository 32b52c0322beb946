"""Child processes the tests start for real (faithgate, Prometheus): readiness and shutdown."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import httpx


def wait_until_ready(
    proc: subprocess.Popen, url: str, timeout: float, tail: Callable[[], str], name: str
) -> None:
    """Poll `url` until it answers 200; RuntimeError with the log tail if `proc` dies or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited ({proc.returncode}):\n{tail()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    terminate(proc)
    raise RuntimeError(f"{name} was not ready in {timeout} s:\n{tail()}")


def terminate(proc: subprocess.Popen | None) -> None:
    """Stop a process the way an operator does (SIGTERM), killing it if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)
