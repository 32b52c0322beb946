"""Reasoning as models write it for MATH problems: LaTeX answers, whole-math claims, and no
false accusations (issue: validators on model-written MATH-style reasoning).

The shapes below are ordinary MATH notation written for these tests; the dataset tests at
the end run the public model-written chains in ../shared/data.
"""

from __future__ import annotations

import time

import pytest
import sympy

from validators import validate
from validators.arithmetic.mathclaims import read_claims
from validators.text.answers import parse_answer


def report(reasoning: list[str] | str, question: str = "", answer: str | None = None) -> dict:
    chain = {"question": question, "reasoning": reasoning}
    if answer is not None:
        chain["answer"] = answer
    return validate(chain)


def codes(r: dict) -> list[str]:
    """Every finding code of a report, step findings first."""
    return [f["code"] for s in r["steps"] for f in s["findings"]] + [
        f["code"] for f in r["findings"]
    ]


def errors(r: dict) -> list[str]:
    return [f["code"] for s in r["steps"] for f in s["findings"] if f["severity"] == "error"] + [
        f["code"] for f in r["findings"] if f["severity"] == "error"
    ]


# --- answers of every shape ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shape", "values"),
    [
        ("72", "number", [72]),
        ("$1,200", "number", [1200]),
        ("72 clips", "number", [72]),
        ("x = 4", "number", [4]),
        (r"\frac{270}{7}", "number", [sympy.Rational(270, 7)]),
        (r"\boxed{\dfrac{3}{4}}", "number", [sympy.Rational(3, 4)]),
        ("639/40", "number", [sympy.Rational(639, 40)]),
        ("213/4 inches", "number", [sympy.Rational(213, 4)]),
        ("-0.25", "number", [sympy.Rational(-1, 4)]),
        (r"\sqrt{65}", "number", [sympy.sqrt(65)]),
        (r"\frac{3\pi}{2}", "number", [3 * sympy.pi / 2]),
        (r"30^\circ", "number", [30]),
        ("8, -112", "numbers", [8, -112]),
        (r"\boxed{10{,}000}", "number", [10000]),
        (r"x = 2, -\sqrt[3]{5}", "numbers", [2, -sympy.cbrt(5)]),
        (r"\left[\frac{1}{2}, \frac{3}{2}\right]", "interval", [sympy.Rational(1, 2), 1.5]),
        (r"(-\infty, 2) \cup (3, \infty)", "interval", []),
        ("(1, 2)", "tuple", [1, 2]),
        (r"\{1, 2, 3\}", "set", [1, 2, 3]),
        (
            r"\begin{pmatrix} \frac{12}{13} \\ -\frac{18}{13} \end{pmatrix}",
            "matrix",
            [sympy.Rational(12, 13), sympy.Rational(-18, 13)],
        ),
        ("2x + 1", "expression", None),
        ("See solution", "text", []),
    ],
)
def test_answer_shapes(text, shape, values):
    answer = parse_answer(text)
    assert answer.shape == shape
    if values is not None:
        assert [sympy.nsimplify(v) for v in answer.values] == [sympy.nsimplify(v) for v in values]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("**Answer:** $1,157.63", sympy.Rational(115763, 100)),
        ("The answer is 42.", 42),
        ("Réponse : 42", 42),
        ("答案是 42", 42),
        ("Die Antwort ist 42", 42),
        ("9.6 × 10² (960)", 960),  # the value restated in parentheses, not a product
        ("7 (7.0)", 7),
    ],
)
def test_labelled_and_restated_answers_are_read(text, value):
    answer = parse_answer(text)
    assert answer.shape == "number" and answer.values == (value,)


def test_percent_answers_keep_their_flag():
    answer = parse_answer(r"20\%")
    assert answer.shape == "number" and answer.percent and answer.values == (20,)


def test_an_answer_of_another_shape_is_never_laundering():
    steps = [
        r"The inequality $|2x - 2| \le 1$ gives $-1 \le 2x - 2 \le 1$.",
        r"So $\frac{1}{2} \le x \le \frac{3}{2}$, and the steps end on $5 + 8 = 13$.",
    ]
    r = report(steps, answer=r"\left[\frac{1}{2}, \frac{3}{2}\right]")
    assert not r["laundering"]
    assert "linkage.answer_not_derived" not in codes(r)
    assert "linkage.not_compared" in codes(r)


def test_several_answers_are_linked_when_the_steps_state_each():
    steps = [r"The roots are $r = 8$ and $r = -112$, since $8 \cdot (-112) = -896$.", "Done."]
    r = report(steps, answer="8, -112")
    assert not r["laundering"] and "linkage.not_compared" not in codes(r)


def test_a_fraction_answer_equal_to_the_derived_decimal_is_linked():
    r = report(["3 * 53.25 = 159.75", "159.75 / 10 = 15.975"], answer="639/40")
    assert not r["laundering"]
    assert r["derived_answer"] == "15.975"


