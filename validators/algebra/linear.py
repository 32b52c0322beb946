"""Exact linear algebra over the rationals: the questions algebra_system asks of linear systems.

Most systems a chain states are linear (`2x + 3 = 11`, `A = 2B, A + B = 30`). For them,
what a Groebner basis tells (is the system consistent, is an equation implied by it, does
it fix a variable's value) is told by Gaussian elimination with Fractions, several times
faster than building sympy polynomials. The answers are the same, because for a consistent
linear system the ideal holds exactly the linear combinations of its equations (the ideal
of an affine subspace), and reduction by a Groebner basis decides membership in it.

A form is a dict {variable: coefficient}, with the constant term under the key 1:
{x: 2, 1: -8} stands for 2x - 8 (= 0).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

Form = dict[Any, Fraction]
CONSTANT = 1  # the key of the constant term in a form


def _eliminate(form: Form, pivots: dict[Any, Form]) -> Form:
    """form minus the multiples of the pivot rows that clear every pivot variable from it."""
    out = dict(form)
    for var, row in pivots.items():
        c = out.get(var)
        if c:
            for k, v in row.items():
                out[k] = out.get(k, 0) - c * v
    return {k: v for k, v in out.items() if v}


class LinearSystem:
    """A linear system in reduced echelon form (each pivot variable only in its own row)."""

    def __init__(self, forms: list[Form]) -> None:
        self.pivots: dict[Any, Form] = {}
        self.consistent = True
        for form in forms:
            if not self.add(form):
                self.consistent = False
                break

    def add(self, form: Form) -> bool:
        """Take form = 0 as known; False when it contradicts the system (a nonzero constant)."""
        row = _eliminate(form, self.pivots)
        var = next((k for k in row if k != CONSTANT), None)
        if var is None:
            return not row  # 0 = 0 adds nothing; c = 0 with c nonzero is a contradiction
        lead = row[var]
        row = {k: v / lead for k, v in row.items()}
        for other, orow in self.pivots.items():  # keep every pivot out of the other rows
            c = orow.get(var)
            if c:
                merged = dict(orow)
                for k, v in row.items():
                    merged[k] = merged.get(k, 0) - c * v
                self.pivots[other] = {k: v for k, v in merged.items() if v}
        self.pivots[var] = row
        return True

    def implies(self, form: Form) -> bool:
        """Whether form = 0 follows from the (consistent) system."""
        return not _eliminate(form, self.pivots)

    def value(self, var: Any) -> Fraction | None:
        """The one value the (consistent) system gives var, or None when it leaves var free."""
        rest = _eliminate({var: Fraction(1)}, self.pivots)
        if any(k != CONSTANT for k in rest):
            return None
        return rest.get(CONSTANT, Fraction(0))

    def consistent_with(self, form: Form) -> bool:
        """Whether the system and form = 0 together have a solution."""
        row = _eliminate(form, self.pivots)
        return any(k != CONSTANT for k in row) or not row


def proportional(a: Form, b: Form) -> bool:
    """Whether two nonzero forms are constant multiples of each other."""
    if a.keys() != b.keys():
        return False
    k = next(iter(a))
    ratio = a[k] / b[k]
    return all(a[v] == ratio * b[v] for v in a)
