"""A safe parser of math text and simple LaTeX into sympy objects (never sympify/eval).

A hand-written tokenizer and a depth-limited recursive-descent parser build sympy
objects directly (Symbol, Rational, Add, Mul, Pow). Every size is bounded: literal
digits, exponents, nesting depth and token count; input beyond a bound raises
`BoundError` (reported as unchecked), input that is not clean math raises `ParseError`
(skipped silently: precision first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

MAX_DIGITS = 50  # digits in one numeric literal
MAX_EXPONENT = 100  # |n| in x^n
MAX_POWER_DIGITS = 1000  # digits of a numeric power such as 7^100
MAX_DEPTH = 40  # nested parentheses / unary signs / exponents
MAX_TOKENS = 200  # tokens in one side of an equation
MAX_GROUP_SCAN = 300  # characters searched for the closing brace of \text{...}


class ParseError(ValueError):
    """Text that is not clean math (or is ambiguous): skipped without a finding."""


class BoundError(ValueError):
    """Math beyond the size bounds: left unchecked, with the reason as message."""


@dataclass(slots=True)
class Tok:
    """One token: kind (NUM VAR PI OP EQ REL LP RP FRAC SQRT ROOT SUP SUB SEP WORD POISON)."""

    kind: str
    val: str
    start: int
    end: int
    space: bool = False  # whitespace before this token


_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>\d+(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<cmd>\\[A-Za-z]+|\\.)"
    r"|(?P<word>[^\W\d_²³¹⁰-₟¼-¾]+(?:['’][^\W\d_²³¹⁰-₟¼-¾]+)*)"
    r"|(?P<arrow>=>|->|→|⇒|⟹|⟶|⇔|↔|⟺)"
    r"|(?P<rel><=|>=|!=|≠|≈|≃|≅|≤|≥|⩽|⩾|<|>|~)"
    r"|(?P<eq>==?)"
    r"|(?P<op>\*\*|[-+*/^×·⋅÷−])"
    r"|(?P<lp>[(\[{])"
    r"|(?P<rp>[)\]}])"
    r"|(?P<other>.)",
    re.S,
)
_OPS = {"**": "^", "×": "*", "·": "*", "⋅": "*", "÷": "/", "−": "-"}
_CHARS = {
    "√": "ROOT", "²": "SUP", "³": "SUP", "_": "SUB",
    "!": "POISON", "|": "POISON", "'": "POISON", "′": "POISON", "°": "POISON", "%": "POISON",
    "∞": "POISON", "∛": "POISON", "∜": "POISON", "±": "POISON", "∓": "POISON", "–": "POISON",
}  # fmt: skip
_CURRENCY = "$€£¥"
# Punctuation that ends a formula; any other unknown character makes its formula unsafe.
_PUNCTUATION = set(',;:?."“”‘’`#@*…()[]{}\n\t')
_FRAC = {"frac", "dfrac", "tfrac", "cfrac"}
_IGNORED = {
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
    "displaystyle", "textstyle", ",", ";", ":", "!", " ", "$", "boxed",
}  # fmt: skip
_RELATIONS = {
    "approx", "neq", "ne", "le", "leq", "ge", "geq", "lt", "gt", "sim", "simeq", "cong",
    "leqslant", "geqslant",
}  # fmt: skip
# Commands whose brace argument is prose or a label: the whole thing separates formulas.
_TEXTUAL = {"text", "textbf", "textit", "textrm", "mathrm", "mbox", "operatorname", "begin",
            "end", "label", "tag", "mathbf", "emph"}  # fmt: skip
_SEPARATORS = {"quad", "qquad", "implies", "Rightarrow", "rightarrow", "to", "iff",
               "Longrightarrow", "Leftrightarrow", "therefore", "because", "\\", "and", "or"}  # fmt: skip
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "theta", "lambda", "mu",
          "nu", "rho", "sigma", "tau", "phi", "varphi", "omega", "psi", "xi", "eta", "zeta"}  # fmt: skip
# Letters that read as function names when glued to "(": f(x) is not f*x.
_FUNCTION_LETTERS = set("fghFGHPQ")
# Two-letter words that are prose or units even inside LaTeX math, never a product of variables.
_LATEX_WORDS = {"or", "if", "is", "of", "in", "at", "to", "as", "be", "by", "on", "so", "an",
                "cm", "mm", "km", "kg", "mg", "ml", "ft", "yd", "mi", "lb", "oz", "hr", "min"}  # fmt: skip
_MATCH = {"(": ")", "[": "]", "{": "}"}


def _brace_end(text: str, pos: int, end: int) -> int | None:
    """Index after the brace group starting at text[pos] == '{' (bounded scan), else None."""
    depth = 0
    for j in range(pos, min(end, pos + MAX_GROUP_SCAN)):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return None


def _command(tokens: list[Tok], text: str, name: str, start: int, pos: int, end: int) -> int:
    """Append the token(s) for a LaTeX command; return where scanning resumes."""
    add = tokens.append
    if name in _FRAC:
        add(Tok("FRAC", name, start, pos))
    elif name == "sqrt":
        add(Tok("SQRT", name, start, pos))
    elif name in ("cdot", "times", "ast"):
        add(Tok("OP", "*", start, pos))
    elif name == "div":
        add(Tok("OP", "/", start, pos))
    elif name == "pi":
        add(Tok("PI", "pi", start, pos))
    elif name in _GREEK:
        add(Tok("VAR", name, start, pos))
    elif name in _RELATIONS:
        add(Tok("REL", name, start, pos))
    elif name in _IGNORED:
        add(Tok("IGNORE", name, start, pos))
    elif name in _TEXTUAL:
        j = pos
        while j < end and text[j] == " ":
            j += 1
        close = _brace_end(text, j, end) if j < end and text[j] == "{" else None
        if close is None:
            add(Tok("POISON", name, start, pos))
            return pos
        add(Tok("SEP", name, start, close))
        return close
    elif name in _SEPARATORS:
        add(Tok("SEP", name, start, pos))
    else:
        add(Tok("POISON", name, start, pos))  # \pm, \sin, \log, \binom, \%, ...: not checkable here
    return pos


def _raw_tokens(text: str, start: int, end: int, latex: bool) -> list[Tok]:
    """First pass: classify characters into tokens (offsets index `text`)."""
    tokens: list[Tok] = []
    pos = start
    while pos < end:
        m = _TOKEN.match(text, pos, end)
        assert m is not None  # the last alternative matches any character
        kind, val, s, pos = m.lastgroup or "other", m.group(), m.start(), m.end()
        if kind == "ws":
            if not latex and "\n" in val:
                tokens.append(Tok("SEP", "\n", s, pos))
            else:
                tokens.append(Tok("WS", val, s, pos))
        elif kind == "cmd":
            pos = _command(tokens, text, val[1:], s, pos, end)
        elif kind == "word":
            tokens.append(Tok("WORD", val, s, pos))
        elif kind == "arrow":
            tokens.append(Tok("SEP", val, s, pos))
        elif kind == "op":
            tokens.append(Tok("OP", _OPS.get(val, val), s, pos))
        elif kind in ("num", "rel", "eq", "lp", "rp"):
            tokens.append(Tok(kind.upper(), val, s, pos))
        elif val in _CURRENCY:
            tokens.append(Tok("IGNORE", val, s, pos))
        elif val == ".":
            # A full stop ends a sentence; "0.\overline{6}" or "e.g" is not a formula.
            ends = pos >= end or text[pos].isspace() or text[pos] in ")]\"'”$"
            tokens.append(Tok("SEP" if ends else "POISON", val, s, pos))
        elif val == "&":
            tokens.append(Tok("WS" if latex else "SEP", val, s, pos))
        else:
            default = "SEP" if val in _PUNCTUATION or val.isspace() else "POISON"
            tokens.append(Tok(_CHARS.get(val, default), val, s, pos))
    return tokens


def _words(tokens: list[Tok], latex: bool) -> list[Tok]:
    """Second pass: single letters become variables; words split (LaTeX) or separate."""
    out: list[Tok] = []
    for t in tokens:
        if t.kind != "WORD":
            out.append(t)
        elif t.val == "π":
            out.append(Tok("PI", "pi", t.start, t.end, t.space))
        elif len(t.val) == 1 and t.val.isascii():
            out.append(Tok("VAR", t.val, t.start, t.end, t.space))
        elif latex and len(t.val) == 2 and t.val.isascii() and t.val.lower() not in _LATEX_WORDS:
            out.append(Tok("VAR", t.val[0], t.start, t.start + 1, t.space))
            out.append(Tok("VAR", t.val[1], t.start + 1, t.end))
        else:
            out.append(Tok("WORD", t.val.lower(), t.start, t.end, t.space))
    return out


def _spaces(tokens: list[Tok]) -> list[Tok]:
    """Drop whitespace and ignored commands, recording whitespace on the next token."""
    out: list[Tok] = []
    space = False
    for t in tokens:
        if t.kind in ("WS", "IGNORE"):
            space = space or t.kind == "WS" or t.val in (",", ";", " ", ":")
            continue
        t.space = space
        space = False
        out.append(t)
    return out


def _subscripts(tokens: list[Tok]) -> list[Tok]:
    """Merge `x_1`, `x_{12}`, `a_n` into one variable name; any other `_` poisons."""
    out: list[Tok] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.kind == "SUB":
            out.append(Tok("POISON", "_", t.start, t.end, t.space))
        elif t.kind == "VAR" and nxt is not None and nxt.kind == "SUB" and not nxt.space:
            sub, j = _subscript_body(tokens, i + 2)
            if sub is None:
                out.append(Tok("POISON", "_", t.start, nxt.end, t.space))
                i += 2
                continue
            out.append(Tok("VAR", f"{t.val}_{sub}", t.start, tokens[j - 1].end, t.space))
            i = j
            continue
        else:
            out.append(t)
        i += 1
    return out


def _subscript_body(tokens: list[Tok], i: int) -> tuple[str | None, int]:
    """The subscript text after `_` and the index after it (None when not a simple label)."""
    if i >= len(tokens):
        return None, i
    t = tokens[i]
    if t.kind == "VAR" or (t.kind == "NUM" and len(t.val) == 1):
        return t.val, i + 1
    if t.kind == "LP" and t.val == "{":
        body = []
        j = i + 1
        while j < len(tokens) and tokens[j].kind in ("NUM", "VAR") and len(body) < 4:
            body.append(tokens[j].val)
            j += 1
        if body and j < len(tokens) and tokens[j].kind == "RP" and tokens[j].val == "}":
            return "".join(body), j + 1
    return None, i


def _times_x(tokens: list[Tok]) -> None:
    """`5 x 2` and `5x2` use the letter x as a multiplication sign between two operands."""
    for i in range(1, len(tokens) - 1):
        t = tokens[i]
        if t.kind != "VAR" or t.val not in ("x", "X"):
            continue
        prev, nxt = tokens[i - 1], tokens[i + 1]
        if prev.kind not in ("NUM", "RP") or nxt.kind not in ("NUM", "LP"):
            continue
        spaced = t.space and nxt.space
        glued = not t.space and not nxt.space and prev.kind == "NUM" and nxt.kind == "NUM"
        if spaced or glued:
            tokens[i] = Tok("OP", "*", t.start, t.end, t.space)


def _unsafe(tokens: list[Tok]) -> None:
    """Mark tokens that make a formula ambiguous: `8th`, `5cm`, `x2`, `30 -55`."""
    mathy = ("NUM", "VAR", "RP", "PI")
    for i, t in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.kind == "WORD" and (
            (i > 0 and not t.space and tokens[i - 1].kind in mathy)
            or (nxt is not None and not nxt.space and nxt.kind in mathy)
        ):
            tokens[i] = Tok("POISON", t.val, t.start, t.end, t.space)
        elif t.kind == "VAR" and nxt is not None and nxt.kind == "NUM" and not nxt.space:
            tokens[i] = Tok("POISON", t.val, t.start, t.end, t.space)  # x2: x^2 or x_2?
        elif (
            t.kind == "OP"
            and t.val in "+-"
            and t.space
            and i > 0
            and tokens[i - 1].kind in mathy
            and nxt is not None
            and not nxt.space
            and nxt.kind in ("NUM", "VAR")
        ):
            # "x + y = 30 -55 + y = 30": two formulas run together; "30 -55" is not 30 - 55.
            tokens[i] = Tok("POISON", t.val, t.start, t.end, t.space)


def tokenize(
    text: str, start: int = 0, end: int | None = None, *, latex: bool = False
) -> list[Tok]:
    """Tokens of text[start:end]; `latex` treats spaces as insignificant and splits `xy`."""
    end = len(text) if end is None else end
    tokens = _spaces(_words(_raw_tokens(text, start, end, latex), latex))
    tokens = _subscripts(tokens)
    _times_x(tokens)
    _unsafe(tokens)
    return tokens


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

    def __init__(self, toks: list[Tok], latex: bool) -> None:
        self.toks = toks
        self.i = 0
        self.depth = 0
        self.latex = latex

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
                e = sympy.Mul(e, self.power())
            else:
                break
        return e

    def implicit(self, t: Tok) -> bool:
        """Juxtaposition is multiplication: `2x`, `3(x+1)`, `(a)(b)`; never before a number.

        In plain text only without a space: "= 18 (H - 3) + H" is two formulas run together.
        """
        if t.kind not in ("VAR", "PI", "LP", "FRAC", "SQRT", "ROOT"):
            return False
        return self.latex or not t.space

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
        while (t := self.peek()) is not None and t.kind == "SUP":
            self.i += 1
            e = make_pow(e, sympy.Integer(2 if t.val == "²" else 3))
        return e

    def group(self) -> sympy.Expr:
        """A LaTeX argument: `{...}`, or one letter or digit (`\\frac12`)."""
        t = self.peek()
        if t is not None and t.kind == "LP" and t.val == "{":
            return self.atom()
        if t is not None and (t.kind == "VAR" or (t.kind == "NUM" and len(t.val) == 1)):
            self.i += 1
            return _number(t.val) if t.kind == "NUM" else sympy.Symbol(t.val)
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
        raise ParseError(f"unexpected {t.kind}")

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
        """`f(x)`, `g(2)`, `r(t)`: a letter glued to "(" around a name or a lone argument."""
        nxt = self.peek()
        if nxt is None or nxt.kind != "LP" or nxt.val != "(" or nxt.space:
            return False
        if t.val in _FUNCTION_LETTERS:
            return True
        inner, close = self.peek(1), self.peek(2)
        lone = inner is not None and inner.kind in ("NUM", "VAR")
        return lone and close is not None and close.kind == "RP"


def parse_tokens(toks: list[Tok], *, latex: bool = False) -> sympy.Expr:
    """A sympy expression from the tokens of one side of an equation."""
    return _Parser(toks, latex).parse()


def parse_expression(text: str, *, latex: bool = False) -> sympy.Expr:
    """A sympy expression from math text such as `2x + 3` or `\\frac{x}{2}`; ParseError if not."""
    toks = tokenize(text, latex=latex)
    if any(t.kind in ("SEP", "WORD", "POISON", "EQ", "REL") for t in toks):
        raise ParseError("not a single expression")
    return parse_tokens(toks, latex=latex)