def test_implicit_multiplication_chains_hold():
    claims = read_claims(r"$3(4+1) = (3)(5) = 15$").claims
    assert [c.holds for c in claims] == [True, True]


def test_a_number_the_steps_do_not_derive_is_still_laundering():
    r = report(["$48 / 2 = 24$", "$48 + 24 = 72$"], answer="75")
    assert r["laundering"] and "linkage.answer_not_derived" in errors(r)


def test_a_radical_answer_matches_an_exact_derived_value():
    r = report([r"$c = \sqrt{4^2 + 7^2} = \sqrt{65}$"], answer=r"\sqrt{65}")
    assert not r["laundering"]


# --- claims only from whole math ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "held"),
    [
        (r"$\binom{4}{1} \cdot 300 = 1200$", True),
        (r"$\frac{5!}{3!} = 20$", True),
        (r"$\sin 30^\circ = \frac{1}{2}$", True),
        (r"$\cos\frac{\pi}{3} = 0.5$", True),
        (r"$\log_2 8 = 3$", True),
        (r"$\ln 1 = 0$", True),
        (r"$\sqrt[3]{27} = 3$", True),
        (r"$\sqrt{8} = 2\sqrt{2}$", True),
        (r"$\frac{10}{3} = 3.33$", True),
        (r"$\tfrac89 \times 9 \times 10^{11} = 8 \times 10^{11}$", True),
        (r"$\left(\frac{1}{2}\right)^2 = 0.25$", True),
        (r"$25\% = 0.25$", True),
        (r"\[ 2 \left( 1 + \frac{1}{2} \right) = 3 \]", True),
        (r"$\frac{1}{2} \cdot 4 = 3$", False),
        (r"$\sqrt{2} = 1.3$", False),
        (r"$\binom{5}{2} = 12$", False),
        (r"$\frac{1}{3} < 0.3$", False),
        # π to a few places holds within a thousandth of the value, as in prose
        (r"$\pi \times 8 = 3.14 \times 8$", True),
        (r"$25 \pi = 3.14 \times 25$", True),
        (r"$\pi \times 8 = 3.14 \times 9$", False),
        (r"$3.14 \times 8 = 25.5$", False),
    ],
)
def test_whole_math_claims(text, held):
    [claim] = read_claims(text).claims
    assert claim.holds is held


@pytest.mark.parametrize(
    "text",
    [
        r"Tangent lines to $y^2 = 4x$ through the origin: $x = 0$.",
        r"$50\% \text{ of } 80 = 40$",
        r"half of $80 = 40$",
        r"$5 \div 2\frac{1}{2} = 2$",  # a mixed number or a product: ambiguous
        r"$(1*2)*3 = 3*3$",  # an operation the question defines
        r"$2007 \div 13 = 154 \text{ remainder } 5$",
        r"512 = 1000000000 in binary",
        r"$\frac{\pi}{6} = 30^\circ$",  # radians against degrees
        r"$f(-4) = 0$",
        r"x_0^2 + x_0 + 1 = 0",
        r"$\sin 2\pi = 0$",  # where the argument ends is unclear
        r"$\cos\frac{\pi}{7} = 0.9$",  # no closed form
        r"$\log 100 = 2$",  # no base
        r"\boxed{3 - \sqrt{2} = 2}",  # an answer in answer notation
        r"We need to verify if: \[ \frac{\sqrt{3}}{3} = \frac{\sqrt{6}}{4} \]",
    ],
)
def test_fragments_and_ambiguities_are_not_refuted(text):
    r = report([text])
    assert errors(r) == [], r


def test_a_wrong_result_in_latex_is_found_at_its_step_with_evidence():
    steps = [
        r"$s = \frac{13+14+15}{2} = 21$",
        r"$\frac{13^2+14^2-15^2}{2(13)(14)} = \frac{196}{364}$",
    ]
    r = report(steps)
    assert r["first_error_step"] == 1
    [finding] = r["steps"][1]["findings"]
    assert finding["code"] == "arithmetic.wrong_result"
    assert finding["evidence"]["computed"] == "5/13"
    assert r["steps"][0]["status"] == "verified"


def test_line_breaks_separate_formulas_inside_a_display():
    r = report([r"Multiply by 2: \[ 8 + y = 2 \\ y = 2 - 8 \\ y = -6 \]"])
    assert errors(r) == []
    r = report(["Multiply by 2:\n\\[\n8 + y = 2\ny = 2 - 8\ny = -6\n\\]"])
    assert errors(r) == []


