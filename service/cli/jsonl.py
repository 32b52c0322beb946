"""JSON Lines plumbing shared by the CLI commands: robust reading, stdout/file output, progress."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import IO

MAX_LINE_BYTES = 4 * 1024 * 1024


def open_input(path: str) -> tuple[IO[bytes], int | None]:
    """A binary stream for a path or '-' (stdin), and its size in bytes when known."""
    if path == "-":
        return contextlib.nullcontext(sys.stdin.buffer), None  # type: ignore[return-value]
    return open(path, "rb"), os.path.getsize(path)


@contextlib.contextmanager
def open_output(path: str) -> Iterator[IO[str]]:
    """A text stream for a path or '-' (stdout), UTF-8, flushed per line for pipelines."""
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    with open(path, "w", encoding="utf-8") as fh:
        yield fh


def read_jsonl_objects(
    stream: IO[bytes], on_bytes: Callable[[int], object] | None = None
) -> Iterator[tuple[object, str | None]]:
    """(object, None) per decodable line, or (None, why): invalid UTF-8 or JSON never stop a run."""
    for lineno, raw in enumerate(stream, start=1):
        if on_bytes is not None:
            on_bytes(len(raw))
        if raw.strip():
            yield decode_line(lineno, raw)


def decode_line(lineno: int, raw: bytes) -> tuple[object, str | None]:
    """A line decoded, or (None, why) for an over-long, non-UTF-8 or non-JSON line."""
    if len(raw) > MAX_LINE_BYTES:
        return None, f"line {lineno}: longer than {MAX_LINE_BYTES} bytes"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"line {lineno}: invalid UTF-8 at byte {exc.start}"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"line {lineno}: invalid JSON: {exc.msg} (column {exc.colno})"
    except RecursionError:
        return None, f"line {lineno}: JSON nested too deeply"


@contextlib.contextmanager
def progress_bar(
    total_bytes: int | None, label: str, enabled: bool
) -> Iterator[Callable[[int], object]]:
    """A byte-counting progress bar on stderr (a no-op callback when disabled)."""
    if not enabled:
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(
        total=total_bytes,
        desc=label,
        unit="B",
        unit_scale=True,
        file=sys.stderr,
        dynamic_ncols=True,
    ) as bar:
        yield bar.update


@contextlib.contextmanager
def count_bar(
    total: int | None, label: str, unit: str, enabled: bool
) -> Iterator[Callable[[int], object]]:
    """A progress bar on stderr counting items (and so their rate per second)."""
    if not enabled:
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit=unit, file=sys.stderr, dynamic_ncols=True) as bar:
        yield bar.update
