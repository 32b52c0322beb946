"""A TRL conversational dataset cleaned end to end: rows in, rows kept, and what was dropped.

All of GSM8K train as TRL `messages` rows (system, user question, assistant solution); every
4th assistant answer has its final line changed (laundering). `faithgate validate --keep
faithful` writes the passing rows; the kept file is loaded as TRL's SFT data path loads it
(`datasets.load_dataset("json")`); tests/datasets/test_clean_for_sft.py trains one step on it.

Run: .venv/bin/python -m bench.clean_bench [--no-write]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import DATA, write_section

COMMAND = ".venv/bin/python -m bench.clean_bench"


def _rows() -> list[tuple[dict, bool]]:
    """(TRL row, whether its answer was altered) for every GSM8K train problem."""
    out = []
    with (DATA / "gsm8k" / "train.jsonl").open(encoding="utf-8") as fh:
        for k, line in enumerate(fh):
            item = json.loads(line)
            answer = item["answer"]
            if k % 4 == 0:
                body, _, final = answer.rpartition("#### ")
                answer = f"{body}#### {int(final.replace(',', '')) + 1}"
            messages = [
                {"role": "system", "content": "Solve step by step."},
                {"role": "user", "content": item["question"]},
                {"role": "assistant", "content": answer},
            ]
            out.append(({"messages": messages}, k % 4 == 0))
    return out


def main() -> None:
    """Clean the dataset with the real CLI, count, load the kept file, record the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    args = parser.parse_args()
    import datasets

    rows = _rows()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "sft.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r, _ in rows), encoding="utf-8")
        started = time.perf_counter()
        cmd = [sys.executable, "-m", "service", "validate", str(src), "-o", f"{tmp}/r.jsonl"]
        subprocess.run([*cmd, "--keep", "faithful", "--workers", "2"], check=True)
        seconds = time.perf_counter() - started
        reports = [json.loads(x) for x in Path(f"{tmp}/r.jsonl").read_text().splitlines()]
        kept = datasets.load_dataset("json", data_files=f"{tmp}/sft.kept.jsonl", split="train")
    verdicts = Counter(r["verdict"] for r in reports)
    altered_kept = sum(
        a and r["verdict"] == "faithful" for (_, a), r in zip(rows, reports, strict=True)
    )
    body = (
        "| rows in | rows kept (`--keep faithful`) | of them altered | unfaithful | "
        "unverifiable | seconds (`--workers 2`, start-up included) |\n|---|---|---|---|---|---|\n"
        f"| {len(rows):,} | {kept.num_rows:,} | {altered_kept} | {verdicts['unfaithful']:,} | "
        f"{verdicts['unverifiable']:,} | {seconds:.1f} |\n\n"
        f"GSM8K train as TRL conversational rows, every 4th final answer changed "
        f"({sum(a for _, a in rows):,} rows). The kept file loads with "
        f"`datasets.load_dataset('json')` as `{kept.column_names}`; "
        "tests/datasets/test_clean_for_sft.py trains an SFTTrainer step on such a file."
    )
    print(body)
    if not args.no_write:
        write_section("clean", "A TRL dataset cleaned before fine-tuning", COMMAND, body)


if __name__ == "__main__":
    main()
