"""Exact (rational) evaluation of arithmetic token lists: a safe parser, never `eval`."""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import NamedTuple

MAX_DIGITS = 60  # longer literals are not arithmetic a reasoning step states; leave them unchecked
MAX_DEPTH = 64
MAX_TOKENS = 400
MAX_RESULT_DIGITS = 400

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "u-": 3, "^": 4, "√": 5, "∛": 5, "∜": 5}
_RIGHT_ASSOC = {"^", "u-", "√", "∛", "∜"}
ROOTS = {"√": 2, "∛": 3, "∜": 4}  # prefix operators: `√9`, `∛(20 + 7)`
_BINARY = frozenset("+-*/^")
_INTEGER_OPS = frozenset("+-*")


class Unevaluable(ValueError):
    """An expression that cannot be evaluated (malformed, or beyond bounds)."""


class TooLarge(Unevaluable):
    """An expression beyond the size bounds: reported as unchecked, never shortened to fit."""


class Tok(NamedTuple):
    """One arithmetic token: kind is 'num', 'op', '(' or ')'; value for numbers."""

    # A NamedTuple: tokens are made by the thousand per chain, and a frozen dataclass is slower.
    kind: str
    text: str
    value: Fraction | None = None
    start: int = 0


@functools.lru_cache(maxsize=4096)
def number_value(text: str) -> Fraction:
    """The exact value of a numeric literal like `1,200.50` or `3.2e5`; Unevaluable when absurdly
    long."""
    if "e" in text or "E" in text:
        return _scientific_value(text)
    if len(text) - text.count(",") > MAX_DIGITS:
        raise TooLarge(
            f"a number with {len(text) - text.count(',')} digits is beyond the checked size"
        )
    numerator, denominator = decimal_ratio(text)
    return Fraction(numerator) if denominator == 1 else Fraction(numerator, denominator)


def _scientific_value(text: str) -> Fraction:
    """The exact value of a literal in scientific notation (`3.2e5`, `1E-3`; exponent < 100)."""
    mantissa, _, exponent = text.lower().partition("e")
    if len(exponent.lstrip("+-")) > 2:
        raise TooLarge(f"an exponent of {len(exponent)} digits is beyond the checked size")
    return number_value(mantissa) * Fraction(10) ** int(exponent)


def decimal_ratio(text: str) -> tuple[int, int]:
    """(numerator, power of ten) of a literal of digits, commas and one point (`1,200.50`,
    LaTeX's `1{,}200.50`).

    Built from integers: Fraction's own string parser is several times slower.
    """
    digits = text.replace(",", "")
    if "{" in digits:
        digits = digits.replace("{}", "")
    whole, _, frac = digits.partition(".")
    return int(whole + frac), 10 ** len(frac)


def _bits(x: Fraction) -> int:
    return max(x.numerator.bit_length(), x.denominator.bit_length())


def _power(base: Fraction, exp: Fraction) -> Fraction:
    if exp.denominator != 1:
        raise Unevaluable("non-integer exponent")
    e = exp.numerator
    if abs(e) > 256 or _bits(base) * abs(e) > MAX_RESULT_DIGITS * 3.33:
        raise TooLarge("power too large to evaluate")
    if base == 0 and e < 0:
        raise Unevaluable("division by zero")
    return base**e


def _int_root(k: int, n: int) -> int | None:
    """The whole n-th root of k >= 0, or None when it has none."""
    if n == 2:
        r = math.isqrt(k)
    elif k.bit_length() <= 150:  # a float estimate of a cube or fourth root is then off by < 1
        r = round(k ** (1 / n))
    else:
        return None
    return next((c for c in (r - 1, r, r + 1) if c >= 0 and c**n == k), None)


def _root(x: Fraction, n: int) -> Fraction:
    """The exact n-th root of x; Unevaluable when it is irrational (or of a negative number)."""
    if x < 0:
        raise Unevaluable("a root of a negative number")
    num, den = _int_root(x.numerator, n), _int_root(x.denominator, n)
    if num is None or den is None:
        raise Unevaluable("an irrational root")
    return Fraction(num, den)


def _apply(op: str, stack: list[Fraction]) -> None:
    if op == "u-" or op in ROOTS:
        if not stack:
            raise Unevaluable(f"dangling {op}")
        operand = stack.pop()
        stack.append(-operand if op == "u-" else _root(operand, ROOTS[op]))
        return
    if len(stack) < 2:
        raise Unevaluable(f"operator {op} lacks an operand")
    b, a = stack.pop(), stack.pop()
    if op in _INTEGER_OPS and a.denominator == 1 and b.denominator == 1:
        # Whole numbers, the usual operands: the same result in int arithmetic, without
        # Fraction's generic operator path (about half the cost).
        x, y = a.numerator, b.numerator
        n = x + y if op == "+" else x - y if op == "-" else x * y
        if n.bit_length() > MAX_RESULT_DIGITS * 3.33:
            raise TooLarge("intermediate result too large")
        stack.append(Fraction(n))
        return
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    elif op == "/":
        if b == 0:
            raise Unevaluable("division by zero")
        r = a / b
    else:
        r = _power(a, b)
    if _bits(r) > MAX_RESULT_DIGITS * 3.33:
        raise TooLarge("intermediate result too large")
    stack.append(r)


