"""A validation worker process (`python -m service.worker BUDGET_S`), driven by service.pool.

Protocol on stdin/stdout: frames of a 4-byte big-endian length and a pickle. The worker first
sends ("ready", pid); then, for each message [(task_id, [chain, ...], audit), ...] it receives, it
sends one (task_id, [report, ...], [entry, ...]) frame per task as soon as that task is done.

`audit` is None, or (request_id, key_id, redact, [labels, ...]) for chains whose reports will be
audited: each entry is then the pickled audit-record Entry of its chain and report
(service.store.records.validation_entry), made here so that encoding and hashing the payload
costs the web process nothing; it passes the bytes on to the audit writer unopened. An entry is
None without an audit, or when the record cannot be made (the store then reports why). The
worker exits when stdin closes (the service stopped or died).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import sys
from typing import Any, BinaryIO

from service.store.records import validation_entry
from validators.report import unchecked_report

HEADER = struct.Struct(">I")


def read_frame(stream: BinaryIO) -> bytes | None:
    """The next frame's payload, or None at end of input."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def write_frame(stream: BinaryIO, obj: Any) -> None:
    """Pickle `obj` and write it as one frame."""
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def fallback_report(chain: Any, why: str) -> dict[str, Any]:
    """The report for a chain whose validation raised: unverifiable, never an accusation."""
    return unchecked_report(chain, f"the chain could not be validated: {why}")


def audit_entries(
    chains: list[Any], reports: list[dict[str, Any]], audit: tuple | None
) -> list[bytes | None]:
    """The pickled audit Entry of each chain and report (see the module docstring)."""
    if audit is None:
        return [None] * len(chains)
    request_id, key_id, redact, labels = audit
    entries: list[bytes | None] = []
    for chain, report, label in zip(chains, reports, labels, strict=True):
        try:
            item = {"chain": chain, "report": report, **label}
            entry = validation_entry(item, request_id, key_id, redact)
        except (TypeError, ValueError, AttributeError):
            entries.append(None)  # the store, given the item itself, says what is wrong
            continue
        entries.append(pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))
    return entries


def serve(budget_s: float, inp: BinaryIO, out: BinaryIO) -> None:
    """Answer task messages from `inp` on `out` until `inp` closes."""
    from validators import pipeline

    pipeline.validators()  # build the validators (imports sympy, z3) before the first request
    pipeline.validate({"question": "warm-up", "reasoning": "1 + 1 = 2"}, budget_s=budget_s)
    write_frame(out, ("ready", os.getpid()))
    while (payload := read_frame(inp)) is not None:
        for task_id, chains, audit in pickle.loads(payload):
            reports = []
            for chain in chains:
                try:
                    reports.append(pipeline.validate(chain, budget_s=budget_s))
                except Exception as exc:  # a pipeline bug costs this chain's checks, not the worker
                    reports.append(fallback_report(chain, f"{type(exc).__name__}: {exc}"[:300]))
            write_frame(out, (task_id, reports, audit_entries(chains, reports, audit)))


def protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    """A child's protocol streams (stdin, stdout), with stray prints sent to stderr instead."""
    # Ctrl-C reaches the whole process group; the service stops its children by closing stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by library code goes to stderr, not into the protocol
    return inp, out


def main() -> int:
    """Entry point: take the protocol streams, serve."""
    budget_s = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    inp, out = protocol_streams()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the service went away
        serve(budget_s, inp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
