"""A safe parser of math text and simple LaTeX into sympy objects (never sympify/eval).

A hand-written tokenizer and a depth-limited recursive-descent parser build sympy
objects directly (Symbol, Rational, Add, Mul, Pow). Every size is bounded: literal
digits, exponents, nesting depth and token count; input beyond a bound raises
`BoundError` (reported as unchecked), input that is not clean math raises `ParseError`
(skipped silently: precision first).
"""

from __future__ import annotations

from fractions import Fraction

import sympy

from validators.text.mathtokens import Tok, tokenize

MAX_DIGITS = 50  # digits in one numeric literal
MAX_EXPONENT = 100  # |n| in x^n
MAX_POWER_DIGITS = 1000  # digits of a numeric power such as 7^100
MAX_DEPTH = 40  # nested parentheses / unary signs / exponents
MAX_TOKENS = 200  # tokens in one side of an equation
MAX_FACTORIAL = 300  # n in n! and in binomial(n, k)


_MATCH = {"(": ")", "[": "]", "{": "}"}
# Letters that read as function names when glued to "(": f(x) is not f*x.
_FUNCTION_LETTERS = frozenset("fghFGHPQ") | {
    # number theory's functions: σ(n), τ(n), φ(n), μ(n), ω(n)
    "sigma",
    "tau",
    "phi",
    "varphi",
    "mu",
    "omega",
}


class ParseError(ValueError):
    """Text that is not clean math (or is ambiguous): skipped without a finding."""


class BoundError(ValueError):
    """Math beyond the size bounds: left unchecked, with the reason as message."""


def _number(text: str) -> sympy.Rational:
    """The exact value of a literal like `1,200.50`, built from ints (no string parsing)."""
    digits = text.replace(",", "")
    if sum(c.isdigit() for c in digits) > MAX_DIGITS:
        raise BoundError(f"a number with more than {MAX_DIGITS} digits")
    whole, _, frac = digits.partition(".")
    return sympy.Rational(int(whole or "0") * 10 ** len(frac) + int(frac or "0"), 10 ** len(frac))


def decimal_places(text: str) -> int:
    """Digits after the decimal point of a literal (0 for integers)."""
    return len(text.partition(".")[2])


def _digits(value: sympy.Rational) -> int:
    """Roughly how many decimal digits a rational number has (numerator plus denominator)."""
    return (abs(int(value.p)).bit_length() + int(value.q).bit_length()) * 30103 // 100000 + 1


def make_pow(base: sympy.Expr, exp: sympy.Expr) -> sympy.Expr:
    """base**exp within the bounds: a rational exponent, |exp| <= 100, numeric results bounded."""
    if not exp.is_Rational:
        raise ParseError("an exponent that is not a number")
    if abs(exp.p) > MAX_EXPONENT or exp.q > 12:
        raise BoundError(f"an exponent beyond {MAX_EXPONENT}")
    if base.is_Rational:
        if base == 0 and exp < 0:
            raise ParseError("zero to a negative power")
        if _digits(base) * abs(int(exp.p)) > MAX_POWER_DIGITS:
            raise BoundError(f"a power with more than {MAX_POWER_DIGITS} digits")
    elif base.is_number and not base.free_symbols and exp.q != 1:
        raise ParseError("a root of an irrational number")
    return sympy.Pow(base, exp)