def evaluate(tokens: list[Tok], *, right_assoc_division: bool = False) -> Fraction:
    """Evaluate tokens with the usual precedence (shunting-yard, no recursion); exact result."""
    right_assoc = _RIGHT_ASSOC | {"/"} if right_assoc_division else _RIGHT_ASSOC
    if not tokens:
        raise Unevaluable("empty expression")
    if len(tokens) == 1 and tokens[0].kind == "num":
        stated = tokens[0].value
        if stated is not None:
            return stated  # a stated result: the usual case
    if len(tokens) == 3:  # `48 / 2`, the usual computation: what the loop below does with it
        a, op, b = tokens
        left, right = a.value, b.value
        if op.kind == "op" and op.text in _BINARY and left is not None and right is not None:
            stack = [left, right]  # (only numbers have a value)
            _apply(op.text, stack)
            return stack[0]
    if len(tokens) > MAX_TOKENS:
        raise TooLarge("expression too long")
    values: list[Fraction] = []
    ops: list[str] = []
    depth = 0
    expect_operand = True
    for tok in tokens:
        if tok.kind == "num":
            if not expect_operand:
                raise Unevaluable("two numbers without an operator")
            values.append(tok.value)  # type: ignore[arg-type]
            expect_operand = False
        elif tok.kind == "(":
            if not expect_operand:
                ops.append("*")  # implicit multiplication: 2(3 + 4)
            depth += 1
            if depth > MAX_DEPTH:
                raise TooLarge(f"parentheses nested deeper than {MAX_DEPTH}")
            ops.append("(")
            expect_operand = True
        elif tok.kind == ")":
            if expect_operand:
                raise Unevaluable("empty parentheses or dangling operator")
            while ops and ops[-1] != "(":
                _apply(ops.pop(), values)
            if not ops:
                raise Unevaluable("unbalanced parentheses")
            ops.pop()
            depth -= 1
        else:
            sign = tok.text
            if tok.kind != "op" or sign not in _PRECEDENCE:
                raise Unevaluable(f"{tok.text!r} is not arithmetic")
            if expect_operand:
                if sign in ROOTS:
                    ops.append(sign)  # a prefix operator: applied to the operand after it
                    continue
                if sign != "-":
                    raise Unevaluable(f"operator {sign} lacks a left operand")
                sign = "u-"
            elif sign in ROOTS:
                raise Unevaluable(f"{sign} after an operand")
            else:
                while (
                    ops
                    and ops[-1] != "("
                    and (
                        _PRECEDENCE[ops[-1]] > _PRECEDENCE[sign]
                        or (_PRECEDENCE[ops[-1]] == _PRECEDENCE[sign] and sign not in right_assoc)
                    )
                ):
                    _apply(ops.pop(), values)
            ops.append(sign)
            expect_operand = True
    if expect_operand:
        raise Unevaluable("expression ends with an operator")
    while ops:
        pending = ops.pop()
        if pending == "(":
            raise Unevaluable("unbalanced parentheses")
        _apply(pending, values)
    if len(values) != 1:
        raise Unevaluable("malformed expression")
    return values[0]


def decimals(text: str) -> int:
    """How many decimal places a literal shows (`4.50` -> 2, `1.07e5` -> -3: to the thousand)."""
    text = text.replace(",", "")
    if "e" in text or "E" in text:
        mantissa, _, exponent = text.lower().partition("e")
        if exponent.lstrip("+-").isdigit():  # (not `9.461e12 / 1.496e8`, an expression)
            return decimals(mantissa) - int(exponent)
    return len(text.split(".", 1)[1]) if "." in text else 0


def round_to(x: Fraction, places: int, mode: str = "half_up") -> Fraction:
    """x rounded to `places` decimals (negative: to tens, hundreds, ...): half_up, floor or ceil."""
    scale = 10**places if places >= 0 else Fraction(1, 10**-places)
    scaled = x * scale
    if mode == "floor":
        n = scaled.numerator // scaled.denominator
    elif mode == "ceil":
        n = -((-scaled.numerator) // scaled.denominator)
    else:
        n = (abs(scaled) + Fraction(1, 2)).__floor__() * (1 if scaled >= 0 else -1)
    return Fraction(n, scale)


def show(x: Fraction) -> str:
    """A readable decimal form of an exact value (fractions shown to 6 places)."""
    if x.denominator == 1:
        return str(x.numerator)
    d = x.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d == 1:  # terminating decimal: show it exactly
        places = 0
        while (x * 10**places).denominator != 1:
            places += 1
        digits = str(abs(x.numerator * 10**places // x.denominator)).rjust(places + 1, "0")
        return ("-" if x < 0 else "") + digits[:-places] + "." + digits[-places:]
    return f"{float(x):.6g}"