@pytest.mark.parametrize(
    "step",
    [
        # PARC math_negatives-0: `\\cdot5` is a command followed by a digit; reading the list
        # as one formula made `5$ - $10 = 2\\cdot5$ - $14` of the bullets and the dollars
        "Break them down:\n   - $5 = 5$\n   - $10 = 2\\cdot5$\n   - $14 = 2\\cdot7$",
        "Break them down:\n   - $5 = 5$\n   - $10 = 2 \\cdot 5$\n   - $14 = 2 \\cdot 7$",
        "Break them down:\n   - 5 = 5\n   - 10 = 2\\cdot 5\n   * 14 = 2\\cdot7",  # bare LaTeX
        "So $\\frac12 = 0.5$ and\n - $6 = 2\\times3$",
    ],
)
def test_a_bulleted_list_of_formulas_is_read_one_formula_a_line(step):
    r = report([step])
    assert errors(r) == [], r
    assert r["steps"][0]["status"] == "verified"


@pytest.mark.parametrize("command", ["\\cdot3", "\\times3", "\\frac63"])
def test_a_command_followed_by_a_digit_still_marks_its_spans_as_math(command):
    # Read as one plain formula, the two spans ran together: `5 6 = 2·3` parses as nothing.
    r = report([f"So $2 + 3 = 5$ $6 = 2{command}$"])
    assert r["steps"][0]["status"] == "verified", r


def test_a_display_of_an_operation_the_question_defines_is_not_refuted():
    # `$$` opens math, never an amount, so the display is found and its `*` left alone
    q = r"If $*$ represents an operation defined by $a*b=a^b+b$, find $(1*2)*3$."
    r = report(["Using the operation:\n$$1*2 = 1^2 + 2$$\n$$1*2 = 3$$"], question=q)
    assert errors(r) == [], r


def test_a_numbered_bullet_is_no_minus_sign():
    r = report(["The powers of $-1$:\n  1. - (-1)^1 = -1\n  2. - (-1)^2 = 1"])
    assert errors(r) == [], r
    r = report(["The pairs $(a, b)$:\n  1. - a = 1: b = 7\n  2. - a = 2: b = 6"])
    assert errors(r) == [], r


def test_a_false_line_of_a_bulleted_list_is_still_refuted():
    r = report(["Break them down:\n   - $10 = 2\\cdot5$\n   - $14 = 2\\cdot8$"])
    assert errors(r) == ["arithmetic.wrong_result"]
    [finding] = [f for f in r["steps"][0]["findings"] if f["severity"] == "error"]
    assert finding["message"] == "2\\cdot8 = 16, not 14"


@pytest.mark.parametrize(
    "step",
    [
        "The denominator is zero when x - 6 = 0 x = 6, so 6 is excluded.",
        "The numerator: (1622 + 1615) = 3237 (1622 - 1615) = 7",
    ],
)
def test_formulas_run_together_outside_delimiters_are_not_multiplied(step):
    # Bare LaTeX (no delimiters) is read with LaTeX's commands but without products across a
    # space: `0 x` and `3237 (1622 - 1615)` are two formulas written one after the other.
    q = r"Find the roots of \[\frac{x^2 - 13x + 22}{x^2 - 8x + 12} = 0.\]"
    r = report(["Cancel the common factor: \\frac{x - 11}{x - 6} = 0", step], question=q)
    assert errors(r) == [], r
    assert report([r"So $2 x = 6$ and $x = 3$."])["steps"][0]["status"] == "verified"


def test_display_blocks_stay_one_step():
    r = report("We get\n\\[\n6 = \\frac{3 \\times 3}{3}\n+ 3\n\\]\nwhich is right.")
    assert [s["text"].count("\n") for s in r["steps"]] == [0, 3, 0]
    assert errors(r) == []


# --- algebra reads the step as written ------------------------------------------------------


def test_substitution_into_an_earlier_equation_is_verified():
    q = r"The polynomial $3r^2 + ar - 115 = 0$ has the root $r = -1$. Find $a$."
    steps = [
        r"For $r = -1$: $3(-1)^2 + a(-1) - 115 = 0$, which simplifies to $-a - 112 = 0$.",
        r"So $a = -112$.",
    ]
    r = report(steps, question=q, answer="-112")
    assert errors(r) == []
    assert r["steps"][1]["status"] == "verified"


def test_case_analyses_and_alternatives_are_not_refuted():
    steps = [
        r"Case 1: $x - 3 = y - 9$ and $x - 9 = 2(y - 3)$.",
        r"Case 2: $x - 3 = y - 9$ and $x - 9 = -2(y - 3)$.",
        r"Another way is $16 = 2 \cdot 8$, so $(m-4) = 2$.",
        r"Another way is $16 = 4 \cdot 4$, so $(m-4) = 4$.",
    ]
    r = report(steps, question=r"Find all $(x, y)$ with $|x - 3| = |y - 9|$.")
    assert errors(r) == []


@pytest.mark.parametrize(
    "steps",
    [
        # PRM800K prm_phase2_7430, a chain without LaTeX
        [
            "I need to solve 136x = 184 (mod 203).",
            "Multiplying both sides by 103, x = 184 * 103 (mod 203).",
        ],
        [r"So $3x \equiv 1 \pmod 7$.", r"Then $x = 5 \pmod 7$."],
        ["So 3x ≡ 1, and x = 5 modulo 7."],
    ],
)
def test_congruences_are_not_read_as_equations(steps):
    r = report(steps, question="Find x.")
    assert errors(r) == [], r


