"""Streaming: time to first token and tokens/s through faithgate vs the bare engine.

For each engine and question, the same messages are streamed once from the bare engine and
once through faithgate's POST /v1/chat/completions (stream, policy annotate, greedy, no added
instruction), alternating which goes first each round so that a shared machine's drift falls
on both alike. Bare transformers is the embedded engine's own stream() in this process; bare
vLLM is the vLLM server's own streaming endpoint over HTTP. Goal: faithgate's time to first
token within +5 % (+ at most 20 ms) of the engine's own.

    python -m bench.stream_bench [--engines transformers,vllm] [--questions 4] [--rounds 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, write_section
from bench.engine_bench import QUESTIONS, _apps, _messages
from tests.service.engine_support import Live


def _bare(engine: Any, question: str, max_tokens: int) -> dict[str, float]:
    """Stream from the engine itself: in process (transformers) or its own server (vLLM)."""
    times: list[float] = []
    t0 = time.perf_counter()
    if engine.kind == "vllm":
        body = {
            "model": engine.base_model,
            "messages": _messages(question),
            "max_tokens": max_tokens,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        tokens = _sse(engine.client, "/v1/chat/completions", body, times)
    else:

        def on_text(delta: str) -> None:
            times.append(time.perf_counter())

        g = engine.stream(_messages(question), on_text=on_text, max_tokens=max_tokens)
        tokens = g.completion_tokens
    return _timing(t0, times, tokens, time.perf_counter())


def _faithgate(http: httpx.Client, live: Live, model: str, question: str, n: int) -> dict:
    """Stream through faithgate; also when the final report arrived after the last token."""
    body = {
        "model": model,
        "messages": _messages(question),
        "max_tokens": n,
        "temperature": 0,
        "instruct": False,
        "policy": "annotate",
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    times: list[float] = []
    t0 = time.perf_counter()
    tokens = _sse(http, f"{live.url}/v1/chat/completions", body, times)
    return _timing(t0, times, tokens, time.perf_counter())


def _sse(http: httpx.Client, url: str, body: dict, times: list[float]) -> int:
    """Read an OpenAI chunk stream, noting when each content delta came; completion tokens."""
    tokens = 0
    with http.stream("POST", url, json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            for choice in chunk.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    times.append(time.perf_counter())
    return tokens


def _timing(t0: float, times: list[float], tokens: int, end: float) -> dict[str, float]:
    decode_s = times[-1] - times[0] if len(times) > 1 else float("nan")
    return {
        "ttft_ms": (times[0] - t0) * 1000,
        "tok_s": (tokens - 1) / decode_s if decode_s > 0 else float("nan"),
        "tail_ms": (end - times[-1]) * 1000,  # last token to the end of the response
        "tokens": tokens,
    }


def compare(live: Live, engine: Any, questions: list[str], max_tokens: int, rounds: int) -> list:
    """Per question, medians over alternating rounds of both ways' TTFT, tok/s and tail."""
    headers = {"Authorization": f"Bearer {live.key('generate')}"}
    rows = []
    with httpx.Client(timeout=900, headers=headers) as http:
        _bare(engine, questions[0], 8)  # warm-up: one-off costs on neither side
        _faithgate(http, live, engine.base_model, questions[0], 8)
        for q in questions:
            bare: list[dict] = []
            through: list[dict] = []
            for i in range(rounds):
                for way in ("bare", "faithgate") if i % 2 == 0 else ("faithgate", "bare"):
                    if way == "bare":
                        bare.append(_bare(engine, q, max_tokens))
                    else:
                        through.append(_faithgate(http, live, engine.base_model, q, max_tokens))
            rows.append(
                {
                    "tokens": bare[0]["tokens"],
                    **{f"bare_{k}": statistics.median(r[k] for r in bare) for k in bare[0]},
                    **{f"fg_{k}": statistics.median(r[k] for r in through) for k in through[0]},
                }
            )
    return rows


def main() -> int:
    """Run the benchmark and write its BENCHMARKS.md section."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="transformers,vllm")
    parser.add_argument("--questions", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    from service.engines.model_files import ensure_default_model

    model_dir = ensure_default_model(ROOT / ".faithgate")
    lines, summaries = [], []
    for name in args.engines.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            for live, direct in _apps(name, model_dir, Path(tmp)):
                engine = direct if name == "vllm" else live.app.state.faithgate.runtime.engine
                rows = compare(
                    live, engine, QUESTIONS[: args.questions], args.max_tokens, args.rounds
                )
        print(json.dumps({name: rows}), flush=True)
        for i, r in enumerate(rows):
            limit = r["bare_ttft_ms"] * 1.05 + 20
            lines.append(
                f"| {name} | {i + 1} | {r['tokens']} | {r['bare_ttft_ms']:.0f} | "
                f"{r['fg_ttft_ms']:.0f} | {r['fg_ttft_ms'] - r['bare_ttft_ms']:+.0f} | "
                f"{'yes' if r['fg_ttft_ms'] <= limit else 'no'} | {r['bare_tok_s']:.1f} | "
                f"{r['fg_tok_s']:.1f} | {r['fg_tail_ms']:.0f} |"
            )
        bare = statistics.median(r["bare_ttft_ms"] for r in rows)
        fg = statistics.median(r["fg_ttft_ms"] for r in rows)
        met = sum(r["fg_ttft_ms"] <= r["bare_ttft_ms"] * 1.05 + 20 for r in rows)
        summaries.append(
            f"- **{name}**: median TTFT bare {bare:.0f} ms, through faithgate {fg:.0f} ms "
            f"({fg - bare:+.0f} ms, {100 * (fg - bare) / bare:+.1f} %); within +5 % + 20 ms on "
            f"{met} of {len(rows)} questions; decode "
            f"{statistics.median(r['bare_tok_s'] for r in rows):.1f} tok/s bare, "
            f"{statistics.median(r['fg_tok_s'] for r in rows):.1f} tok/s through faithgate."
        )
    body = "\n".join(
        [
            f"SmolLM2-135M-Instruct, greedy, max_tokens {args.max_tokens}, policy annotate, "
            f"stream, the same messages both ways, medians of {args.rounds} alternating rounds "
            "per question. Bare transformers = the embedded engine's stream() in process (no "
            "HTTP); bare vLLM = the vLLM CPU server's own streaming endpoint. TTFT = request "
            "sent to first content delta; decode tok/s = (tokens − 1) / (last − first delta); "
            "tail = last token to the end of the response (faithgate: final validation, audit "
            "commit, last chunk). The machine is shared (2 cores, other engineers' tests "
            "running), so single figures drift; rounds alternate so drift falls on both. "
            "Through faithgate the step validations run in the worker pool while the model "
            "generates, so on 2 cores they compete with the engine for CPU.",
            "",
            *summaries,
            "",
            "| engine | question | tokens | bare TTFT ms | faithgate TTFT ms | Δ ms | "
            "within +5 %+20 ms | bare tok/s | faithgate tok/s | faithgate tail ms |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *lines,
        ]
    )
    print(body)
    if not args.no_write:
        command = (
            f"python -m bench.stream_bench --engines {args.engines} --questions "
            f"{args.questions} --rounds {args.rounds} --max-tokens {args.max_tokens}"
        )
        write_section("stream", "Streaming: time to first token through faithgate", command, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
