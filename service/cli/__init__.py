"""The `faithgate` command: one module per subcommand, each with register(subparsers)."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module defines register(subparsers) adding its subcommand with set_defaults(func=...).
SUBCOMMANDS = ["validate", "entail", "serve", "audit", "keys", "train", "cases", "adapters"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="faithgate",
        description="Faithfulness evaluation and audit of LLM reasoning.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"service.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
