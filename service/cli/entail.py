"""`faithgate entail`: z3 entailment of FOL conclusions from premises, one JSON line per item."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import IO

from tqdm import tqdm

from validators.entail import DEFAULT_TIMEOUT_MS, entail_lines

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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read items, write one result per item; 2 when a file cannot be opened."""
    if args.timeout <= 0:
        print("faithgate entail: --timeout must be positive", file=sys.stderr)
        return 2
    with ExitStack() as stack:
        try:
            lines, total = _open_input(args.input, stack)
            out = _open_output(args.output, stack)
        except OSError as exc:
            print(f"faithgate entail: {exc}", file=sys.stderr)
            return 2
        progress = tqdm(
            total=total, unit="item", file=sys.stderr, disable=total is None, leave=False
        )
        stack.enter_context(progress)
        for record in entail_lines(lines, timeout_ms=max(1, int(args.timeout * 1000))):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            if total is None:
                out.flush()  # a pipe reader sees each result as it is ready
            progress.update()
    return 0


def _open_input(name: str, stack: ExitStack) -> tuple[Iterator[bytes], int | None]:
    """Lines as bytes (decoded per line, so one bad line cannot stop the run) and, for a file,
    how many non-blank lines it has (the progress bar's total)."""
    if name == "-":
        return iter(sys.stdin.buffer), None
    fh: IO[bytes] = stack.enter_context(open(name, "rb"))  # noqa: SIM115 (closed by the stack)
    total = sum(1 for line in fh if line.strip())
    fh.seek(0)
    return iter(fh), total


def _open_output(name: str, stack: ExitStack) -> IO[str]:
    if name == "-":
        return sys.stdout
    return stack.enter_context(open(name, "w", encoding="utf-8"))  # noqa: SIM115