def test_displays_joined_by_and_under_a_supposing_sentence_belong_to_it():
    step = "so is $f(4-x)$, since I can set \n$$2+x=x$$\n and \n$$2-x=4-x.$$\n"
    assert errors(report([step], question=r"Let $f(2+x)=f(2-x)$ for all $x$.")) == []
    # a line with words of its own ends the supposition: its formula is read again
    step = "since I can set \n$$2+x=x$$\nwhich gives\n$$2-x=4-x$$\n"
    assert errors(report([step], question="Find x.")) == ["algebra.not_implied"]


def test_an_equation_set_up_on_its_own_line_is_not_a_result():
    # PARC math_positives-39: "x - 6 = 0" is the denominator set to zero, not a consequence.
    q = r"Find the roots of $\frac{x^2 - 13x + 22}{x^2 - 8x + 12} = 0$."
    steps = [
        "Cancel the common factor.\n\n\\[\\frac{x - 11}{x - 6} = 0\\]",
        "We set the numerator equal to zero.\n\nx - 11 = 0",
        "So x = 11. We also set the denominator equal to zero and solve for x.\n\n"
        "x - 6 = 0\n\nx = 6",
    ]
    assert errors(report(steps, question=q)) == []


def test_bare_math_after_a_plain_sentence_is_still_refuted():
    r = report(["Then it factors.\n\n$(x-1)(x-6) = 0$"], question=r"Solve $x^2 - 5x + 6 = 0$.")
    assert errors(r) == ["algebra.not_implied"]


def test_a_step_refuted_by_the_question_is_an_error():
    r = report([r"$(x-1)(x-6) = 0$"], question=r"Solve $x^2 - 5x + 6 = 0$.")
    assert errors(r) == ["algebra.not_implied"]


def test_a_contradiction_with_unidentified_premises_is_info_only():
    steps = [r"Let $a = 3$ in the first part.", r"Now $a + 1 = 7$ in the second part."]
    r = report(steps, question="Two parts, each with its own $a$.")
    assert errors(r) == []
    assert "algebra.unchecked" in codes(r)


def test_a_letter_updated_from_its_old_value_is_no_contradiction():
    # PARC math_negatives-21: "x = 4 + 2 = 6" is x increased by 2, a letter used again
    steps = [
        "x + (x+1) + (x+2) + (x+3) = 22",
        "4x = 16, so x = 4",
        "Each integer is increased by 2:\n   x = 4 + 2 = 6\n   x+1 = 5 + 2 = 7",
    ]
    r = report(steps, question="Four consecutive integers sum to 22.")
    assert errors(r) == []
    [info] = [f for f in r["steps"][2]["findings"] if f["code"] == "algebra.unchecked"]
    assert "x takes a new value made from its old one" in info["message"]
    assert r["steps"][2]["status"] == "verified"  # x + 1 = 7 follows from the new x


@pytest.mark.parametrize(
    "update",
    [
        "x = 3 + 2 = 5",  # not made from x's value (4): a wrong value
        "x = 16 - 4",  # 4 is there, but not first, as an update writes it
    ],
)
def test_an_assignment_not_made_from_the_old_value_is_still_refuted(update):
    r = report(["4x = 16", update], question="Solve 4x + 6 = 22.")
    assert errors(r) == ["algebra.not_implied"], r


def test_a_question_of_separate_problems_gives_no_joint_premises():
    q = "Solve each equation:\n1) $5x^2 = 40x$\n2) $\\frac{25}{9} x^2 = 100$"
    r = report([r"Equation 2: $\frac{25}{9} x^2 = 100$, so $x^2 = 36$."], question=q)
    assert errors(r) == []


def test_legendre_symbols_are_not_fractions():
    r = report([r"Since $(\frac{p-1}{p}) = (\frac{-1}{p})$, the claim follows."])
    assert errors(r) == []


# --- honest coverage ------------------------------------------------------------------------


def test_a_bare_answer_checks_nothing():
    r = report("The answer is 12.", question="What is 5 + 7?")
    assert r["verdict"] == "unverifiable"
    assert r["score"] is None
    assert r["coverage"] == 0.0


def test_coverage_is_the_share_of_steps_with_a_checked_claim():
    r = report(["$2 + 3 = 5$", "This is a remark.", "$5 \\cdot 2 = 10$", "Done."])
    assert r["coverage"] == 0.5
    assert r["verdict"] == "faithful" and r["score"] == 1.0