def _divide(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    if b == 0:
        raise ParseError("division by zero")
    return sympy.Mul(a, make_pow(b, sympy.Integer(-1)))


class _Parser:
    """Recursive descent over one side of an equation; depth-limited."""

    def __init__(self, toks: list[Tok], latex: bool, spaced_products: bool) -> None:
        self.toks = toks
        self.i = 0
        self.depth = 0
        self.latex = latex
        self.spaced_products = spaced_products
        self.angle = False  # inside the argument of a trig function

    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def is_op(self, vals: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "OP" and t.val in vals

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise BoundError(f"nested deeper than {MAX_DEPTH} levels")

    def parse(self) -> sympy.Expr:
        if not self.toks:
            raise ParseError("empty")
        if len(self.toks) > MAX_TOKENS:
            raise BoundError(f"an expression longer than {MAX_TOKENS} tokens")
        e = self.expr()
        if self.i != len(self.toks):
            raise ParseError("trailing tokens")
        return e

    def expr(self) -> sympy.Expr:
        self.nest()
        e = self.term()
        while self.is_op("+-"):
            op = self.toks[self.i].val
            self.i += 1
            r = self.term()
            e = sympy.Add(e, r if op == "+" else -r)
        self.depth -= 1
        return e

    def term(self) -> sympy.Expr:
        e = self.unary()
        after_div = False
        while (t := self.peek()) is not None:
            if t.kind == "OP" and t.val in "*/":
                self.i += 1
                r = self.unary()
                e = _divide(e, r) if t.val == "/" else sympy.Mul(e, r)
                after_div = t.val == "/"
            elif self.implicit(t):
                if after_div:
                    raise ParseError("ambiguous a/bc")  # 1/2x: (1/2)x or 1/(2x)?
                if t.kind == "FRAC" and self.toks[self.i - 1].kind == "NUM":
                    raise ParseError("2\\frac{1}{2}: a mixed number or a product?")
                e = sympy.Mul(e, self.power())
            else:
                break
        return e

    def implicit(self, t: Tok) -> bool:
        """Juxtaposition is multiplication: `2x`, `3(x+1)`, `(a)(b)`; never before a number.

        Outside math delimiters only without a space: "= 18 (H - 3) + H" is two formulas run
        together.
        """
        if t.kind not in ("VAR", "PI", "LP", "FRAC", "SQRT", "ROOT"):
            return False
        return self.spaced_products or not t.space

    def unary(self) -> sympy.Expr:
        if self.is_op("+-"):
            neg = self.toks[self.i].val == "-"
            self.i += 1
            self.nest()
            v = self.unary()
            self.depth -= 1
            return -v if neg else v
        return self.power()

    def power(self) -> sympy.Expr:
        base = self.postfix()
        if not self.is_op("^"):
            return base
        self.i += 1
        nxt = self.peek()
        if self.latex and nxt is not None and nxt.kind == "NUM" and len(nxt.val) > 1:
            raise ParseError("x^23 in LaTeX is x^2 3")
        self.nest()
        exp = self.unary()
        self.depth -= 1
        return make_pow(base, exp)

    def postfix(self) -> sympy.Expr:
        e = self.atom()
        while (t := self.peek()) is not None and t.kind in ("SUP", "FACT", "PCT", "DEG"):
            self.i += 1
            if t.kind == "SUP":
                e = make_pow(e, sympy.Integer(2 if t.val == "²" else 3))
            elif t.kind == "FACT":
                e = sympy.factorial(_small_integer(e))
            elif t.kind == "PCT":
                e = sympy.Mul(e, sympy.Rational(1, 100))
            elif self.angle:  # degrees: radians inside a trig function, a unit elsewhere
                e = sympy.Mul(e, sympy.pi / 180)
        return e

    def group(self) -> sympy.Expr:
        """A LaTeX argument: `{...}`, or one letter or digit (`\\frac12`)."""
        t = self.peek()
        if t is not None and t.kind == "LP" and t.val == "{":
            return self.atom()
        if t is not None and t.kind == "NUM" and t.val.isdigit():
            # `\\frac89` is 8/9: one digit is the argument, the rest follows it.
            if len(t.val) > 1:
                self.toks[self.i] = Tok("NUM", t.val[1:], t.start + 1, t.end)
            else:
                self.i += 1
            return _number(t.val[0])
        if t is not None and t.kind == "VAR":
            self.i += 1
            return sympy.Symbol(t.val)
        raise ParseError("bad LaTeX argument")

    def atom(self) -> sympy.Expr:
        t = self.peek()
        if t is None:
            raise ParseError("missing operand")
        self.i += 1
        if t.kind == "NUM":
            return _number(t.val)
        if t.kind == "VAR":
            if self.function_call(t):
                raise ParseError("function application")
            return sympy.Symbol(t.val)
        if t.kind == "PI":
            return sympy.pi
        if t.kind == "LP":
            e = self.expr()
            close = self.peek()
            if close is None or close.kind != "RP" or close.val != _MATCH[t.val]:
                raise ParseError("unbalanced brackets")
            self.i += 1
            return e
        if t.kind == "FRAC":
            num = self.group()
            return _divide(num, self.group())
        if t.kind == "SQRT":
            n, arg = self.root_index_and_group()
            return make_pow(arg, sympy.Rational(1, n))
        if t.kind == "ROOT":
            return make_pow(self.atom(), sympy.Rational(1, 2))
        if t.kind == "BINOM":
            n = _small_integer(self.group())
            return sympy.binomial(n, _small_integer(self.group()))
        if t.kind == "TRIG":
            return _exact(_TRIG[t.val](self.argument(angle=True)))
        if t.kind == "LOG":
            return self.logarithm(t)
        raise ParseError(f"unexpected {t.kind}")

    def argument(self, angle: bool = False) -> sympy.Expr:
        """A function's argument: `(...)`, `{...}`, or one operand (`\\sin 30^\\circ`)."""
        first = self.peek()
        outer, self.angle = self.angle, angle
        try:
            arg = self.postfix()
        finally:
            self.angle = outer
        nxt = self.peek()
        if nxt is not None and nxt.kind in ("VAR", "PI", "LP", "FRAC", "SQRT", "NUM"):
            raise ParseError("where a function's argument ends is unclear")  # \\sin 2\\pi
        if first is not None and first.kind != "LP" and self.is_op("^"):
            # `\\log_5 10^2` is log(100) to most readers, (log 10)^2 to a strict parser
            raise ParseError("whether a power belongs to a function's argument is unclear")
        return arg

    def logarithm(self, t: Tok) -> sympy.Expr:
        """`\\ln x`, `\\log_b x`; `\\log x` names no base and is not read."""
        base: sympy.Expr = sympy.E
        if t.val == "log":
            sub = self.peek()
            if sub is None or sub.kind != "SUB":
                raise ParseError("a logarithm without a base")
            self.i += 1
            base = self.group()
            if not (base.is_Rational and base > 0 and base != 1):
                raise ParseError("a logarithm base that is not a positive number")
        arg = self.argument()
        if not (arg.is_number and arg.is_positive):
            raise ParseError("the logarithm of a value that is not a positive number")
        return _exact(sympy.log(arg, base))

    def root_index_and_group(self) -> tuple[int, sympy.Expr]:
        """`\\sqrt{..}` or `\\sqrt[n]{..}` (n a small integer): the index and the argument."""
        index = 2
        t = self.peek()
        if t is not None and t.kind == "LP" and t.val == "[":
            self.i += 1
            n = self.expr()
            close = self.peek()
            if close is None or close.val != "]" or not n.is_Integer or not 2 <= int(n) <= 12:
                raise ParseError("bad root index")
            self.i += 1
            index = int(n)
        return index, self.group()

    def function_call(self, t: Tok) -> bool:
        """`f(x)`, `g(2)`, `r(t)`, `p(-1)`: a letter glued to "(" around a name or a lone
        (signed) argument."""
        nxt = self.peek()
        if nxt is None or nxt.kind != "LP" or nxt.val != "(" or nxt.space:
            return False
        if t.val in _FUNCTION_LETTERS:
            return True
        inner, close = self.peek(1), self.peek(2)
        if inner is not None and inner.kind == "OP" and inner.val == "-":
            inner, close = self.peek(2), self.peek(3)  # `p(-1)`: a signed argument
        lone = inner is not None and inner.kind in ("NUM", "VAR")
        return lone and close is not None and close.kind == "RP"


_TRIG = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "cot": sympy.cot,
    "sec": sympy.sec,
    "csc": sympy.csc,
}


def _small_integer(value: sympy.Expr) -> int:
    """A non-negative integer small enough for n! and binomial(n, k)."""
    if not value.is_Integer or value < 0:
        raise ParseError("a factorial or binomial of a value that is not a whole number")
    if value > MAX_FACTORIAL:
        raise BoundError(f"a factorial or binomial beyond {MAX_FACTORIAL}")
    return int(value)


def _exact(value: sympy.Expr) -> sympy.Expr:
    """A function value sympy wrote in closed form; an angle it cannot (cos(pi/7)) is refused."""
    if value.free_symbols or value.has(sympy.zoo, sympy.nan) or value.has(*_TRIG.values()):
        raise ParseError("a function value with no exact closed form here")
    return value


def parse_tokens(
    toks: list[Tok], *, latex: bool = False, spaced_products: bool | None = None
) -> sympy.Expr:
    """A sympy expression from the tokens of one side of an equation.

    spaced_products: whether `2 x` (a space between) is a product; by default in LaTeX only.
    """
    spaced = latex if spaced_products is None else spaced_products
    return _Parser(toks, latex, spaced).parse()


def parse_expression(text: str, *, latex: bool = False) -> sympy.Expr:
    """A sympy expression from math text such as `2x + 3` or `\\frac{x}{2}`; ParseError if not."""
    toks = tokenize(text, latex=latex)
    if any(t.kind in ("SEP", "WORD", "POISON", "EQ", "REL") for t in toks):
        raise ParseError("not a single expression")
    return parse_tokens(toks, latex=latex)


def rational(value: sympy.Expr) -> Fraction | None:
    """A sympy value as a Fraction when it is rational."""
    if value.is_Rational:
        return Fraction(int(value.p), int(value.q))
    return None
