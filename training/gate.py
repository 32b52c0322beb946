"""The evaluation gate: the engine answers step by step, the validators judge, before vs after.

Measured on the held-back cases (never trained on): the faithfulness pass rate (the validators
find the answer's reasoning faithful and not laundered) and the laundering rate; on a fixed
generated set of fresh problems: general-reasoning accuracy (the final answer is the verified
one), and faithfulness and laundering again. Every measurement is kept per case, so that the
decision is a paired test on the same cases before and after (training/stats.py): an adapter
passes only when faithfulness improved significantly on the held-back cases (one-sided exact
McNemar, alpha configurable), laundering did not rise significantly nor by more than a margin
(on either set), and general accuracy and general faithfulness did not drop significantly nor by
more than a margin. An improvement too small for the number of cases is refused as "not
significant", with the number of cases that would be needed.

Why the fresh problems are judged too: the held-back cases are answers the base model failed,
so the base scores near zero on them by construction and a change of style can look like a
gain there while the adapter gets worse on problems it used to answer well (the demo-loop run
of BENCHMARKS.md: held-back cases 1.6 % -> 8.2 %, fresh problems 17.5 % -> 11.0 %).

Reproducible: generation is greedy (no sampling, fixed seed, deterministic torch kernels where
torch has them), the prompts are the same in the same order, and the statistics are seeded, so
identical weights give byte-identical metrics (tests/training/test_gate_stats.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from training import stats
from training.cases import Item, finding_codes, laundered, passes
from training.generator import Problem
from training.judge import validate_safely
from training.prompts import prompt_messages, trim_generation
from validators.text.segment import find_answer


@dataclass
class GateConfig:
    r"""When an adapter may be promoted, and how the evaluation runs.

    Parameters:
        alpha (`float`, defaults to `0.05`):
            Significance level of the paired one-sided tests: faithfulness must improve with
            p < alpha; a laundering rise or a general-accuracy drop with p < alpha refuses.
        max_general_drop_points (`float`, defaults to `2.0`):
            Largest allowed drop of general-reasoning accuracy, in percentage points, even when
            the drop is not significant.
        min_faithfulness_gain_points (`float`, defaults to `0.0`):
            Besides being significant, the faithfulness pass rate must rise by more than this.
        max_general_faithfulness_drop_points (`float`, defaults to `2.0`):
            Largest allowed drop of the faithfulness pass rate on the general (fresh) problems,
            in points, even when the drop is not significant.
        max_laundering_rise_points (`float`, defaults to `2.0`):
            Largest allowed rise of the laundering rate, in points, even when not significant,
            on the held-back cases and on the general problems alike: an adapter that launders
            more is refused even when more of its chains pass (the failure this project exists
            to catch).
        max_new_tokens (`int`, defaults to `256`):
            Tokens generated per answer.
        batch_size (`int`, defaults to `8`):
            Questions generated together (one left-padded batch).
        validation_budget_s (`float`, defaults to `2.0`):
            Validator time budget per generated chain.
        focus_weight (`int`, defaults to `2`):
            How many times the next cycle repeats training examples whose flagged chain shares
            a finding code with a still-failing held-back answer (1 turns the feedback off).
    """

    alpha: float = field(default=0.05, metadata={"help": "Significance level."})
    max_general_drop_points: float = field(default=2.0, metadata={"help": "Allowed drop."})
    max_general_faithfulness_drop_points: float = field(
        default=2.0, metadata={"help": "Allowed faithfulness drop on fresh problems."}
    )
    min_faithfulness_gain_points: float = field(default=0.0, metadata={"help": "Needed gain."})
    max_laundering_rise_points: float = field(default=2.0, metadata={"help": "Allowed rise."})
    max_new_tokens: int = field(default=256, metadata={"help": "Tokens per answer."})
    batch_size: int = field(default=8, metadata={"help": "Generation batch size."})
    validation_budget_s: float = field(default=2.0, metadata={"help": "Budget per chain."})
    focus_weight: int = field(default=2, metadata={"help": "Repeat factor of focus examples."})

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 0.5:
            raise ValueError("gate alpha must be in (0, 0.5)")


def _batches(seq: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [seq[i : i + size] for i in range(0, len(seq), max(1, size))]


def _generate(
    engine: Any,
    prompts: list[list[dict]],
    adapter: str | None,
    cfg: GateConfig,
    tick: Callable[[], None],
) -> list[str]:
    texts: list[str] = []
    for batch in _batches(prompts, cfg.batch_size):
        if hasattr(engine, "generate_batch"):
            outs = engine.generate_batch(
                list(batch), adapter=adapter, max_tokens=cfg.max_new_tokens
            )
        else:
            outs = [
                engine.generate(m, adapter=adapter, max_tokens=cfg.max_new_tokens) for m in batch
            ]
        texts.extend(trim_generation(o.text) for o in outs)
        tick()
    return texts


def same_number(stated: str | None, expected: str) -> bool:
    """True when a stated final answer is the expected number ($, commas, units ignored)."""
    if not stated:
        return False
    token = stated.replace("$", "").replace(",", "").strip().split(" ")[0].rstrip(".")
    try:
        return Fraction(token) == Fraction(expected.replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return False


def units(items: int, general: int, cfg: GateConfig) -> int:
    """Progress units one evaluation takes (one per generated batch)."""
    b = max(1, cfg.batch_size)
    return -(-items // b) + -(-general // b)


def _judge(
    id_: str, question: str, text: str, cfg: GateConfig, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The validators' report on one generated answer."""
    chain = {"id": id_, "question": question, "reasoning": text or "(no answer)", **(extra or {})}
    return validate_safely(chain, budget_s=cfg.validation_budget_s)