# --- pathological LaTeX -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "$" + r"\frac{1}{" * 5000 + "2" + "}" * 5000 + " = 1$",
        "$" + r"\sqrt{" * 5000 + "2" + "}" * 5000 + " = 1$",
        r"$10^{99999} = 1$",
        r"$100000! = 1$",
        r"$\binom{100000}{5000} = 1$",
        r"$2^{2^{2^{2^{2^{2}}}}} = 4$",
        "$" + "(" * 10000 + "1" + ")" * 10000 + " = 1$",
        r"$\log_2 (2^{10000}) = 1$",
    ],
)
def test_pathological_latex_is_answered_at_once(text):
    started = time.thread_time()  # this thread only: other threads of the test process don't count
    r = report([text])
    assert time.thread_time() - started < 5  # a generous bound: a hang would take minutes
    assert errors(r) == []


# --- model-written chains from the public datasets ------------------------------------------


@pytest.fixture(scope="module")
def measured(data_dir):
    """The math bench's counts for every labelled set (../shared/data)."""
    from bench.math_bench import measure, sets

    return {name: measure(items) for name, items in sets().items()}


def test_prm800k_flags_almost_no_human_correct_step(measured):
    c = measured["prm800k"]
    assert c["chains"] == 273
    assert c["before"] <= 3  # flagged before the first step a human rated wrong
    assert c["good_steps_error"] <= 0.001 * c["good_steps"]
    assert c["at"] >= 15  # flags exactly at the labelled step are kept


def test_numinamath_reference_solutions_are_flagged_only_on_literal_slips(measured):
    # The remaining flags were read one by one: each is a computation that is false as
    # written in the reference (e.g. `\frac{(4003 + 3)}{2} \times 1001 = 2006003`). The tenth,
    # `- \( 13^2 = 8^2 + 10^2 + 4^2 + 1^2 \)` (181, not 169), is read since bullets are no
    # longer taken for minus signs.
    assert measured["numinamath"]["before"] <= 10


@pytest.mark.parametrize(
    ("name", "most"),
    # orcamath's two: `399 / 65 = 6.15` (6.138...) and an answer (64) the chain leaves behind
    # for a digression that ends on 3.14
    [("parc/math_positives", 0), ("parc/metamathqa_positives", 0), ("parc/orcamath_positives", 2)],
)
def test_parc_correct_chains_are_not_accused(measured, name, most):
    assert measured[name]["before"] <= most


@pytest.mark.parametrize(
    ("name", "most"),
    # math's two: `n = \\frac{628 - 1}{1} + 1 = 629` (it is 628) and a sum written as 45,060 for
    # 45,360, literal slips that the labels place one step late
    [("parc/math_negatives", 2), ("parc/metamathqa_negatives", 0), ("parc/orcamath_negatives", 0)],
)
def test_parc_model_errors_are_not_flagged_before_their_labelled_step(measured, name, most):
    assert measured[name]["before"] <= most
    assert measured[name]["good_steps_error"] <= most


@pytest.mark.parametrize(
    ("name", "least"),
    # math's fifth and MetaMathQA's thirteenth were run-on misreadings ("x - 6 = 0 x = 6" read
    # as `0 x = 6`): the right step by chance, a false accusation on a correct chain alike
    [
        ("parc/math_positives_perturbed", 4),
        ("parc/metamathqa_positives_perturbed", 12),
        ("parc/orcamath_positives_perturbed", 12),
    ],
)
def test_parc_injected_errors_are_still_found_at_their_step(measured, name, least):
    assert measured[name]["before"] == 0
    assert measured[name]["at"] >= least


@pytest.mark.parametrize(
    ("chain_id", "first_error"),
    # math_negatives-0: its bulleted factorisations were read as one formula across the
    # dollars; -21: "x = 4 + 2 = 6" updates x (see above). Both flagged at a step a human
    # rated correct until this was fixed; each still has its real error at or after its label.
    # prm_phase2_7430 writes congruences as `x = 184 * 103 (mod 203)`, without LaTeX.
    [("math_negatives-0", 10), ("math_negatives-21", 8), ("prm_phase2_7430", None)],
)
def test_real_chains_are_not_accused_before_their_labelled_error(data_dir, chain_id, first_error):
    from bench.math_bench import parc, prm800k

    items = prm800k() if chain_id.startswith("prm") else parc("math_negatives")
    item = next(i for i in items if i.chain["id"] == chain_id)
    r = validate(item.chain)
    assert item.first_error is not None
    assert r["first_error_step"] == first_error  # None: nothing flagged


def test_bulleted_equations_of_a_real_olympiad_solution_are_read(data_dir):
    # numinamath_656851 lists `- \( 13^2 = 5^2 + 12^2 \)` and the like as bullets. Read with
    # the bullet as a minus sign they were all unchecked; read whole, each is checked, and the
    # one false as written (8^2 + 10^2 + 4^2 + 1^2 is 181, not 169) is the only error.
    from bench.math_bench import numinamath

    item = next(i for i in numinamath() if i.chain["id"] == "numinamath_656851")
    r = validate(item.chain)
    bullets = [s for s in r["steps"] if s["text"].startswith(r"- \( 13^2 =")]
    assert len(bullets) == 5
    assert [s["status"] for s in bullets] == ["verified"] * 3 + ["error", "verified"]
    assert errors(r) == ["arithmetic.wrong_result"]
    assert r["first_error_step"] == bullets[3]["index"]


