"""The system of equations a chain has stated so far, and how a new equation relates to it.

Equations are polynomials with rational coefficients (denominators cleared). A new
equation E is judged against the part of the known system that shares its variables:

- identity: E holds for every value (`0.25(0.1x) = 0.025x`);
- implied: E is in the ideal of the known equations (Groebner reduction to 0);
- narrows: E is consistent and its variables were already determined (a root chosen);
- premise: E is consistent and says something new (`Let y = 2x`);
- redefines: `v = c` contradicts only earlier `v = c'` assignments (a letter reused);
- contradicts: no value satisfies the known system and E together (Groebner basis {1});
- approx: E only differs from what is implied within the rounding that its decimals show;
- unknown: the known system is itself inconsistent, or rounding makes it undecidable.

Sizes are bounded before any sympy call (degree, variables, equations, coefficient size),
so that no single check can run long.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

import sympy
from sympy.polys.polyerrors import PolynomialError

from validators.algebra.linear import CONSTANT, Form, LinearSystem, proportional
from validators.types import Budget

MAX_DEGREE = 6
MAX_EQUATIONS = 8  # equations of the known system used for one check
MAX_VARS = 8
MAX_COEFF_DIGITS = 200
APPROX_REL = sympy.Rational(1, 200)  # 0.5 %: rounding of a written decimal result
_uid = itertools.count()
_RADICAL = "√"  # prefix of the symbols that stand for radicals
_NAME = operator.attrgetter("name")


def _names(text: str) -> frozenset[str]:
    """A set of names written as one space-separated string."""
    return frozenset(text.split())


def _ordered(symbols: Iterable[sympy.Symbol]) -> list[sympy.Symbol]:
    """Symbols in the generators' order: by name, which is what str() prints for a Symbol,
    without sympy's printer (str() costs microseconds per symbol)."""
    return sorted(symbols, key=_NAME)


class Unchecked(ValueError):
    """An equation or system beyond what is checked; the message says why."""


@dataclass(eq=False)
class Eq:
    """One stated equation as the polynomial `expr = 0`, with where and how it was written."""

    expr: sympy.Expr  # numerator of lhs - rhs, expanded
    lhs: sympy.Expr
    rhs: sympy.Expr
    text: str
    decimals: int = 0
    degree: int = 1
    unit: str | None = None  # the word written after it ("3x = 60 minutes")
    uid: int = field(default_factory=lambda: next(_uid))

    # Radicals such as sqrt(3) stand in the polynomial as symbols; each comes with its
    # defining relation (s^2 - 3 = 0), which holds for both signs, so only a claim false
    # for both can be reported.
    relations: tuple[sympy.Expr, ...] = ()

    @functools.cached_property  # an Eq is never changed, and systems ask for this often
    def vars(self) -> frozenset[sympy.Symbol]:
        """The variables the equation mentions (even those that cancel), radicals included."""
        return frozenset(self.expr.free_symbols | self.lhs.free_symbols | self.rhs.free_symbols)

    @functools.cached_property
    def linear(self) -> Form | None:
        """expr as a linear form (algebra.linear), None when of higher degree or radical."""
        if self.degree != 1 or self.relations:
            return None
        form: Form = {}
        for term, c in self.expr.as_coefficients_dict().items():
            if not (c.is_Rational and (term is sympy.S.One or term.is_Symbol)):
                return None
            form[CONSTANT if term is sympy.S.One else term] = Fraction(int(c.p), int(c.q))
        return form

    @property
    def assigned(self) -> sympy.Symbol | None:
        """v for an equation `v = number` (or `number = v`), else None."""
        for a, b in ((self.lhs, self.rhs), (self.rhs, self.lhs)):
            if a.is_Symbol and b.is_number:
                return a
        return None

    @property
    def formula_for(self) -> sympy.Symbol | None:
        """v for an equation `v = f(other variables)` such as `A = l * w`, else None."""
        for a, b in ((self.lhs, self.rhs), (self.rhs, self.lhs)):
            if a.is_Symbol and b.free_symbols and a not in b.free_symbols:
                return a
        return None


Solutions = list[dict[sympy.Symbol, sympy.Expr]]


