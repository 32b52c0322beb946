"""Helpers shared by the benchmarks: machine description and BENCHMARKS.md sections."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
BENCHMARKS = ROOT / "BENCHMARKS.md"


def machine() -> str:
    """One line naming the CPU, core count, memory and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{mem_kb / 2**20:.0f} GiB"
    except OSError:
        mem = "?"
    return f"{cpu}, {os.cpu_count()} cores, {mem} RAM, Python {sys.version.split()[0]}"


def git_rev() -> str:
    """The short commit the benchmark ran on (or 'uncommitted')."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "uncommitted"
    except OSError:
        return "uncommitted"


@contextmanager
def checkout(ref: str, where: Path) -> Iterator[Path]:
    """A detached git worktree of `ref` at `where`, removed afterwards."""
    subprocess.run(
        ["git", "worktree", "add", "--detach", "-q", str(where), ref], cwd=ROOT, check=True
    )
    try:
        yield where
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=ROOT)


@contextmanager
def baseline_tree(ref: str, build: bool = True) -> Iterator[Path]:
    """A worktree of commit `ref` for a bench to measure beside this checkout: beside it a link
    to the shared data (its benches read ../shared/data), and (with `build`) its validators
    compiled when it has `make native`'s script (else they run from source, as they did then)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "shared").symlink_to(DATA.parent)
        with checkout(ref, Path(tmp) / "baseline") as tree:
            script = tree / "scripts" / "build_native.py"
            if build and script.exists():
                subprocess.run([sys.executable, str(script)], cwd=tree, capture_output=True)
            yield tree


def write_section(name: str, title: str, command: str, body: str) -> None:
    """Replace (or append) the section `name` of BENCHMARKS.md with fresh figures."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"<!-- bench:{name} -->\n## {title}\n\n"
        f"Command: `{command}`  \nMachine: {machine()}  \nRun: {stamp}, commit {git_rev()}\n\n"
        f"{body.strip()}\n<!-- /bench:{name} -->"
    )
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n\n"
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S
    )
    text = (
        pattern.sub(lambda _: section, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section + "\n"
    )
    BENCHMARKS.write_text(text)
