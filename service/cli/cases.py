"""`faithgate cases export`: review cases as TRL-ready JSON Lines (SFT, DPO, PRM) or raw.

sft: {"prompt": [user msg], "completion": [assistant msg]}  (TRL conversational prompt-completion)
dpo: {"prompt": [...], "chosen": [...], "rejected": [...]}    (TRL conversational preference)
prm: {"prompt": str, "completions": [step, ...], "labels": [bool, ...]}  (TRL stepwise)
cases: the case dicts themselves, for `python -m training.run` on another machine.

Exports apply the same dedup, held-back split and general mix as a training run (--split eval
writes the held-back side). A manifest beside the file lists the cases used, the refusals with
their reasons, and the data hash.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from service.cli.storeopts import actions, open_store, store_action


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `cases` subcommand."""
    sub = actions(subparsers, "cases", "export review cases as training data")
    export = store_action(sub, "export", "write SFT / DPO / PRM JSON Lines for TRL", run_export)
    export.add_argument("--format", required=True, choices=["sft", "dpo", "prm", "cases"])
    export.add_argument("-o", "--output", required=True, type=Path, help="JSONL file to write")
    export.add_argument(
        "--cases",
        default="status=reviewed",
        help="case filter key=value,... or 'all'; reviewed cases unless status= is given",
    )
    export.add_argument(
        "--split",
        choices=["train", "eval", "all"],
        default="train",
        help="train: never the held-back cases (default); eval: only them",
    )
    export.add_argument(
        "--mix",
        type=float,
        default=0.15,
        help="share of general-reasoning rows (default 0.15; 0 for none)",
    )
    export.add_argument(
        "--general", help="JSONL (GSM8K format) for the mix instead of the generator"
    )


def run_export(args: argparse.Namespace) -> int:
    """Build the rows, write them and the manifest; refusals are summarised on stderr."""
    from service.ops.cases import fetch_cases, parse_filter
    from training import data as data_mod

    try:
        filt = parse_filter(args.cases)
        cfg = data_mod.DataConfig(
            general_mix=0.0 if args.split == "eval" else args.mix,
            general_source=args.general or "generated",
            general_eval_size=0,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = open_store(args)
    try:
        cases = fetch_cases(store, filt)
    finally:
        store.close()
    if args.format == "cases":
        rows, sources = cases, [str(c.get("id")) for c in cases]
        bundle = None
    else:
        rows, sources, bundle = _rows(cases, cfg, args.format, args.split)
    tmp = args.output.with_name(f".{args.output.name}.partial")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    tmp.replace(args.output)
    manifest = _manifest(args, cases, sources, bundle)
    args.output.with_name(args.output.name + ".manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    )
    print(
        f"wrote {len(rows)} {args.format} rows to {args.output} from {len(cases)} cases",
        file=sys.stderr,
    )
    for reason, n in (manifest.get("refused_reasons") or {}).items():
        print(f"  refused {n}: {reason}", file=sys.stderr)
    return 0


def _rows(cases: list[dict], cfg, fmt: str, split: str):
    from training import data as data_mod

    if split == "train":
        bundle = data_mod.build(cases, cfg)
    else:
        # Everything (or only the held-back side) as training rows: build with no hold-out.
        held = set(data_mod.build(cases, cfg).held_back) if split == "eval" else None
        chosen = [c for c in cases if held is None or str(c.get("id")) in held]
        no_split = data_mod.DataConfig(
            **{**data_mod.config_dict(cfg), "eval_fraction": 0.0, "eval_min": 0}
        )
        bundle = data_mod.build(chosen, no_split)
    rows = getattr(bundle, fmt)
    sources = getattr(bundle, f"{fmt}_sources")
    return rows, sources, bundle


def _manifest(args: argparse.Namespace, cases: list[dict], sources: list[str], bundle) -> dict:
    out = {
        "format": args.format,
        "split": args.split,
        "filter": args.cases,
        "cases_matched": len(cases),
        "rows": len(sources),
        "sources": sources,
    }
    if bundle is not None:
        out["summary"] = bundle.summary()
        out["held_back_cases"] = bundle.held_back
        out["refused"] = [r.to_dict() for r in bundle.rejected]
        out["refused_reasons"] = dict(
            Counter(f"{r.kind}: {r.reason}"[:160] for r in bundle.rejected).most_common()
        )
    return out
