"""The corrective loop end to end through faithgate itself, on a failure SmolLM2-135M really has.

    python -m bench.demo_loop            # the demonstration (make demo-loop); writes the results
    python -m bench.demo_loop --quick    # a few problems, writes nothing (proves the loop runs)

Task (`--task small`, the default): two-step word problems on one-digit numbers
(training/generator.py's SMALL_TEMPLATES). SmolLM2-135M mostly gets such sums and products right
when it writes them, but its answers rarely show a checkable computation, set the steps up
wrongly or state an answer no step gives: the validators flag them, and training on the
reviewed cases teaches how to set the steps up. `--task multistep` asks the generator's harder
multi-step problems, where its failures are wrong products and sums (a capability limit the
loop did not fix in the runs recorded in BENCHMARKS.md).

1. chat: the service (transformers engine, policy annotate) answers `--train` problems; every
   flagged answer opens a review case;
2. review: a reviewer script reviews each case with the generator's verified solution;
3. train: `faithgate train` on the reviewed cases (SFT + DPO, the gate on its held-back cases);
4. promote: the adapter is promoted through the API (forced, and said so, when the gate refused);
5. chat again: `--eval` held-back problems, never seen in any case, are asked through the
   service to the base model and to the adapter; faithfulness, laundering and answer accuracy
   are compared with the gate's paired test (exact McNemar, 95 % paired bootstrap interval).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import ROOT, write_section

SECTION = "demo-loop"


def chat_all(
    client: Any, key: str, problems: list[Any], model: str, max_tokens: int, concurrency: int
) -> list[dict]:
    """Ask every problem through /v1/chat/completions, `concurrency` at a time (the engine
    decodes concurrent requests together); per problem, in order: outcome and case id."""
    from concurrent.futures import ThreadPoolExecutor

    headers = {"Authorization": f"Bearer {key}"}
    answered = itertools.count(1)  # next() is atomic: the progress count of the worker threads

    def ask(p: Any) -> dict:
        body = {
            "model": model,
            "messages": [{"role": "user", "content": p.question}],
            "max_tokens": max_tokens,
            "temperature": 0,
            "policy": "annotate",
            "domain": "math",
        }
        r = client.post("/v1/chat/completions", headers=headers, json=body)
        r.raise_for_status()
        if (done := next(answered)) % 50 == 0:
            print(f"   {done}/{len(problems)} asked", file=sys.stderr, flush=True)
        return outcome(p, r.json())

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(ask, problems))


def outcome(problem: Any, data: dict) -> dict:
    """One chat's outcome: faithful, laundered, correct, verdict and review case."""
    from training.cases import laundered, passes
    from training.gate import same_number
    from validators.text.segment import find_answer

    report, text = data["faithfulness"], data["choices"][0]["message"]["content"] or ""
    return {
        "id": problem.id,
        "faithful": int(passes(report)),
        "laundered": int(laundered(report)),
        "correct": int(same_number(find_answer(text), problem.answer)),
        "verdict": report.get("verdict"),
        "case_id": report.get("case_id"),
    }


def review_all(client: Any, key: str, answers: list[dict], problems: dict[str, Any]) -> int:
    """The reviewer script: each flagged answer's case gets the verified solution as correction."""
    headers = {"Authorization": f"Bearer {key}"}
    done = 0
    for a in answers:
        if not a["case_id"]:
            continue
        body = {"verdict": "unfaithful", "corrected_reasoning": problems[a["id"]].solution}
        r = client.post(f"/v1/cases/{a['case_id']}/review", headers=headers, json=body)
        r.raise_for_status()
        done += 1
    return done


def service(work: Path, base: Path, threads: int, batch: int) -> Any:
    """A TestClient over the app (the real routes, store, engine and audit trail)."""
    from fastapi.testclient import TestClient

    from service.main import create_app
    from service.settings import Settings

    settings = Settings(
        workers=1,
        data_dir=work,
        engine="transformers",
        model=str(base),
        engine_threads=threads,
        engine_batch_size=batch,
        chat_policy="annotate",
    )
    return TestClient(create_app(settings))


def wait_ready(client: Any, timeout_s: float = 900) -> None:
    """Until /readyz answers 200 (the engine loaded)."""
    deadline = time.monotonic() + timeout_s
    while client.get("/readyz").status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("the engine did not load")
        time.sleep(1)


def compare(before: list[dict], after: list[dict]) -> dict[str, Any]:
    """The paired tests of the held-back answers, before vs after (training/stats.py)."""
    from training import stats

    out = {}
    for key in ("faithful", "laundered", "correct"):
        out[key] = stats.paired([b[key] for b in before], [a[key] for a in after]).as_dict()
    return out


