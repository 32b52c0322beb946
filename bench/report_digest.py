"""One SHA-256 over every report on GSM8K train and its corruptions: proof that a refactoring
of validators/ changed no report byte (run it before and after; the digests must agree).

Run: .venv/bin/python -m bench.report_digest [--limit N] [--label TEXT] [--no-write]
"""

from __future__ import annotations

import argparse
import hashlib
import json

from bench.common import DATA, git_rev, write_section
from bench.corrupt import cases, load_gsm8k
from validators import validate

COMMAND = ".venv/bin/python -m bench.report_digest"


def digest(chains: list[dict]) -> str:
    """SHA-256 of the reports' canonical JSON, `elapsed_ms` left out (it is a timing)."""
    h = hashlib.sha256()
    for chain in chains:
        report = validate(chain)
        report.pop("elapsed_ms", None)
        h.update(json.dumps(report, sort_keys=True, ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def main() -> None:
    """Print the digest and (unless --no-write) add it to BENCHMARKS.md's digest section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="first N problems only")
    parser.add_argument("--label", default="", help="what this run is (e.g. 'before the move')")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    args = parser.parse_args()
    chains = [c.chain for c in cases(load_gsm8k(DATA / "gsm8k" / "train.jsonl", args.limit))]
    value = digest(chains)
    line = f"| {git_rev()} | {args.label} | {len(chains)} | `{value}` |"
    print(line)
    if not args.no_write:
        write_section("digest", "Report digest: GSM8K train and corruptions", COMMAND, _body(line))


def _body(line: str) -> str:
    """The digest table with this run's row added to the rows already recorded."""
    from bench.common import BENCHMARKS

    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else ""
    start = text.find("<!-- bench:digest -->")
    rows = []
    if start >= 0:
        section = text[start : text.find("<!-- /bench:digest -->", start)]
        rows = [
            r for r in section.splitlines() if r.endswith("` |") and not r.startswith("| commit")
        ]
    head = "| commit | run | chains | SHA-256 of the reports less `elapsed_ms` |\n"
    head += "|---|---|---|---|\n"
    note = (
        "\n\nEqual digests on two commits: every report byte is the same on these chains "
        "(GSM8K train references, one result altered, answer altered, foreign reasoning)."
    )
    return head + "\n".join([*rows, line]) + note


if __name__ == "__main__":
    main()
