"""The requirement language of rule packs: a small parser (no eval) and its AST.

Grammar (lowest precedence first)::

    or   := and ("or" and)*
    and  := not ("and" not)*
    not  := "not" not | cmp
    cmp  := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum  := prod (("+" | "-") prod)*
    prod := unary (("*" | "/") unary)*
    unary:= "-" unary | atom
    atom := NUMBER | NAME | "true" | "false" | "(" or ")"

Names are facts of the pack; quantities are reals, flags are booleans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

MAX_FORMULA_CHARS = 2000
MAX_DEPTH = 50

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d{1,15}(?:\.\d{1,15})?)|(?P<name>[A-Za-z_][A-Za-z0-9_]{0,63})"
    r"|(?P<op>>=|<=|==|!=|≥|≤|[<>()+\-*/]))"
)
_CMP_OPS = {">=", "<=", ">", "<", "==", "!="}
_UNICODE = {"≥": ">=", "≤": "<="}
# The negation of each comparison, so that `not` can be pushed down to the atoms.
_NEGATED = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "=="}
_SHOWN = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "=", "!=": "≠"}


class FormulaError(ValueError):
    """A requirement that does not parse or does not type-check; the message says where."""


@dataclass(frozen=True)
class Node:
    """One node of a requirement: op is num, var, const, + - * /, neg, a comparison, and/or/not."""

    op: str
    args: tuple[Node, ...] = ()
    value: Fraction | bool | str | None = None  # the number, the constant, or the variable name


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FormulaError(f"unexpected character at position {pos}: {text[pos : pos + 10]!r}")
        out.append(_UNICODE.get(m.group(m.lastgroup), m.group(m.lastgroup)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, kinds: dict[str, str]) -> None:
        if len(text) > MAX_FORMULA_CHARS:
            raise FormulaError(f"longer than {MAX_FORMULA_CHARS} characters")
        self.toks = _tokens(text)
        self.pos = 0
        self.kinds = kinds  # fact name -> "quantity" | "flag"
        self.depth = 0

    def peek(self) -> str | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise FormulaError("unexpected end of formula")
        self.pos += 1
        return tok

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise FormulaError(f"unexpected {self.peek()!r} after the end of the formula")
        self.want(node, "bool")
        return node

    def or_(self) -> Node:
        args = [self.and_()]
        while self.peek() == "or":
            self.take()
            args.append(self.and_())
        return args[0] if len(args) == 1 else Node("or", tuple(self.want(a, "bool") for a in args))

    def and_(self) -> Node:
        args = [self.not_()]
        while self.peek() == "and":
            self.take()
            args.append(self.not_())
        return args[0] if len(args) == 1 else Node("and", tuple(self.want(a, "bool") for a in args))

    def not_(self) -> Node:
        if self.peek() == "not":
            self.take()
            return Node("not", (self.want(self.nested(self.not_), "bool"),))
        return self.cmp()

    def cmp(self) -> Node:
        left = self.sum_()
        if self.peek() in _CMP_OPS:
            op = self.take()
            right = self.sum_()
            return Node(op, (self.want(left, "real"), self.want(right, "real")))
        return left

    def sum_(self) -> Node:
        node = self.prod()
        while self.peek() in ("+", "-"):
            op = self.take()
            node = Node(op, (self.want(node, "real"), self.want(self.prod(), "real")))
        return node

    def prod(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            node = Node(op, (self.want(node, "real"), self.want(self.unary(), "real")))
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Node("neg", (self.want(self.nested(self.unary), "real"),))
        return self.atom()

    def atom(self) -> Node:
        tok = self.take()
        if tok == "(":
            node = self.nested(self.or_)
            if self.take() != ")":
                raise FormulaError("missing ')'")
            return node
        if tok in ("true", "false"):
            return Node("const", value=tok == "true")
        if tok[0].isdigit():
            return Node("num", value=Fraction(tok))
        if tok[0].isalpha() or tok[0] == "_":
            if tok in ("and", "or", "not"):
                raise FormulaError(f"'{tok}' where a value was expected")
            if tok not in self.kinds:
                raise FormulaError(f"unknown fact '{tok}'")
            return Node("var", value=tok)
        raise FormulaError(f"unexpected {tok!r}")

    def want(self, node: Node, sort: str) -> Node:
        """The node, or FormulaError when it is not of `sort` (bool or real)."""
        if node.op == "var":
            actual = "bool" if self.kinds.get(str(node.value)) == "flag" else "real"
        else:
            actual = "real" if node.op in ("num", "neg", "+", "-", "*", "/") else "bool"
        if actual != sort:
            what = "a true/false condition" if sort == "bool" else "a number"
            raise FormulaError(f"expected {what}, got {render(node)!r}")
        return node

    def nested(self, rule):  # type: ignore[no-untyped-def]
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"nested deeper than {MAX_DEPTH}")
        try:
            return rule()
        finally:
            self.depth -= 1


def parse(text: str, kinds: dict[str, str]) -> Node:
    """Parse a requirement over `kinds` (fact name -> quantity|flag); FormulaError if bad."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("empty formula")
    return _Parser(text, kinds).parse()


