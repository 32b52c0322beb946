"""segment -> extract -> check -> aggregate: one chain in, one report out."""

from __future__ import annotations

import time
from typing import Any

from validators.base import Validator
from validators.report import build_report, invalid_report
from validators.segment import segment
from validators.types import Analysis, Budget, Chain, ChainError, Finding

DEFAULT_BUDGET_S = 2.0


def default_validators() -> list[Validator]:
    """The validators run on every chain, in order (linkage reads what the others found)."""
    from validators import algebra, arithmetic, grounding, linkage, logic, rules, signals

    return [
        arithmetic.ArithmeticValidator(),
        algebra.AlgebraValidator(),
        logic.LogicValidator(),
        rules.RulesValidator(),
        grounding.GroundingValidator(),
        linkage.LinkageValidator(),
        signals.SignalsValidator(),
    ]


_VALIDATORS: list[Validator] | None = None


def validators() -> list[Validator]:
    """The default validators, built once per process (they hold compiled patterns, solvers)."""
    global _VALIDATORS
    if _VALIDATORS is None:
        _VALIDATORS = default_validators()
    return _VALIDATORS


def analyse(chain: Chain, budget: Budget) -> Analysis:
    """Segment a chain into steps and find its answer."""
    steps, answer, inferred = segment(chain)
    analysis = Analysis(chain=chain, steps=steps, answer=answer, budget=budget)
    analysis.scratch["answer_is_last_step"] = inferred
    for step in steps:
        if step.unchecked_reason:
            analysis.add(
                Finding(
                    "segment", "segment.unchecked", "info", step.unchecked_reason, step=step.index
                )
            )
    return analysis


def validate_chain(
    chain: Chain, *, budget_s: float = DEFAULT_BUDGET_S, run: list[Validator] | None = None
) -> dict[str, Any]:
    """Run every validator over one chain and return its report (a JSON-ready dict)."""
    started = time.perf_counter()
    budget = Budget(budget_s)
    analysis = analyse(chain, budget)
    run = validators() if run is None else run
    for validator in run:
        if budget.expired():
            analysis.add(
                Finding(
                    validator.name,
                    "budget.exceeded",
                    "info",
                    f"the {budget_s:g} s budget ran out before {validator.name} ran",
                )
            )
            continue
        try:
            validator.check(analysis)
        except RecursionError:
            analysis.add(_crash(validator, "input nested too deeply"))
        except Exception as exc:  # a validator bug must cost one check, never the whole report
            analysis.add(_crash(validator, f"{type(exc).__name__}: {str(exc)[:200]}"))
    return build_report(analysis, run, started)


def validate(data: Any, *, budget_s: float = DEFAULT_BUDGET_S) -> dict[str, Any]:
    """Validate a chain given as decoded JSON; a malformed one yields an `input.invalid` report."""
    started = time.perf_counter()
    try:
        chain = Chain.from_dict(data)
    except ChainError as exc:
        chain_id = data.get("id") if isinstance(data, dict) else None
        return invalid_report(chain_id if isinstance(chain_id, str) else None, str(exc), started)
    return validate_chain(chain, budget_s=budget_s)


def _crash(validator: Validator, why: str) -> Finding:
    return Finding(
        validator.name,
        f"{validator.name}.unchecked",
        "info",
        f"{validator.name} could not check this chain: {why}",
    )