@dataclass
class Judgement:
    """How an equation relates to the known system (see the module docstring)."""

    kind: str
    known: list[Eq] = field(default_factory=list)
    # The values the known system allows eq's variables, found when first asked for: closed
    # forms can cost tens of milliseconds, and most contradictions found are never reported
    # with them (a MATH-style step is refuted under its own premises, see refutation).
    solve: Callable[[], Solutions | None] | None = field(default=None, repr=False)

    @property
    def solutions(self) -> Solutions | None:
        """The known system's values of eq's variables (None: not finite, or not asked)."""
        return self.solve() if self.solve is not None else None


def _degree_bound(e: sympy.Expr) -> tuple[int, int]:
    """(numerator, denominator) degree bounds of e, without expanding anything."""
    if e.is_Symbol:
        return 1, 0
    if e.is_number:
        return 0, 0
    if e.is_Add or e.is_Mul:
        parts = [_degree_bound(a) for a in e.args]
        dens = sum(d for _, d in parts)
        if e.is_Mul:
            return sum(n for n, _ in parts), dens
        return max(n for n, _ in parts) + dens, dens
    if e.is_Pow and e.exp.is_Integer:
        n, d = _degree_bound(e.base)
        k = int(e.exp)
        return (n * k, d * k) if k >= 0 else (d * -k, n * -k)
    raise Unchecked("not a polynomial or rational equation")


def to_equation(
    lhs: sympy.Expr,
    rhs: sympy.Expr,
    text: str,
    decimals: int = 0,
    unit: str | None = None,
) -> Eq:
    """The polynomial form of `lhs = rhs`; Unchecked when beyond the supported bounds."""
    diff = lhs - rhs
    if diff.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise Unchecked("a division by zero")
    if _degree_bound(diff)[0] > MAX_DEGREE:
        raise Unchecked(f"degree above {MAX_DEGREE}")
    diff, relations = _radicals_as_symbols(diff)
    symbols = diff.free_symbols | lhs.free_symbols | rhs.free_symbols
    # (with no symbol at all, sympy.Poly raises GeneratorsNeeded: left to happen as before)
    expr = _linear_numerator(diff) if symbols and not relations else None
    if expr is not None:  # the usual equation: no sympy.Poly to build (see _linear_numerator)
        coeffs = [t.as_coeff_Mul()[0] for t in sympy.Add.make_args(expr)]
        degree = 1
    else:
        gens = _ordered(symbols)
        try:
            poly = sympy.Poly(_numerator(diff), *gens)
        except PolynomialError as exc:
            raise Unchecked("not a polynomial or rational equation") from exc
        if not (poly.domain.is_ZZ or poly.domain.is_QQ):
            raise Unchecked("a constant such as pi")
        coeffs = [sympy.Rational(c) for c in poly.coeffs()]
        degree = max(poly.total_degree(), 1)
        expr = poly.as_expr()
    if any(abs(c.p) > 10**MAX_COEFF_DIGITS or c.q > 10**MAX_COEFF_DIGITS for c in coeffs):
        raise Unchecked(f"coefficients above {MAX_COEFF_DIGITS} digits")
    return Eq(expr, lhs, rhs, text, decimals, degree, unit, relations=relations)


def _linear_numerator(diff: sympy.Expr) -> sympy.Expr | None:
    """Poly(_numerator(diff)).as_expr() when diff is linear with rational coefficients, else None.

    Such a diff is an Add of terms c·v and a constant, and diff·scale (scale: the lcm of the
    denominators, as in _numerator) is already the expanded sum of integer multiples that the
    Poly would hand back, in sympy's canonical order: building the Poly (its options, domain
    and dict) cost more than the rest of to_equation.
    """
    scale = 1
    for term in sympy.Add.make_args(diff):
        coeff, rest = term.as_coeff_Mul()
        if not coeff.is_Rational or not (rest is sympy.S.One or rest.is_Symbol):
            return None
        scale = scale * coeff.q // math.gcd(scale, coeff.q)
    return diff * scale


def _numerator(diff: sympy.Expr) -> sympy.Expr:
    """The numerator of `diff` over a common denominator (sympy.together, then fraction)."""
    scale = _denominators_lcm(diff)
    if scale is None:
        return sympy.fraction(sympy.together(diff))[0]
    # A sum of rational multiples of products of variables: `together` takes out the terms'
    # content g/scale and common variables m, leaving a primitive sum s: diff = (g/scale)·m·s
    # and the numerator g·m·s, which is diff·scale. Multiplying is several times faster.
    return diff * scale


