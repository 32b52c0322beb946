"""Shortcuts taken for speed (issue 16) find exactly what the plain way finds.

The linear-algebra shortcuts of the algebra validator decide what Groebner bases decide.

Random systems of linear equations (some inconsistent, some under-determined, some with
an equation that repeats or contradicts the others) are judged twice: with the exact
elimination of validators/linear.py and with every shortcut turned off (sympy's Groebner
bases, sympy.Poly, sympy.cancel); each judgement, solution and determined value must agree.
Also here: blame's `follows` (judge without its work past "implied"), a new letter taken as
a premise without bases, the lexer's runs of plain words, its gap, and the signals' word
normalisation.

The algebra system is loaded from its source here, apart from the compiled build: switching a
shortcut off means patching the module, and compiled code calls its own functions directly.
tests/validators/test_native.py shows that the compiled build reports what the source does.
"""

from __future__ import annotations

import importlib.util
import random
import re
import string
import sys
from pathlib import Path
from types import ModuleType

import pytest
import sympy
from sympy.polys.polyerrors import GeneratorsNeeded

from bench.corrupt import load_gsm8k, split_solution
from tests.validators.test_fast_paths import TRICKY, _key, _perturbed, _phrases
from validators.arithmetic import extract
from validators.arithmetic import tokens as arithtokens
from validators.chain import signals
from validators.types import Budget


