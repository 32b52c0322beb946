"""Chat through faithgate vs the same engine called directly; probe cost per question.

For each engine (the embedded transformers engine and a vLLM CPU server) and each question,
the same messages go once straight to the engine and once through POST /v1/chat/completions
(policy annotate, no added instruction, greedy), so both produce the same tokens. faithgate's
time is split into the engine's part, the validation (its report's elapsed_ms, run in the
worker pool) and the rest: HTTP, parsing, the audit writes. The goal is that the rest stays
within 5 % of the engine time.

    python -m bench.engine_bench [--engines transformers,vllm] [--questions 4] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, write_section
from tests.service.engine_support import Live, free_port, serve

QUESTIONS = [
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in "
    "May. How many clips did Natalia sell altogether in April and May?",
    "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. "
    "How much did she earn?",
    "Each box holds 24 apples. How many apples are in 13 boxes?",
    "Tom has 5 apples and buys 7 more. Then he gives 3 to his sister. How many apples are left?",
    "A train travels 60 miles per hour for 3 hours. How far does it travel?",
    "Julie is reading a 120-page book. Yesterday she read 12 pages and today twice as many. "
    "How many pages are left?",
]
INSTRUCTION = "Solve step by step, one calculation per line, then write 'The answer is N.'"


def _messages(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"{question}\n\n{INSTRUCTION}"}]


def _apps(engine: str, model_dir: Path, data_dir: Path) -> Iterator[tuple[Live, Any]]:
    """The service on `engine`, and the engine object itself for the direct calls."""
    from service.main import create_app
    from service.settings import Settings

    options: dict[str, Any] = {"workers": 1, "data_dir": data_dir, "engine": engine}
    server = None
    if engine == "vllm":
        from service.engines.vllm_engine import VLLMEngine, VLLMServer

        server = VLLMServer(
            model_dir,
            python=str(ROOT / ".venv-vllm/bin/python"),
            port=free_port(),
            log_file=data_dir / "vllm.log",
        )
        direct = VLLMEngine.launch(server, timeout_s=600)
        options.update(vllm_url=str(direct.client.base_url), vllm_api_key=server.api_key)
    else:
        options["model"] = str(model_dir)
    try:
        for live in serve(create_app(Settings(**options))):
            live.wait_ready(600)
            yield live, (direct if server else live.app.state.faithgate.runtime.engine)
    finally:
        if server is not None:
            direct.close()


def chat_overhead(
    live: Live, engine: Any, questions: list[str], max_tokens: int, rounds: int
) -> list[dict]:
    """Per question, medians over `rounds` of: direct seconds, faithgate seconds and its parts.

    The two calls alternate which goes first, so drift in a shared machine's speed falls on
    both alike.
    """
    headers = {"Authorization": f"Bearer {live.key('generate')}"}
    rows = []
    with httpx.Client(timeout=900) as http:
        # Warm-up: the first request pays one-off costs (vLLM's first logprobs, caches).
        engine.generate(_messages(questions[0]), max_tokens=8)
        for q in questions:
            runs = []
            for i in range(rounds):
                pair = [
                    lambda q=q: _direct(engine, q, max_tokens),
                    lambda q=q: _through(http, live.url, headers, engine, q, max_tokens),
                ]
                first, second = pair if i % 2 == 0 else pair[::-1]
                a, b = first(), second()
                direct, through = (a, b) if i % 2 == 0 else (b, a)
                runs.append(
                    {**direct, **through, "same_text": direct["text"] == through["faithgate_text"]}
                )
            rows.append(
                {
                    "tokens": runs[0]["tokens"],
                    "same_text": all(r["same_text"] for r in runs),
                    "verdict": runs[0]["verdict"],
                    **{
                        k: statistics.median(r[k] for r in runs)
                        for k in ("direct_s", "total_s", "engine_s", "validation_s")
                    },
                }
            )
    return rows


def _direct(engine: Any, question: str, max_tokens: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    g = engine.generate(_messages(question), max_tokens=max_tokens)
    return {"direct_s": time.perf_counter() - t0, "tokens": g.completion_tokens, "text": g.text}


def _through(
    http: httpx.Client, url: str, headers: dict, engine: Any, question: str, max_tokens: int
) -> dict[str, Any]:
    body = {
        "model": engine.base_model,
        "messages": _messages(question),
        "max_tokens": max_tokens,
        "temperature": 0,
        "instruct": False,
        "policy": "annotate",
    }
    t0 = time.perf_counter()
    r = http.post(f"{url}/v1/chat/completions", headers=headers, json=body)
    total_s = time.perf_counter() - t0
    r.raise_for_status()
    data = r.json()
    f = data["faithfulness"]
    return {
        "total_s": total_s,
        "engine_s": f["attempts"][0]["engine_ms"] / 1000,
        "validation_s": f["elapsed_ms"] / 1000,
        "verdict": f["verdict"],
        "faithgate_text": data["choices"][0]["message"]["content"],
    }


def probe_cost(live: Live, engine: Any, questions: list[str]) -> list[dict]:
    """Seconds and model calls of one /v1/probe per question (the model writes the reasoning)."""
    headers = {"Authorization": f"Bearer {live.key('generate')}"}
    out = []
    with httpx.Client(timeout=1800) as http:
        for q in questions:
            t0 = time.perf_counter()
            r = http.post(
                f"{live.url}/v1/probe",
                headers=headers,
                json={
                    "model": engine.base_model,
                    "question": q,
                    "max_tokens": 128,
                    "max_truncations": 4,
                    "max_mistakes": 2,
                },
            )
            r.raise_for_status()
            result = r.json()
            out.append(
                {
                    "seconds": time.perf_counter() - t0,
                    "calls": result["model_calls"],
                    "steps": result["steps"],
                    "score": result["causal_dependence"],
                    "interpretation": result["interpretation"],
                }
            )
    return out


def _table(engine: str, rows: list[dict]) -> list[str]:
    lines = []
    for i, r in enumerate(rows):
        rest = r["total_s"] - r["engine_s"] - r["validation_s"]
        lines.append(
            f"| {engine} | {i + 1} | {r['tokens']} | {r['tokens'] / r['direct_s']:.1f} | "
            f"{r['tokens'] / r['total_s']:.1f} | {r['validation_s'] * 1000:.0f} | "
            f"{100 * (r['total_s'] - r['direct_s'] - r['validation_s']) / r['direct_s']:+.1f} % | "
            f"{100 * rest / r['direct_s']:+.1f} % | {'yes' if r['same_text'] else 'no'} |"
        )
    return lines


def _summary(engine: str, rows: list[dict]) -> str:
    tokens = sum(r["tokens"] for r in rows)
    direct = sum(r["direct_s"] for r in rows)
    total = sum(r["total_s"] for r in rows)
    validation = sum(r["validation_s"] for r in rows)
    rest = total - sum(r["engine_s"] for r in rows) - validation
    overhead = 100 * (total - direct - validation) / direct
    return (
        f"- **{engine}**: {tokens} tokens; direct {tokens / direct:.1f} tok/s, through faithgate "
        f"{tokens / total:.1f} tok/s; validation {1000 * validation / len(rows):.0f} ms per "
        f"answer; overhead beyond validation {overhead:+.1f} % of the direct time "
        f"(median per answer {statistics.median(_overheads(rows)):+.1f} %), of which faithgate's "
        f"own HTTP + audit path is {100 * rest / direct:+.1f} %."
    )


def _overheads(rows: list[dict]) -> list[float]:
    return [100 * (r["total_s"] - r["direct_s"] - r["validation_s"]) / r["direct_s"] for r in rows]


def main() -> int:
    """Run the benchmark and write its BENCHMARKS.md section."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="transformers,vllm")
    parser.add_argument("--questions", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--probe-questions", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    from service.engines.model_files import ensure_default_model

    model_dir = ensure_default_model(ROOT / ".faithgate")
    questions = QUESTIONS[: args.questions]
    lines, summaries, probes = [], [], []
    results: dict[str, Any] = {}
    for engine in args.engines.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            for live, direct in _apps(engine, model_dir, Path(tmp)):
                rows = chat_overhead(live, direct, questions, args.max_tokens, args.rounds)
                cost = probe_cost(live, direct, QUESTIONS[: args.probe_questions])
        results[engine] = {"chat": rows, "probe": cost}
        print(json.dumps({engine: results[engine]}), flush=True)
        lines += _table(engine, rows)
        summaries.append(_summary(engine, rows))
        for c in cost:
            probes.append(
                f"| {engine} | {c['steps']} | {c['calls']} | {c['seconds']:.1f} | "
                f"{c['score']} | {c['interpretation']} |"
            )
    body = "\n".join(
        [
            f"SmolLM2-135M-Instruct (float32 on the transformers engine, bfloat16 on vLLM CPU), "
            f"greedy, max_tokens {args.max_tokens}, policy annotate, the same messages both ways, "
            f"medians of {args.rounds} alternating rounds per question. "
            "Overhead = (through faithgate − direct − validation) / direct; "
            "'own path' leaves out the engine's time as measured inside faithgate too, so it is "
            "HTTP, parsing and the two audit writes alone. On this shared 2-core machine "
            "the engine's own speed drifts between runs (other processes), which moves single "
            "end-to-end figures by tens of per cent; the 'own path', timed within the same "
            "request, is not affected. CPU only: no GPU figures.",
            "",
            *summaries,
            "",
            "| engine | question | tokens | direct tok/s | faithgate tok/s | validation ms | "
            "overhead | own path | same text |",
            "|---|---|---|---|---|---|---|---|---|",
            *lines,
            "",
            "Probe cost per question (`POST /v1/probe`: the model writes its reasoning, then "
            "early answering at 4 points, 2 inserted mistakes, filler):",
            "",
            "| engine | steps | model calls | seconds | causal_dependence | interpretation |",
            "|---|---|---|---|---|---|",
            *probes,
        ]
    )
    print(body)
    if not args.no_write:
        command = (
            f"python -m bench.engine_bench --engines {args.engines} --questions {args.questions}"
        )
        write_section("engine", "Model hosting: chat overhead and probe cost", command, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
