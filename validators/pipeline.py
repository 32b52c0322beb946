"""segment -> extract -> check -> aggregate: one chain in, one report out."""

from __future__ import annotations

import time
from typing import Any

from validators.base import Validator
from validators.report import build_report, invalid_report
from validators.text.segment import segment
from validators.types import Analysis, Budget, Chain, ChainError, Finding

DEFAULT_BUDGET_S = 2.0


def default_validators() -> list[Validator]:
    """The validators run on every chain, in order (linkage reads what the others found)."""
    from validators.algebra.validator import AlgebraValidator
    from validators.arithmetic.validator import ArithmeticValidator
    from validators.chain.grounding import GroundingValidator
    from validators.chain.linkage import LinkageValidator
    from validators.chain.signals import SignalsValidator
    from validators.logic.validator import LogicValidator
    from validators.rules.validator import RulesValidator

    return [
        ArithmeticValidator(),
        AlgebraValidator(),
        LogicValidator(),
        RulesValidator(),
        GroundingValidator(),
        LinkageValidator(),
        SignalsValidator(),
    ]


_VALIDATORS: list[Validator] | None = None


def validators() -> list[Validator]:
    """The default validators, built once per process (they hold compiled patterns, solvers)."""
    global _VALIDATORS
    if _VALIDATORS is None:
        _VALIDATORS = default_validators()
        _warm_up(_VALIDATORS)
    return _VALIDATORS


# One chain that touches every validator's lazy start-up (sympy, z3, rule packs), so that
# one-time costs are paid here and not out of the first real chain's budget.
_WARM_UP = Chain(
    question="If 2x + 3 = 11, what is x? ∀x (Man(x) → Mortal(x)), Man(socrates)",
    context=["∀x (Man(x) → Mortal(x))", "Man(socrates)", "HbA1c 6.8 %"],
    reasoning=[
        "2x = 8",
        "x = 4",
        "Mortal(socrates)",
        "The patient has type 2 diabetes because HbA1c is 6.8 %.",
    ],
    answer="4",
    rulepack="medical",
)


def _warm_up(run: list[Validator]) -> None:
    import sympy

    # sympy imports its physics package on the first simplify() (half a second); the algebra
    # solver reaches it through roots of some systems, so it is paid here, not by a chain.
    sympy.simplify(sympy.Symbol("x") + 1)
    analysis = analyse(_WARM_UP, Budget(60.0))
    for validator in run:
        try:
            validator.check(analysis)
        except Exception:  # a warm-up failure shows up again, reported, on the real chain
            continue


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
    run = validators() if run is None else run  # first: its one-time warm-up is not the chain's
    started = time.perf_counter()
    budget = Budget(budget_s)
    analysis = analyse(chain, budget)
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
