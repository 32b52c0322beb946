"""`python -m training.run --config run.json --cases cases.jsonl`: a run without the service.

The entry point for a GPU box or cluster, alone or under `accelerate launch` (multi-GPU DDP,
DeepSpeed, FSDP; configs in deploy/training/). Cases come from `faithgate cases export --format
cases`; audit events go to a JSON Lines file kept with the run (the registry metadata carries
the lineage too); progress goes to stderr. Only the main process writes checkpoints,
the report and the registry entry.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any


def _is_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the pipeline, print the decision; exit 3 when the gate refused."""
    from training.config import GuardError, TrainConfig
    from training.pipeline import Hooks, run

    parser = argparse.ArgumentParser(prog="python -m training.run")
    parser.add_argument("--config", type=Path, required=True, help="TrainConfig as JSON")
    parser.add_argument("--cases", type=Path, required=True, help="cases JSONL")
    parser.add_argument("--audit-log", type=Path, help="append audit events here (JSONL)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = TrainConfig.from_dict(json.loads(args.config.read_text()))
    cases = [json.loads(line) for line in args.cases.open(encoding="utf-8") if line.strip()]
    main_process = _is_main()

    def audit(event: str, data: dict[str, Any]) -> None:
        if args.audit_log and main_process:
            with args.audit_log.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"event": event, "data": data}, default=str) + "\n")

    def progress(p: dict[str, Any]) -> None:
        if main_process:
            print(json.dumps(p), file=sys.stderr, flush=True)

    try:
        report = run(
            config, cases, Hooks(progress=progress, audit=audit, is_main_process=main_process)
        )
    except GuardError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    if main_process:
        print(
            json.dumps(
                {
                    "adapter": report.get("adapter"),
                    "decision": report["decision"],
                    "files": report.get("files"),
                },
                indent=2,
            )
        )
    return 0 if report["decision"]["passed"] else 3


if __name__ == "__main__":
    sys.exit(main())
