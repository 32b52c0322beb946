"""Entailment (z3), the JSON Lines runner, and the logic validator on chains."""

from __future__ import annotations

import json

import pytest

from validators.logic import fol
from validators.logic.entail import Prover, check_entailment, entail_lines, entails
from validators.pipeline import validate
from validators.types import Budget

SOCRATES = ["∀x (Man(x) → Mortal(x))", "Man(socrates)"]


# ---------------------------------------------------------------- entails


@pytest.mark.parametrize(
    ("premises", "conclusion", "expected"),
    [
        (SOCRATES, "Mortal(socrates)", "entailed"),
        (SOCRATES, "¬Mortal(socrates)", "contradicted"),
        (SOCRATES, "Mortal(plato)", "unknown"),
        (["∀x (Man(x) → Mortal(x))", "Mortal(socrates)"], "Man(socrates)", "unknown"),
        (["Drinks(rina) ⊕ Jokes(rina)", "Drinks(rina)"], "¬Jokes(rina)", "entailed"),
        (["A(a) ⊕ B(a)"], "A(a) ∧ B(a)", "contradicted"),
        (["∀x (P(x) ↔ Q(x))", "¬Q(b)"], "P(b)", "contradicted"),
        (["∃x (Dog(x) ∧ Barks(x))"], "∃y Barks(y)", "entailed"),
        (["∀x ∃y Loves(x, y)"], "∃y ∀x Loves(x, y)", "unknown"),
        (["∃y ∀x Loves(x, y)"], "∀x ∃y Loves(x, y)", "entailed"),
        (["a = b", "Tall(a)"], "Tall(b)", "entailed"),
        (["∀x (Parent(mother(x), x))"], "∃y Parent(y, rina)", "entailed"),
        ([], "(∀x (P(x))) ∨ ¬(∀x (P(x)))", "entailed"),
        (["forall x (Man(x) -> Mortal(x))", "Man(socrates)"], "Mortal(socrates)", "entailed"),
    ],
)
def test_entails(premises: list[str], conclusion: str, expected: str) -> None:
    assert entails(premises, conclusion) == expected


def test_inconsistent_premises_are_an_error() -> None:
    verdict = check_entailment(["P(a)", "¬P(a)"], "Q(b)")
    assert verdict.result == "error" and "inconsistent" in verdict.message


def test_spent_budget_leaves_the_question_undecided() -> None:
    budget = Budget(0.0)
    prover = Prover([fol.parse(f).formula for f in SOCRATES], budget=budget)
    verdict = prover.check(fol.parse("Mortal(socrates)").formula)
    assert verdict.result == "unknown" and not verdict.decided
    assert "budget" in verdict.message


def test_prover_reuses_premises_across_questions() -> None:
    prover = Prover([fol.parse(f).formula for f in SOCRATES])
    mortal = fol.parse("Mortal(socrates)").formula
    assert prover.check(mortal).result == "entailed"
    assert prover.check(fol.Not(mortal)).result == "contradicted"
    happy = fol.parse("Happy(socrates)").formula
    assert prover.check(happy).result == "unknown"
    assert prover.check(happy, [fol.parse("∀x (Mortal(x) → Happy(x))").formula]).result == (
        "entailed"
    )
    assert prover.check(happy).result == "unknown"  # the assumption was for one question only


# ---------------------------------------------------------------- FOLIO


