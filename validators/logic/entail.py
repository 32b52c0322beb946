"""z3 entailment over FOL formulas, and the JSON Lines runner behind `faithgate entail`.

`entails(premises, conclusion)` answers "entailed" (premises ∧ ¬c unsat), "contradicted"
(premises ∧ c unsat), "unknown" (neither: some model of the premises makes c true and another
false, or z3 could not decide in time), or "error" when the premises are inconsistent (they would
entail everything, so no answer about c means anything).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import z3

from validators.logic.fol import FolError, Formula, Not, Parsed, Z3Translator, parse
from validators.types import Budget

Result = Literal["entailed", "contradicted", "unknown", "error"]
DEFAULT_TIMEOUT_MS = 10_000
MAX_LINE_CHARS = 1_000_000
MAX_PREMISES = 1_000
INCONSISTENT = "the premises are inconsistent: they entail every formula"


@dataclass(frozen=True)
class Entailment:
    """A verdict, why, and whether z3 decided it (False: it returned unknown or timed out)."""

    result: Result
    message: str
    decided: bool = True


class Prover:
    """A z3 solver holding premises in its own context; each question is asked under push/pop.

    One z3 context per prover keeps provers independent (z3 contexts are not shared across
    threads). The timeout of each check is the smaller of `timeout_ms` and what the budget has left.
    E-matching is off: on these pure first-order theories model-based instantiation alone decides
    what e-matching makes z3 give up on (a 50-rule chain ∀x (P_i(x) → P_i+1(x)) comes back
    "incomplete quantifiers" with it, sat in 20 ms without); it is tried once when MBQI gives up.
    """

    def __init__(
        self,
        premises: Sequence[Formula],
        *,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        budget: Budget | None = None,
    ) -> None:
        self.ctx = z3.Context()
        self.translator = Z3Translator(self.ctx)
        self.solver = z3.Solver(ctx=self.ctx)
        self.solver.set("smt.ematching", False)
        self.timeout_ms = timeout_ms
        self.budget = budget
        self._consistent: z3.CheckSatResult | None = None
        self._reason = ""  # why the last check came back unknown
        self._known: set[Formula] = set()
        for premise in premises:
            self.assume(premise)

    def assume(self, formula: Formula, verdict: Entailment | None = None) -> None:
        """Add a formula to the premises; `verdict` (its check against them) keeps the cached
        consistency valid: a consequence changes nothing, a formula they allow keeps them sat."""
        self.solver.add(self.translator.formula(formula))
        self._known.add(formula)
        if verdict is None:
            self._consistent = None
        elif verdict.result == "unknown" and verdict.decided:
            self._consistent = z3.sat
        elif verdict.result != "entailed":
            self._consistent = z3.unknown

    def consistency(self) -> z3.CheckSatResult:
        """sat (consistent), unsat (inconsistent) or unknown; cached until the premises change."""
        if self._consistent is None:
            self._consistent = self._check()
        return self._consistent

    def check(self, conclusion: Formula, assuming: Sequence[Formula] = ()) -> Entailment:
        """Whether the premises (plus `assuming`, for this question only) entail, contradict or
        leave open `conclusion`."""
        known = self._known.union(assuming)
        extra = [self.translator.formula(f) for f in assuming]
        refuted = self._with(_negate(conclusion), known, extra)
        # A model of premises ∧ ¬c shows the premises consistent without asking z3 again.
        consistent = z3.sat if refuted == z3.sat else self._consistency(extra)
        if consistent == z3.unsat:
            return Entailment("error", INCONSISTENT)
        if refuted == z3.unsat:
            return Entailment("entailed", "the premises entail the conclusion")
        if consistent != z3.sat:
            return self._undecided()
        confirmed = self._with(conclusion, known, extra)
        if confirmed == z3.unsat:
            return Entailment("contradicted", "the premises entail the negation of the conclusion")
        if refuted == z3.sat and confirmed == z3.sat:
            return Entailment(
                "unknown", "neither entailed nor contradicted: the premises allow both"
            )
        return self._undecided()

    def _with(
        self, formula: Formula, known: set[Formula], extra: list[z3.BoolRef]
    ) -> z3.CheckSatResult:
        """Satisfiability of premises ∧ extra ∧ formula; no z3 call when the formula or its
        negation is a premise (z3 can take seconds to re-find a model it already found)."""
        if formula in known:
            return self._consistency(extra)
        if _negate(formula) in known:
            return z3.unsat
        return self._check(self.translator.formula(formula), *extra)

    def _consistency(self, extra: list[z3.BoolRef]) -> z3.CheckSatResult:
        return self._check(*extra) if extra else self.consistency()

    def _check(self, *extra: z3.BoolRef) -> z3.CheckSatResult:
        self.solver.push()
        try:
            self.solver.add(*extra)
            result = self._solve()
            if result == z3.unknown and "incomplete" in self._reason:
                self.solver.set("smt.ematching", True)
                try:
                    result = self._solve()
                finally:
                    self.solver.set("smt.ematching", False)
            return result
        finally:
            self.solver.pop()

    def _solve(self) -> z3.CheckSatResult:
        timeout = self.timeout_ms
        if self.budget is not None:
            timeout = min(timeout, int(self.budget.remaining() * 1000))
        if timeout <= 0:
            self._reason = "the time budget ran out"
            return z3.unknown
        self.solver.set("timeout", timeout)
        result = self.solver.check()
        self._reason = self.solver.reason_unknown() if result == z3.unknown else ""
        if self._reason in ("canceled", "timeout"):
            self._reason = f"the time limit of {timeout} ms ran out"
        return result

    def _undecided(self) -> Entailment:
        return Entailment("unknown", f"z3 could not decide ({self._reason or 'unknown'})", False)


def _negate(formula: Formula) -> Formula:
    return formula.arg if isinstance(formula, Not) else Not(formula)


def _formula(item: str | Parsed | Formula) -> Formula:
    if isinstance(item, str):
        return parse(item).formula
    return item.formula if isinstance(item, Parsed) else item


def check_entailment(
    premises: Sequence[str | Parsed | Formula],
    conclusion: str | Parsed | Formula,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> Entailment:
    """The verdict with its message; raises FolError when a formula does not parse."""
    prover = Prover([_formula(p) for p in premises], timeout_ms=timeout_ms)
    return prover.check(_formula(conclusion))


def entails(
    premises: Sequence[str | Parsed | Formula],
    conclusion: str | Parsed | Formula,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> Result:
    """The verdict alone: entailed, contradicted, unknown, or error (inconsistent premises)."""
    return check_entailment(premises, conclusion, timeout_ms=timeout_ms).result


# ---------------------------------------------------------------- JSON Lines


def entail_lines(
    lines: Iterable[str | bytes], *, timeout_ms: int = DEFAULT_TIMEOUT_MS
) -> Iterator[dict[str, Any]]:
    """One {"id", "result", "message"} per non-blank line, in order; bad lines give "error"."""
    for number, line in enumerate(lines, 1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield _error(None, f"line {number}: invalid UTF-8 at byte {exc.start}")
                continue
        if line.strip():
            yield entail_record(line, number, timeout_ms=timeout_ms)


def entail_record(
    line: str, number: int, *, timeout_ms: int = DEFAULT_TIMEOUT_MS
) -> dict[str, Any]:
    """The result for one JSON line `{"id", "premises": [...], "conclusion": ...}`."""
    where = f"line {number}"
    if len(line) > MAX_LINE_CHARS:
        return _error(None, f"{where}: longer than {MAX_LINE_CHARS} characters")
    try:
        data = json.loads(line)
    except RecursionError:
        return _error(None, f"{where}: JSON nested too deeply")
    except ValueError as exc:
        return _error(None, f"{where}: invalid JSON: {exc}")
    if not isinstance(data, dict):
        return _error(None, f"{where}: expected a JSON object")
    item_id = data.get("id")
    if item_id is not None and (isinstance(item_id, bool) or not isinstance(item_id, (str, int))):
        return _error(None, f"{where}: 'id' must be a string or an integer")
    try:
        premises, conclusion, notes = _read_item(data)
        budget = Budget(timeout_ms / 1000)  # all of the item's questions share its time
        verdict = Prover(premises, timeout_ms=timeout_ms, budget=budget).check(conclusion)
    except _BadItem as exc:
        return _error(item_id, f"{where}: {exc}")
    except z3.Z3Exception as exc:
        return _error(item_id, f"{where}: z3 failed: {str(exc)[:200]}")
    message = verdict.message + "".join(f"; {note}" for note in notes)
    return {"id": item_id, "result": verdict.result, "message": message}


class _BadItem(ValueError):
    pass


def _read_item(data: dict[str, Any]) -> tuple[list[Formula], Formula, list[str]]:
    premises = data.get("premises")
    if not isinstance(premises, list) or not all(isinstance(p, str) for p in premises):
        raise _BadItem("'premises' must be a list of strings")
    if len(premises) > MAX_PREMISES:
        raise _BadItem(f"more than {MAX_PREMISES} premises")
    conclusion = data.get("conclusion")
    if not isinstance(conclusion, str):
        raise _BadItem("'conclusion' must be a string")
    parsed, notes = [], []
    for k, text in enumerate([*premises, conclusion]):
        name = f"premise {k + 1}" if k < len(premises) else "conclusion"
        try:
            item = parse(text)
        except FolError as exc:
            raise _BadItem(f"{name} does not parse: {exc}") from None
        if item.repaired:
            notes.append(f"{name} read with a repair ({item.repaired})")
        parsed.append(item.formula)
    return parsed[:-1], parsed[-1], notes


def _error(item_id: Any, message: str) -> dict[str, Any]:
    return {"id": item_id, "result": "error", "message": message}