def _denominators_lcm(diff: sympy.Expr) -> int | None:
    """The lcm of the coefficients' denominators when diff is such a sum, else None."""
    scale = 1
    for term in sympy.Add.make_args(diff):
        coeff, rest = term.as_coeff_Mul()
        if not coeff.is_Rational:
            return None
        for factor in sympy.Mul.make_args(rest):
            base, exp = factor.as_base_exp()
            if not (base.is_Symbol and exp.is_Integer and exp > 0) and factor is not sympy.S.One:
                return None
        scale = scale * coeff.q // math.gcd(scale, coeff.q)
    return scale


def is_radical(symbol: sympy.Symbol) -> bool:
    """Whether a symbol stands for a radical such as sqrt(3), not for a variable."""
    return symbol.name.startswith(_RADICAL)


def _radicals_as_symbols(e: sympy.Expr) -> tuple[sympy.Expr, tuple[sympy.Expr, ...]]:
    """e with each b^(p/q) (b a positive rational) as a symbol r, and each r^q = b^p."""
    mapping, relations = {}, []
    for a in e.atoms(sympy.Pow):
        if a.base.is_Rational and a.base > 0 and a.exp.is_Rational and not a.exp.is_Integer:
            r = sympy.Symbol(f"{_RADICAL}{a.base}^{a.exp}")
            p, q = int(a.exp.p), int(a.exp.q)
            mapping[a] = r
            relations.append(r**q - a.base**p if p > 0 else r**q * a.base ** (-p) - 1)
    return (e.xreplace(mapping), tuple(relations)) if mapping else (e, ())


def _check_size(eqs: list[Eq], gens: list[sympy.Symbol]) -> None:
    """Refuse systems whose Groebner basis could be slow to compute."""
    n, deg = len(gens), max(e.degree for e in eqs)
    nonlinear = sum(e.degree > 1 for e in eqs) + len(_relations(eqs))
    # Measured: each allowed shape takes well under 0.1 s even with dense random polynomials.
    small = (
        n == 1
        or (n <= 2 and nonlinear <= 3)
        or (n <= MAX_VARS and deg == 1)
        or (n <= MAX_VARS and deg <= 2 and nonlinear <= 4)
        or (n <= 5 and deg <= 3 and nonlinear <= 2)
    )
    if not small or len(eqs) > MAX_EQUATIONS + 1:
        raise Unchecked(f"a system of {len(eqs)} equations in {n} variables of degree {deg}")


def _groebner(eqs: list[Eq], gens: list[sympy.Symbol], extra: tuple = ()):
    """The basis of the equations and of the radicals they (and `extra`) use."""
    _check_size(eqs, gens)
    polys = [e.expr for e in eqs] + _relations(eqs, extra)
    return sympy.groebner(polys, *gens, order="grevlex", domain="QQ")


def _relations(eqs: list[Eq], extra: tuple = ()) -> list[sympy.Expr]:
    """The defining relations of the radicals the equations use, each once."""
    return list(dict.fromkeys([r for e in eqs for r in e.relations] + list(extra)))


def _inconsistent(g) -> bool:
    return list(g.exprs) == [1]


def _tolerance(decimals: int, scale: sympy.Expr) -> sympy.Expr:
    return max(sympy.Rational(1, 10**decimals), APPROX_REL * abs(scale))


def _approx_identity(eq: Eq) -> bool:
    """`x/3 = 0.33x`: with decimals, sides that differ only by their rounding."""
    if not eq.decimals:
        return False
    gens = _ordered(eq.vars)
    try:
        diff = sympy.Poly(eq.lhs - eq.rhs, *gens).coeffs()
        sides = sympy.Poly(eq.lhs, *gens).coeffs() + sympy.Poly(eq.rhs, *gens).coeffs()
    except PolynomialError:
        return False
    scale = max(abs(c) for c in sides)
    return all(abs(c) <= _tolerance(eq.decimals, scale) for c in diff)


def _real(v: sympy.Expr) -> sympy.Float | None:
    re_, im = v.evalf(30).as_real_imag()
    return re_ if abs(im) < 1e-20 else None


