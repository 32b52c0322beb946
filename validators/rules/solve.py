"""z3 for rule packs: requirements and facts as Real/Bool constraints, entailment checks.

Each thread gets its own z3 context: z3's default context is not thread-safe, and a
service that runs chains in a thread pool must not share one (nor share other validators').
"""

from __future__ import annotations

import threading
from fractions import Fraction

import z3

from validators.rules.formula import Node

_LOCAL = threading.local()
MAX_CHECK_MS = 500


def _ctx() -> z3.Context:
    ctx = getattr(_LOCAL, "ctx", None)
    if ctx is None:
        ctx = _LOCAL.ctx = z3.Context()
        _LOCAL.vars = {}
    return ctx


def _var(name: str, flag: bool) -> z3.ExprRef:
    ctx = _ctx()
    key = (name, flag)
    if key not in _LOCAL.vars:
        _LOCAL.vars[key] = z3.Bool(name, ctx) if flag else z3.Real(name, ctx)
    return _LOCAL.vars[key]


def _real(value: Fraction) -> z3.ArithRef:
    return z3.RealVal(f"{value.numerator}/{value.denominator}", _ctx())


def to_z3(node: Node, flags: frozenset[str]) -> z3.ExprRef:
    """The z3 expression of a requirement node; `flags` are the boolean facts."""
    op, args = node.op, node.args
    if op == "num":
        return _real(node.value)  # type: ignore[arg-type]
    if op == "var":
        return _var(str(node.value), str(node.value) in flags)
    if op == "const":
        return z3.BoolVal(bool(node.value), _ctx())
    sub = [to_z3(a, flags) for a in args]
    if op == "and":
        return z3.And(*sub)
    if op == "or":
        return z3.Or(*sub)
    if op == "not":
        return z3.Not(sub[0])
    if op == "neg":
        return -sub[0]
    a, b = sub
    return {
        "+": lambda: a + b,
        "-": lambda: a - b,
        "*": lambda: a * b,
        "/": lambda: a / b,
        ">=": lambda: a >= b,
        ">": lambda: a > b,
        "<=": lambda: a <= b,
        "<": lambda: a < b,
        "==": lambda: a == b,
        "!=": lambda: a != b,
    }[op]()


def fact_constraint(name: str, op: str, value: Fraction | bool) -> z3.ExprRef:
    """The constraint one stated fact puts on its variable (hba1c == 6.8, hba1c > 6.5, flag)."""
    if isinstance(value, bool):
        var = _var(name, True)
        return var if value else z3.Not(var)
    var = _var(name, False)
    num = _real(value)
    return {
        "==": var == num,
        ">=": var >= num,
        ">": var > num,
        "<=": var <= num,
        "<": var < num,
    }[op]


def entails(facts: list[z3.ExprRef], goal: z3.ExprRef, timeout_ms: int) -> bool | None:
    """True when the facts entail the goal, False when not, None when z3 gives up (budget)."""
    solver = z3.Solver(ctx=_ctx())
    solver.set("timeout", max(1, min(MAX_CHECK_MS, timeout_ms)))
    solver.add(*facts)
    solver.add(z3.Not(goal))
    result = solver.check()
    if result == z3.unsat:
        return True
    if result == z3.sat:
        return False
    return None


def compiled(node: Node, flags: frozenset[str]) -> z3.ExprRef:
    """to_z3, cached per thread (requirements are compiled once per thread and context)."""
    _ctx()
    cache = getattr(_LOCAL, "compiled", None)
    if cache is None:
        cache = _LOCAL.compiled = {}
    key = (node, flags)
    if key not in cache:
        cache[key] = to_z3(node, flags)
    return cache[key]


def satisfiable(facts: list[z3.ExprRef], timeout_ms: int) -> bool | None:
    """Whether the facts can all hold together (None when z3 gives up)."""
    solver = z3.Solver(ctx=_ctx())
    solver.set("timeout", max(1, min(MAX_CHECK_MS, timeout_ms)))
    solver.add(*facts)
    result = solver.check()
    return None if result == z3.unknown else result == z3.sat


def any_of(constraints: list[z3.ExprRef]) -> z3.ExprRef:
    """The disjunction of constraints (a fact stated with several values: one of them holds)."""
    return z3.Or(*constraints) if len(constraints) > 1 else constraints[0]


def all_of(constraints: list[z3.ExprRef]) -> z3.ExprRef:
    """The conjunction of constraints."""
    return z3.And(*constraints) if len(constraints) > 1 else constraints[0]