def rejudge(run: Path) -> dict[str, Any]:
    """A finished run's held-back answers judged again by today's validators.

    The answers come from the run's audit trail (`RUN/faithgate.db`): a held-back problem was
    asked of the base model and of the adapter, so its question has one validation record of
    each; the pairs are matched by question and compared as the run compares them.
    """
    import sqlite3

    from training import stats
    from training.cases import laundered, passes
    from validators.pipeline import validate

    db = run / "faithgate.db"
    if not db.is_file():
        raise SystemExit(f"{db} does not exist: give the folder of a demo-loop run")
    by_question: dict[str, dict[str, dict]] = {}
    with contextlib.closing(sqlite3.connect(db)) as con:
        rows = con.execute(
            "SELECT adapter, payload FROM audit_records WHERE event = 'validation' ORDER BY id"
        )
        for adapter, payload in rows:
            chain = json.loads(payload)["input"]
            by_question.setdefault(chain["question"], {})["after" if adapter else "before"] = chain
    pairs = [v for _, v in sorted(by_question.items()) if len(v) == 2]
    reports = [(validate(v["before"]), validate(v["after"])) for v in pairs]
    out: dict[str, Any] = {"held_back_problems": len(pairs)}
    for key, judge in (
        ("faithful", passes),
        ("laundered", laundered),
    ):
        before = [int(judge(b)) for b, _ in reports]
        after = [int(judge(a)) for _, a in reports]
        out[key] = stats.paired(before, after).as_dict()
    return out


def train_options(args: argparse.Namespace, flagged: int) -> dict[str, Any]:
    """Stage options of the demonstration's `faithgate train` run.

    The gate holds back about `--gate-cases` of the flagged cases (the data's default 10 % held
    back 22 of 162 in the first full run: too few for any but a +30-point change to be
    significant).
    """
    held_share = min(0.5, max(0.1, args.gate_cases / max(flagged, 1)))
    return {
        # Plain LoRA: 135M parameters fit in float32, and this bitsandbytes' CPU 4-bit kernel
        # falls back to a slow path here (one gate batch took minutes in the --quick run).
        "model": {"quantization": "none", "cpu_threads": args.threads},
        "data": {
            "eval_fraction": round(held_share, 3),
            "eval_max": args.gate_cases,
            "general_eval_size": args.general,
        },
        "sft": {"max_steps": args.sft_steps, "max_length": 384, "lr_scheduler_type": "constant"},
        "dpo": {"max_steps": args.dpo_steps, "max_length": 384, "lr_scheduler_type": "constant"},
        "gate": {"max_new_tokens": args.max_tokens, "batch_size": args.batch},
    }


def main(argv: list[str] | None = None) -> int:
    """Run the loop; print the results; write them unless --quick/--no-write."""
    parser = argparse.ArgumentParser(prog="python -m bench.demo_loop")
    parser.add_argument("--train", type=int, default=400, help="problems chatted for cases")
    parser.add_argument("--eval", type=int, default=200, help="held-back problems (>= 200)")
    parser.add_argument("--gate-cases", type=int, default=64, help="gate's held-back cases")
    parser.add_argument("--general", type=int, default=50, help="gate's general problems")
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--sft-steps", type=int, default=40)
    parser.add_argument("--dpo-steps", type=int, default=20)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16, help="requests decoded together")
    parser.add_argument(
        "--task",
        choices=("small", "multistep"),
        default="small",
        help="problems: the generator's multi-step ones, or two steps on one-digit numbers",
    )
    parser.add_argument("--name", default="fg-demo-loop")
    parser.add_argument("--quick", action="store_true", help="a few problems, writes nothing")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--rejudge",
        type=Path,
        metavar="RUN_DIR",
        help="judge a finished run's held-back answers again with today's validators; no chat",
    )
    args = parser.parse_args(argv)
    if args.rejudge is not None:
        print(json.dumps(rejudge(args.rejudge), indent=2))
        return 0
    if args.quick:
        args.train, args.eval, args.gate_cases, args.general = 24, 8, 4, 4
        args.cycles, args.sft_steps, args.dpo_steps, args.max_tokens = 1, 2, 1, 96
        args.no_write = True

    from service.cli import main as cli
    from service.engines.model_files import ensure_default_model
    from training.generator import SMALL_TEMPLATES, problems

    started = time.monotonic()
    base = ensure_default_model(ROOT / ".faithgate")
    work = ROOT / "bench" / "out" / f"demo-loop-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    work.mkdir(parents=True)
    kind = SMALL_TEMPLATES if args.task == "small" else None
    held = list(problems(args.eval, seed=4242, prefix="demo-eval", templates=kind))
    seen = {p.question for p in held}
    candidates = problems(args.train * 2, seed=77, prefix="demo-train", templates=kind)
    pool = [p for p in candidates if p.question not in seen]
    train = pool[: args.train]
    by_id = {p.id: p for p in train}
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    stages: dict[str, float] = {}
    minutes = lambda: round((time.monotonic() - started) / 60, 1)  # noqa: E731

    def keep(name: str, answers: list[dict]) -> list[dict]:
        """Save a stage's answers in the run folder (a late failure loses no chat) and time it."""
        (work / f"{name}.json").write_text(json.dumps(answers, indent=1))
        stages[name] = minutes()
        return answers

    with service(work, base, args.threads, args.batch) as client:
        wait_ready(client)
        store = client.app.state.faithgate.store
        key = store.create_key("demo", ["generate", "review", "train"])[1]
        model = client.app.state.faithgate.runtime.engine.base_model
        log(f"1. chat: {len(train)} problems through the service ({model})")
        asked = keep("asked", chat_all(client, key, train, model, args.max_tokens, args.batch))
        log(f"2. review: {review_all(client, key, asked, by_id)} flagged answers reviewed")
        log(f"   base on {len(held)} held-back problems")
        before = keep("before", chat_all(client, key, held, model, args.max_tokens, args.batch))

    options = work / "options.json"
    flagged = sum(1 for a in asked if a["case_id"])
    options.write_text(json.dumps(train_options(args, flagged)))
    log("3. faithgate train")
    code = cli(
        ["train", "--base", str(base), "--cycles", str(args.cycles), "--name", args.name,
         "--lr", str(args.lr), "--options", str(options), "--data-dir", str(work)]
    )  # fmt: skip
    stages["train"] = minutes()
    report = json.loads((work / "training" / args.name / "report.json").read_text())
    decision = report["decision"]

    with service(work, base, args.threads, args.batch) as client:
        wait_ready(client)
        store = client.app.state.faithgate.store
        key = store.create_key("demo", ["generate", "train"])[1]
        headers = {"Authorization": f"Bearer {key}"}
        forced = not decision["passed"]
        log(f"4. promote {args.name} (gate {'refused: forced' if forced else 'passed'})")
        r = client.post(
            f"/v1/adapters/{args.name}/promote", headers=headers, json={"force": forced}
        )
        r.raise_for_status()
        log(f"5. chat again: {len(held)} held-back problems through {args.name}")
        after = keep("after", chat_all(client, key, held, args.name, args.max_tokens, args.batch))

    result = {
        "command": " ".join(["python -m bench.demo_loop", *(argv or sys.argv[1:])]),
        "args": vars(args),
        "train_problems": len(train),
        "flagged": flagged,
        "held_back_problems": len(held),
        "train_exit_code": code,
        "gate": decision,
        "promotion_forced": forced,
        "held_back": compare(before, after),
        "minutes": minutes(),
        "minutes_at_end_of": stages,
        "work": str(work),
    }
    print(json.dumps(result, indent=2))
    if not args.no_write:
        write_outputs(result, work / "training" / args.name)
    return 0