def _approx_holds(eq: Eq, sols: list[dict], decimals: int) -> bool:
    """Whether some solution satisfies eq within the rounding its decimals allow."""
    for sol in sols:
        lv, rv = _real(eq.lhs.subs(sol)), _real(eq.rhs.subs(sol))
        if lv is None or rv is None:
            continue
        scale = max(abs(lv), abs(rv))
        if abs(lv - rv) <= _tolerance(decimals, scale) * sympy.Rational(101, 100):
            return True
    return False


class KnownSystem:
    """The equations stated so far (question, then steps), in the order they were stated."""

    def __init__(self) -> None:
        self.eqs: list[Eq] = []
        # Bases computed so far, by equations, generators and extra relations: the same
        # system comes back from one step to the next and for each variable at the end.
        self._bases: dict[tuple, sympy.GroebnerBasis] = {}

    def basis(
        self, eqs: list[Eq], gens: list[sympy.Symbol], extra: tuple = ()
    ) -> sympy.GroebnerBasis:
        """_groebner(eqs, gens, extra), computed once per system."""
        key = (tuple(e.uid for e in eqs), tuple(gens), extra)
        g = self._bases.get(key)
        if g is None:
            g = self._bases[key] = _groebner(eqs, gens, extra)
        return g

    def add(self, eq: Eq) -> None:
        """Take eq as known from now on."""
        self.eqs.append(eq)

    def forget(self, var: sympy.Symbol) -> None:
        """Drop every equation about var (the letter now names something else)."""
        self.eqs = [e for e in self.eqs if var not in e.vars]

    def replace_component(self, eq: Eq) -> None:
        """After a contradiction, later steps are read against eq, not against what it broke."""
        drop = {e.uid for e in self.component(eq.vars, limit=len(self.eqs))}
        self.eqs = [e for e in self.eqs if e.uid not in drop]
        self.eqs.append(eq)

    def component(self, variables: frozenset, limit: int = MAX_EQUATIONS) -> list[Eq]:
        """The most recent equations linked to `variables` through shared variables."""
        want = set(variables)
        chosen: list[Eq] = []
        grown = True
        while grown and len(chosen) < limit:
            grown = False
            for e in reversed(self.eqs):
                if len(chosen) >= limit:
                    break
                if e not in chosen and e.vars & want:
                    chosen.append(e)
                    want |= e.vars
                    grown = True
        return sorted(chosen, key=lambda e: e.uid)

    def consistent_with(self, known: list[Eq], eq: Eq) -> bool:
        """Whether some value satisfies known and eq together."""
        if not known:
            return True
        gens = _ordered(set().union(*(e.vars for e in known)) | eq.vars)
        linear = _linear_system([*known, eq], eq)
        if linear is not None:  # what the Groebner basis would tell, without sympy
            _check_size([*known, eq], gens)
            return linear.consistent
        return not _inconsistent(self.basis([*known, eq], gens))

    def _open(self, eq: Eq) -> Judgement | _Known:
        """judge's cases decided without the known system's basis, else that basis."""
        if eq.expr == 0:
            return Judgement("identity")
        if _approx_identity(eq):
            return Judgement("approx")
        if eq.expr.is_number:
            return Judgement("contradicts")
        known = self.component(eq.vars)
        if not known:
            return Judgement("premise")
        # `A = s^2` for a square, later `A = l * w` for a rectangle: a formula reused.
        var = eq.formula_for
        reused = var is not None and any(e.formula_for == var for e in known)
        if reused and any(_same(e, eq) for e in known):
            return Judgement("implied", known)
        gens = _ordered(set().union(*(e.vars for e in known)) | eq.vars)
        linear = _linear_system(known, eq)  # None: sympy's Groebner bases decide
        try:
            if linear is None:
                if not reused and _defines_new_variable(eq, known):
                    _check_size(known, gens)  # what basis() refuses is refused alike
                    if not _inconsistent(self.basis(known, _variables(known))):
                        _check_size([*known, eq], gens)  # as judge's second basis would
                        return Judgement("premise", known)  # see _defines_new_variable
                return _Known(known, gens, reused, None, self.basis(known, gens, eq.relations))
            _check_size(known, gens)  # what basis() refuses is refused alike
        except Unchecked:
            if reused:
                return Judgement("redefines", known)
            raise
        return _Known(known, gens, reused, linear, None)

    def follows(self, eq: Eq) -> bool:
        """Whether judge(eq) is "identity" or "implied", without judge's work on other cases."""
        opened = self._open(eq)
        if isinstance(opened, Judgement):
            return opened.kind in ("identity", "implied")
        return not opened.inconsistent() and opened.implies(eq)

    def judge(self, eq: Eq) -> Judgement:
        """How eq relates to what is known (raises Unchecked when the system is too big)."""
        opened = self._open(eq)
        if isinstance(opened, Judgement):
            return opened
        known, linear, g = opened.known, opened.linear, opened.g
        if opened.inconsistent():
            return Judgement("unknown", known)
        if opened.implies(eq):
            return Judgement("implied", known)
        if opened.reused:
            return Judgement("redefines", known)
        if linear is not None:
            if linear.consistent_with(eq.linear):  # type: ignore[arg-type]
                fixed = all(linear.value(v) is not None for v in eq.vars)
                return Judgement("narrows" if fixed else "premise", known)
        elif not _inconsistent(self.basis([*known, eq], opened.gens)):
            return Judgement("narrows" if _determined(g, eq.vars) else "premise", known)
        if _units_differ([eq, *known]):
            return Judgement("unknown", known)  # `3x = 1 hour` and `3x = 60 minutes`
        if linear is not None:  # _solutions(g) for a Groebner basis g of the linear `known`
            solve = functools.cache(functools.partial(_linear_solutions, linear, eq.vars))
        else:
            solve = functools.cache(functools.partial(_solutions, g, opened.gens, eq.vars))
        decimals = max([eq.decimals] + [e.decimals for e in known])
        if decimals and (sols := solve()) is not None and _approx_holds(eq, sols, decimals):
            return Judgement("approx", known, solve)
        var = eq.assigned
        if var is not None:
            # `A = 15` then `A = 80`: a letter reused for a new quantity, not a derivation.
            rest = [e for e in known if e.assigned != var]
            if len(rest) < len(known) and self.consistent_with(rest, eq):
                return Judgement("redefines", known)
        if decimals and solve() is None:
            return Judgement("unknown", known)  # rounding cannot be told from an error
        return Judgement("contradicts", known, solve)