# --- notation met in model-written solutions ---------------------------------------------


def test_latex_thousands_separators_are_part_of_their_number():
    # `{,}` keeps LaTeX from spacing after the comma: 1{,}000 is one thousand, not 1 and 000
    held = report([r"The total is $1{,}000 + 2{,}500 = 3{,}500$ dollars."], answer="3{,}500")
    assert held["steps"][0]["status"] == "verified"
    assert held["verdict"] == "faithful" and not held["laundering"]
    wrong = report([r"The total is $1{,}000 + 2{,}500 = 4{,}500$ dollars."], answer="4{,}500")
    assert errors(wrong) == ["arithmetic.wrong_result"]


def test_the_residue_a_closing_congruence_states_is_derived():
    steps = [
        r"Since $2^{10} = 1024$ and $1024 = 93 \cdot 11 + 1$, "
        r"we get $2^{10} \equiv 1 \pmod{11}$."
    ]
    assert not report(steps, answer="1")["laundering"]
    assert report(steps, answer="3")["laundering"]  # the congruence states 1, not 3


def test_a_quotient_with_its_remainder_after_the_formula_is_no_error():
    r = report([r"$17 \div 5 = 3$ remainder $2$, so 2 are left over."])
    assert errors(r) == []
    assert errors(report([r"$17 \div 5 = 4$ and $2 \cdot 4 = 8$"])) == ["arithmetic.wrong_result"]


def test_an_answer_stated_as_a_latex_percentage_is_derived():
    steps = [r"The increase is $\frac{120 - 100}{100} \times 100\% = 20\%$."]
    assert not report(steps, answer="20")["laundering"]
    assert report(steps, answer="25")["laundering"]


def test_a_number_claimed_for_an_expression_is_shown_with_the_expression_first():
    # `8192 = 2^{12}` claims 8192 for 2^{12}; the finding says what 2^{12} is
    r = report([r"Rewrite 8192 as a power of 2: $8192 = 2^{12}$."])
    assert [f["message"] for f in r["steps"][0]["findings"]] == ["2^{12} = 4096, not 8192"]
    r = report([r"\[ 6 = \left(\frac{3 \times 3}{3}\right) \]"])
    assert r["steps"][0]["findings"][0]["message"] == (
        r"\left(\frac{3 \times 3}{3}\right) = 3, not 6"
    )
    assert report([r"Indeed $8192 = 2^{13}$."])["steps"][0]["status"] == "verified"


def test_a_latex_chain_that_computes_nothing_is_not_held_to_its_last_number():
    # no step computes a result: the last step's numbers are a remark after the answer, not
    # a conclusion ("the steps give 5" was laundering); in prose the closing sentence still is
    steps = [
        r"Completing the square: \(f(x) = (x - 3)^2 - 4\).",
        r"The minimum value is \(-4\), attained at \(x = 3\).",
        r"Also \(f(1) = 0\) and \(f(5) = 0\), so the roots are \(1\) and \(5\).",
    ]
    r = report(steps, answer="-4")
    assert not r["laundering"] and errors(r) == []
    assert report(["So she has 5 apples left."], answer="6")["laundering"]


def test_pi_applied_to_a_whole_number_may_count_primes():
    q = "Compute $\\pi(30) - \\pi(10)$, where $\\pi(n)$ counts the primes up to $n$."
    steps = ["The primes up to $10$ are $2, 3, 5, 7$, so $\\pi(10) = 4$, and $\\pi(30) = 10$."]
    assert not any(
        s["status"] == "error" for s in validate({"question": q, "reasoning": steps})["steps"]
    )
    # against π or a decimal only the product can be meant, and it is checked
    area = ["The area is $\\pi(4)^2 = 12\\pi$."]
    assert (
        validate({"question": "A circle has radius 4.", "reasoning": area})["first_error_step"] == 0
    )


def test_number_theory_functions_are_not_products():
    steps = [
        "$\\sigma(2^3) = 15$ and $\\sigma(3^2) = 13$.",
        "So $\\sigma(72) = 15 \\cdot 13 = 195$.",
    ]
    r = validate({"question": "Compute $\\sigma(72)$.", "reasoning": steps, "answer": "195"})
    assert r["verdict"] == "faithful" and not r["laundering"]


def test_a_relation_the_step_calls_false_is_no_claim():
    step = (
        "Try $n = 8$: $64 \\le 70 < 72$. "
        "(For $n = 7$: $70 < 56$ fails; for $n = 9$: $81 \\le 70$ fails.)"
    )
    r = validate({"question": "q", "reasoning": [step], "answer": "8"})
    assert r["verdict"] == "faithful"
    r = validate({"question": "q", "reasoning": ["So $70 < 56$, and $n = 7$."], "answer": "7"})
    assert r["first_error_step"] == 0


