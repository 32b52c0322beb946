"""The FOL parser: FOLIO notation and its quirks, ambiguity refusals, pathological input."""

from __future__ import annotations

import json

import pytest
import z3

from validators.logic import fol
from validators.logic.fol import Atom, Binary, Const, FolAmbiguity, FolError, Nary, Not, Quant, Var


def p(text: str) -> fol.Formula:
    return fol.parse(text).formula


def test_atoms_constants_and_variables() -> None:
    f = p("∀x (Man(x) → Mortal(x))")
    assert f == Quant(
        "forall",
        "x",
        0,
        Binary("implies", Atom("Man", (Var("x", 0),)), Atom("Mortal", (Var("x", 0),))),
    )
    assert p("Likes(rina, y2009)") == Atom("Likes", (Const("rina"), Const("y2009")))


@pytest.mark.parametrize(
    "text",
    [
        "Man(x) → Mortal(x)",  # meant for all x: z3 would read x as one individual
        "∃x ∃x (Beneficial(x) ∧ Harmful(y))",  # FOLIO's slip for ∃x ∃y
        "∀xP(x)",  # a bound `xP` over the proposition `x`
    ],
)
def test_unbound_variables_are_refused(text: str) -> None:
    with pytest.raises(FolError, match="no quantifier binds it"):
        fol.parse(text)


def test_ascii_spellings_read_as_unicode() -> None:
    pairs = [
        ("forall x (Man(x) -> Mortal(x))", "∀x (Man(x) → Mortal(x))"),
        ("exists x. (P(x) & ~Q(x))", "∃x (P(x) ∧ ¬Q(x))"),
        ("A(a) | B(a) <-> !C(a)", "A(a) ∨ B(a) ↔ ¬C(a)"),
        ("A(a) && B(a) => C(a)", "A(a) ∧ B(a) → C(a)"),
        ("forall x, y: R(x, y)", "∀x ∀y R(x, y)"),
        ("a != b", "¬(a = b)"),
    ]
    for ascii_text, unicode_text in pairs:
        assert p(ascii_text) == p(unicode_text), ascii_text


def test_precedence_and_grouping() -> None:
    assert fol.show(p("A(a) ∧ B(a) ∨ C(a)")) == "(A(a) ∧ B(a)) ∨ C(a)"
    assert fol.show(p("A(a) ∨ B(a) ∧ C(a)")) == "A(a) ∨ (B(a) ∧ C(a))"
    assert fol.show(p("A(a) → B(a) → C(a)")) == "A(a) → (B(a) → C(a))"
    assert fol.show(p("¬A(a) ∧ B(a)")) == "¬A(a) ∧ B(a)"
    assert fol.show(p("A(a) ⊕ B(a) → C(a) ∨ D(a)")) == "(A(a) ⊕ B(a)) → (C(a) ∨ D(a))"
    assert p("A(a) ⊕ B(a) ⊕ C(a)") == Nary("xor", (p("A(a)"), p("B(a)"), p("C(a)")))


def test_quantifier_scope_runs_right_as_folio_writes_it() -> None:
    assert p("∀x Spa(x) → ¬Miserly(x)") == p("∀x (Spa(x) → ¬Miserly(x))")
    assert p("∀x (P(x)) → Q(x)") == p("∀x (P(x) → Q(x))")
    # Under ∧/∨ the narrow and wide readings agree, so no refusal.
    assert fol.show(p("∀x (A(x) → B(x)) ∧ C(a)")) == "∀x ((A(x) → B(x)) ∧ C(a))"


def test_parenthesised_body_then_unrelated_rest_binds_narrowly() -> None:
    f = p("∀x ∀y (∃z (Know(x, z) ∧ Know(y, z)) → Communicate(x, y))")
    inner = f.body.body
    assert isinstance(inner, Binary) and inner.op == "implies"
    assert isinstance(inner.left, Quant) and inner.left.kind == "exists"
    assert fol.show(p("¬∀x (P(x)) ∧ Q(a)")) == "¬(∀x (P(x))) ∧ Q(a)"


@pytest.mark.parametrize(
    "text",
    [
        "∀x P(x) → Q(a)",  # (∀x P(x)) → Q(a) or ∀x (P(x) → Q(a))?
        "¬∀x P(x) ∧ Q(a)",
        "A(a) ⊕ B(a) ∨ C(a)",  # ⊕ mixed with ∨
        "GraduateStudent(joe) → ¬(GraduateStudent(joe) ^ Student(joe))",  # FOLIO's ^ is ∧
    ],
)
def test_ambiguous_text_is_refused(text: str) -> None:
    with pytest.raises(FolAmbiguity):
        fol.parse(text)