def _p_of_change(test: dict[str, Any]) -> str:
    """The exact one-sided McNemar p-value in the direction of the observed change."""
    if test["effect_points"] == 0:
        return "–"
    rise = test["effect_points"] > 0
    p = test["p_increase"] if rise else test["p_decrease"]
    shown = "< 1e-6" if p < 1e-6 else f"{p:.3g}"
    return f"{shown} ({'rise' if rise else 'fall'})"


def write_outputs(result: dict[str, Any], run_dir: Path) -> None:
    """docs/training-example/demo-loop.{json,png} and the BENCHMARKS.md section."""
    import shutil

    out = ROOT / "docs" / "training-example"
    public = {k: v for k, v in result.items() if k != "work"}
    (out / "demo-loop.json").write_text(json.dumps(public, indent=2) + "\n")
    shutil.copy(run_dir / "chart.png", out / "demo-loop-gate.png")
    h, g = result["held_back"], result["gate"]
    rows = [
        "| held-back problems | before | after | effect (95 % CI) | fixed / broken | p |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in (
        ("faithful", "faithfulness"),
        ("laundered", "laundering"),
        ("correct", "answer accuracy"),
    ):
        t = h[key]
        lo, hi = t["ci95_points"]
        rows.append(
            f"| {label} | {100 * t['before']:.1f} % | {100 * t['after']:.1f} % | "
            f"{t['effect_points']:+.1f} pts ({lo:+.1f}, {hi:+.1f}) | "
            f"{t['better']} / {t['worse']} | {_p_of_change(t)} |"
        )
    verdict = "passed (significant)" if g["passed"] else "refused: " + "; ".join(g["reasons"])
    stages = ", ".join(f"{k} {v}" for k, v in result.get("minutes_at_end_of", {}).items())
    text = (
        f"{result['minutes']} min"
        + (f" (minutes at the end of each stage: {stages})" if stages else "")
        + ". "
        f"{result['flagged']} of {result['train_problems']} chatted problems flagged and "
        f"reviewed; {result['held_back_problems']} held-back problems.\n\n"
        + "\n".join(rows)
        + f"\n\nGate: {verdict}. Promotion forced: {result['promotion_forced']}.\n"
    )
    write_section(
        SECTION,
        "The corrective loop on SmolLM2-135M: arithmetic word problems (make demo-loop)",
        result["command"],
        text + "\nChart of the gate: docs/training-example/demo-loop-gate.png.",
    )


if __name__ == "__main__":
    raise SystemExit(main())
