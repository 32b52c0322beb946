"""The algebra validator: each equation in a variable must follow from the earlier ones."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
import sympy

from bench.corrupt import load_gsm8k, reference
from validators import validate
from validators.algebra import system as algebra_system
from validators.algebra.validator import AlgebraValidator
from validators.pipeline import validate_chain
from validators.text.mathparse import BoundError, ParseError, parse_expression
from validators.text.mathspans import find_equations
from validators.types import Chain


def algebra_report(question: str, steps: list[str] | str, answer: str | None = None) -> dict:
    """The report of the algebra validator alone (other validators are tested elsewhere)."""
    chain = Chain(question=question, reasoning=steps, answer=answer)
    return validate_chain(chain, run=[AlgebraValidator()])


def errors(report: dict) -> list[tuple[int | None, dict]]:
    """(step index, finding) for every algebra error, step findings first."""
    out = [
        (s["index"], f)
        for s in report["steps"]
        for f in s["findings"]
        if f["severity"] == "error" and f["validator"] == "algebra"
    ]
    chain = [f for f in report["findings"] if f["severity"] == "error"]
    return out + [(None, f) for f in chain if f["validator"] == "algebra"]


def statuses(report: dict) -> list[str]:
    return [s["status"] for s in report["steps"]]


# --- the parser ---------------------------------------------------------------------------

x, y = sympy.symbols("x y")


@pytest.mark.parametrize(
    ("text", "latex", "expected"),
    [
        ("2x + 3", False, 2 * x + 3),
        ("3(x+1)", False, 3 * x + 3),
        ("(x+1)(x-1)", False, (x + 1) * (x - 1)),
        ("x^2 - 5x + 6", False, x**2 - 5 * x + 6),
        ("x² + 0.5x", False, x**2 + x / 2),
        ("2^3^2", False, sympy.Integer(512)),  # right-associative
        ("-x^2", False, -(x**2)),
        ("\\frac{x}{2} + \\sqrt{16}", True, x / 2 + 4),
        ("2 \\cdot 3x \\times y", True, 6 * x * y),
        ("\\left(x + 1\\right)^{2}", True, (x + 1) ** 2),
        ("\\sqrt[3]{27} x y", True, 3 * x * y),
        ("5 x 2", False, sympy.Integer(10)),  # x between two numbers is a times sign
        ("1,000x", False, 1000 * x),
    ],
)
def test_parser_builds_sympy_objects(text, latex, expected):
    assert sympy.expand(parse_expression(text, latex=latex) - expected) == 0


@pytest.mark.parametrize(
    "text", ["1/2x", "f(x)", "x2", "2 x", "x^y", "x ± 1", "10% x", "e.g", "2 (x + 1)"]
)
def test_parser_refuses_ambiguous_or_non_algebraic_text(text):
    with pytest.raises(ParseError):
        parse_expression(text)


@pytest.mark.parametrize(
    "text",
    [
        "9**9**9**9",
        "9^9^9^9",
        "(" * 10_000 + "1" + ")" * 10_000,
        "(" * 60 + "x" + ")" * 60,
        "1" * 100_000,
        "x^1000",
        "2^(10^5)",
        "-" * 50 + "x",
    ],
)
def test_parser_bounds_sizes(text):
    with pytest.raises(BoundError):
        parse_expression(text)


# --- finding equations in prose -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Subtracting 3 from both sides gives 2x = 8.", ["2x = 8"]),
        ("Number of albino deer = 0.25 * (0.1x) = 0.025x", ["0.25 * (0.1x) = 0.025x"]),
        ("x (cost of the book) + 2x (cost of the dish) = 30", ["x + 2x = 30"]),
        ("In this case, $a = 2$, $b = -3$, and $c = 7$.", ["a = 2", "b = -3", "c = 7"]),
        ("So x = 4 or x = -4", ["x = 4", "x = -4"]),
        ("She paid $3x = $12 in all", ["3x = 12"]),
        ("x = 100/3 ≈ 33.33", ["x = 100/3"]),
        ("X = 2(4k + 3k)\n= 14k", ["X = 2(4k + 3k)", "2(4k + 3k) = 14k"]),
        # pure numbers belong to the arithmetic validator
        ("5 x 2 = 10 and 48/2 = 24", []),
        # words around a formula change what it says: skipped whole
        ("half of x = 5", []),
        ("x = 2 times y", []),
        ("the cost of apples + x = 10", []),
        ("The number of spaces in section 2 = x + 200.", []),
        ("j = 29 inches + 12 inches = 41 inches", []),
        ("Y + H = 18 (H - 3) + H = 18", []),
        ("x + y = 30 -55 + y = 30", []),
        ("f(x) = 2x + 1 and g(2) = 5", []),
        ("$y = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}$", []),
        ("Let $x = 0.\\overline{6}$", []),
        ("t = 2:30 and r = 3:4 and x = 2,5", []),
        # shown as written, with the `\\left` of a `\\right`
        ("$\\left(x + 1\\right)^2 = 4$", ["\\left(x + 1\\right)^2 = 4"]),
    ],
)
def test_equations_found_in_text(text, found):
    assert [c.text for c in find_equations(text)] == found


# --- judging chains -------------------------------------------------------------------------


def test_linear_chain_is_verified():
    r = algebra_report(
        "Solve 2x + 3 = 11.",
        ["Subtracting 3 from both sides gives 2x = 8.", "Dividing by 2, x = 4."],
        "x = 4",
    )
    assert errors(r) == []
    assert statuses(r) == ["verified", "verified"]


def test_wrong_step_is_found_at_its_index_with_evidence():
    r = algebra_report(
        "Solve 2x + 3 = 11.",
        ["Subtracting 3 from both sides gives 2x = 8.", "Dividing by 2, x = 5.", "So x + 1 = 6."],
    )
    assert r["first_error_step"] == 1
    [(step, finding)] = errors(r)
    assert step == 1
    assert finding["code"] == "algebra.not_implied"
    assert finding["evidence"]["equation"] == "x = 5"
    assert finding["evidence"]["expected"] == "x = 4"
    assert finding["evidence"]["known"] == ["2x + 3 = 11"]
    # The step after the error is read against it, so the error is reported once.
    assert statuses(r) == ["verified", "error", "verified"]


def test_whole_pipeline_reports_the_algebra_error():
    r = validate({"question": "Solve 2x + 3 = 11.", "reasoning": ["2x = 8", "x = 5"]})
    assert r["verdict"] == "unfaithful"
    assert r["first_error_step"] == 1
    assert any(f["code"] == "algebra.not_implied" for f in r["steps"][1]["findings"])
    assert r["validators"]["algebra"] == "1.12"


def test_two_variable_system():
    steps = ["Adding the equations: 2x = 12", "x = 6", "y = 10 - 6 = 4"]
    r = algebra_report("If x + y = 10 and x - y = 2, find x and y.", steps)
    assert errors(r) == []
    assert statuses(r) == ["verified"] * 3
    r = algebra_report("If x + y = 10 and x - y = 2, find x and y.", ["x = 6", "y = 5"])
    [(step, finding)] = errors(r)
    assert step == 1
    assert finding["evidence"]["expected"] == "y = 4"


def test_quadratic_with_both_roots():
    steps = ["$(x-2)(x-3) = 0$", "So $x = 2$ or $x = 3$.", "Taking x = 3,", "x = 2 also works"]
    r = algebra_report("Solve $x^2 - 5x + 6 = 0$.", steps)
    assert errors(r) == []
    assert statuses(r)[:2] == ["verified", "verified"]
    r = algebra_report("Solve $x^2 - 5x + 6 = 0$.", ["$(x-1)(x-6) = 0$"])
    [(step, finding)] = errors(r)
    assert step == 0 and "x = 2 or x = 3" not in finding["message"]
    r = algebra_report("Solve $x^2 - 5x + 6 = 0$.", ["$x = 4$"])
    [(_, finding)] = errors(r)
    assert finding["evidence"]["expected"] == "x = 2 or x = 3"


def test_solutions_of_a_contradiction_are_found_only_when_asked_for(monkeypatch):
    """Closed forms cost tens of ms; only a reported contradiction shows them, so judge defers."""
    calls = []
    solve = algebra_system._solutions
    monkeypatch.setattr(
        algebra_system, "_solutions", lambda *args: calls.append(args) or solve(*args)
    )
    system = algebra_system.KnownSystem()
    x = sympy.Symbol("x")
    system.add(algebra_system.to_equation(x**2 - 5 * x + 6, sympy.Integer(0), "x^2 - 5x + 6 = 0"))
    j = system.judge(algebra_system.to_equation(x, sympy.Integer(4), "x = 4"))
    assert j.kind == "contradicts" and calls == []
    assert sorted(s[x] for s in j.solutions) == [2, 3]
    assert j.solutions == j.solve() and len(calls) == 1  # found once, then kept


def test_latex_fractions_and_operators():
    steps = [
        "Multiply both sides by 6: $2x + x = 18$",
        "\\(3 \\cdot x = 18\\)",
        "$$x = \\frac{18}{3} = 6$$",
        "Check: $\\left(\\frac{6}{3}\\right) + \\frac{6}{6} = 3$",
    ]
    r = algebra_report("Solve $\\frac{x}{3} + \\frac{x}{6} = 3$.", steps)
    assert errors(r) == []
    assert statuses(r)[:3] == ["verified"] * 3
    r = algebra_report(
        "Solve $\\frac{x}{3} + \\frac{x}{6} = 3$.", ["$\\frac{x}{2} = 3$", "$x = 9$"]
    )
    [(step, finding)] = errors(r)
    assert step == 1 and finding["evidence"]["expected"] == "x = 6"


def test_definition_is_a_new_premise_not_a_finding():
    steps = ["Let y = 2x.", "We are told y = 8.", "So 2x = 8 and x = 4."]
    r = algebra_report("Find x.", steps)
    assert errors(r) == []
    assert [f for s in r["steps"] for f in s["findings"]] == []
    assert statuses(r) == ["unchecked", "unchecked", "verified"]
    assert algebra_report("Find x.", ["Let y = 2x.", "y = 8", "x = 5"])["first_error_step"] == 2


def test_definition_sentence_applies_before_the_equations_after_it():
    r = algebra_report("Prices.", ["Let x be the price. 3x = 12", "So x = 5."])
    assert [step for step, _ in errors(r)] == [1]


def test_definition_in_a_step_without_equations_starts_the_letter_afresh():
    steps = ["Let x be Tom's age.", "x + 2 = 10, so x = 8.", "Let x be Ann's age.", "x = 3"]
    assert errors(algebra_report("Ages.", steps)) == []


def test_square_roots_are_checked_for_both_signs():
    steps = ["$x = \\sqrt{12}$", "$x = 2\\sqrt{3}$", "x ≈ 3.46", "$x = 3\\sqrt{3}$"]
    r = algebra_report("Solve $x^2 = 12$ for x > 0.", steps)
    assert statuses(r)[:2] == ["verified", "verified"]
    [(step, finding)] = errors(r)
    assert step == 3 and "2*sqrt(3)" in finding["evidence"]["expected"]


def test_false_rewriting_is_an_error():
    r = algebra_report("Simplify.", ["2(x + 3) = 2x + 3"])
    [(step, finding)] = errors(r)
    assert step == 0 and finding["evidence"]["difference"] == "3"


def test_chains_without_variables_are_left_alone():
    r = algebra_report(
        "Natalia sold clips to 48 of her friends.",
        "Natalia sold 48/2 = 24 clips in May.\nShe sold 48 + 24 = 72 clips. 5 x 2 = 10.\n#### 72",
    )
    assert r["findings"] == [] and all(s["findings"] == [] for s in r["steps"])
    assert statuses(r) == ["unchecked", "unchecked"]


@pytest.mark.parametrize(
    ("question", "steps"),
    [
        # a hypothesis is neither checked nor known
        ("Solve 2x = 8.", ["If x = 5, then 2x = 10, which is too big.", "So x = 4."]),
        # one letter reused for a second quantity
        ("Squares.", ["A = 5 * 3 = 15 for the first room.", "A = 8 * 10 = 80 for the second."]),
        # one formula letter reused for a second shape
        ("Areas.", ["A = s^2", "s = 9", "A = 81", "A = l * w", "l = 4", "A = 4 * 15 = 60"]),
        # a unit conversion
        ("Time.", ["3x = 1 hour", "3x = 60 minutes", "x = 20 minutes"]),
        # rounding that the text shows by its decimals
        ("Split 100.", ["3x = 100", "x = 100/3 = 33.33", "x = 33.3"]),
        # coordinate geometry: each line is a relation, x names a different point each time
        (
            "Lines in the plane.",
            [
                "The first line is y = 2x + 1 and the second is y = -x + 4.",
                "They meet where 2x + 1 = -x + 4, so x = 1 and y = 3.",
                "A third line, y = 5x, has its x-intercept where y = 0, so x = 0.",
                "The line y = x + 5 crosses y = 2x + 1 at x = 4.",
            ],
        ),
        # "Let x be" starts the letter afresh
        (
            "Ages.",
            ["Let x be Tom's age. x + 2 = 10, so x = 8.", "Let x be Ann's age. 2x = 6, x = 3."],
        ),
    ],
)
def test_valid_chains_are_not_flagged(question, steps):
    assert errors(algebra_report(question, steps)) == []


def test_coordinate_geometry_is_still_checked_within_a_step():
    r = algebra_report("Lines in the plane.", ["They meet where 2x + 1 = -x + 4, so x = 2."])
    assert [step for step, _ in errors(r)] == [0]


def test_wrong_value_beyond_rounding_is_flagged():
    r = algebra_report("Split 100.", ["3x = 100", "x = 34.5"])
    assert [step for step, _ in errors(r)] == [1]


def test_final_answer_equation_is_checked_and_solution_shared():
    chain = Chain(question="Solve 2x + 3 = 11.", reasoning=["2x = 8", "x = 4"], answer="x = 5")
    r = validate_chain(chain, run=[AlgebraValidator()])
    [(step, finding)] = errors(r)
    assert step is None and finding["evidence"]["expected"] == "x = 4"
    from validators.pipeline import analyse
    from validators.types import Budget

    analysis = analyse(
        Chain(question="Solve 2x + 3 = 11.", reasoning=["2x = 8", "x = 4"]), Budget()
    )
    AlgebraValidator().check(analysis)
    assert analysis.scratch["algebra_solution"] == {"x": Fraction(4)}


# --- which of two contradicting steps is wrong ---------------------------------------------

PENS = "A shop sold 3 times as many pens as pencils, and 4 erasers. It sold 40 items in all."


def test_a_miscopied_number_is_the_error_of_the_step_that_wrote_it():
    r = algebra_report(PENS, ["Let p be the pencils.", "p + 3p + 4 = 44", "4p + 4 = 40", "p = 9"])
    [(step, finding)] = errors(r)
    assert step == 1 and r["first_error_step"] == 1
    assert finding["code"] == "algebra.miscopied"
    assert finding["evidence"] == {
        "equation": "p + 3p + 4 = 44",
        "stated": "44",
        "given": "40",
        "source": "the question",
        "later": "4p + 4 = 40",
    }
    # the later step follows from the corrected equation: it is no error
    assert statuses(r)[2:] == ["verified", "verified"]


def test_a_later_step_that_departs_from_a_given_number_keeps_the_error():
    r = algebra_report(PENS, ["Let p be the pencils.", "p + 3p + 4 = 40", "4p + 4 = 44"])
    [(step, finding)] = errors(r)
    assert (step, finding["code"]) == (2, "algebra.not_implied")


def test_a_stated_zero_is_never_taken_for_a_miscopy():
    r = algebra_report(
        "He spent 1/2 of his money and then $10, and had no money left.",
        ["Let m be his money.", "m - 1/2*m - 10 = 0", "1/2*m - 10 = 2"],
    )
    [(step, finding)] = errors(r)
    assert (step, finding["code"]) == (2, "algebra.not_implied")


def test_two_possible_miscopies_leave_the_error_where_it_shows():
    # 3 -> 12 and 20 -> 11 both make `x = 4` follow: no evidence which one was meant
    r = algebra_report("The numbers are 12 and 11.", ["Let x be it.", "2x + 3 = 20", "x = 4"])
    [(step, finding)] = errors(r)
    assert (step, finding["code"]) == (2, "algebra.not_implied")


def test_real_gsm8k_slips_are_placed_on_the_step_that_miscopied(data_dir):
    """Two GSM8K train references write a number the question does not give."""
    items = load_gsm8k(data_dir / "gsm8k" / "train.jsonl", 2288)
    for idx, step, stated, given in [(752, 2, "80", "100"), (2287, 0, "315", "312")]:
        r = validate(reference(items[idx], idx).chain)
        assert r["first_error_step"] == step, idx
        found = [f for f in r["steps"][step]["findings"] if f["code"] == "algebra.miscopied"]
        assert [(f["evidence"]["stated"], f["evidence"]["given"]) for f in found] == [
            (stated, given)
        ]


def test_a_real_equation_altered_by_the_bench_is_found_at_its_step(data_dir):
    item = load_gsm8k(data_dir / "gsm8k" / "train.jsonl", 2453)[2452]
    chain = reference(item, 2452).chain
    assert validate(chain)["verdict"] == "faithful"
    assert "10 + 2*x = 50." in chain["reasoning"]
    altered = dict(chain, reasoning=chain["reasoning"].replace("10 + 2*x = 50.", "10 + 2*x = 500."))
    r = validate(altered)
    assert r["first_error_step"] == 0
    assert [f["code"] for f in r["steps"][0]["findings"] if f["severity"] == "error"] == [
        "algebra.miscopied"
    ]


# --- a value the step takes back ------------------------------------------------------------

RATIONAL = "Solve (x^2 - 7x + 10)/(x^2 - 4x - 5) = 0."


def test_a_value_the_step_takes_back_is_not_its_claim():
    withdrawn = (
        "The roots are x = 2 and x = -1. However, the equation is undefined when x = -1, "
        "so we cannot include it as a root."
    )
    r = algebra_report(RATIONAL, ["The numerator is (x - 2)(x - 5).", withdrawn, "So x = 2."])
    assert errors(r) == []
    reasons = [f["evidence"].get("reason") for f in r["steps"][1]["findings"]]
    assert "withdrawn later in the step" in reasons


def test_the_same_value_not_taken_back_is_an_error():
    kept = "The roots are x = 2 and x = -1. Both are solutions."
    r = algebra_report(RATIONAL, ["The numerator is (x - 2)(x - 5).", kept])
    assert [(step, f["evidence"]["equation"]) for step, f in errors(r)] == [(1, "x = -1")]


# --- pathological input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "reasoning",
    [
        "x = 9**9**9**9",
        "x = 9^9^9^9",
        "x = " + "(" * 10_000 + "1" + ")" * 10_000,
        "x = 1" + "0" * 100_000,
        "x^2 = " + "(x+1)*" * 30 + "1",
    ],
)
def test_pathological_equations_are_unchecked_not_errors(reasoning):
    r = algebra_report("q", [reasoning])
    assert errors(r) == []
    [finding] = r["steps"][0]["findings"]  # from algebra, or from segment for a 20 kB step
    assert finding["code"].endswith(".unchecked") and finding["severity"] == "info"
    if finding["validator"] == "algebra":
        assert finding["evidence"]["reason"]  # the bound it exceeds
    else:
        [cand] = find_equations(reasoning)
        assert cand.problem


def test_one_megabyte_text_finishes_with_nothing_wrongly_reported():
    big = "Let x be 2. x + 1 = 3, so 2x = 4 and x = 3. " * 23_000  # ~1 MB
    r = algebra_report(big, [big, "x + 1 = 3", "x = 5"])
    assert r["steps"][0]["status"] == "unchecked"  # too long to read at all
    assert [step for step, _ in errors(r)] == [2]
    assert any("question" in f["message"] for f in r["findings"])


def test_many_equations_stop_with_an_info_finding():
    steps = [f"x_{{{i}}} + x_{{{i + 1}}} = {i}" for i in range(150)]
    r = algebra_report("q", steps)
    assert errors(r) == []
    assert any(f["message"].startswith("algebra stopped") for f in r["findings"])
    assert r["steps"][-1]["status"] == "unchecked"


# --- real model-written chains (PARC) -------------------------------------------------------


def _parc(data_dir, name: str) -> list[dict]:
    return json.loads((data_dir / "parc" / name).read_text(encoding="utf-8"))


def _flags(item: dict) -> list[int]:
    r = algebra_report(item["question"], item["steps"], str(item["model_answer"]))
    return [step for step, _ in errors(r)]


@pytest.mark.parametrize("name", ["metamathqa_positives.json", "orcamath_positives.json"])
def test_parc_correct_chains_are_not_flagged(data_dir, name):
    items = _parc(data_dir, name)
    flagged = [i for i, item in enumerate(items) if _flags(item)]
    assert len(items) > 90
    assert len(flagged) <= 1, flagged  # each flag investigated: none remain at the time of writing


@pytest.mark.parametrize("name", ["metamathqa_negatives.json", "orcamath_negatives.json"])
def test_parc_flags_fall_on_annotated_error_steps(data_dir, name):
    flagged_chains = 0
    for item in _parc(data_dir, name):
        flags = _flags(item)
        levels = item["error_annotation"]["error_annotations"]["step_level"]
        wrong = {s["step_number"] - 1 for s in levels if s["has_error"]}  # PARC counts from 1
        assert set(flags) <= wrong, (item["question"][:80], flags, wrong)
        flagged_chains += bool(flags)
    assert flagged_chains >= 3


@pytest.mark.parametrize(
    "step",
    [
        "The equation $|2x - 5| = 9$ means $2x - 5 = 9$ or $2x - 5 = -9$.",
        "\\[2x - 5 = 9 \\quad \\text{or} \\quad 2x - 5 = -9\\]",
        "So $2x = 1 \\pm 3$, i.e. $2x = 4$ or $2x = -2$.",
        "3x + 2 = 7 or 3x + 2 = -7",
    ],
)
def test_cases_joined_by_or_are_alternatives_not_facts(step):
    r = algebra_report("Solve $|2x - 5| = 9$.", [step, "So the solutions are 7 and -2."])
    assert errors(r) == []


@pytest.mark.parametrize(
    ("question", "steps"),
    [
        (  # one side given a number and its opposite, joined by "and"
            "What is the sum of all real solutions to $|x^2 - 5x| = 6$?",
            [
                "We split into $x^2 - 5x = 6$ and $x^2 - 5x = -6$.",
                "$x^2 - 5x - 6 = 0$ gives $x = 6$ or $x = -1$.",
            ],
        ),
        (  # on two lines of one step
            "Solve 3|x − 2| + 4 = 19.",
            ["|x − 2| = 5", "Now split:\nx − 2 = 5 → x = 7\nx − 2 = −5 → x = −3"],
        ),
        (  # in two clauses
            "Solve $|x - 3| = 6$.",
            ["$x - 3 = 6 \\Rightarrow x = 9$; $x - 3 = -6 \\Rightarrow x = -3$."],
        ),
        (  # "either … or" with letters on the right, then each case in its own step
            "Find the product of the solutions of |2x − 7| = |x + 2|.",
            [
                "Either 2x − 7 = x + 2 or 2x − 7 = −(x + 2).",
                "First: 2x − 7 = x + 2 → x = 9.",
                "Second: 2x − 7 = −x − 2 → 3x = 5 → x = 5/3.",
            ],
        ),
    ],
)
def test_one_side_split_into_cases_is_no_system(question, steps):
    assert errors(algebra_report(question, steps)) == []


def test_a_case_of_an_earlier_split_is_checked_within_itself():
    steps = [
        "Either 2x − 7 = x + 2 or 2x − 7 = −(x + 2).",
        "First: 2x − 7 = x + 2 → x = 9.",
        "Second: 2x − 7 = −x − 2 → 3x = 5 → x = 5/2.",
    ]
    r = algebra_report("Solve |2x − 7| = |x + 2|.", steps)
    assert [i for i, _ in errors(r)] == [2]


def test_lines_that_rewrite_one_side_are_no_cases():
    # one side given two values on two lines that are not opposite: a rewriting, and its slip
    q = "Solve 48 / x + 7 = 15."
    r = algebra_report(q, ["48 / x + 7 = 15", "48 / x = 15 - 7\n48 / x = 9"])
    assert [i for i, _ in errors(r)] == [1]


def test_an_or_that_restates_an_equation_is_still_checked():
    q = "Solve $3y - 15 = 2y - 6$ for $y$."
    good = algebra_report(q, ["Simplifying, I get $3y - 15 = 2y - 6$, or $y = 9$."])
    assert errors(good) == [] and "verified" in statuses(good)
    bad = algebra_report(q, ["Simplifying, I get $3y - 15 = 2y - 6$, or $y = -9$."])
    assert [i for i, _ in errors(bad)] == [0]


@pytest.mark.parametrize(
    "step",
    [
        "From $2x - 5 = 9$ we get $x = 7$; from $2x - 5 = -9$ we get $x = -2$.",
        "Solving $2x - 5 = 9$ gives $x = 7$, and solving $2x - 5 = -9$ gives $x = -2$.",
        "Setting $2x - 5 = 9$ gives $x = 7$; setting $2x - 5 = -9$ gives $x = -2$.",
    ],
)
def test_an_equation_brought_in_as_a_case_is_no_claim(step):
    r = algebra_report("Solve $|2x - 5| = 9$.", [step, "The sum is $7 + (-2) = 5$."])
    assert errors(r) == []


def test_a_derived_equation_after_a_case_is_still_refuted():
    r = algebra_report("Solve $|2x - 5| = 9$.", ["Solving $2x - 5 = 9$ gives $2x = 4$."])
    assert [i for i, _ in errors(r)] == [0]


def test_a_list_of_values_is_no_equation():
    step = (
        "For $k = 1, 2$, the floor is $0$. Each value $m = 1, 2, \\ldots, 6$ occurs for "
        "$k = 3m, 3m+1, 3m+2$."
    )
    assert errors(algebra_report("Sum the floors.", [step])) == []
    # `x = 1, y = 2` is two equations
    r = algebra_report("Solve $x + y = 3$ and $x - y = -1$.", ["So $x = 1, y = 3$."])
    assert [i for i, _ in errors(r)] == [0]


def test_a_question_that_gives_a_letter_two_values_poses_cases():
    q = "Suppose $y$ varies inversely with $x$. If $y=8$ when $x=3$, what is $y$ when $x=6$?"
    steps = [
        "Since $y$ varies inversely with $x$, $xy$ is constant, so $xy=3\\cdot 8=24$.",
        "When $x=6$, we have $6y=24$, so $y=4$.",
    ]
    assert errors(algebra_report(q, steps)) == []


def test_list_items_and_steps_that_are_cases_are_no_facts():
    q = "Solve |x − 3| = 7."
    steps = ["Two cases:", "- x − 3 = 7 → x = 10\n- x − 3 = −7 → x = −4"]
    assert errors(algebra_report(q, steps, "x = −4 or x = 10")) == []
    q = "Solve |2x - 5| = 9."
    steps = [
        "**Case 1:** 2x - 5 = 9\n* 2x = 14\n* x = 7",
        "**Case 2:** 2x - 5 = -9\n* 2x = -4\n* x = -2",
        "**Answer:** x = 7 or x = -2",
    ]
    assert errors(algebra_report(q, steps)) == []
    # items that do not give one expression two values are a derivation, checked as one
    steps = ["- 2x - 5 = 9\n- 2x = 14\n- x = 8"]
    assert [i for i, _ in errors(algebra_report("Solve 2x - 5 = 9.", steps))] == [0]


def test_factors_set_to_zero_are_cases_and_an_equation_shown_to_have_no_solution():
    q = "Find the critical points of V = x(12 - 2x)(6 - x) on 0 < x < 6."
    step = (
        "Critical points:\n- \\(12 - 2x = 0 \\Rightarrow x = 6\\)"
        "\n- \\(12 - 6x = 0 \\Rightarrow x = 2\\)"
    )
    assert errors(algebra_report(q, [step])) == []
    q = "解方程 $\\frac{1}{x-2} = \\frac{1-x}{2-x} - 3$。"
    steps = ["原方程可化为 $\\frac{1}{x-2} = \\frac{x-1}{x-2} - 3$。", "所以原方程无解。"]
    assert errors(algebra_report(q, steps)) == []
    steps = ["The equation becomes $\\frac{1}{x-2} = \\frac{x-1}{x-2} - 3$.", "So $x = 2$."]
    assert [i for i, _ in errors(algebra_report(q, steps))] == [0]


def test_a_letter_written_only_after_numbers_is_a_unit():
    q = "A purse holds 5p and 10p coins in the ratio 3 : 2, worth £2.80 in all. How many coins?"
    steps = [
        "A group of 3 five-pence and 2 ten-pence coins is worth 3 × 5 + 2 × 10 = 35p.",
        "£2.80 = 280p, and 280 ÷ 35 = 8 groups.",
        "Number of coins = 8 × (3 + 2) = 40.",
    ]
    report = algebra_report(q, steps, "40")
    assert errors(report) == []
    messages = [f["message"] for s in report["steps"] for f in s["findings"]]
    assert "2.80 = 280p: not checked (its letters are units)" in messages
    # the unit's arithmetic is still checked ("= 36p" is read as 36)
    steps[0] = steps[0].replace("35p", "36p")
    report = validate({"question": q, "reasoning": steps, "answer": "40"})
    assert report["first_error_step"] == 0
    # a letter also written alone, or raised to a power, is an unknown
    steps = ["2p + 3p = 5p, so p = 4 and 5p = 20.", "Then 3p = 13."]
    assert [i for i, _ in errors(algebra_report("Let p be a number.", steps))] == [1]
    steps = ["2p² + 3p² = 5p²", "So 2p² = 8 and 4p² = 15."]
    assert [i for i, _ in errors(algebra_report("Check the working.", steps))] == [1]


def test_one_value_or_another_enumerated_cases_and_factors_with_no_common_root():
    q = "A triangular number n(n+1)/2 is 666. Find n."
    step = "37 divides \\( n(n+1) \\), so \\( n = 37 \\) or \\( n + 1 = 37 \\)."
    assert errors(algebra_report(q, [step])) == []
    step = "37 divides \\( n(n+1) \\), so \\( n = 36 \\) and \\( n + 1 = 38 \\)."
    assert [i for i, _ in errors(algebra_report(q, [step]))] == [0]
    # "or" between two rewritten sides restates (and a wrong restatement is an error)
    step = "Simplifying, I get $-y + 3 = -2y + 6$, or $y = -3$."
    assert [i for i, _ in errors(algebra_report("Solve 3 - y = 6 - 2y.", [step]))] == [0]
    q = "How many (x, y, z) with 1 ≤ x, y, z ≤ 6 have x + y + z = 12?"
    step = (
        "For \\(x = 1\\), we need \\(y + z = 11\\): 2 ways. For \\(x = 2\\): \\(y + z = 10\\), 3"
        " ways. For \\(x = 6\\): \\(y + z = 6\\), 5 ways."
    )
    assert errors(algebra_report(q, [step])) == []
    step = "For \\(x = 1\\), we need \\(y + z = 11\\), so \\(y + z = 10\\)."
    assert [i for i, _ in errors(algebra_report(q, [step]))] == [0]
    q = "How many distinct real roots does $x^4 - 4x^3 + 4x^2 - 1$ have?"
    step = (
        "We find the roots of each factor:\n- \\(x^2 - 2x + 1 = (x - 1)^2 = 0\\) gives \\(x = 1\\)."
        "\n- \\(x^2 - 2x - 1 = 0\\) gives \\(x = \\frac{2 \\pm \\sqrt{8}}{2} = 1 \\pm \\sqrt{2}\\)."
    )
    assert errors(algebra_report(q, [step])) == []
    step = "We have:\n- \\(x + y - 2 = 0\\)\n- \\(x - y = 0\\)\nso \\(x = 2\\)."
    assert [i for i, _ in errors(algebra_report("Solve the system.", [step]))] == [0]


def test_functions_of_named_things_and_labelled_cases_are_no_products():
    q = "In a class of 40, 30 take A and 25 take B; 12 take both. How many take only B?"
    steps = [
        "n(A - B) = n(A) - n(A ∩ B) = 30 - 12 = 18",
        "n(B - A) = n(B) - n(A ∩ B) = 25 - 12 = 13",
    ]
    assert errors(algebra_report(q, steps)) == []
    steps = ["Var(X + Y) = 3² + 4² = 25 and Var(Y) = 4(9) + 16 = 52", "SD(2X − Y) = √52 ≈ 7.21"]
    assert errors(algebra_report("X and Y are independent.", steps)) == []
    q = "In how many ways is 45 a sum of consecutive positive integers?"
    step = (
        "- $k = 2$: $2a + 1 = 45 \\Rightarrow a = 22$\n- $k = 3$: $3a + 3 = 45 \\Rightarrow a = 14$"
        "\n- $k = 5$: $5a + 10 = 45 \\Rightarrow a = 7$"
    )
    assert errors(algebra_report(q, [step])) == []
    # a product with a bracket is still one: x(x + 1) = 12 then x = 4 is refuted
    steps = ["$x(x + 1) = 12$ and $x > 0$", "So $x = 4$."]
    assert [i for i, _ in errors(algebra_report("Solve x(x+1) = 12.", steps))] == [1]


def test_a_question_that_asks_for_an_equation_with_given_roots_states_no_value():
    q = (
        "If $\\alpha$ and $\\beta$ are the roots of $x^2 - 3x - 5 = 0$, form the quadratic"
        " equation whose roots are $\\alpha + 1$ and $\\beta + 1$."
    )
    steps = [
        "We know $\\alpha + \\beta = 3$ and $\\alpha\\beta = -5$.",
        "New sum: $(\\alpha + 1) + (\\beta + 1) = 3 + 2 = 5$.",
        "New product: $\\alpha\\beta + (\\alpha + \\beta) + 1 = -5 + 3 + 1 = -1$.",
        "Required equation: $x^2 - 5x - 1 = 0$.",
    ]
    assert errors(algebra_report(q, steps)) == []
    q = "If $x$ is a root of $x^2 - 3x - 5 = 0$, find $x^3 - 3x^2 - 5x$."
    steps = ["So $x^2 = 3x + 5$.", "Then $x^2 - 3x - 5 = 1$."]
    assert [i for i, _ in errors(algebra_report(q, steps))] == [1]


def test_an_angle_measure_in_ascii_is_no_inequality():
    question = "In triangle PQR, m<P = 3x, m<Q = 2x + 5 and m<R = x + 13. Find x."
    steps = ["Angle sum: m<P + m<Q + m<R = 180", "3x + (2x + 5) + (x + 13) = 180", "6x = 162"]
    r = algebra_report(question, steps)
    assert errors(r) == []
    assert [i for i, _ in errors(algebra_report(question, steps[:2] + ["6x = 172"]))] == [2]


def test_a_step_labelled_with_a_new_period_starts_its_letters_afresh():
    question = "Ben eats half the cookies plus one each day; after day 3 none are left. How many?"
    steps = [
        "**Day 3:** If he had c cookies at the start of day 3, c/2 − 1 = 0, so c = 2.",
        "**Day 2:** He ended day 2 with 2 cookies, so c/2 − 1 = 2 → c/2 = 3 → c = 6.",
        "**Day 1:** He ended day 1 with 6 cookies, so c/2 − 1 = 6 → c/2 = 7 → c = 14.",
    ]
    assert errors(algebra_report(question, steps)) == []
    slip = steps[:2] + [steps[2].replace("c = 14", "c = 15")]
    assert [i for i, _ in errors(algebra_report(question, slip))] == [2]
    # without a period's label, one letter given two values is still refuted
    plain = [s.split(":** ", 1)[1] for s in steps]
    assert errors(algebra_report(question, plain)) != []


def test_a_polynomial_evaluated_at_signed_numbers_is_no_product():
    question = "Which of the following is a factor of $x^3 + 2x^2 - 5x - 6$?"
    step = (
        "- A: $p(1) = 1 + 2 - 5 - 6 = -8 \\neq 0$\n- B: $p(-1) = -1 + 2 + 5 - 6 = 0$ ✓\n"
        "- D: $p(-2) = -8 + 8 + 10 - 6 = 4 \\neq 0$"
    )
    steps = ["Test each candidate: $p(c) = 0$ for a factor $x - c$.", step]
    assert errors(algebra_report(question, steps)) == []


def test_roots_listed_after_a_factors_case_are_no_system():
    question = "Solve x³ − 1 = 0 over the complex numbers."
    steps = [
        "x³ − 1 = (x − 1)(x² + x + 1).",
        "For x² + x + 1 = 0: x = (−1 ± √(1 − 4))/2 = (−1 ± i√3)/2.",
        "Solutions: x = 1, (−1 + i√3)/2, (−1 − i√3)/2.",
    ]
    assert errors(algebra_report(question, steps, "x = 1, x = (−1 ± i√3)/2")) == []
    # one value, stated as the answer against the step's case, is still judged
    assert errors(algebra_report(question, steps[:2], "x = 1")) != []


def test_an_equation_a_sentence_calls_an_error_is_no_claim():
    question = "Solve $3(x - 4) = 21$."
    step = (
        "One error is distributing only to the $x$: $3x - 4 = 21$, which leads to "
        "$x = \\frac{25}{3}$. That's wrong."
    )
    assert errors(algebra_report(question, [step, "$3x - 12 = 21$, so $x = 11$."])) == []
    assert errors(algebra_report(question, ["So $3x - 4 = 21$."])) != []


def test_a_function_name_after_a_coefficient_is_no_word_that_ends_the_equation():
    # `2\,\text{cis}\,\frac{\pi}{4}` is one of the roots, not `z = 2`
    q = "Solve $z^4 = -16$."
    r = validate(
        {"question": q, "reasoning": [q, "$z = 2\\,\\text{cis}\\,\\frac{\\pi}{4}$ is a root."]}
    )
    assert r["first_error_step"] is None, r


def test_a_formula_whose_left_operand_is_before_an_ellipsis_is_not_read():
    # "(n-1) + ... + 1" is a sum with a gap; "+ 1 = n(n-1)/2" is no equation of its own
    q = "How many comparisons for n = 50?"
    assert errors(algebra_report(q, ["(n-1) + ... + 1 = n(n-1)/2 = 1225."])) == []
    assert errors(algebra_report(q, ["1 + 2 + ... + n = n(n+1)/2."])) == []
    # the same value, stated whole, is still judged
    assert errors(algebra_report(q, ["n(n-1)/2 = 1226."]))