@dataclass
class _Known:
    """The part of the known system an equation is judged against, ready to decide with.

    Linear systems are decided by exact elimination (`linear`), the same as with a Groebner
    basis g of `known`: g is [1] exactly when the system is inconsistent, reduces eq to 0
    exactly when eq is a combination of the known equations, and fixes the variables of eq
    (`_determined`) exactly when elimination gives each a value. Otherwise `g` is that basis.
    """

    known: list[Eq]
    gens: list[sympy.Symbol]
    reused: bool  # eq restates a formula for a variable that one of `known` defines
    linear: LinearSystem | None
    g: sympy.GroebnerBasis | None

    def inconsistent(self) -> bool:
        """Whether the known equations contradict each other."""
        if self.linear is not None:
            return not self.linear.consistent
        return _inconsistent(self.g)

    def implies(self, eq: Eq) -> bool:
        """Whether eq follows from the known equations (they being consistent)."""
        if self.linear is not None:
            return self.linear.implies(eq.linear)  # type: ignore[arg-type]
        return self.g.reduce(eq.expr)[1] == 0  # type: ignore[union-attr]


def _variables(eqs: list[Eq]) -> list[sympy.Symbol]:
    """The variables of the equations, in the generators' order."""
    return _ordered(set().union(*(e.vars for e in eqs)))


def _defines_new_variable(eq: Eq, known: list[Eq]) -> bool:
    """Whether eq is linear, with a constant coefficient, in a variable no known equation has
    (`s = x + y`, `p = xy` in an olympiad solution).

    Then judge finds it a premise whenever the known equations are consistent, without the
    two Groebner bases it would compute: any of their solutions extends to one of eq (solve
    for that variable), so eq neither contradicts them nor follows from them (no basis
    element has the variable, so its term c*v never reduces), and they cannot fix its value.
    """
    if eq.relations:
        return False
    seen = set().union(*(e.vars for e in known))
    return any(_linear_in(eq.expr, v) for v in eq.vars - seen)


