"""HTTP load generator for the benchmark: keep-alive connections on raw asyncio sockets.

Run as its own process (bench/http_bench.py starts it) so that the client does not share an
interpreter with the server. A hand-written HTTP/1.1 client costs a fraction of a general one
per request, which matters when client and server share two cores.

    python -m bench.loadgen --url http://127.0.0.1:PORT/v1/validate --key KEY \
        --bodies bodies.jsonl --chains-per-request 1 --connections 8 --duration 10

Prints one JSON object: requests, chains, errors, seconds, chains_per_s, latency percentiles (ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from urllib.parse import urlsplit


def _request(host: str, port: int, path: str, key: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response; return its status (the body is read and dropped)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _connection(
    host: str,
    port: int,
    requests: list[bytes],
    start: int,
    stop_at: float,
    budget: list[int],
    latencies: list[float],
    errors: list[str],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = start
    try:
        while time.perf_counter() < stop_at and budget[0] > 0:
            budget[0] -= 1
            payload = requests[i % len(requests)]
            i += 1
            sent = time.perf_counter()
            writer.write(payload)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - sent)
            if status != 200:
                errors.append(str(status))
    finally:
        writer.close()


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


async def run(
    url: str,
    key: str,
    bodies: list[bytes],
    per_request: int,
    connections: int,
    duration: float,
    max_requests: int,
    warmup_s: float,
) -> dict:
    """Drive the endpoint with `connections` closed-loop clients; return the figures."""
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    requests = [_request(host, port, path, key, b) for b in bodies]
    warmup: list[float] = []
    if warmup_s > 0:  # let the workers and the connection pool settle; not counted
        stop_at = time.perf_counter() + warmup_s
        await asyncio.gather(
            *(
                _connection(host, port, requests, c * 7919, stop_at, [10**9], warmup, [])
                for c in range(connections)
            )
        )
    latencies: list[float] = []
    errors: list[str] = []
    budget = [max_requests]
    started = time.perf_counter()
    stop_at = started + duration
    await asyncio.gather(
        *(
            _connection(host, port, requests, c * 7919, stop_at, budget, latencies, errors)
            for c in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    lat = sorted(latencies)
    done = len(lat)
    return {
        "requests": done,
        "warmup_requests": len(warmup),
        "chains": done * per_request,
        "errors": len(errors),
        "error_statuses": sorted(set(errors))[:5],
        "seconds": round(elapsed, 3),
        "requests_per_s": round(done / elapsed, 1),
        "chains_per_s": round(done * per_request / elapsed, 1),
        "p50_ms": round(_percentile(lat, 0.50) * 1000, 2),
        "p90_ms": round(_percentile(lat, 0.90) * 1000, 2),
        "p99_ms": round(_percentile(lat, 0.99) * 1000, 2),
        "max_ms": round(lat[-1] * 1000, 2) if lat else None,
        "connections": connections,
        "chains_per_request": per_request,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--bodies", required=True, help="one JSON request body per line")
    p.add_argument("--chains-per-request", type=int, default=1)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--max-requests", type=int, default=1_000_000)
    p.add_argument("--warmup", type=float, default=1.0)
    args = p.parse_args(argv)
    with open(args.bodies, "rb") as fh:
        bodies = [line.rstrip(b"\n") for line in fh if line.strip()]
    try:
        from uvloop import run as run_loop
    except ImportError:
        run_loop = asyncio.run
    result = run_loop(
        run(
            args.url,
            args.key,
            bodies,
            args.chains_per_request,
            args.connections,
            args.duration,
            args.max_requests,
            args.warmup,
        )
    )
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
