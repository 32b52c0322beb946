"""Child processes the tests start for real (faithgate, Prometheus, Alertmanager)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml


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


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackServer:
    """A server binary on a free loopback port: YAML config, log and state in `workdir`.

    Subclasses say what to write (config()) and how to start it (command()); starting waits
    for `ready_path`, stopping is terminate().
    """

    name = "server"
    ready_path = "/-/ready"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log = workdir / f"{self.name}.log"

    @property
    def url(self) -> str:
        """Base URL of its web server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        """host:port, as other servers' configs name it."""
        return f"127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        """The YAML config to write."""
        raise NotImplementedError

    def executable(self) -> str:
        """The server binary."""
        raise NotImplementedError

    def options(self) -> list[str]:
        """Its own command-line options besides the config file, address and log level."""
        return []

    def command(self, config_path: Path) -> list[str]:
        """The command line that starts it with `config_path` on self.address."""
        return [
            self.executable(),
            f"--config.file={config_path}",
            f"--web.listen-address={self.address}",
            "--log.level=warn",
            *self.options(),
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Write the config, start the binary and wait until it is ready."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_path = self.workdir / f"{self.name}.yml"
        config_path.write_text(yaml.safe_dump(self.config()))
        self.port = free_port()
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command(config_path), stdout=log, stderr=subprocess.STDOUT
            )
        wait_until_ready(self.proc, f"{self.url}{self.ready_path}", timeout, self.tail, self.name)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL if it lingers)."""
        terminate(self.proc)

    def tail(self) -> str:
        """The end of its log."""
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""