def parse_expression(text: str, kinds: dict[str, str]) -> Node:
    """Parse an arithmetic expression (for derived facts); FormulaError if bad."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("empty expression")
    parser = _Parser(text, kinds)
    node = parser.sum_()
    if parser.peek() is not None:
        raise FormulaError(f"unexpected {parser.peek()!r}")
    return parser.want(node, "real")


def variables(node: Node) -> set[str]:
    """The fact names a node mentions."""
    if node.op == "var":
        return {str(node.value)}
    out: set[str] = set()
    for arg in node.args:
        out |= variables(arg)
    return out


def nnf(node: Node, negate: bool = False) -> Node:
    """The node with `not` pushed down to the atoms (comparisons flipped)."""
    if node.op == "not":
        return nnf(node.args[0], not negate)
    if node.op in ("and", "or"):
        op = node.op if not negate else ("or" if node.op == "and" else "and")
        return Node(op, tuple(nnf(a, negate) for a in node.args))
    if node.op in _CMP_OPS:
        return Node(_NEGATED[node.op], node.args) if negate else node
    if node.op == "const":
        return Node("const", value=(not node.value) if negate else node.value)
    return Node("not", (node,)) if negate else node  # a flag


def literals(node: Node) -> list[Node]:
    """The atoms of an NNF node (comparisons, flags and negated flags)."""
    if node.op in ("and", "or"):
        return [lit for a in node.args for lit in literals(a)]
    return [] if node.op == "const" else [node]


def closed(node: Node, known: set[str]) -> Node:
    """An NNF node whose atoms about facts not in `known` are false (absent facts help nothing)."""
    if node.op in ("and", "or"):
        return Node(node.op, tuple(closed(a, known) for a in node.args))
    if node.op == "const" or variables(node) <= known:
        return node
    return Node("const", value=False)


def evaluate(node: Node, values: dict[str, Fraction]) -> Fraction | None:
    """The exact value of an arithmetic node, None when a fact is missing or it divides by 0."""
    if node.op == "num":
        return node.value  # type: ignore[return-value]
    if node.op == "var":
        return values.get(str(node.value))
    args = [evaluate(a, values) for a in node.args]
    if any(a is None for a in args):
        return None
    if node.op == "neg":
        return -args[0]  # type: ignore[operator]
    a, b = args
    if node.op == "+":
        return a + b  # type: ignore[operator]
    if node.op == "-":
        return a - b  # type: ignore[operator]
    if node.op == "*":
        return a * b  # type: ignore[operator]
    return None if b == 0 else a / b  # type: ignore[operator]


def show_number(value: Fraction) -> str:
    """A number as a person writes it (6.5, 126, 0.333)."""
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.4f}".rstrip("0").rstrip(".")
    return text


def render(node: Node, label=None) -> str:  # type: ignore[no-untyped-def]
    """The node in words: `label(name, number_or_None)` names facts (and units after numbers)."""
    label = label or (lambda name, num: name if num is None else show_number(num))
    if node.op == "num":
        return show_number(node.value)  # type: ignore[arg-type]
    if node.op == "var":
        return label(str(node.value), None)
    if node.op == "const":
        return "true" if node.value else "false"
    if node.op == "not":
        return f"not {_paren(node.args[0], label)}"
    if node.op == "neg":
        return f"-{_paren(node.args[0], label)}"
    if node.op in ("and", "or"):
        return f" {node.op} ".join(_paren(a, label) for a in node.args)
    left, right = node.args
    if node.op in _CMP_OPS and right.op == "num" and left.op == "var":
        # "HbA1c ≥ 6.5 %": the unit of the fact follows the threshold.
        name = str(left.value)
        return f"{label(name, None)} {_SHOWN[node.op]} {label(name, right.value)}"
    return f"{_paren(left, label)} {_SHOWN.get(node.op, node.op)} {_paren(right, label)}"


def _paren(node: Node, label) -> str:  # type: ignore[no-untyped-def]
    text = render(node, label)
    return f"({text})" if node.op in ("and", "or") else text