def _from_source(name: str) -> ModuleType:
    """A validators module executed from its .py file under its own name (never compiled)."""
    path = Path(__file__).resolve().parents[2] / (name.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(f"{name}_from_source", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


algebra_system = _from_source("validators.algebra.system")
KnownSystem, Unchecked = algebra_system.KnownSystem, algebra_system.Unchecked
determined_values, to_equation = algebra_system.determined_values, algebra_system.to_equation

X, Y, Z, W = sympy.symbols("x y z w")
VARS = [X, Y, Z, W]


def _linear_expr(rng: random.Random, names: list[sympy.Symbol]) -> sympy.Expr:
    coeffs = [0, 1, -1, 2, 3, sympy.Rational(1, 2), sympy.Rational(-3, 4), 10]
    expr = sum(
        (rng.choice(coeffs) * v for v in rng.sample(names, rng.randint(1, min(2, len(names))))), 0
    )
    return expr + rng.choice([0, 1, -2, sympy.Rational(5, 3), 100])


def _equations(rng: random.Random, n: int) -> list[algebra_system.Eq]:
    """Equations true at one random point (so later ones are often implied), some made false."""
    names = VARS[: rng.randint(1, 4)]
    point = {v: sympy.Integer(rng.randint(-5, 5)) for v in names}
    eqs = []
    for i in range(n):
        lhs = _linear_expr(rng, names)
        rhs = lhs.subs(point) + (rng.choice([1, -3]) if rng.random() < 0.2 else 0)
        if rng.random() < 0.5:
            lhs, rhs = lhs - rhs + _linear_expr(rng, names), _linear_expr(rng, names)
            rhs = rhs - rhs.subs(point) + lhs.subs(point)
        if rng.random() < 0.2:  # `x = 3`, then maybe `x = 4`: a letter reused
            v = rng.choice(names)
            lhs, rhs = v, point[v] + rng.choice([0, 0, 1])
        try:
            eqs.append(to_equation(lhs, rhs, f"e{i}"))
        except (Unchecked, GeneratorsNeeded):  # no letter left: not the algebra validator's
            continue
    return eqs


def _run(seed: int, make=None, most: int = 7) -> list:
    """Judge a random chain of equations (from `make`, default _equations) as the validator
    does: each against the ones before."""
    rng = random.Random(seed)
    system, out = KnownSystem(), []
    for eq in (make or _equations)(rng, rng.randint(1, most)):
        try:
            j = system.judge(eq)
        except Unchecked as exc:
            out.append(("unchecked", str(exc)))
            continue
        out.append(
            (j.kind, [e.text for e in j.known], j.solutions, sympy.srepr(eq.expr), eq.degree)
        )
        if j.kind in ("premise", "redefines", "narrows"):
            system.add(eq)
        elif j.kind == "contradicts" and j.known:
            system.replace_component(eq)
    out.append(determined_values(system, Budget(60.0)))
    return out


def test_linear_elimination_judges_as_groebner_bases_do(monkeypatch):
    fast = [_run(seed) for seed in range(400)]
    kinds = {k[0] for run in fast for k in run[:-1]}
    assert {"implied", "premise", "contradicts", "identity", "redefines"} <= kinds
    monkeypatch.setattr(algebra_system.Eq, "linear", property(lambda self: None))
    monkeypatch.setattr(algebra_system, "_linear_numerator", lambda diff: None)
    assert [_run(seed) for seed in range(400)] == fast


def _follows_as_judged(seed: int) -> list[bool]:
    """follows(eq) beside judge(eq) for a random chain of equations (they must agree)."""
    rng = random.Random(seed)
    system, out = KnownSystem(), []
    for eq in _equations(rng, rng.randint(1, 7)):
        try:
            j = system.judge(eq)
        except Unchecked:
            with pytest.raises(Unchecked):
                system.follows(eq)
            continue
        follows = system.follows(eq)
        assert follows == (j.kind in ("identity", "implied")), (seed, eq.text, j.kind)
        out.append(follows)
        if j.kind in ("premise", "redefines", "narrows"):
            system.add(eq)
        elif j.kind == "contradicts" and j.known:
            system.replace_component(eq)
    return out


@pytest.mark.parametrize("linear", [True, False], ids=["elimination", "groebner"])
def test_follows_says_what_judge_says(monkeypatch, linear):
    """blame asks only whether an equation follows; the shortcut must not change the answer."""
    if not linear:
        monkeypatch.setattr(algebra_system.Eq, "linear", property(lambda self: None))
    answers = [a for seed in range(300) for a in _follows_as_judged(seed)]
    assert True in answers and False in answers


def _nonlinear_equations(rng: random.Random, n: int) -> list[algebra_system.Eq]:
    """Products and squares, often defining a letter not used before (`s = x + y`, `p = xy`)."""
    names = list(sympy.symbols("x y z s p q"))
    eqs = []
    for i in range(n):
        a, b, c = rng.sample(names, 3)
        term = rng.choice([a * b, a**2, a + b, a * b + c, a**2 - b, 2 * a * b * c, a**3 * b**2])
        rhs = rng.choice([sympy.Integer(rng.randint(-3, 5)), b, sympy.Rational(1, 2) * c])
        if rng.random() < 0.4:  # `s = x + y`: the letter on the left is often new
            lhs, rhs = rng.choice(names), term
        else:
            lhs = term
        try:
            eqs.append(to_equation(lhs, rhs, f"e{i}"))
        except (Unchecked, GeneratorsNeeded):
            continue
    return eqs


def test_a_new_letter_is_a_premise_as_groebner_bases_find(monkeypatch):
    """`s = x + y` over known x, y: judged a premise without bases, exactly when they say so."""
    taken = []
    defines = algebra_system._defines_new_variable
    monkeypatch.setattr(
        algebra_system,
        "_defines_new_variable",
        lambda eq, known: taken.append(defines(eq, known)) or taken[-1],
    )
    fast = [_run(seed, _nonlinear_equations, 6) for seed in range(150)]
    assert sum(taken) > 20  # the shortcut was taken, often
    kinds = {k[0] for run in fast for k in run[:-1]}
    assert {"premise", "implied", "contradicts", "unchecked"} <= kinds
    monkeypatch.setattr(algebra_system, "_defines_new_variable", lambda eq, known: False)
    assert [_run(seed, _nonlinear_equations, 6) for seed in range(150)] == fast


def test_linear_in_reads_what_the_derivative_says():
    """A letter with a constant coefficient, read off the terms, as sympy's diff finds it."""
    rng = random.Random(11)
    eqs = [eq for seed in range(200) for eq in _nonlinear_equations(rng, 4)]
    eqs += [to_equation(X * Y - 2 * X, X + 1, "xy - 2x = x + 1")]
    answers = []
    for eq in eqs:
        for v in eq.vars:
            slope = eq.expr.diff(v)
            answers.append(algebra_system._linear_in(eq.expr, v))
            assert answers[-1] == bool(slope.is_number and slope != 0), (eq.text, v)
    assert 50 < sum(answers) < len(answers) - 50  # both answers come, often


def test_a_new_letter_over_contradicting_equations_is_no_premise():
    x, y, s = sympy.symbols("x y s")
    system = KnownSystem()
    system.add(to_equation(x * y, sympy.Integer(1), "xy = 1"))
    system.add(to_equation(x * y, sympy.Integer(2), "xy = 2"))  # as a question may state
    assert system.judge(to_equation(s, x + y, "s = x + y")).kind == "unknown"


def test_linear_numerator_is_what_the_polynomial_gives_back():
    rng = random.Random(7)
    exprs = [_linear_expr(rng, VARS) - _linear_expr(rng, VARS) for _ in range(300)]
    exprs += [sympy.Integer(0), sympy.Rational(3, 7), X / 3 - X / 3, -X, X * Y + 1, X**2 - 2]
    for e in exprs:
        fast = algebra_system._linear_numerator(e)
        if fast is None:
            assert e.free_symbols and not sympy.Poly(e, *sorted(e.free_symbols, key=str)).is_linear
            continue
        gens = sorted(e.free_symbols, key=str) or [X]
        slow = sympy.Poly(algebra_system._numerator(e), *gens).as_expr()
        assert sympy.srepr(fast) == sympy.srepr(slow), e


@pytest.mark.parametrize("code", [0x09, 0x0A, 0x20, 0x85, 0xA0, 0x2007, 0x3000, 0x41, 0x24, 0x20AC])
def test_lexer_gap_is_every_space_but_the_line_break_and_the_currency_signs(code):
    char = chr(code)
    gap = re.compile(arithtokens._GAP)
    expected = char in "$€£" or (char != "\n" and re.match(r"\s", char) is not None)
    assert (gap.fullmatch(char) is not None) == expected


def test_lexer_gap_lists_all_white_space():
    gap = re.compile(arithtokens._GAP)
    spaces = [chr(c) for c in range(0x110000) if re.match(r"\s", chr(c)) and chr(c) != "\n"]
    assert all(gap.fullmatch(c) for c in spaces)


def test_ascii_word_normalisation_is_the_regex_one():
    rng = random.Random(3)
    words = re.compile(r"[\w-]+")
    for _ in range(20_000):
        t = "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 30)))
        assert signals._normal(t) == " ".join(words.findall(t.lower())), t
    assert signals._normal("Café, CAFÉ!") == "café café"  # not ASCII: the regex way
    assert signals._normal("f(−2) = 3") != signals._normal("f(2) = 3")


def test_an_equation_without_letters_fails_as_it_did_before_the_shortcut():
    with pytest.raises(GeneratorsNeeded):
        to_equation(sympy.Integer(3), sympy.Integer(3), "3 = 3")


def test_runs_of_plain_words_after_a_quantity_change_no_quantity(data_dir, monkeypatch):
    lines = [
        ln
        for it in load_gsm8k(data_dir / "gsm8k" / "train.jsonl", 600)
        for ln in split_solution(it["answer"])[0]
    ]
    plain = ["5 hours * 3", "2 cups of flour * 3", "5 big red apples ) = 4", "5 apples times 3"]
    plain += ["4 plus 2 is 6", "5 apples\n= 5", "$6/day = 2", "1 and 1/4", "7 of them. 3 = 3"]
    texts = TRICKY + plain + lines + _perturbed(TRICKY + plain + lines, 5000) + _phrases(20_000)
    fast = [_key(extract.quantities(t)) for t in texts]
    monkeypatch.setattr(arithtokens, "_match_plain", arithtokens._match_token)
    assert sum(bool(k[0]) for k in fast) > 1000
    assert [_key(extract.quantities(t)) for t in texts] == fast


def test_generators_are_ordered_as_their_printed_names_are():
    names = ["x", "y", "X", "x_{1}", "x_{2}", "\\lambda", "lambda", "√2^1/2", "√3^1/3", "a1", "b"]
    symbols = [sympy.Symbol(n) for n in names]
    rng = random.Random(3)
    for _ in range(20):
        rng.shuffle(symbols)
        assert algebra_system._ordered(symbols) == sorted(symbols, key=str)
