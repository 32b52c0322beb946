"""First-order formulas in FOLIO notation: tokenizer, depth-limited parser, AST and z3 translation.

Notation: `∀x (P(x) → Q(x))`, `∃x`, `∧ ∨ ¬ ⊕ → ↔`, `=`/`≠`, constants (`rina`), n-ary predicates,
function terms, nested quantifiers; ASCII spellings `forall`/`exists`, `& && /\\`, `| || \\/`,
`~ !`, `-> =>`, `<-> <=>`. Precedence, tightest first: ¬, ∧, ∨, ⊕, →, ↔ (→ groups to the right).
A quantifier's scope reaches as far right as possible, as FOLIO writes `∀x P(x) → Q(x)`; when
nothing after its parenthesised body uses the variable (`∃z (…) → R(x)`), the body alone.

FOLIO's quirks are read: names like `Risk-averse`, `mr.smith`, `c++`, `gpt-3`; `captain america`
as one constant; `P (x)`; a final full stop; one unbalanced parenthesis, repaired only when every
way of balancing it gives the same formula. Readings that are ambiguous are refused rather than
guessed: `^` (FOLIO uses it for ∧, programmers for xor), ⊕ mixed with ∧/∨ without parentheses, a
quantifier whose unparenthesised scope matters (`∀x P(x) → Q(a)`), and a variable-like name
(x, y, z, u, v, w) that no quantifier binds, which z3 would otherwise read as a constant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

import z3

MAX_FORMULA_CHARS = 10_000
MAX_TOKENS = 4_000
MAX_DEPTH = 100  # nesting of parentheses, quantifiers, negations and operator chains
MAX_REPAIR_TOKENS = 300  # repairs try every position: keep them cheap


class FolError(ValueError):
    """Text that is not a well-formed formula; the message says where and why."""


class FolAmbiguity(FolError):
    """Text with more than one reasonable reading; refused rather than guessed."""


# ---------------------------------------------------------------- AST


@dataclass(frozen=True, slots=True)
class Const:
    """A constant (an unbound name such as `rina`)."""

    name: str


@dataclass(frozen=True, slots=True)
class Var:
    """A variable bound by the quantifier numbered `binder` (numbered in text order)."""

    name: str
    binder: int


@dataclass(frozen=True, slots=True)
class Fn:
    """A function term `f(t1, …)`."""

    name: str
    args: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Atom:
    """A predicate applied to terms; a proposition when `args` is empty."""

    pred: str
    args: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Eq:
    """Equality of two terms."""

    left: Term
    right: Term


@dataclass(frozen=True, slots=True)
class Truth:
    """⊤ or ⊥."""

    value: bool


@dataclass(frozen=True, slots=True)
class Not:
    """Negation."""

    arg: Formula


@dataclass(frozen=True, slots=True)
class Nary:
    """An associative connective over two or more formulas: `and`, `or`, `xor`."""

    op: str
    args: tuple[Formula, ...]


@dataclass(frozen=True, slots=True)
class Binary:
    """`implies` or `iff`."""

    op: str
    left: Formula
    right: Formula


@dataclass(frozen=True, slots=True)
class Quant:
    """`forall` or `exists` binding `var` (numbered `binder`) in `body`."""

    kind: str
    var: str
    binder: int
    body: Formula


Term = Union[Const, Var, Fn]  # noqa: UP007 (a runtime alias; `|` between classes works too)
Formula = Union[Atom, Eq, Truth, Not, Nary, Binary, Quant]  # noqa: UP007

# ---------------------------------------------------------------- tokens

_OPS = [
    ("IFF", r"<->|<=>|↔|⇔"),
    ("IMP", r"->|=>|→|⇒"),
    ("NEQ", r"!=|≠"),
    ("EQ", r"="),
    ("AND", r"&&|&|∧|/\\"),
    ("OR", r"\|\||\||∨|\\/"),
    ("XOR", r"⊕|⊻"),
    ("CARET", r"\^"),
    ("NOT", r"¬|~|!"),
    ("FORALL", r"∀"),
    ("EXISTS", r"∃"),
    ("TRUE", r"⊤"),
    ("FALSE", r"⊥"),
    ("LP", r"\("),
    ("RP", r"\)"),
    ("COMMA", r","),
    # Names as FOLIO writes them: Risk-averse, mr.smith, gpt-3, a+, c++, anU.SGovernmentOfficial.
    ("NAME", r"\w(?:\w|[-.](?=\w))*\+*"),
    ("SPACE", r"\s+"),
]
_TOKEN = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _OPS))
_VARIABLE = re.compile(r"\s*([^\W\d]\w*)\s*")
_QUANT_WORDS = {"forall": "FORALL", "exists": "EXISTS"}
_BINARY = {"IFF": 1, "IMP": 2, "XOR": 3, "OR": 4, "AND": 5}
_EXPECTED = {"LP": "'('", "RP": "')'", "NAME": "a name"}
_SYMBOL = {"IFF": "↔", "IMP": "→", "XOR": "⊕", "OR": "∨", "AND": "∧"}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text and where it starts."""

    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`; a quantifier is followed by VAR tokens (`∀x`, `∀x,y`, `forall x.`)."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FolError(f"unexpected character {text[pos]!r} at {pos}")
        kind, word = match.lastgroup or "", match.group()
        if kind == "NAME" and word in _QUANT_WORDS and _VARIABLE.match(text, match.end()):
            kind = _QUANT_WORDS[word]
        if kind == "CARET":
            raise FolAmbiguity(f"'^' at {pos} is ambiguous (and or xor?): write ∧ or ⊕")
        if kind != "SPACE":
            tokens.append(Token(kind, word, pos))
        pos = match.end()
        if kind in ("FORALL", "EXISTS"):
            pos = _quantifier_variables(text, pos, tokens)
        if len(tokens) > MAX_TOKENS:
            raise FolError(f"formula longer than {MAX_TOKENS} tokens")
    return tokens


def _quantifier_variables(text: str, pos: int, tokens: list[Token]) -> int:
    """Read `x`, `x, y`, `x.` or `x:` after a quantifier; returns the position after them."""
    while True:
        match = _VARIABLE.match(text, pos)
        if match is None:
            raise FolError(f"a quantifier at {pos} needs a variable")
        tokens.append(Token("VAR", match.group(1), match.start(1)))
        pos = match.end()
        if text.startswith(",", pos) and _VARIABLE.match(text, pos + 1):
            pos += 1
            continue
        if text.startswith((".", ":"), pos):
            pos += 1
        return pos


# ---------------------------------------------------------------- parser


class _Parser:
    """Recursive descent over a token list, refusing nesting deeper than MAX_DEPTH."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.binders = 0
        self.scope: list[tuple[str, int]] = []  # bound variables, innermost last

    def peek(self) -> str:
        return self.tokens[self.i].kind if self.i < len(self.tokens) else "END"

    def take(self, kind: str) -> Token:
        if self.peek() != kind:
            raise self.error(f"expected {_EXPECTED[kind]}")
        self.i += 1
        return self.tokens[self.i - 1]

    def error(self, why: str) -> FolError:
        if self.i >= len(self.tokens):
            return FolError(f"{why} at the end")
        tok = self.tokens[self.i]
        return FolError(f"{why} at {tok.pos} (found {tok.text!r})")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FolError(f"formula nested deeper than {MAX_DEPTH} levels")

    def formula(self) -> Formula:
        """A formula up to `)` or the end."""
        return self.chain()[0]

    def chain(self) -> tuple[Formula, list[Formula], list[str], tuple[int, int]]:
        """A formula with its top-level operands and operators, and the parser state after the
        first operand (token index, binders) so that a quantifier can take the narrow scope."""
        self.enter()
        operands = [self.unary()]
        after_first = (self.i, self.binders)
        ops: list[str] = []
        while self.peek() in _BINARY:
            ops.append(self.tokens[self.i].kind)
            self.i += 1
            operands.append(self.unary())
        self.depth -= 1
        return _combine(operands, ops), operands, ops, after_first

    def unary(self) -> Formula:
        negations = 0
        while self.peek() == "NOT":
            negations += 1
            self.i += 1
        if negations > MAX_DEPTH:
            raise FolError(f"more than {MAX_DEPTH} negations in a row")
        kind = self.peek()
        if kind in ("FORALL", "EXISTS"):
            node: Formula = self.quantified(negated=negations > 0)
        elif kind == "LP":
            self.i += 1
            node = self.formula()
            self.take("RP")
        elif kind in ("TRUE", "FALSE"):
            self.i += 1
            node = Truth(kind == "TRUE")
        elif kind == "NAME":
            node = self.atom()
        else:
            raise self.error("expected a formula")
        for _ in range(negations):
            node = Not(node)
        return node

    def quantified(self, *, negated: bool) -> Formula:
        quant = self.tokens[self.i].kind.lower()
        self.i += 1
        bound: list[tuple[str, int]] = []
        while self.peek() == "VAR":
            bound.append((self.tokens[self.i].text, self.binders))
            self.binders += 1
            self.i += 1
        grouped = self.peek() == "LP"
        self.enter()
        self.scope.extend(bound)
        body, operands, ops, after_first = self.chain()
        del self.scope[len(self.scope) - len(bound) :]
        self.depth -= 1
        if _narrow_scope(bound, operands, ops, grouped=grouped, negated=negated):
            body = operands[0]  # `∀x (G) op R`: the quantifier binds the group; re-read R outside
            self.i, self.binders = after_first
        for name, binder in reversed(bound):
            body = Quant("forall" if quant == "forall" else "exists", name, binder, body)
        return body

    def atom(self) -> Formula:
        name = self.take("NAME").text
        if self.peek() == "LP":
            args = self.arguments()
            if self.peek() in ("EQ", "NEQ"):
                return self.equality(Fn(name, args))
            return Atom(name, args)
        if self.peek() in ("EQ", "NEQ"):
            return self.equality(self.resolve(name))
        return Atom(name, ())

    def equality(self, left: Term) -> Formula:
        negated = self.peek() == "NEQ"
        self.i += 1
        eq = Eq(left, self.term())
        return Not(eq) if negated else eq

    def arguments(self) -> tuple[Term, ...]:
        self.take("LP")
        args = [self.term()]
        while self.peek() == "COMMA":
            self.i += 1
            args.append(self.term())
        self.take("RP")
        return tuple(args)

    def term(self) -> Term:
        name = self.take("NAME").text
        if self.peek() == "NAME":  # `ComeFrom(x, dc universe)`: words in a row name one constant
            words = [name]
            while self.peek() == "NAME":
                words.append(self.take("NAME").text)
            if any(isinstance(self.resolve(w), Var) for w in words):
                raise self.error("a bound variable inside a multi-word name")
            return Const("_".join(words))
        if self.peek() != "LP":
            return self.resolve(name)
        self.enter()
        node = Fn(name, self.arguments())
        self.depth -= 1
        return node

    def resolve(self, name: str) -> Term:
        for bound, binder in reversed(self.scope):
            if bound == name:
                return Var(name, binder)
        return Const(name)


def _combine(operands: list[Formula], ops: list[str]) -> Formula:
    """Build the tree of one operator chain by precedence (no recursion on the chain's length)."""
    if not ops:
        return operands[0]
    kinds = set(ops)
    if "XOR" in kinds and kinds & {"AND", "OR"} and not kinds & {"IMP", "IFF"}:
        raise FolAmbiguity("⊕ mixed with ∧/∨ without parentheses is ambiguous")
    loosest = min(kinds, key=_BINARY.__getitem__)
    groups: list[Formula] = []
    start = 0
    for k, op in enumerate(ops):
        if op == loosest:
            groups.append(_combine(operands[start : k + 1], ops[start:k]))
            start = k + 1
    groups.append(_combine(operands[start:], ops[start:]))
    if len(groups) > MAX_DEPTH:
        raise FolError(f"a chain of more than {MAX_DEPTH} {_SYMBOL[loosest]}")
    if loosest == "IMP":  # a → b → c is a → (b → c)
        node = groups[-1]
        for left in reversed(groups[:-1]):
            node = Binary("implies", left, node)
        return node
    if loosest == "IFF":  # ↔ is associative: the grouping does not change the meaning
        node = groups[0]
        for right in groups[1:]:
            node = Binary("iff", node, right)
        return node
    return Nary(loosest.lower(), tuple(groups))


def _narrow_scope(
    bound: list[tuple[str, int]],
    operands: list[Formula],
    ops: list[str],
    *,
    grouped: bool,
    negated: bool,
) -> bool:
    """Whether a quantifier binds only its first operand; FolAmbiguity when that is unclear.

    The wide scope (to the right end) is FOLIO's reading of `∀x P(x) → Q(x)`, the only one that
    binds the x of Q(x). When no bound variable occurs after the first operand G, the narrow reading
    is the textbook one; both agree under ∧/∨ without a negation before the quantifier
    (∀x (G ∧ R) ≡ ∀x G ∧ R when x is not in R). Otherwise a parenthesised G (`∃z (…) → R`) is taken
    as the whole scope, and an unparenthesised one (`∀x P(x) → Q(a)`) is refused as ambiguous.
    """
    if len(operands) == 1:
        return False
    if any(_occurs(binder, f) for _, binder in bound for f in operands[1:]):
        return False
    if not negated and not set(ops) - {"AND", "OR"}:
        return False
    if grouped:
        return True
    names = ", ".join(name for name, _ in bound)
    raise FolAmbiguity(
        f"the scope of the quantifier on {names} is ambiguous: put its whole body in parentheses"
    )


def _occurs(binder: int, node: Formula | Term) -> bool:
    """Whether the variable of quantifier `binder` occurs in `node` (iterative walk)."""
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Var) and item.binder == binder:
            return True
        stack.extend(children(item))
    return False


def parse_tokens(tokens: list[Token]) -> Formula:
    """Parse a whole token list as one formula."""
    if not tokens:
        raise FolError("empty formula")
    parser = _Parser(tokens)
    node = parser.formula()
    if parser.i < len(tokens):
        raise parser.error("unexpected text after the formula")
    if depth(node) > MAX_DEPTH:
        raise FolError(f"formula nested deeper than {MAX_DEPTH} levels")
    _refuse_free_variables(node)
    return node


_VARIABLE_LIKE = re.compile(r"[u-z]\d?")


def _refuse_free_variables(node: Formula) -> None:
    """An unbound `x` is a constant to z3 but a variable to its writer (`Man(x) → Mortal(x)`
    meant for all x, `∀x ∀x (… y …)`, `∀xP(x)`): refuse it rather than read it as a name."""
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        name = None
        if isinstance(item, Const):
            name = item.name
        elif isinstance(item, Atom) and not item.args:
            name = item.pred
        if name is not None and _VARIABLE_LIKE.fullmatch(name):
            raise FolError(f"{name} looks like a variable, but no quantifier binds it")
        stack.extend(children(item))


def depth(node: Formula | Term) -> int:
    """How deep a formula's tree is (iterative, so any depth is safe to measure)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(node, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children(item))
    return deepest


def children(item: object) -> tuple[object, ...]:
    """The direct sub-formulas and terms of a node."""
    if isinstance(item, (Fn, Atom, Nary)):
        return item.args
    if isinstance(item, (Eq, Binary)):
        return (item.left, item.right)
    if isinstance(item, Not):
        return (item.arg,)
    if isinstance(item, Quant):
        return (item.body,)
    return ()


@dataclass(frozen=True)
class Parsed:
    """A parsed formula, the text it came from, and any repair made to read it."""

    formula: Formula
    text: str
    repaired: str | None = None


def parse(text: str) -> Parsed:
    """Parse FOL text; raises FolError (FolAmbiguity for ambiguous readings) on failure."""
    if len(text) > MAX_FORMULA_CHARS:
        raise FolError(f"formula longer than {MAX_FORMULA_CHARS} characters")
    body = text.strip()
    if body.endswith("."):  # FOLIO ends some formulas with a full stop
        body = body[:-1].rstrip()
    tokens = tokenize(body)
    opened = sum(t.kind == "LP" for t in tokens)
    closed = sum(t.kind == "RP" for t in tokens)
    if opened == closed:
        return Parsed(parse_tokens(tokens), text)
    if abs(opened - closed) != 1 or len(tokens) > MAX_REPAIR_TOKENS:
        raise FolError(f"unbalanced parentheses ({opened} opened, {closed} closed)")
    return Parsed(_repair(tokens, "LP" if opened < closed else "RP"), text, _REPAIRED)


_REPAIRED = "one unbalanced parenthesis: every way of balancing it gives this formula"


def _repair(tokens: list[Token], missing: str) -> Formula:
    """The one formula that every single-parenthesis fix yields, or FolError."""
    extra = "RP" if missing == "LP" else "LP"
    paren = Token(missing, "(" if missing == "LP" else ")", -1)
    candidates = [tokens[:k] + [paren] + tokens[k:] for k in range(len(tokens) + 1)]
    candidates += [tokens[:k] + tokens[k + 1 :] for k, t in enumerate(tokens) if t.kind == extra]
    readings: set[Formula] = set()
    for candidate in candidates:
        try:
            readings.add(parse_tokens(candidate))
        except FolAmbiguity as exc:
            raise FolAmbiguity(
                f"unbalanced parentheses, and a fix reads ambiguously: {exc}"
            ) from None
        except FolError:
            continue
    if len(readings) != 1:
        raise FolError(f"unbalanced parentheses that {len(readings)} fixes read differently")
    return readings.pop()


# ---------------------------------------------------------------- printing


def show(node: Formula | Term) -> str:
    """Canonical text of a formula or term (fully parenthesised binary connectives)."""
    if isinstance(node, Const):
        return node.name
    if isinstance(node, Var):
        return node.name
    if isinstance(node, (Fn, Atom)):
        name = node.name if isinstance(node, Fn) else node.pred
        return f"{name}({', '.join(show(a) for a in node.args)})" if node.args else name
    if isinstance(node, Eq):
        return f"{show(node.left)} = {show(node.right)}"
    if isinstance(node, Truth):
        return "⊤" if node.value else "⊥"
    if isinstance(node, Not):
        return f"¬{_wrapped(node.arg)}"
    if isinstance(node, Nary):
        symbol = _SYMBOL[node.op.upper()]
        return f" {symbol} ".join(_wrapped(a) for a in node.args)
    if isinstance(node, Binary):
        symbol = "→" if node.op == "implies" else "↔"
        return f"{_wrapped(node.left)} {symbol} {_wrapped(node.right)}"
    symbol = "∀" if node.kind == "forall" else "∃"
    return f"{symbol}{node.var} ({show(node.body)})"


def _wrapped(node: Formula) -> str:
    text = show(node)
    return f"({text})" if isinstance(node, (Nary, Binary, Eq, Quant)) else text


def symbols(node: Formula) -> set[str]:
    """Names of the predicates, functions and constants a formula uses."""
    out: set[str] = set()
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (Const, Fn)):
            out.add(item.name)
        elif isinstance(item, Atom):
            out.add(item.pred)
        stack.extend(children(item))
    return out


# ---------------------------------------------------------------- z3


class Z3Translator:
    """AST -> z3 over one uninterpreted sort, in one z3 context (symbols shared across formulas)."""

    def __init__(self, ctx: z3.Context) -> None:
        self.ctx = ctx
        self.sort = z3.DeclareSort("U", ctx)
        self._decls: dict[tuple[str, str, int], z3.FuncDeclRef] = {}
        self._consts: dict[str, z3.ExprRef] = {}

    def formula(self, node: Formula, bound: dict[int, z3.ExprRef] | None = None) -> z3.BoolRef:
        """The z3 Boolean for a closed formula (depth is bounded by the parser)."""
        bound = {} if bound is None else bound
        if isinstance(node, Atom):
            if not node.args:
                return z3.Bool(f"{node.pred}/0", self.ctx)
            decl = self._decl("pred", node.pred, len(node.args))
            return decl(*[self.term(a, bound) for a in node.args])
        if isinstance(node, Eq):
            return self.term(node.left, bound) == self.term(node.right, bound)
        if isinstance(node, Truth):
            return z3.BoolVal(node.value, self.ctx)
        if isinstance(node, Not):
            return z3.Not(self.formula(node.arg, bound))
        if isinstance(node, Nary):
            args = [self.formula(a, bound) for a in node.args]
            if node.op == "and":
                return z3.And(*args)
            if node.op == "or":
                return z3.Or(*args)
            out = args[0]
            for arg in args[1:]:
                out = z3.Xor(out, arg)
            return out
        if isinstance(node, Binary):
            left, right = self.formula(node.left, bound), self.formula(node.right, bound)
            return z3.Implies(left, right) if node.op == "implies" else left == right
        var = z3.Const(f"{node.var}#{node.binder}", self.sort)
        body = self.formula(node.body, {**bound, node.binder: var})
        return z3.ForAll([var], body) if node.kind == "forall" else z3.Exists([var], body)

    def term(self, node: Term, bound: dict[int, z3.ExprRef]) -> z3.ExprRef:
        """The z3 term of the sort U."""
        if isinstance(node, Var):
            return bound[node.binder]
        if isinstance(node, Const):
            if node.name not in self._consts:
                self._consts[node.name] = z3.Const(node.name, self.sort)
            return self._consts[node.name]
        decl = self._decl("fn", node.name, len(node.args))
        return decl(*[self.term(a, bound) for a in node.args])

    def _decl(self, kind: str, name: str, arity: int) -> z3.FuncDeclRef:
        key = (kind, name, arity)
        if key not in self._decls:
            rng = z3.BoolSort(self.ctx) if kind == "pred" else self.sort
            label = f"{name}/{arity}" if kind == "pred" else f"{name}()/{arity}"
            self._decls[key] = z3.Function(label, *([self.sort] * arity), rng)
        return self._decls[key]