@pytest.mark.parametrize(
    "step",
    [
        "Write $-16 = 16 \\operatorname{cis} 180^\\circ$.",  # a function not read
        "Term by term: $\\frac{d}{dx}(x^3) = 3x^2$ and $\\frac{d}{dx}(7) = 0$.",  # derivatives
        "Differentiate: $2x + 2y\\frac{dy}{dx} = 0$, so $\\frac{dy}{dx} = -\\frac{x}{y}$.",
    ],
)
def test_derivatives_and_named_operators_are_not_read_as_fractions_or_products(step):
    q = "Let $x^2 + y^2 = 25$."
    r = validate({"question": q, "reasoning": [step], "answer": "0"})
    assert all(s["status"] != "error" for s in r["steps"])


def test_a_factorial_before_an_equals_sign_is_no_not_equal():
    step = "So there are $\\frac{5!}{5}=4!=24$ ways."
    assert validate({"question": "q", "reasoning": [step], "answer": "24"})["verdict"] == "faithful"
    r = validate({"question": "q", "reasoning": ["So $5!=100$ ways."], "answer": "100"})
    assert r["first_error_step"] == 0


@pytest.mark.parametrize(
    "step",
    [
        "If $y = 2$, the equation becomes $0 = -7$, which has no solution.",
        "Then $1 + 3y = 3y - 6$ would give $1 = -6$, which is impossible.",
        "Using the power rule, $2\\log_5 10 = \\log_5 10^2 = \\log_5 100$.",  # log(10^2)
    ],
)
def test_stated_contradictions_and_powers_of_a_bare_argument_are_no_error(step):
    r = validate({"question": "q", "reasoning": [step], "answer": "2"})
    assert all(s["status"] != "error" for s in r["steps"])


def test_a_power_after_a_bracketed_argument_is_still_read():
    r = validate({"question": "q", "reasoning": ["So $(\\log_2 8)^2 = 10$."], "answer": "10"})
    assert r["first_error_step"] == 0


@pytest.mark.parametrize(
    ("step", "holds"),
    [
        # a rounded value the step brings in, inside an expression: equal within its rounding
        ("$T = 2\\pi\\sqrt{\\frac{1.0}{9.8}} = 2\\pi \\times 0.3194$", True),
        ("$T = 2\\pi\\sqrt{\\frac{1.0}{9.8}} = 2\\pi \\times 0.3294$", False),
        (
            "$R = \\frac{400 \\times \\sin 60^\\circ}{9.8} = "
            "\\frac{400 \\times 0.8660}{9.8} \\approx 35.3$",
            True,
        ),
        (
            "$R = \\frac{400 \\times \\sin 60^\\circ}{9.8} = "
            "\\frac{400 \\times 0.8560}{9.8} \\approx 35.3$",
            False,
        ),
    ],
)
def test_roundings_a_step_brings_into_an_expression(step, holds):
    r = validate({"question": "q", "reasoning": [step], "answer": "1"})
    assert (r["steps"][0]["status"] != "error") == holds


def test_a_superscript_of_several_digits_is_not_two_squares():
    step = "$n = 0.05 \\times 6.02 \\times 10^{23}$. Molecules = 0.05 × 6.02 × 10²³ = 3.01 × 10²²"
    r = validate({"question": "q", "reasoning": [step], "answer": "1"})
    assert r["steps"][0]["status"] != "error"


@pytest.mark.parametrize(
    ("answer", "shape", "values"),
    [
        ("$2 \\text{ m/s}^2$", "number", [2]),  # the unit's power is the unit's
        (
            "$9.36 / $11.23 / $12.48",
            "numbers",
            [sympy.Rational("9.36"), sympy.Rational("11.23"), sympy.Rational("12.48")],
        ),
        # the imaginary unit set upright is i, not a word to drop (that read 3 + 4 = 7)
        ("$3 + 4\\mathrm{i}$", "expression", [3 + 4 * sympy.Symbol("i")]),
        ("$5\\,\\mathrm{m}$", "number", [5]),
        ("₹ 1,25,000", "number", [125000]),  # Indian grouping, rupees
        ("Rs. 1,331", "number", [1331]),
        ("6,91,35,690", "number", [69135690]),
    ],
)
def test_answers_with_unit_powers_and_listed_amounts(answer, shape, values):
    a = parse_answer(answer)
    assert a.shape == shape and list(a.values) == values


def test_an_upright_imaginary_unit_is_a_letter_in_claims():
    step = "$(1+2\\mathrm{i})(3-2\\mathrm{i}) = 3 + 4\\mathrm{i} + 4 = 7 + 4\\mathrm{i}$"
    report = validate({"question": "Compute (1+2i)(3-2i).", "reasoning": [step]})
    assert report["first_error_step"] is None and not report["laundering"]
    assert [(c.relation, str(c.value)) for c in read_claims(step).claims] == []


