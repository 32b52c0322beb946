"""`faithgate entail`: z3 entailment of FOL conclusions from premises, one JSON line per item."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from typing import IO

from service.cli.jsonl import open_input, open_output, progress_bar
from validators.logic.entail import DEFAULT_TIMEOUT_MS, entail_lines

FORMATS = """\
input (JSON Lines, one item per line; blank lines are skipped):
  {"id": "ex1", "premises": ["∀x (Man(x) → Mortal(x))", "Man(socrates)"],
   "conclusion": "Mortal(socrates)"}

output (JSON Lines, one line per input item, in input order):
  {"id": "ex1", "result": "entailed", "message": "the premises entail the conclusion"}

result is one of:
  entailed      the premises entail the conclusion (premises ∧ ¬conclusion is unsatisfiable)
  contradicted  the premises entail its negation (premises ∧ conclusion is unsatisfiable)
  unknown       neither, or z3 could not decide within --timeout (the message says which)
  error         the line is malformed, a formula does not parse, or the premises are
                inconsistent; the message names the problem and the run continues

formulas (FOLIO notation): ∀x ∃x ∧ ∨ ¬ ⊕ → ↔ = ≠, predicates P(x, y), constants rina;
ASCII: forall x / exists x, & |, ~ or !, ->, <->. A quantifier's scope runs to the end of
its parentheses; ambiguous text ('^', ⊕ mixed with ∧/∨) is an error, not a guess.

A progress bar goes to stderr when INPUT is a file (not with --no-progress).
Exit status: 0 (per-item problems are "error" results), or 2 when INPUT cannot be read.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `entail` subcommand."""
    parser = subparsers.add_parser(
        "entail",
        help="check whether FOL premises entail conclusions (z3)",
        description="Check, for each JSON line, whether the premises entail the conclusion.",
        epilog=FORMATS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "input", nargs="?", default="-", help="JSON Lines file, or - for stdin (the default)"
    )
    parser.add_argument(
        "-o", "--output", default="-", help="where to write the results (default: stdout)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_MS / 1000,
        metavar="SECONDS",
        help="z3 time per item before it counts as unknown (default: %(default)g)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read items, write one result per item; 2 when INPUT cannot be read."""
    if args.timeout <= 0:
        print("faithgate entail: --timeout must be positive", file=sys.stderr)
        return 2
    try:
        source, total = open_input(args.input)
    except OSError as exc:
        print(f"faithgate entail: cannot read {args.input}: {exc.strerror}", file=sys.stderr)
        return 2
    show = not args.no_progress and args.input != "-"
    timeout_ms = max(1, int(args.timeout * 1000))
    # `with ... as stream`: for stdin, open_input hands back a context manager around the stream.
    with (
        source as stream,
        open_output(args.output) as out,
        progress_bar(total, "entailing", show) as tick,
    ):
        for record in entail_lines(_counted(stream, tick), timeout_ms=timeout_ms):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            if args.output == "-":
                out.flush()  # a pipe reader sees each result as soon as it is ready
    return 0


def _counted(stream: IO[bytes], tick: Callable[[int], object]) -> Iterator[bytes]:
    """The stream's lines, reporting their sizes to the progress bar."""
    for line in stream:
        tick(len(line))
        yield line