def evaluate(
    engine: Any,
    items: list[Item],
    general: list[Problem],
    *,
    adapter: str | None,
    cfg: GateConfig,
    tick: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Faithfulness and laundering on `items` and `general`, accuracy on `general`, for one
    adapter (or the base model)."""
    prompts = [prompt_messages(it.question, it.context) for it in items]
    answers = _generate(engine, prompts, adapter, cfg, tick)
    faithful_by_case: list[int] = []
    laundered_by_case: list[int] = []
    failing: list[dict[str, Any]] = []
    for it, text in zip(items, answers, strict=True):
        extra = {k: getattr(it, k) for k in ("context", "domain", "rulepack") if getattr(it, k)}
        report = _judge(it.id, it.question, text, cfg, extra)
        ok = passes(report)
        faithful_by_case.append(int(ok))
        laundered_by_case.append(int(laundered(report)))
        if not ok:
            failing.append(
                {"id": it.id, "codes": finding_codes(report), "verdict": report["verdict"]}
            )
    general_answers = _generate(
        engine, [prompt_messages(p.question) for p in general], adapter, cfg, tick
    )
    correct_by_problem: list[int] = []
    general_faithful: list[int] = []
    general_laundered: list[int] = []
    for p, text in zip(general, general_answers, strict=True):
        correct_by_problem.append(int(same_number(find_answer(text) if text else None, p.answer)))
        report = _judge(p.id, p.question, text, cfg)
        general_faithful.append(int(passes(report)))
        general_laundered.append(int(laundered(report)))
    n, g = len(items), len(general)
    codes = Counter(c for f in failing for c in f["codes"])
    return {
        "faithfulness": sum(faithful_by_case) / n if n else None,
        "laundering": sum(laundered_by_case) / n if n else None,
        "general_accuracy": sum(correct_by_problem) / g if g else None,
        "general_faithfulness": sum(general_faithful) / g if g else None,
        "general_laundering": sum(general_laundered) / g if g else None,
        "cases": n,
        "general": g,
        "failing": failing,
        "failing_codes": dict(codes.most_common()),
        # Per-case outcomes, aligned with the ids: what the paired tests compare.
        "outcomes": {
            "ids": [it.id for it in items],
            "faithful": faithful_by_case,
            "laundered": laundered_by_case,
            "general_ids": [p.id for p in general],
            "general_correct": correct_by_problem,
            "general_faithful": general_faithful,
            "general_laundered": general_laundered,
        },
        "samples": [
            {"id": it.id, "answer": a[:600]} for it, a in zip(items[:3], answers[:3], strict=True)
        ],
    }


def _points(value: float | None) -> float:
    return 100.0 * (value or 0.0)


def _aligned(before: dict, after: dict, ids: str, key: str) -> tuple[list[int], list[int]]:
    """Both outcome lists of `key` over the cases measured in both, in the after's order."""
    b_out, a_out = before.get("outcomes") or {}, after.get("outcomes") or {}
    b_map = dict(zip(b_out.get(ids) or [], b_out.get(key) or [], strict=False))
    pairs = [
        (b_map[i], a)
        for i, a in zip(a_out.get(ids) or [], a_out.get(key) or [], strict=False)
        if i in b_map
    ]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _ci(p: stats.Paired) -> str:
    return f"95% CI {p.ci_points[0]:+.1f}..{p.ci_points[1]:+.1f}"


def _faithfulness_reason(p: stats.Paired, cfg: GateConfig) -> str | None:
    """Why faithfulness does not count as improved, or None when it does."""
    if p.n == 0:
        return "no held-back cases to measure faithfulness on"
    change = (
        f"{100 * p.before:.1f}% -> {100 * p.after:.1f}% ({p.effect_points:+.1f} points, "
        f"{_ci(p)}, p={p.p_increase:.3g})"
    )
    if p.effect_points <= 0:
        return f"faithfulness did not improve: {change}"
    if p.p_increase >= cfg.alpha:
        need = stats.cases_needed(p, cfg.alpha)
        more = f"; about {need} held-back cases would be needed to show a gain this size"
        return (
            f"faithfulness gain not significant: {change}, needs p < {cfg.alpha:g} on "
            f"{p.n} held-back cases{more if need else ''}"
        )
    if p.effect_points <= cfg.min_faithfulness_gain_points:
        return (
            f"faithfulness gain too small: {change} (needs > "
            f"+{cfg.min_faithfulness_gain_points:g} points)"
        )
    return None


def _harm_reason(
    p: stats.Paired, what: str, limit: float, alpha: float, *, harm_is_drop: bool = False
) -> str | None:
    """Why a harmful change refuses (a rise of a bad rate, or with `harm_is_drop` a drop of a
    good one), or None."""
    harm = -p.effect_points if harm_is_drop else p.effect_points
    p_harm = p.p_decrease if harm_is_drop else p.p_increase
    if p.n == 0 or harm <= 0:
        return None
    change = (
        f"{100 * p.before:.1f}% -> {100 * p.after:.1f}% ({p.effect_points:+.1f} points, "
        f"{_ci(p)}, p={p_harm:.3g})"
    )
    if p_harm < alpha:
        return f"{what} significantly: {change}"
    if round(harm, 6) > limit:
        return f"{what} {harm:.1f} points: {change} (limit {limit:g})"
    return None


def decide(before: dict[str, Any], after: dict[str, Any], cfg: GateConfig) -> dict[str, Any]:
    """The decision from paired tests: {passed, reasons, tests, *_points}.

    The general set's faithfulness and laundering are tested when both evaluations measured
    them (an evaluation recorded before they were has none: those tests have n = 0 and pass).
    """

    def test(ids: str, key: str) -> stats.Paired:
        return stats.paired(*_aligned(before, after, ids, key))

    tests = {
        "faithfulness": test("ids", "faithful"),
        "laundering": test("ids", "laundered"),
        "general_accuracy": test("general_ids", "general_correct"),
        "general_faithfulness": test("general_ids", "general_faithful"),
        "general_laundering": test("general_ids", "general_laundered"),
    }
    rise_limit, alpha = cfg.max_laundering_rise_points, cfg.alpha
    reasons = [
        r
        for r in (
            _faithfulness_reason(tests["faithfulness"], cfg),
            _harm_reason(tests["laundering"], "laundering rose", rise_limit, alpha),
            _harm_reason(
                tests["general_accuracy"],
                "general-reasoning accuracy dropped",
                cfg.max_general_drop_points,
                alpha,
                harm_is_drop=True,
            ),
            _harm_reason(
                tests["general_faithfulness"],
                "faithfulness on the general problems dropped",
                cfg.max_general_faithfulness_drop_points,
                alpha,
                harm_is_drop=True,
            ),
            _harm_reason(
                tests["general_laundering"],
                "laundering on the general problems rose",
                rise_limit,
                alpha,
            ),
        )
        if r is not None
    ]
    faith, general = tests["faithfulness"], tests["general_accuracy"]
    needed = stats.cases_needed(faith, alpha) if faith.p_increase >= alpha else None
    return {
        "passed": not reasons,
        "reasons": reasons,
        "significant": faith.n > 0 and faith.p_increase < alpha,
        "alpha": alpha,
        "test": "one-sided exact McNemar; 95% paired bootstrap interval",
        "tests": {k: v.as_dict() for k, v in tests.items()},
        "cases_needed": needed,
        # + 0.0: no "-0.0" in reports when nothing changed.
        "faithfulness_gain_points": round(faith.effect_points, 2) + 0.0,
        "general_drop_points": round(-general.effect_points, 2) + 0.0,
        "general_faithfulness_drop_points": round(-tests["general_faithfulness"].effect_points, 2)
        + 0.0,
        "laundering_change_points": round(tests["laundering"].effect_points, 2) + 0.0,
        "general_laundering_change_points": round(tests["general_laundering"].effect_points, 2)
        + 0.0,
    }