def test_a_unit_word_written_against_a_function_is_a_product():
    step = "$N = mg\\cos 30^\\circ = 4 \\times 9.8 \\times 0.866 \\approx 33.9\\ \\text{N}$"
    report = validate({"question": "A 4 kg block rests on a 30° incline.", "reasoning": [step]})
    assert report["first_error_step"] is None
    # apart from the formula it is a unit
    step = "$2 + 3 = 6 mg$"
    assert [c.claimed_text for c in read_claims(step).claims] == ["6"]


@pytest.mark.parametrize(
    ("step", "flagged"),
    [
        ("Set h = 0:\n144 − 16t² = 0", False),  # a letter raised to a power is an unknown
        ("144 − 16x² = 0", False),
        ("The floor is 16 m² + 9 m² = 26 m².", True),  # units written squared stay units
        ("The floor is 16 m² + 9 m² = 25 m².", False),
    ],
)
def test_a_letter_with_a_superscript_power_after_a_number(step, flagged):
    assert bool(errors(report([step]))) is flagged


def test_a_relation_its_sentence_calls_impossible_is_not_asserted():
    step = "The last row says $0x + 0y + 0z = 1$, i.e. $0 = 1$, which is impossible."
    assert errors(report(["$R_3 \\to R_3 - R_2$", step])) == []
    assert errors(report(["$R_3 \\to R_3 - R_2$", "So $0x + 0y + 0z = 1$ and we go on."])) != []


def test_a_matrix_is_no_number_in_an_equation():
    question = (
        "Show that $Q = \\frac{1}{5}\\begin{pmatrix} 3 & -4 \\\\ 4 & 3 \\end{pmatrix}$ is "
        "orthogonal and find $Q^{-1}$."
    )
    step = "$Q^{-1} = \\frac15\\begin{pmatrix} 3 & 4 \\\\ -4 & 3\\end{pmatrix}$, $\\det Q = 1$."
    assert errors(report(["$Q^TQ = I$, so $Q^{-1} = Q^T$.", step], question)) == []
    projection = (
        "As expected, $P^2 = P$, and "
        "$P = \\frac15\\begin{pmatrix} 1 & 2 \\\\ 2 & 4 \\end{pmatrix}$."
    )
    assert errors(report([projection], "Find the projection matrix P onto (1, 2).")) == []


def test_a_division_by_a_named_segment_is_unknown():
    table = "| Statement | Reason |\n| 5/15 = 4/BC | Substitution |\n| BC = 12 | Cross-multiply |"
    assert errors(report([table])) == []
    assert errors(report(["The price is 5/15 = 4/GB."])) != []  # a unit in capitals


@pytest.mark.parametrize(
    ("step", "flagged"),
    [
        # LaTeX's thousands separator makes the span math, read whole
        ("Total number of passwords: $36^6 = 2{,}176{,}782{,}336$.", False),
        ("Total number of passwords: $36^6 = 2{,}176{,}782{,}337$.", True),
        # the fifth derivative at 0, no power of f times 0
        ("So $f^{(5)}(0) = (0 + 5)e^0 = 5$.", False),
        ("So $2^{(3)} = 9$.", True),
        # a result in two units, the second with decimals
        ("482.7 s = 8 × 60 + 2.7 = 8 min 2.7 s.", False),
        # a repeating decimal cut short, then the expression goes on
        ("(85 ÷ 60) × 100 = 1.41666… × 100 ≈ 141.67", False),
        ("(85 ÷ 60) × 100 = 1.41666 ≈ 141.67", True),
    ],
)
def test_notations_of_round_seventeen(step, flagged):
    assert bool(errors(report([step]))) is flagged


@pytest.mark.parametrize(
    ("question", "step"),
    [
        (
            "Simplify $\\sqrt{50}$.",
            "Splitting as $\\sqrt{25 + 25} = 5 + 5 = 10$ is wrong, since square roots don't "
            "split over sums.",
        ),
        (
            "Evaluate $(-2)^4 + (-2)^3$.",
            "Even powers of a negative are positive; odd powers are negative. Writing "
            "$(-2)^4 = -16$ is a sign error.",
        ),
        (
            "What is the exact circumference of a circle of radius 7?",
            "Using $\\pi = \\frac{22}{7}$ gives $2 \\cdot \\frac{22}{7} \\cdot 7 = 44$, which is "
            "only an approximation, not the exact value.",
        ),
    ],
)
def test_a_mistake_the_step_names_as_one_is_not_asserted(question, step):
    assert errors(report([step, "So the rest follows."], question)) == []


def test_a_claim_is_still_asserted_beside_a_named_mistake():
    step = "So $\\sqrt{25 + 25} = 5 + 5 = 10$, and that is the length."
    assert errors(report([step], "Simplify $\\sqrt{50}$.")) != []
