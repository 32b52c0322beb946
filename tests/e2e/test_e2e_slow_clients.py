"""Clients that stall or hoard connections: the service answers them and stays up.

A body that stops arriving gets 408 after FAITHGATE_BODY_TIMEOUT_S; with the process's file
descriptors exhausted by idle connections, new ones are refused or queued (never a crash) and
the service serves normally once they go.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.service.api_support import GOOD, chain

pytestmark = pytest.mark.slow
FD_LIMIT = 256  # the server's RLIMIT_NOFILE for the test: small enough to exhaust on loopback
HOARD = 400  # idle connections opened against it, bounded: well past FD_LIMIT


@pytest.fixture
def server(tmp_path: Path):
    """`faithgate serve` on SQLite with a 1 s body timeout."""
    srv = Server(
        database_url=f"sqlite:///{tmp_path / 'faithgate.db'}",
        data_dir=tmp_path / "data",
        settings={"FAITHGATE_BODY_TIMEOUT_S": "1", "FAITHGATE_WORKERS": "1"},
    )
    srv.start()
    yield srv
    srv.stop()


def _raw(server: Server, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(data)
    return sock


def test_a_stalled_body_gets_408_and_others_are_served(server: Server) -> None:
    key = server.auth("validate")["Authorization"]
    head = (
        f"POST /v1/validate HTTP/1.1\r\nHost: x\r\nAuthorization: {key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    answer = b""
    with _raw(server, head + b'{"question": ') as sock:
        # The server speaks first (the body never completes), then closes: read to the end,
        # since the status line and the body may come in separate segments.
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"request_timeout" in answer
    r = httpx.post(
        f"{server.url}/v1/validate", json=chain(GOOD), headers=server.auth("validate"), timeout=30
    )
    assert r.status_code == 200


def test_exhausted_file_descriptors_do_not_take_the_service_down(server: Server) -> None:
    assert server.proc is not None
    resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))
    hoard: list[socket.socket] = []
    try:
        for _ in range(HOARD):
            with contextlib.suppress(OSError):
                hoard.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(1.0)  # the server tries to accept them all and runs out of descriptors
        assert server.proc.poll() is None, server.tail()
    finally:
        for sock in hoard:
            sock.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            r = httpx.post(
                f"{server.url}/v1/validate",
                json=chain(GOOD),
                headers=server.auth("validate"),
                timeout=10,
            )
            if r.status_code == 200:
                break
            assert r.status_code == 503, r.text  # over the connection limit: refused, not 500
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"not serving again:\n{server.tail()}"
        time.sleep(0.5)
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    assert server.proc.poll() is None
