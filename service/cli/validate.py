"""`faithgate validate`: JSON Lines chains in, one report per line out, in order."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from typing import IO

from service.cli.jsonl import open_input, open_output, progress_bar, read_jsonl_objects

DESCRIPTION = """\
Check the reasoning of each chain and write its faithfulness report.

Input: JSON Lines, one chain per line (a file, or - for stdin):
  {"id": "gsm8k-1", "question": "...", "reasoning": "step 1\\nstep 2\\n#### 72"}
Chain fields:
  id                optional string, echoed in the report
  question          the problem statement (its numbers ground the steps)
  context           optional string or list of strings (documents, records, premises)
  reasoning         required: free text (split into steps) or a list of step strings
  answer            optional: found in the reasoning when absent ("#### 72",
                    "The answer is 72", \\boxed{72}, else the last line)
  reference_answer  optional: a right answer that must not hide wrong steps
  domain, rulepack  optional: a rule pack for the rules validator (medical, finance, legal)

Output: JSON Lines, one report per input line, in the same order (a file or stdout):
  verdict (faithful | unfaithful | unverifiable), laundering, score, first_error_step
  (0-based or null), answer, derived_answer, steps[] (index, text, status, findings),
  findings, validators, elapsed_ms.
A malformed line yields a report with verdict "unverifiable" and an "input.invalid"
finding naming the problem; the run goes on. Exit status: 0, or 2 when INPUT cannot be read.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `validate` subcommand."""
    p = subparsers.add_parser(
        "validate",
        help="check reasoning chains (JSON Lines) and write reports",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", nargs="?", default="-", help="chains file, or - for stdin (default)")
    p.add_argument("-o", "--output", default="-", help="reports file, or - for stdout (default)")
    p.add_argument(
        "--budget", type=float, default=2.0, help="seconds allowed per chain (default 2.0)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)


def reports(lines: Iterator[tuple[object, str | None]], budget_s: float) -> Iterator[dict]:
    """One report per decoded line, in order (a decoding error becomes an input.invalid report)."""
    from validators.pipeline import validate
    from validators.report import invalid_report

    for obj, error in lines:
        if error is not None:
            yield invalid_report(None, error, time.perf_counter())
        else:
            yield validate(obj, budget_s=budget_s)


def run(args: argparse.Namespace) -> int:
    """Validate every chain of the input."""
    try:
        source, total = open_input(args.input)
    except OSError as exc:
        print(f"faithgate validate: cannot read {args.input}: {exc.strerror}", file=sys.stderr)
        return 2
    show = not args.no_progress and args.input != "-"
    with (
        source as stream,
        open_output(args.output) as out,
        progress_bar(total, "validating", show) as tick,
    ):
        _write(out, reports(read_jsonl_objects(stream, tick), args.budget))
    return 0


def _write(out: IO[str], items: Iterator[dict]) -> None:
    for item in items:
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
