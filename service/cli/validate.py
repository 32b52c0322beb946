"""`faithgate validate`: chains or training datasets in, one report per chain out, in order."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from service.cli.jsonl import count_bar, open_input, open_output

if TYPE_CHECKING:
    from service.datasets.run import Plan
    from service.datasets.sources import JsonlSource, TableSource
    from service.datasets.work import Job

DESCRIPTION = """\
Check the reasoning of each chain and write its faithfulness report.

Input: JSON Lines (a file, or - for stdin), Parquet (.parquet) or an Arrow stream (.arrow,
as Hugging Face `save_to_disk` writes). Rows are faithgate chains, or one of TRL's formats
(recognised by their columns, or chosen with --format), or named columns:
  chain              {"id", "question", "context", "reasoning", "answer", ...} (below)
  messages           TRL conversational: the last assistant turn is the reasoning, the user
                     turns before it the question
  prompt-completion  TRL "prompt"/"completion", as strings or lists of turns
  preference         TRL "chosen"/"rejected" (with or without "prompt"): each side is a chain,
                     reported as ROWID:chosen and ROWID:rejected
  fields             --question-field, --reasoning-field, --answer-field name the columns
Rows of the TRL and named formats get the id "row-N" (N from 0, as `datasets` indexes them)
unless --id-field names a column.
Chain fields:
  id                optional string, echoed in the report
  question          the problem statement (its numbers ground the steps)
  context           optional string or list of strings (documents, records, premises)
  reasoning         required: free text (split into steps) or a list of step strings
  answer            optional: found in the reasoning when absent ("#### 72",
                    "The answer is 72", \\boxed{72}, else the last line)
  reference_answer  optional: a right answer that must not hide wrong steps
  domain, rulepack  optional: a rule pack for the rules validator (medical, finance, legal)

Output: JSON Lines, one report per chain, in input order (a file or stdout):
  verdict (faithful | unfaithful | unverifiable), laundering, score, first_error_step
  (0-based or null), answer, derived_answer, steps[] (index, text, status, findings),
  findings, validators, elapsed_ms. Any number of --workers (or --ray) writes the same
  reports; only elapsed_ms, the time each chain took, differs.
With --keep, the rows that pass are also written, unchanged and in the input's format, to
--kept-output (default: INPUT with .kept before its extension): `faithful` keeps rows whose
chains are all faithful, `not-unfaithful` also unverifiable ones; a preference pair is kept
for its chosen side. A summary (verdicts, top findings, chains/s) ends on stderr.
A malformed row yields a report with verdict "unverifiable" and an "input.invalid" finding
naming the problem; the run goes on. Exit status: 0, or 2 when the run cannot start (INPUT
unreadable, format unknown, an optional package missing).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `validate` subcommand."""
    p = subparsers.add_parser(
        "validate",
        help="check reasoning chains or training datasets and write reports",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", nargs="?", default="-", help="rows file, or - for stdin (default)")
    p.add_argument("-o", "--output", default="-", help="reports file, or - for stdout (default)")
    p.add_argument(
        "--budget", type=float, default=2.0, help="seconds allowed per chain (default 2.0)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: the machine's cores); with --ray, actors "
        "(default: the cluster's CPUs; a local cluster gets this many CPUs)",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run on a Ray cluster (ADDRESS, or 'auto'); a local one when no address is given",
    )
    p.add_argument("--input-format", choices=("jsonl", "parquet", "arrow"), help="default: by name")
    p.add_argument(
        "--format",
        default="auto",
        choices=("auto", "chain", "messages", "prompt-completion", "preference", "fields"),
        help="row format (default: detected from the columns)",
    )
    for role in ("question", "reasoning", "answer", "id"):
        p.add_argument(f"--{role}-field", metavar="COLUMN", help=f"the column holding the {role}")
    p.add_argument("--keep", choices=("faithful", "not-unfaithful"), help="write passing rows")
    p.add_argument("--kept-output", metavar="PATH", help="where --keep writes the passing rows")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate every row of the input."""
    from service.datasets.extras import MissingExtra
    from service.datasets.run import UsageError

    try:
        return _run(args)
    except (UsageError, MissingExtra, ValueError) as exc:
        print(f"faithgate validate: {exc}", file=sys.stderr)
        return 2
    except BrokenProcessPool:
        print(
            "faithgate validate: a worker process died; the reports are incomplete", file=sys.stderr
        )
        return 1
    except OSError as exc:
        print(f"faithgate validate: cannot read {args.input}: {exc.strerror}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from service.datasets.run import execute, open_source
    from service.datasets.sources import input_kind

    kind = input_kind(args.input, args.input_format)
    plan = _plan(args, kind)
    opened = open_input(args.input)[0] if kind == "jsonl" else contextlib.nullcontext(None)
    with opened as stream:
        source = open_source(args.input, kind, stream)
        plan.job = _job(args, source)
        show = not args.no_progress and args.input != "-"
        with (
            open_output(args.output) as out,
            count_bar(source.total_rows, "validating", "chain", show) as tick,
        ):
            summary = execute(plan, source, out, tick)
    print(summary.render(plan.job.keep, plan.kept_path), file=sys.stderr)
    return 0


def _plan(args: argparse.Namespace, kind: str) -> Plan:
    from service.datasets.run import Plan, UsageError
    from service.datasets.sinks import default_kept_path
    from service.datasets.work import Job

    kept_path = args.kept_output
    if args.keep and kept_path is None:
        if args.input == "-":
            raise UsageError("--keep with stdin input needs --kept-output")
        kept_path = default_kept_path(args.input)
    if kept_path is not None and os.path.abspath(kept_path) == os.path.abspath(args.input):
        raise UsageError("--kept-output must not be the input file")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.ray is not None and args.input == "-":
        raise UsageError("--ray reads a file (the cluster reads it), not stdin")
    workers = args.workers or (None if args.ray is not None else os.cpu_count() or 1)
    return Plan(
        input=args.input,
        kind=kind,
        job=Job(),
        workers=workers,
        ray_address=args.ray or None,
        use_ray=args.ray is not None,
        kept_path=kept_path,
    )


def _job(args: argparse.Namespace, source: JsonlSource | TableSource) -> Job:
    from service.datasets.formats import Fields
    from service.datasets.run import resolve_format
    from service.datasets.work import Job

    fields = Fields(
        question=args.question_field or "question",
        reasoning=args.reasoning_field or "reasoning",
        answer=args.answer_field,
        id=args.id_field,
    )
    mapped = any((args.question_field, args.reasoning_field, args.answer_field))
    where = "stdin" if args.input == "-" else args.input
    fmt = resolve_format(source.columns(), args.format, fields, mapped, where)
    return Job(format=fmt, budget_s=args.budget, keep=args.keep)