def _folio_stories(data_dir) -> dict[tuple[str, ...], int]:
    """Distinct premise sets of FOLIO train, with how many items share each."""
    stories: dict[tuple[str, ...], int] = {}
    with (data_dir / "folio" / "folio-v0.0-train.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            key = tuple(json.loads(line)["premises-FOL"])
            stories[key] = stories.get(key, 0) + 1
    return stories


def test_folio_premise_sets(data_dir) -> None:
    """Consistent sets (but two that really are not), each premise entailed, its negation not."""
    parsed_items = items = 0
    inconsistent = []
    for story, count in _folio_stories(data_dir).items():
        items += count
        try:
            premises = [fol.parse(text).formula for text in story]
        except fol.FolError:
            continue
        parsed_items += count
        prover = Prover(premises, timeout_ms=5_000)
        first = prover.check(premises[0])
        if first.result == "error":
            inconsistent.append(story)
            continue
        for premise in premises:
            assert prover.check(premise).result == "entailed", story
            assert prover.check(fol.Not(premise)).result == "contradicted", story
            # Asked as P ∧ P, z3 itself (not the prover's look-up of premises) must prove it.
            assert prover.check(fol.Nary("and", (premise, premise))).result == "entailed", story
    assert items == 1_004
    assert parsed_items / items >= 0.97
    # Both are real: Larger(x, y) ↔ ¬Larger(y, x) fails at x = y; a course with no
    # prerequisite can be taken, yet ∀x ∀y ((Prereq(x, y) ∧ Taken(x)) ↔ CanTake(y)) says not.
    assert len(inconsistent) == 2
    assert any("∀x ∀y (Larger(x, y) ↔ ¬Larger(y, x))" in story for story in inconsistent)
    assert any("∀x (¬Prereq(x, introgeology))" in story for story in inconsistent)


# ---------------------------------------------------------------- JSON Lines


def test_entail_lines_in_order_with_errors_that_do_not_stop_the_run() -> None:
    good = {"id": "a", "premises": SOCRATES, "conclusion": "Mortal(socrates)"}
    lines = [
        json.dumps(good, ensure_ascii=False),
        "",
        "{not json",
        json.dumps({"id": 7, "premises": SOCRATES, "conclusion": "¬Mortal(socrates)"}),
        b"\xff\xfe not utf-8",
        json.dumps({"id": "b", "premises": "P(a)", "conclusion": "P(a)"}),
        json.dumps({"id": "c", "premises": ["P(a)", "P(a) ∧"], "conclusion": "P(a)"}),
        json.dumps({"id": "d", "premises": ["P(a)"]}),
        json.dumps({"id": "e", "premises": ["P(a)", "¬P(a)"], "conclusion": "Q(a)"}),
        "[" * 100_000,
        json.dumps([1, 2]),
        json.dumps({"id": {"x": 1}, "premises": [], "conclusion": "P(a)"}),
        json.dumps({"id": "f", "premises": ["Code(b) ∧ Mac(b))"], "conclusion": "Mac(b)"}),
    ]
    out = list(entail_lines(lines))
    assert [r["result"] for r in out] == [
        "entailed",
        "error",
        "contradicted",
        "error",
        "error",
        "error",
        "error",
        "error",
        "error",
        "error",
        "error",
        "entailed",
    ]
    assert [r["id"] for r in out] == ["a", None, 7, None, "b", "c", "d", "e", None, None, None, "f"]
    assert "line 3" in out[1]["message"] and "invalid JSON" in out[1]["message"]
    assert "UTF-8" in out[3]["message"]
    assert "'premises'" in out[4]["message"]
    assert "premise 2" in out[5]["message"]
    assert "'conclusion'" in out[6]["message"]
    assert "inconsistent" in out[7]["message"]
    assert "nested" in out[8]["message"]
    assert "repair" in out[11]["message"]


# ---------------------------------------------------------------- chains


def _chain(reasoning: list[str], **fields) -> dict:
    chain = {"id": "t", "question": "", "context": list(SOCRATES), "reasoning": reasoning}
    chain.update(fields)
    return validate(chain, budget_s=10.0)


def _logic(report: dict) -> list[tuple[int | None, str]]:
    found = [(s["index"], f["code"]) for s in report["steps"] for f in s["findings"]]
    found += [(None, f["code"]) for f in report["findings"]]
    return [(i, code) for i, code in found if code.startswith("logic.")]


def test_valid_chain_is_verified_and_not_flagged() -> None:
    report = _chain(
        [
            "Step 1: Man(socrates) → Mortal(socrates)",
            "Step 2: Socrates is a man, so the rule applies.",
            "Step 3: Therefore, Mortal(socrates).",
        ]
    )
    assert _logic(report) == []
    statuses = [s["status"] for s in report["steps"]]
    assert statuses[0] == "verified" and statuses[2] == "verified"
    assert statuses[1] == "unchecked"  # prose is left alone


def test_underived_step_is_not_entailed_with_evidence() -> None:
    report = _chain(["Step 1: Mortal(socrates)", "Step 2: Happy(socrates)"])
    assert _logic(report) == [(1, "logic.not_entailed")]
    finding = report["steps"][1]["findings"][0]
    assert finding["evidence"]["formula"] == "Happy(socrates)"
    assert "context 1: ∀x (Man(x) → Mortal(x))" in finding["evidence"]["premises"]
    assert "Happy" in finding["message"]  # a predicate no premise mentions
    assert report["verdict"] == "unfaithful" and report["first_error_step"] == 1


def test_converse_fallacy_is_not_entailed() -> None:
    report = _chain(
        ["Mortal(plato)", "Hence Man(plato)"],
        context=["∀x (Man(x) → Mortal(x))", "Mortal(plato)"],
    )
    assert _logic(report) == [(1, "logic.not_entailed")]


def test_contradiction_of_premises_and_of_an_earlier_step() -> None:
    report = _chain(["¬Mortal(socrates)"])
    assert _logic(report) == [(0, "logic.contradiction")]
    assert "contradicts the premises" in report["steps"][0]["findings"][0]["message"]

    report = _chain(
        ["Likes(socrates, plato) ∨ Mortal(plato)", "Happy(rina)", "¬Happy(rina)"],
        context=["∀x (Man(x) → Mortal(x))", "Man(socrates)", "∀x (Happy(x) → Mortal(x))"],
    )
    codes = _logic(report)
    assert (2, "logic.contradiction") in codes
    finding = next(f for f in report["steps"][2]["findings"] if f["code"] == "logic.contradiction")
    assert finding["evidence"]["contradicts_steps"] == [1]
    assert "step index 1" in finding["message"]


def test_without_premise_formulas_only_contradictions_count() -> None:
    hypotheses = ["∀x (Bird(x) → Flies(x))", "Bird(tweety)", "So Flies(tweety)"]
    report = _chain(hypotheses, context=None)
    assert _logic(report) == []
    assert report["steps"][2]["status"] == "verified"
    report = _chain([*hypotheses, "¬Flies(tweety)"], context=None)
    assert _logic(report) == [(3, "logic.contradiction")]


def test_question_lines_are_premises_and_the_conclusion_is_compared() -> None:
    question = "∀x (Man(x) → Mortal(x))\nMan(socrates)\nConclusion: Mortal(socrates)"
    steps = ["Man(socrates) → Mortal(socrates)", "Therefore Mortal(socrates)"]
    good = _chain(steps, context=None, question=question, answer="True")
    assert _logic(good) == [] and good["verdict"] == "faithful" and not good["laundering"]

    laundered = _chain(steps, context=None, question=question, answer="Uncertain")
    assert (None, "logic.wrong_label") in _logic(laundered)
    assert (None, "logic.answer_not_derived") in _logic(laundered)
    assert laundered["laundering"]


def test_label_compared_through_the_negated_conclusion() -> None:
    question = "Is it true that Mortal(socrates)?"
    steps = ["¬Mortal(plato) ∨ Mortal(socrates)", "Thus ¬Mortal(socrates)"]
    report = _chain(steps, question=question, answer="False")
    assert (1, "logic.contradiction") in _logic(report)
    assert (None, "logic.wrong_label") in _logic(report)  # the premises make it True
    assert not report["laundering"]  # the answer is what the (wrong) reasoning argued


def test_inconsistent_premises_are_warned_not_blamed_on_steps() -> None:
    report = _chain(["Mortal(socrates)"], context=["P(a)", "¬P(a)"])
    assert _logic(report) == [(None, "logic.inconsistent_premises")]
    assert report["findings"][0]["severity"] == "warning"


def test_chains_without_formulas_pay_nothing_and_get_nothing() -> None:
    report = validate(
        {
            "question": "Natalia sold 48 clips in April and half as many in May (in total?)",
            "reasoning": "In May she sold 48/2 = 24 clips.\nIn all 48+24 = 72 (x | y).\n#### 72",
        }
    )
    assert _logic(report) == []
    report = _chain(["x = 5 -> y", "Tom & Jerry"], context=["P(a) -> Q(a)"])
    assert _logic(report) == []


def test_pathological_steps_do_not_crash() -> None:
    report = _chain(["(" * 10_000 + "Mortal(socrates)" + ")" * 10_000, "¬" * 5_000 + "P(a)"])
    assert _logic(report) == []
    assert all(f["code"] != "logic.unchecked" for s in report["steps"] for f in s["findings"])


def test_a_symbol_in_another_letter_case_is_a_warning_not_an_accusation() -> None:
    report = _chain(["Mortal(Socrates)"])
    assert _logic(report) == [(0, "logic.symbol_mismatch")]
    finding = report["steps"][0]["findings"][0]
    assert finding["severity"] == "warning"
    assert finding["evidence"]["symbols"] == {"Socrates": "socrates"}


def _truth(node: fol.Formula, world: dict[str, bool]) -> bool:
    """Brute-force truth value of a propositional formula over atoms P(a), Q(a), ..."""
    if isinstance(node, fol.Atom):
        return world[node.pred]
    if isinstance(node, fol.Not):
        return not _truth(node.arg, world)
    if isinstance(node, fol.Nary):
        values = [_truth(a, world) for a in node.args]
        if node.op == "and":
            return all(values)
        if node.op == "or":
            return any(values)
        return sum(values) % 2 == 1
    left, right = _truth(node.left, world), _truth(node.right, world)
    return (not left or right) if node.op == "implies" else left == right


def _random_formula(rng, depth: int) -> str:
    if depth == 0 or rng.random() < 0.3:
        return rng.choice(["P(a)", "Q(a)", "R(a)", "¬P(a)", "¬R(a)"])
    op = rng.choice(["∧", "∨", "⊕", "→", "↔"])
    text = f"{_random_formula(rng, depth - 1)} {op} {_random_formula(rng, depth - 1)}"
    return f"({text})" if rng.random() < 0.7 else f"¬({text})"


def test_z3_agrees_with_truth_tables_on_random_formulas() -> None:
    """Parsing, precedence and the z3 translation, checked against brute force."""
    import itertools
    import random

    rng = random.Random(7)
    worlds = [
        dict(zip("PQR", values, strict=True))
        for values in itertools.product([False, True], repeat=3)
    ]
    for _ in range(150):
        premise, conclusion = (fol.parse(_random_formula(rng, 3)).formula for _ in range(2))
        models = [w for w in worlds if _truth(premise, w)]
        if not models:
            expected = "error"
        elif all(_truth(conclusion, w) for w in models):
            expected = "entailed"
        elif not any(_truth(conclusion, w) for w in models):
            expected = "contradicted"
        else:
            expected = "unknown"
        assert entails([premise], conclusion) == expected, (fol.show(premise), fol.show(conclusion))


def test_premises_and_the_conclusion_are_told_apart_in_question_and_context() -> None:
    from validators.logic.fol_text import read_lines, step_formula

    lines = [
        "Premises:",
        "1. ∀x (Man(x) → Mortal(x))",
        "Premise 2: Man(socrates)",
        "Question-answering(bob) ∨ Man(bob)",  # a formula, though it starts like a label
        "Is the following true, false, or uncertain?",
        "Mortal(socrates)",
    ]
    premises, conclusions = read_lines(lines, "question line")
    assert [fol.show(p.formula) for p in premises] == [
        "∀x (Man(x) → Mortal(x))",
        "Man(socrates)",
        "Question-answering(bob) ∨ Man(bob)",
    ]
    assert [c.where for c in conclusions] == ["question line 6"]
    for asked in ["Conclusion: Mortal(socrates)", "Is Mortal(socrates) true, false, or uncertain?"]:
        premises, conclusions = read_lines([asked], "context")
        assert premises == [] and fol.show(conclusions[0].formula) == "Mortal(socrates)"
    assert read_lines(["Note: Man(socrates)", "Socrates is a man."], "context") == ([], [])
    assert fol.show(step_formula("Step 4: From 1 and 2: Mortal(socrates).")) == "Mortal(socrates)"
    assert step_formula("Therefore Mortal(socrates) cannot be shown.") is None
    assert step_formula("x = 5 -> y") is None and step_formula("Tom & Jerry") is None


def test_a_folio_style_chain_with_the_conclusion_under_a_question() -> None:
    question = "Is the following true, false, or uncertain?\nMortal(socrates)"
    steps = ["Man(socrates) → Mortal(socrates)", "Therefore Mortal(socrates)"]
    report = _chain(steps, question=question, answer="True")
    assert _logic(report) == [] and report["verdict"] == "faithful"
    report = _chain(steps, question=question, answer="False")
    assert {(None, "logic.wrong_label"), (None, "logic.answer_not_derived")} <= set(_logic(report))
    assert report["laundering"]


def test_a_long_chain_of_rules_is_followed_to_the_end() -> None:
    """60 rules ∀x (P_i(x) → P_i+1(x)): with e-matching z3 cannot find the countermodel that
    shows the last step underived ("incomplete quantifiers"); the prover must."""
    rules = [f"∀x (P{i}(x) → P{i + 1}(x))" for i in range(60)]
    report = _chain(["P0(b)", "P30(a)", "P60(a)"], context=[*rules, "P0(a)"])
    assert _logic(report) == [(0, "logic.not_entailed")]
    assert [s["status"] for s in report["steps"]] == ["error", "verified", "verified"]