def test_folio_quirks() -> None:
    assert p("∀x (Risk-averse(x) → WorkAtCorporateJobs(x))").body.left.pred == "Risk-averse"
    assert p("CaliforniaCityVisited(mr.smith, two)").args[0] == Const("mr.smith")
    assert p("Grade(a+) ∨ Grade(c++)") == Nary(
        "or", (Atom("Grade", (Const("a+"),)), Atom("Grade", (Const("c++"),)))
    )
    assert p("Superhero(captain america)") == Atom("Superhero", (Const("captain_america"),))
    assert p("∀x (BreastCancer (x) ∨ Other(x)) ") == p("∀x (BreastCancer(x) ∨ Other(x))")
    assert p("(LanguageModel(bert) ∧ Giant(bert)) → Giant(gpt-3).") == p(
        "(LanguageModel(bert) ∧ Giant(bert)) → Giant(gpt-3)"
    )


def test_one_unbalanced_parenthesis_is_repaired_only_when_every_fix_agrees() -> None:
    fixed = fol.parse("Code(burger) ∧ Mac(burger))")
    assert fixed.repaired and fixed.formula == p("Code(burger) ∧ Mac(burger)")
    road = "∀x (Road(x) → (MadeOfConcrete(x) ∨ MadeOfAsphalt(x))"
    assert fol.parse(road).formula == p(road + ")")
    # ¬( could close around different parts: two readings, so no guess.
    with pytest.raises(FolError, match="read differently"):
        fol.parse("(WorkTeams(kat) ∧ Tired(kat)) ∨ ¬WorkTeams(kat) ∧ ¬Tired(kat))")
    with pytest.raises(FolError, match="unbalanced"):
        fol.parse("((P(a)")


@pytest.mark.parametrize(
    "text",
    ["", "   ", "P(a) Q(a)", "P(a) ∧", "∀ (P(x))", "P(,)", "9**9**9**9", "P(a) → → Q(a)", "$P"],
)
def test_malformed_text_raises_folerror(text: str) -> None:
    with pytest.raises(FolError):
        fol.parse(text)


def test_pathological_input_fails_cleanly() -> None:
    with pytest.raises(FolError, match="longer than"):
        fol.parse("(" * 10_000 + "P(a)" + ")" * 10_000)
    with pytest.raises(FolError, match="nested deeper"):
        fol.parse("(" * 1_000 + "P(a)" + ")" * 1_000)
    # The parser itself is depth-limited, whatever the size limits let through.
    tokens = fol.tokenize("P(a)")
    deep = [fol.Token("LP", "(", 0)] * 10_000 + tokens + [fol.Token("RP", ")", 0)] * 10_000
    with pytest.raises(FolError, match="nested deeper"):
        fol.parse_tokens(deep)
    with pytest.raises(FolError, match="characters"):
        fol.parse("P(a) ∧ " * 200_000 + "P(a)")
    with pytest.raises(FolError):
        fol.parse("¬" * 9_000 + "P(a)")
    with pytest.raises(FolError):
        fol.parse(" → ".join(["P(a)"] * 2_000))
    with pytest.raises(FolError):
        fol.parse("P(" + "f(" * 5_000 + "a" + ")" * 5_001)
    long_name = "P(" + "9" * 9_000 + ")"
    assert fol.parse(long_name).formula.args[0].name == "9" * 9_000


def test_deep_but_allowed_formula_translates_to_z3() -> None:
    text = "(" * 60 + "P(a)" + ")" * 60
    ctx = z3.Context()
    assert z3.is_app(fol.Z3Translator(ctx).formula(p(text)))


def _folio_formulas(data_dir) -> list[str]:
    path = data_dir / "folio" / "folio-v0.0-train.jsonl"
    seen: dict[str, None] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            for formula in json.loads(line)["premises-FOL"]:
                seen.setdefault(formula)
    return list(seen)


def test_folio_formulas_parse_and_print_back(data_dir) -> None:
    formulas = _folio_formulas(data_dir)
    parsed, failed = [], []
    for text in formulas:
        try:
            parsed.append(p(text))
        except FolError:
            failed.append(text)
    assert len(formulas) > 1_500
    assert len(parsed) / len(formulas) >= 0.99, failed
    assert "" in failed  # FOLIO's one empty premise
    for formula in parsed:  # the canonical print reads back as the same formula
        assert p(fol.show(formula)) == formula, fol.show(formula)


def test_symbols_lists_names() -> None:
    assert fol.symbols(p("∀x (Likes(x, rina) → Happy(f(x)))")) == {"Likes", "rina", "Happy", "f"}
    assert isinstance(p("¬¬P(a)"), Not)
