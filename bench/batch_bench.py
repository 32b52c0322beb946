"""Continuous batching in the transformers engine: concurrent answers, batched vs one at a time.

The same `--requests` generated word problems (SmolLM2-135M-Instruct, greedy, `--max-tokens`)
are answered one at a time and then all at once from as many threads, with the engine's
`batch_size` at each `--sizes` value. Rounds alternate the modes, so the VM's drift hits all of
them alike; every round reports its own times and how many answers are identical to the
one-at-a-time ones.

    python -m bench.batch_bench [--requests 16] [--sizes 8,16] [--rounds 2] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Any

from bench.common import ROOT, write_section

SECTION = "engine-batching"


def answer_all(engine: Any, conversations: list[list[dict]], max_tokens: int, together: bool):
    """(seconds, texts, completion tokens): one at a time, or every request in its own thread."""
    texts: list[str] = [""] * len(conversations)
    tokens = [0] * len(conversations)

    def work(i: int) -> None:
        g = engine.generate(conversations[i], max_tokens=max_tokens)
        texts[i], tokens[i] = g.text, g.completion_tokens

    started = time.perf_counter()
    if together:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(conversations))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for i in range(len(conversations)):
            work(i)
    return time.perf_counter() - started, texts, sum(tokens)


def main(argv: list[str] | None = None) -> int:
    """Run the rounds; print them; write BENCHMARKS.md unless --no-write."""
    parser = argparse.ArgumentParser(prog="python -m bench.batch_bench")
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--sizes", default="8,16", help="engine batch sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    from service.engines.config import DEFAULT_PROMPT_TEMPLATE
    from service.engines.model_files import ensure_default_model
    from service.engines.transformers_engine import TransformersEngine
    from training.generator import problems

    base = ensure_default_model(ROOT / ".faithgate")
    engine = TransformersEngine(base, threads=args.threads, hash_weights=False).load()
    conversations = [
        [{"role": "user", "content": DEFAULT_PROMPT_TEMPLATE.format(question=p.question)}]
        for p in problems(args.requests, seed=31, prefix="batch-bench")
    ]
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for round_no in range(1, args.rounds + 1):
        engine.batch_size = 1
        serial_s, reference, tokens = answer_all(engine, conversations, args.max_tokens, False)
        rows.append((round_no, 1, serial_s, tokens, len(reference)))
        for size in sizes:
            engine.batch_size = size
            seconds, texts, tokens = answer_all(engine, conversations, args.max_tokens, True)
            same = sum(a == b for a, b in zip(texts, reference, strict=True))
            rows.append((round_no, size, seconds, tokens, same))
            print(f"round {round_no}: batch {size} {seconds:.1f} s vs {serial_s:.1f} s", flush=True)
    text = render(rows, args)
    print(text)
    if not args.no_write:
        command = " ".join(["python -m bench.batch_bench", *(argv or [])])
        write_section(
            SECTION, "Model hosting: continuous batching in the transformers engine", command, text
        )
    return 0


def render(rows: list[tuple], args: argparse.Namespace) -> str:
    """The rounds as a table, and each batch size's speed-up over one at a time per round."""
    serial = {r[0]: r[2] for r in rows if r[1] == 1}
    lines = [
        f"{args.requests} generated word problems, SmolLM2-135M-Instruct float32, greedy, "
        f"max_tokens {args.max_tokens}, {args.threads} torch threads; each round answers them "
        "one at a time, then all at once from as many threads with the engine's batch size "
        "set as shown. 'same' counts answers identical to that round's one-at-a-time answers.",
        "",
        "| round | batch size | seconds | tokens | tokens/s | speed-up | same |",
        "|---|---|---|---|---|---|---|",
    ]
    speedups: dict[int, list[float]] = {}
    for round_no, size, seconds, tokens, same in rows:
        speedup = serial[round_no] / seconds
        if size > 1:
            speedups.setdefault(size, []).append(speedup)
        lines.append(
            f"| {round_no} | {size if size > 1 else '1 (one at a time)'} | {seconds:.1f} | "
            f"{tokens} | {tokens / seconds:.1f} | {speedup:.2f}x | {same}/{args.requests} |"
        )
    lines.append("")
    for size, values in speedups.items():
        lines.append(
            f"- batch {size}: speed-up {min(values):.2f}x to {max(values):.2f}x over "
            f"{len(values)} rounds (median {statistics.median(values):.2f}x)."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