def _linear_in(expr: sympy.Expr, v: sympy.Symbol) -> bool:
    """Whether d(expr)/dv is a non-zero number, for expr an expanded polynomial (Eq.expr).

    Its monomials are distinct, so that holds when v occurs, and only as c·v; reading the
    terms is several times faster than sympy's diff on a long polynomial.
    """
    found = False
    for term in sympy.Add.make_args(expr):
        if v in term.free_symbols:
            if term.as_coeff_Mul()[1] is not v:
                return False
            found = True
    return found


# Units that a chain converts between; an equation with one and one without may disagree.
_CONVERTIBLE = _names(
    "second minute min hour hr day week month year foot feet inch inche yard mile meter"
    " metre centimeter cm km mm kg gram pound lb ounce oz cent dollar liter litre ml"
    " gallon quart pint cup dozen percent"
)


def _units_differ(eqs: list[Eq]) -> bool:
    """Whether the equations carry different units (so a mismatch may be a conversion)."""
    units = {e.unit for e in eqs}
    named = units - {None}
    return len(named) > 1 or (None in units and bool(named & _CONVERTIBLE))


def _same(a: Eq, b: Eq) -> bool:
    """Whether two equations' polynomials are constant multiples of each other."""
    if a.linear is not None and b.linear is not None:
        return proportional(a.linear, b.linear)
    ratio = sympy.cancel(a.expr / b.expr)
    return bool(ratio.is_number)


def _linear_system(known: list[Eq], eq: Eq) -> LinearSystem | None:
    """The known equations in echelon form, when they and eq are all linear without radicals."""
    if eq.linear is None or any(e.linear is None for e in known):
        return None
    return LinearSystem([e.linear for e in known])  # type: ignore[misc]


def _linear_solutions(linear: LinearSystem, wanted: frozenset) -> list[dict] | None:
    """_solutions for a consistent linear system: its one solution, None unless it fixes wanted.

    A linear system is zero-dimensional only when it fixes every variable, so the values
    _unique reads off the basis (in the order of `wanted`) are the only case with solutions.
    """
    values = {}
    for v in wanted:
        value = linear.value(v)
        if value is None:
            return None
        values[v] = sympy.Rational(value.numerator, value.denominator)
    return [values]


def _unique(g, wanted: frozenset) -> dict | None:
    """The one value of each wanted variable, when the basis fixes them all."""
    values = {}
    for v in wanted:
        nf = g.reduce(v)[1]
        if not nf.is_number:
            return None
        values[v] = nf
    return values


def _determined(g, wanted: frozenset) -> bool:
    """Whether the basis allows finitely many values of the wanted variables."""
    return _unique(g, wanted) is not None or g.is_zero_dimensional


def _solutions(g, gens: list[sympy.Symbol], wanted: frozenset) -> list[dict] | None:
    """The values of `wanted` the basis allows (one dict per solution), None if not finite."""
    unique = _unique(g, wanted)
    if unique is not None:
        return [unique]
    # Closed forms only for small systems of low degree (quartics at most), so never slow.
    degree = max(sympy.Poly(e, *gens).total_degree() for e in g.exprs)
    if not g.is_zero_dimensional or len(gens) > 3 or degree > 4:
        return None
    try:
        sols = sympy.solve_poly_system(list(g.exprs), *gens) or []
    except (PolynomialError, NotImplementedError):
        return None
    return [{v: s[gens.index(v)] for v in wanted} for s in sols] or None


def determined_values(system: KnownSystem, budget: Budget) -> dict[sympy.Symbol, sympy.Rational]:
    """Variables that the known system fixes to one rational value (until the budget ends)."""
    out: dict[sympy.Symbol, sympy.Rational] = {}
    for var in _variables(system.eqs):
        if is_radical(var):
            continue
        if budget.expired():
            break
        known = system.component(frozenset([var]))
        gens = _variables(known)
        if all(e.linear is not None for e in known):  # the same value, without sympy
            try:
                _check_size(known, gens)
            except Unchecked:
                continue
            linear = LinearSystem([e.linear for e in known])  # type: ignore[misc]
            value = linear.value(var) if linear.consistent else None
            if value is not None:
                out[var] = sympy.Rational(value.numerator, value.denominator)
            continue
        try:
            g = system.basis(known, gens)
        except Unchecked:
            continue
        if _inconsistent(g):
            continue
        nf = g.reduce(var)[1]
        if nf.is_Rational:
            out[var] = nf
    return out
