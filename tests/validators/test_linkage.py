"""Laundering: an answer the steps do not derive, or a right answer over wrong steps."""

from __future__ import annotations

import pytest

from validators import validate

QUESTION = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips "
    "in May. How many clips did Natalia sell altogether in April and May?"
)
GOOD = "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether."


def laundering(question: str, steps: list[str], answer: str) -> bool:
    """Whether the chain's answer is judged not to be what its steps derive."""
    return validate({"question": question, "reasoning": steps, "answer": answer})["laundering"]


def test_derived_answer_is_faithful():
    r = validate({"id": "n", "question": QUESTION, "reasoning": GOOD + "\n#### 72"})
    assert r["verdict"] == "faithful" and not r["laundering"]
    assert r["derived_answer"] == "72" and r["answer"] == "72"
    assert r["score"] == 1.0 and r["first_error_step"] is None


def test_answer_not_derived_is_laundering():
    r = validate({"question": QUESTION, "reasoning": GOOD, "answer": "70"})
    assert r["laundering"] and r["verdict"] == "unfaithful"
    assert r["findings"][0]["code"] == "linkage.answer_not_derived"
    assert r["derived_answer"] == "72"
    assert r["first_error_step"] is None  # every step holds: the answer is what is wrong


def test_design_example_wrong_step_and_pasted_answer():
    r = validate(
        {
            "question": QUESTION,
            "reasoning": "Natalia sold 48/2 = 24 clips in May.\n48 + 24 = 70\n#### 72",
        }
    )
    assert r["verdict"] == "unfaithful" and r["laundering"]
    assert r["first_error_step"] == 1 and r["derived_answer"] == "70"
    assert r["steps"][1]["findings"][0]["evidence"] == {
        "expression": "48 + 24",
        "claimed": "70",
        "computed": "72",
    }


def test_foreign_reasoning_with_the_right_answer_is_laundering():
    other = "Weng earns 12/60 = $0.2 per minute.\nWorking 50 minutes, she earned 0.2 x 50 = $10."
    r = validate({"question": QUESTION, "reasoning": other + "\n#### 72"})
    assert r["laundering"]


def test_right_answer_over_wrong_steps_with_reference_is_laundering():
    reasoning = "Natalia sold 48/2 = 25 clips in May.\nNatalia sold 48 + 24 = 72 clips.\n#### 72"
    r = validate({"question": QUESTION, "reasoning": reasoning, "reference_answer": "72"})
    assert r["laundering"]
    assert "linkage.right_answer_wrong_steps" in [f["code"] for f in r["findings"]]


def test_answer_in_other_unit_is_accepted():
    q = "A can costs 50 cents here and 25 cents there. How many cents more is it here?"
    r = validate({"question": q, "reasoning": "0.50 - 0.25 = 0.25 dollars more.", "answer": "25"})
    assert not r["laundering"]


def test_answer_in_the_larger_unit_is_accepted():
    q = "An apple costs 45 cents. How many dollars do 3 apples cost?"
    steps = "3 × 45 = 135 cents = $1.35."
    assert not validate({"question": q, "reasoning": steps, "answer": "1.35"})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": "1.45"})["laundering"]


def test_closing_answer_sentence_is_not_a_step():
    reasoning = "Natalia sold 48/2 = 24 clips in May.\n48 + 24 = 72\nThe answer is 75."
    r = validate({"question": QUESTION, "reasoning": reasoning})
    assert len(r["steps"]) == 2 and r["answer"] == "75"
    assert r["laundering"]


def test_a_matching_answer_without_any_verified_step_is_not_faithful():
    r = validate({"question": "How many?", "reasoning": "I think it is 5.\n#### 5"})
    assert r["verdict"] == "unverifiable" and not r["laundering"]


def linked(question: str, steps: str, answer: str) -> bool:
    return not validate({"question": question, "reasoning": steps, "answer": answer})["laundering"]


def test_an_answer_named_after_the_last_computation_is_derived():
    question = "Sam drinks 40 cans a week and halves it each week. After how many weeks 5 cans?"
    steps = (
        "After one week 40 / 2 = 20 cans.\nThen 20 / 2 = 10, and 10 / 2 = 5 cans. It takes 3 weeks."
    )
    assert linked(question, steps, "3")
    # a number in the same sentence as the computation is not a conclusion
    assert not linked(question, steps.replace(" It takes 3 weeks.", " in 3 weeks"), "3")


def test_an_answer_the_text_calls_the_answer_is_derived():
    question = "Two piles hold 120; one is twice the other."
    steps = "So x = 40 and 40 * 2 = 80.\nAs 80 / 2 = 40 and 40 + 80 = 120, 80 is the answer."
    assert linked(question, steps, "80")
    assert linked(question, steps, "40")  # 40 is a result of the closing step too
    assert not linked(question, steps, "60")


def test_a_percentage_result_links_its_number():
    question = "What share of the sweets is blue?"
    steps = "There are 5 + 3 + 4 = 12 sweets.\nThe chance is (3/12) * 100% = 25%."
    assert linked(question, steps, "25")
    assert not linked(question, steps, "100")  # an operand written in percent is not the answer


def test_list_labels_are_not_quantities_a_step_derives():
    # A small model's numbered plan: it computes nothing, so the answer is unverifiable. Read
    # as a quantity, the label "3." made it "not what the steps give (3)": laundering.
    plan = (
        "1. The first step is to find the total number of plants.\n"
        "2. The second step is to find the number of plants that die.\n"
        "3. The third step is to find the number of plants that survive.\n\n"
        "The answer is 24."
    )
    r = validate({"question": "A garden has 4 rows of 7 plants. Then 4 die. How many are left?",
                  "reasoning": plan})  # fmt: skip
    assert (r["verdict"], r["laundering"], r["derived_answer"]) == ("unverifiable", False, None)
    assert r["findings"] == []
    # "Step 2:" labels alike; the computations after them are still read and linked.
    steps = "Step 1: 4 * 7 = 28 plants.\nStep 2: 28 - 4 = 24 plants are left.\n#### 24"
    r = validate({"question": "A garden has 4 rows of 7 plants. Then 4 die. How many are left?",
                  "reasoning": steps})  # fmt: skip
    assert (r["verdict"], r["laundering"], r["derived_answer"]) == ("faithful", False, "24")
    assert [s["status"] for s in r["steps"]] == ["verified", "verified"]
    # And a label never stands in for a result: "#### 2" is not what "2. 28 - 4 = 24" derives.
    wrong = "1. 4 * 7 = 28 plants.\n2. 28 - 4 = 24 plants are left.\n#### 2"
    r = validate({"question": "A garden has 4 rows of 7 plants. Then 4 die. How many are left?",
                  "reasoning": wrong})  # fmt: skip
    assert r["laundering"] and r["derived_answer"] == "24"


def test_a_bulleted_computation_is_read_after_its_bullet():
    # "- 24 days * 2 pages per day = 4 pages": the bullet is no minus sign; the claim is false.
    text = "- 24 days * 2 pages per day = 48 pages\n- 24 days * 2 pages per day = 4 pages\n#### 4"
    r = validate({"question": "Hugo reads 2 pages a day for 24 days. How many pages?",
                  "reasoning": text})  # fmt: skip
    assert [s["status"] for s in r["steps"]] == ["verified", "error"]
    assert r["steps"][1]["findings"][0]["message"] == "24 * 2 = 48, not 4"


def test_an_answer_an_earlier_step_computed_is_named_with_that_step():
    # The steps reach 24, then go on to 4: still laundering, and the message says so exactly.
    text = "1. 8 / 2 = 4 marbles\n2. 48 / 2 = 24 marbles\n3. 2 * 2 = 4 marbles\n\nThe answer is 24."
    r = validate({"question": "Ana has 48 marbles and 8 bags.", "reasoning": text})
    assert r["laundering"] and r["derived_answer"] == "4"
    (finding,) = r["findings"]
    assert finding["message"] == "the answer 24 is what step 1 computes, but the steps go on to 4"
    assert finding["evidence"] == {"answer": "24", "derived": "4"}


def test_a_closing_restatement_of_the_question_is_no_conclusion():
    # A fine-tuned small model's answer: the question restated, then an answer. Nothing is
    # computed or checked anywhere, so the answer is unverifiable, not "the steps give 4".
    question = "A garden has 4 rows of 4 plants. Then 6 plants die. How many plants are left?"
    text = "The garden has 4 rows of 4 plants.\nThe first row of 4 plants die.\n#### 6"
    r = validate({"question": question, "reasoning": text})
    assert (r["verdict"], r["laundering"], r["derived_answer"]) == ("unverifiable", False, None)
    # A closing statement that names a new number still concludes: a different answer is
    # laundering ("so 72 in total", then 82).
    prose = "She sold 48 clips in April and 24 in May, so 72 in total.\n#### 82"
    r = validate({"question": "She sold 48 clips in April and 24 in May.", "reasoning": prose})
    assert r["laundering"] and r["derived_answer"] == "72"
    # So does one that states a result, even in terms the validators cannot check.
    clock = (
        "He left at 10:00 and flew until 00:00 the next day.\n"
        "His flight took 10:00-00:00 = 10 hours.\n#### 9"
    )
    r = validate({"question": "He left at 10:00 a.m. and flew 10 hours.", "reasoning": clock})
    assert r["laundering"] and r["derived_answer"] == "10"


@pytest.mark.parametrize(
    "check",
    [
        "Verification: 72 - 48 = 24, which matches May. ✓",
        "**Check:** 24 * 2 = 48 clips in April.",
        "Let's double-check: 72 - 24 = 48.",
    ],
)
def test_steps_that_check_the_result_do_not_go_on_from_it(check):
    q = "Natalia sold 48 clips in April and half as many in May. How many in total?"
    steps = ["In May she sold 48 / 2 = 24 clips.", "In total she sold 48 + 24 = 72 clips.", check]
    assert not validate({"question": q, "reasoning": steps, "answer": "72"})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": "74"})["laundering"]
    # a closing step that is no check still ends the chain
    steps[-1] = "Then 72 - 48 = 24 more clips."
    assert validate({"question": q, "reasoning": steps, "answer": "72"})["laundering"]


@pytest.mark.parametrize(
    "division",
    [
        "100 ÷ 7 = 14 R 2",
        "100 / 7 = 14 R 2, so 2 are left over.",
        "100 divided by 7 is 14 with a remainder of 2.",
    ],
)
def test_a_remainder_the_last_step_states_is_derived(division):
    q = "100 pencils are packed 7 to a box. How many pencils are left over?"
    assert not validate({"question": q, "reasoning": [division], "answer": "2"})["laundering"]
    # the quotient is derived too; a number the division does not give is not
    assert not validate({"question": q, "reasoning": [division], "answer": "14"})["laundering"]
    assert validate({"question": q, "reasoning": [division], "answer": "3"})["laundering"]


def test_a_latex_quotient_with_its_remainder_after_it_is_no_result_to_hold_the_answer_to():
    q = "100 pencils are packed 7 to a box. How many pencils are left over?"
    step = "$100 \\div 7 = 14$ remainder $2$."
    for answer in ("2", "14"):
        assert not validate({"question": q, "reasoning": [step], "answer": answer})["laundering"]


def test_a_step_that_rounds_up_derives_the_whole_number_it_names():
    q = "Siding covers 1342 sq ft and is sold by the square (100 sq ft). How many squares?"
    steps = ["Squares: 1342 / 100 = 13.42, round up to 14 squares."]
    assert not laundering(q, steps, "14 squares")
    assert laundering(q, steps, "15 squares")
    assert laundering(q, ["Squares: 1342 / 100 = 13.42."], "14 squares")  # no rounding up said


@pytest.mark.parametrize(
    ("question", "steps", "answer", "linked"),
    [
        (  # a second part in parentheses, not the first one restated
            "Two 2 TB drives in RAID 1 give how much usable storage, and what fraction of the "
            "raw capacity is that?",
            ["Raw: 2 × 2 TB = 4 TB.", "RAID 1 mirrors, so usable = 2 TB.", "2 / 4 = 0.5 = 50%."],
            "2 TB (50%)",
            True,
        ),
        (
            "What's the difference between 1 MiB and 1 MB, in bytes and percent?",
            [
                "1 MiB = 1,048,576 bytes; 1 MB = 1,000,000 bytes.",
                "Difference: 1,048,576 − 1,000,000 = 48,576 bytes.",
                "As a percentage: 48,576 / 1,000,000 = 4.8576%, about 4.86%.",
            ],
            "48,576 bytes (≈ 4.86%)",
            True,
        ),
        (  # a first part no step writes is still judged
            "Two 2 TB drives in RAID 1 give how much usable storage, and what fraction of the "
            "raw capacity is that?",
            ["Raw: 2 × 2 TB = 4 TB.", "RAID 1 mirrors, so usable = 2 TB.", "2 / 4 = 0.5 = 50%."],
            "3 TB (50%)",
            False,
        ),
        ("How many apples?", ["3 + 4 = 7 apples."], "7 (7.0)", True),  # the same value restated
    ],
)
def test_an_answer_in_two_parts(question, steps, answer, linked):
    assert laundering(question, steps, answer) is not linked


def test_what_is_needed_rounds_up():
    q = "260 people ride buses that hold 48 each. How many buses are needed?"
    steps = ["260 ÷ 48 ≈ 5.42, so we need 6 buses."]
    assert not validate({"question": q, "reasoning": steps, "answer": "6"})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": "7"})["laundering"]
    # where neither the question nor the step rounds up, 5.42 is not 6
    q = "260 people share 48 seats equally. About how many people is that per seat?"
    steps = ["260 ÷ 48 ≈ 5.42 people per seat."]
    assert validate({"question": q, "reasoning": steps, "answer": "6"})["laundering"]


@pytest.mark.parametrize(
    "aside",
    [
        "This is not (60 + 40) ÷ 2 = 50.",
        "Not (60 + 40) ÷ 2 = 50, because the times differ.",
        "A common mistake is (60 + 40) ÷ 2 = 50.",
        "Let me double-check: 48 × 5 = 240.",
        "Wait, let me verify: 48 × 5 = 240.",
        "Just as a sanity check, 48 × 5 = 240.",
        "Fun fact: 48 - 40 = 8 mph more than the speed limit.",
        "> Note: 240 ÷ 60 = 4 miles per minute would be another unit.",
        "(In km/h that is 48 × 1.609 = 77.232.)",
    ],
)
def test_a_closing_contrast_or_check_does_not_go_on_from_the_result(aside):
    q = "A car drives 240 miles in 5 hours. What is its average speed in mph?"
    steps = ["Average speed = 240 ÷ 5 = 48 mph.", aside]
    assert not validate({"question": q, "reasoning": steps, "answer": "48"})["laundering"]
    r = validate({"question": q, "reasoning": steps, "answer": "45"})
    assert r["laundering"] and r["derived_answer"] == "48"


def test_a_conclusion_that_says_not_is_still_the_conclusion():
    q = "Six friends split $1200, but Brad does not come. How much does each of the others pay?"
    steps = [
        "So the six friends should pay $1200 / 6 people = $200 each.",
        "Since Brad is not joining, the 5 friends pay $1200 / 5 = $240 each.",
    ]
    r = validate({"question": q, "reasoning": steps, "answer": "200"})
    assert r["laundering"] and r["derived_answer"] == "240"


@pytest.mark.parametrize(
    ("step", "answer", "wrong"),
    [
        ("A = 1000 × 1.157625 = 1157.625", "$1,157.63", "$1,157.64"),
        ("The tip is 68.40 × 0.18 = 12.312 dollars.", "$12.31", "$12.41"),
        ("Each part is 10/3 = 3.333...", "3.33", "3.34"),
    ],
)
def test_an_answer_may_round_a_result_to_the_places_it_shows(step, answer, wrong):
    q = "Compute it."
    assert not validate({"question": q, "reasoning": [step], "answer": answer})["laundering"]
    assert validate({"question": q, "reasoning": [step], "answer": wrong})["laundering"]


def test_an_answer_to_one_part_of_a_question_of_several_is_derived():
    q = (
        "A car uses 8.5 L per 100 km. How much fuel is needed for 340 km, and what does it "
        "cost at $1.60 per liter?"
    )
    steps = ["Fuel: 340 × 8.5/100 = 28.9 L", "Cost: 28.9 × 1.60 = 46.24"]
    for answer in ("28.9 L", "46.24"):
        assert not validate({"question": q, "reasoning": steps, "answer": answer})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": "29.9"})["laundering"]
    # a question of one part still ends where the steps end
    q = "A car uses 8.5 L per 100 km. What does the fuel for 340 km cost at $1.60 per liter?"
    assert validate({"question": q, "reasoning": steps, "answer": "28.9"})["laundering"]


def test_the_step_before_a_check_concludes_in_words():
    q = "What is 1512 divided by 24?"
    steps = [
        "Long division: 151 ÷ 24 = 6 R 7, and then 72 ÷ 24 = 3.",
        "The quotient is 63.",
        "Check: 24 × 63 = 1,512 ✓",
    ]
    assert not validate({"question": q, "reasoning": steps, "answer": "63"})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": "64"})["laundering"]
    # a residue the step before the check states is its conclusion too
    q = "What is the remainder when $17 \\cdot 23$ is divided by 5?"
    steps = [
        "$17 = 3 \\cdot 5 + 2$, so $17 \\equiv 2$, and $23 \\equiv 3 \\pmod 5$.",
        "Product: $2 \\cdot 3 = 6 \\equiv 1 \\pmod 5$.",
        "Let me verify directly: $17 \\cdot 23 = 391$ ✓.",
    ]
    assert not validate({"question": q, "reasoning": steps, "answer": "1"})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": "4"})["laundering"]


@pytest.mark.parametrize(
    ("step", "answer"),
    [
        (
            "So the final price is $41.40. Net change: 41.40 - 40 = 1.40, and 1.15 × 0.9 = 1.035.",
            "41.40",
        ),
        ("She fills it **4 times** (3 full bottles give 3 × 750 = 2,250 mL, too little).", "4"),
    ],
)
def test_a_closing_step_names_its_conclusion_besides_a_side_computation(step, answer):
    q = "Compute it."
    assert not validate({"question": q, "reasoning": [step], "answer": answer})["laundering"]
    assert validate({"question": q, "reasoning": [step], "answer": "7"})["laundering"]


@pytest.mark.parametrize(
    ("steps", "answer", "wrong"),
    [
        # PRM800K's "# Answer" heading is no step: the step before it concludes
        (
            [
                "The only zero of the denominator left is $x = 3$, and $2(3 - 2) = 2 \\neq 0$.",
                "So there is exactly one vertical asymptote, $x = 3$.",
                "# Answer\n\n1",
            ],
            "1",
            "4",
        ),
        (
            ["$20 = 3 \\cdot 6 + 2$, so $2^{20} \\equiv 2^2 = 4 \\pmod 7$.", "# Answer\n\n4"],
            "4",
            "5",
        ),
        (
            [
                "So $20$ pencils cost $20 \\times 0.25 = 5$ dollars.",
                "Wait, let me make sure about the unit price: $3 \\times 0.25 = 0.75$. Yes.",
                "# Answer\n\n5",
            ],
            "5",
            "6",
        ),
    ],
)
def test_an_answer_heading_restates_and_the_conclusion_before_it_counts(steps, answer, wrong):
    q = "Find it."
    assert not validate({"question": q, "reasoning": steps, "answer": answer})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": wrong})["laundering"]


def test_number_words_name_a_conclusion_only_in_latex_chains():
    q = "How many pounds did he lose in the fifth month?"
    steps = [
        "He lost 20 + 10 + 5 + 2.5 = 37.5 pounds.",
        "So he lost 12 pounds in the first four months.",
    ]
    assert validate({"question": q, "reasoning": steps, "answer": "4"})["laundering"]


def test_an_exact_answer_to_an_approximated_result():
    q = "Two fair dice are rolled. What is the expected value of the larger number?"
    steps = [
        "The numerator is $1 + 6 + 15 + 28 + 45 + 66 = 161$.",
        "So $E[M] = \\frac{161}{36} \\approx 4.47$.",
    ]
    for answer in ("\\frac{161}{36}", "4.47"):
        assert not validate({"question": q, "reasoning": steps, "answer": answer})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": "\\frac{160}{36}"})["laundering"]


def test_the_last_digits_a_question_asks_for():
    steps = [
        "The units digits of $7^1, 7^2, 7^3, 7^4$ are $7, 9, 3, 1$, and $7^4 = 2401$.",
        "Since $100 \\div 4 = 25$, $7^{100}$ has the same units digit as $7^4$.",
    ]
    q = "What is the units digit of $7^{100}$?"
    assert not validate({"question": q, "reasoning": steps, "answer": "1"})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": "7"})["laundering"]
    q = "What are the last two digits of $7^{100}$?"
    assert not validate({"question": q, "reasoning": steps, "answer": "01"})["laundering"]
    q = "What is $7^{100}$ divided by a million?"  # no digits asked for
    assert validate({"question": q, "reasoning": steps, "answer": "1"})["laundering"]


def test_a_given_number_restated_as_a_product_derives_nothing_new():
    q = "Show that $4774$ is divisible by $11$ and find the quotient."
    steps = ["$91 \\cdot 4 + 10 \\cdot 7 = 364 + 70 = 434$.", "So $4774 = 11 \\cdot 434$."]
    assert not validate({"question": q, "reasoning": steps, "answer": "434"})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": "433"})["laundering"]
    # in prose a result equal to a given number is a result like any other
    q = "Andy has 6 black socks and 4 times as many white ones. He loses half of the white ones."
    steps = [
        "Andy has 6 x 4 = 24 white socks.",
        "He loses 24/2 = 12 white socks.",
        "He still has 12 - 6 = 6 white socks more than black socks.",
    ]
    assert validate({"question": q, "reasoning": steps, "answer": "12"})["laundering"]


def test_an_option_the_question_offers_and_a_step_weighs():
    q = "Which of the following is divisible by $12$: $3472$, $5184$, $7326$?"
    steps = [
        "**5184:** last two digits $84 = 4 \\cdot 21$ ✓. So $5184$ is divisible by $12$.",
        "**7326:** last two digits $26$ are not divisible by $4$. ✗",
    ]
    assert not validate({"question": q, "reasoning": steps, "answer": "5184"})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": "5185"})["laundering"]


def test_indeed_confirms_the_result_before_it():
    q = "What is the smallest positive integer $n$ such that $n!$ ends in exactly $3$ zeros?"
    steps = [
        "For $n < 25$ this is just $\\lfloor n/5 \\rfloor$, which equals $3$ first when $n = 15$.",
        "Indeed $15! = 1307674368000$ ends in $3$ zeros.",
    ]
    assert not validate({"question": q, "reasoning": steps, "answer": "15"})["laundering"]


def test_a_decimal_answer_restated_in_percent_and_a_general_remark():
    q = "IQ scores have mean 100 and sd 10. What fraction of students score below 115?"
    steps = [
        "Standardize: $z = \\frac{115 - 100}{10} = 1.5$",
        "From the table, $P(Z < 1.5) = 0.9332$.",
        "So about **93.32%** of students score below 115.",
    ]
    assert not validate({"question": q, "reasoning": steps, "answer": "0.9332"})["laundering"]
    assert validate({"question": q, "reasoning": steps, "answer": "0.9432"})["laundering"]
    q = "A stock rises 10% on Monday and falls 10% on Tuesday. What is the net percent change?"
    steps = [
        "After Monday: $100 × 1.10 = $110",
        "After Tuesday: $110 × 0.90 = $99",
        "Net change: ($99 − $100)/$100 = −1%",
        "In general, $1.10 \\times 0.90 = 0.99$, so any starting price ends 1% lower.",
    ]
    assert not validate({"question": q, "reasoning": steps, "answer": "−1%"})["laundering"]


@pytest.mark.parametrize(
    ("question", "steps", "right", "wrong"),
    [
        (  # an answer line that computes is a step
            "How many triples of nonnegative integers with sum 10 have every entry at most 5?",
            [
                "Without the bound: $\\binom{12}{2} = 66$ solutions.",
                "If $x_1 \\ge 6$, the rest sum to $4$: $\\binom{6}{2} = 15$ ways, for each of 3.",
                "Answer: $66 - 3 \\cdot 15 = 21$.",
            ],
            "21",
            "22",
        ),
        (  # a division written with its remainder states the remainder
            "Find the remainder when $1 + 2 + \\cdots + 100$ is divided by $7$.",
            [
                "$1 + 2 + \\cdots + 100 = \\frac{100 \\cdot 101}{2} = 5050$.",
                "$7 \\cdot 721 = 5047$, so $5050 = 7 \\cdot 721 + 3$.",
            ],
            "3",
            "4",
        ),
        (  # a closing expression after its label
            "Compute (3 × 10^4)(2 × 10^5) in scientific notation.",
            ["3 × 2 = 6", "10^4 × 10^5 = 10^9", "Result: 6 × 10^9"],
            "6 × 10^9",
            "7 × 10^9",
        ),
        (  # a fraction before a full stop
            "A family has two children, at least one a boy. What is the probability both are boys?",
            ["The cases are BB, BG, GB: 3 equally likely cases.", "So the probability is 1/3."],
            "1/3",
            "1/4",
        ),
        (  # a check step names the result it checks
            "What is the smallest positive integer whose digits add up to 20?",
            [
                "A two-digit number has digit sum at most 9 + 9 = 18, so I need three digits.",
                "With a leading 2, the other two digits must sum to 18, so both are 9.",
                "That gives 299, and 2 + 9 + 9 = 20. ✓",
                "So the answer is 299.",
            ],
            "299",
            "389",
        ),
        (  # thousands grouped by dots
            "Ana gana 11,50 € por hora y trabaja 160 horas. ¿Cuánto gana?",
            ["Sueldo: 160 × 11,50 € = 1.840 €", "Ana gana 1.840 € en 4 semanas."],
            "1840",
            "1850",
        ),
        (  # a duration in two units
            "A printer prints 18 pages per minute. How long does it take to print 405 pages?",
            [
                "How many minutes? ** 405 / 18 = <<405/18=22.5>>22.5 minutes.",
                "And in seconds? ** 0.5 minutes is 0.5 * 60 = <<0.5*60=30>>30 seconds, so 22 "
                "minutes 30 seconds.",
            ],
            "22.5 minutes",
            "23.5 minutes",
        ),
        (  # an aside that computes, in parentheses
            "Paint covers 350 square feet a gallon. How many gallons cover 2,400 square feet?",
            [
                "2,400 ÷ 350 ≈ 6.86 gallons.",
                "So round up: 7 gallons (6 gallons cover only 6 × 350 = 2,100 sq ft).",
            ],
            "7",
            "8",
        ),
        (  # a number word in bold
            "How many times can you subtract 5 from 25?",
            ["Once you subtract 5 from 25, you get 25 − 5 = 20.", "So 5 from 25 only **once**."],
            "1",
            "2",
        ),
        (  # a decrease stated in words
            "A price goes up 20% and then down 20%. What is the overall percentage change?",
            ["$100 × 1.20 = $120 and $120 × 0.80 = $96.", "**The price decreased by 4%.**"],
            "-4%",
            "-5%",
        ),
        (  # the expression a closing step ends on
            "How many joules are in 2.5 kWh?",
            ["1 kWh = 3.6e6 J", "So 2.5 kWh = 9.0 × 10^6 J (9.0 MJ)."],
            "9.0 × 10^6 J",
            "8.0 × 10^6 J",
        ),
        (  # an answer in billions, the steps in euros
            "2.7 million tourists spend €1,140 each. How much do they spend in all?",
            ["Total = 2,700,000 × 1,140 = €3,078,000,000.", "In billions: €3.078 billion."],
            "€3.078 billion",
            "€3.087 billion",
        ),
        (  # an answer in billions, the steps counted in billions
            "A fund of $48.6 billion puts 22.5% in equities. How much is in equities?",
            ["Equities: 0.225 × 48.6 = $10.935 billion."],
            "$10.935 billion",
            "$10.953 billion",
        ),
        (  # a mixed number outside a computing aside
            "He built 2/5 of a fence in 3 hours. How many more hours does he need?",
            [
                "He works at 2/5 ÷ 3 = 2/15 of the fence per hour; 3/5 is left.",
                "So he needs 4 1/2 more hours (the whole fence would take 3 + 4.5 = 7.5 hours).",
            ],
            "4.5 hours",
            "5.5 hours",
        ),
        (  # a change of unit after the result
            "A smoothie uses parts in the ratio 2 : 3 : 5, one part being 120 g. How heavy is it?",
            ["Total = (2 + 3 + 5) × 120 = 10 × 120 = 1200 g = 1.2 kg."],
            "1.2 kg",
            "1.3 kg",
        ),
        (  # an option written as an expression
            "Which is larger: $1.1^{10}$ or 2?",
            [
                "By the binomial theorem, $1.1^{10} > 1 + 10(0.1) + \\binom{10}{2}(0.1)^2 = 2.45$.",
                "So $1.1^{10} > 2.45 > 2$.",
            ],
            "$1.1^{10}$",
            "$1.2^{10}$",
        ),
        (  # scientific notation written with a caret, in prose
            "Blood has a pH of about 7.4. What is its hydrogen ion concentration?",
            [
                "[H+] = 10^(-7.4) = 10^(0.6) × 10^(-8), and 10^(0.6) ≈ 3.98.",
                "The hydrogen ion concentration is about 3.98 × 10^-8 mol/L.",
            ],
            "3.98 × 10^-8 M",
            "3.98 × 10^-7 M",
        ),
        (  # the same quantity with a metric prefix
            "A 60 W bulb is on for one hour. How much energy does it use, in joules?",
            ["E = Pt = 60W × 3600s = 216000J", "So the bulb uses 216 kJ, which is 0.06 kWh."],
            "216000 J",
            "21600 J",
        ),
        (  # checks with a check mark, after a speaker's label, and an example
            "Ben earns $48 a week and saves 3/8 of it, at 4% a year for 3 years. Interest?",
            [
                "**Q:** Interest? **A:** 1500 × 4/100 × 3 = 180, so in all 1500 + 180 = 1680.",
                "You could also use I = P × r × t = 1500 × 0.04 × 3 = 180. Same answer! ✅",
                "**Tutor:** Let's check: 1680 − 1500 = 180.",
                "Example: $4774 = 11 \\times 434$.",
            ],
            "$1,680",
            "$1,690",
        ),
        (  # the numbers a closing step lists, and the value a check puts to the test
            "The sum of four consecutive even integers is 116. Find the largest of them.",
            [
                "$4x + 12 = 116$, so $x = 26$.",
                "They are $26, 28, 30, 32$, and $26 + 28 + 30 + 32 = 116$.",
            ],
            "32",
            "34",
        ),
        (
            "Find the four-digit number ABCD such that ABCD × 4 = DCBA.",
            ["Units: 4 × 8 = 32, write 2 carry 3, so C = 7.", "**Verify:** 2178 × 4 = 8712 ✓"],
            "2178",
            "2179",
        ),
        (  # a fraction whose numerator the last step computes, naming the denominator
            "Write $2\\frac{3}{5}$ as an improper fraction.",
            [
                "$2 = \\frac{10}{5}$, so $\\frac{10}{5} + \\frac{3}{5} = \\frac{13}{5}$",
                "Shortcut: $2 \\times 5 + 3 = 13$, and the denominator stays $5$.",
            ],
            "$\\frac{13}{5}$",
            "$\\frac{13}{6}$",
        ),
        (  # scientific notation rounded to the figures the answer shows
            "How many oxygen atoms are in 0.04998 mol of Al2(SO4)3?",
            ["$$0.5998 \\times 6.022 \\times 10^{23} = 3.612 \\times 10^{23}$$"],
            "3.61 \\times 10^{23} oxygen atoms",
            "3.71 \\times 10^{23} oxygen atoms",
        ),
        (  # lakhs and crores, in digits and in words
            "A broker charges 2% commission on a deal of ₹1.5 crore. What is the commission?",
            [
                "₹1.5 crore = ₹1,50,00,000",
                "2% of ₹1,50,00,000 = 0.02 × 1,50,00,000 = ₹3,00,000",
                "Commission = **₹3 lakh**.",
            ],
            "₹3,00,000",
            "₹3,00,500",
        ),
        (  # LaTeX scientific notation to three significant figures
            "2.00 mol of gas fill 0.0500 m³ at 300 K. What is its pressure? (R = 8.314)",
            [
                "$$P = \\frac{(2.00)(8.314)(300)}{0.0500} = \\frac{4988.4}{0.0500} = 99768$$",
                "To three significant figures, $P \\approx 9.98 \\times 10^4$ Pa.",
            ],
            "9.98 × 10^4 Pa",
            "9.97 × 10^4 Pa",
        ),
        (  # an exact result, then its rounding
            "How many different faces do 6 rolls of a die show on average?",
            [
                "$$E[D] = 6 \\cdot \\frac{31031}{46656} = \\frac{31031}{7776} \\approx 3.991.$$",
                "So on average you see just under 4 different faces.",
            ],
            "$\\frac{31031}{7776}$",
            "$\\frac{31031}{7775}$",
        ),
    ],
)
def test_conclusions_in_answer_lines_remainders_checks_and_options(question, steps, right, wrong):
    def laundering(answer: str) -> bool:
        return validate({"question": question, "reasoning": steps, "answer": answer})["laundering"]

    assert not laundering(right)
    assert laundering(wrong)


@pytest.mark.parametrize(
    ("question", "steps", "answer", "linked"),
    [
        (  # the closing step names the answer with the question's verb, then a side result
            "Ben earns $48 a week. He saves 3/8 of it. How much does he save each week?",
            ["$48 ÷ 8 = $6.", "3 × $6 = $18.", "So Ben saves $18 and spends $48 − $18 = $30."],
            "$18",
            True,
        ),
        (  # another subject's value is no answer to "how many did Marcel buy?"
            "Dale buys 8 potatoes and Marcel some; they buy 12 potatoes in all. "
            "How many potatoes did Marcel buy?",
            ["The potatoes are 12 in all.", "Dale bought 8 potatoes, so Marcel bought 12 - 8 = 4."],
            "8",
            False,
        ),
        (  # a value named before its reason is still the reason's result
            "Albert buys 2 large pizzas of 16 slices and 2 small ones of 8. "
            "How many pieces does he eat?",
            ["He eats 32 + 16 = 48 pieces.", "He eats 50 pieces because 48 + 2 = 50"],
            "48",
            False,
        ),
        (  # an earlier step names the answer so, and no later step takes it up
            "Dana has 3,450 points; 1,000 points take $10 off. Her purchase is $62.80. "
            "If she redeems 3,000 points, how much does she pay?",
            ["She pays $62.80 − $30 = $32.80.", "She has 3,450 − 3,000 = 450 points left."],
            "$32.80",
            True,
        ),
        (  # ... but a later step that takes it up goes on from it
            "A plan costs $10 a month per person for 3 people. How much does she pay?",
            ["She pays 3 × $10 = $30 per month.", "Over a year she pays 12 × $30 = $360."],
            "$30",
            False,
        ),
    ],
)
def test_a_step_answers_with_the_questions_verb(question, steps, answer, linked):
    assert laundering(question, steps, answer) is not linked


def test_a_part_read_off_in_a_question_of_several_parts():
    question = (
        "A teacher has 48 pencils and 36 erasers. What is the greatest number of identical "
        "kits she can make, and what goes in each?"
    )
    steps = [
        "Factors of 48: 1, 2, 3, 4, 6, 8, 12, 16, 24, 48.\nFactors of 36: 1, 2, 3, 4, 6, 9, 12.",
        "**Q:** Largest factor in both lists?\n**A:** 12.",
        "48 ÷ 12 = 4 pencils and 36 ÷ 12 = 3 erasers.",
    ]

    assert not laundering(question, steps, "12 kits")
    assert laundering(question, steps, "16 kits")  # a number in a list, not one stated alone
    one_part = question.split(", and")[0] + "?"
    assert laundering(one_part, steps, "12 kits")  # one part: the steps go on from it


@pytest.mark.parametrize(
    ("question", "last", "answer", "linked"),
    [
        (  # a closing remark divides the answer by a given number
            "A toy costs $12 to make and is marked up twice. What is the retail price?",
            "Overall the price is 27 / 12 = 2.25 times the production cost.",
            "$27",
            True,
        ),
        (  # the question asks for the ratio: the answer must be it
            "A toy costs $12 to make and is marked up twice. How many times the cost is the "
            "retail price?",
            "Overall the price is 27 / 12 = 2.25 times the production cost.",
            "$27",
            False,
        ),
        (  # a step that goes on is no remark
            "A toy costs $12 to make and is marked up twice. What is the retail price?",
            "Then divide by the cost to find the markup: 27 / 12 = 2.25 times.",
            "$27",
            False,
        ),
    ],
)
def test_a_closing_remark_that_sets_the_answer_against_a_number(question, last, answer, linked):
    steps = ["12 × 1.25 = $15.00", "15 × 1.80 = $27.00", last]
    assert laundering(question, steps, answer) is not linked


@pytest.mark.parametrize(
    ("steps", "answer", "linked"),
    [
        (["Each bag gets 18/6 = 3 cookies.", "Each bag also gets 24/6 = 4 brownies."], "3", True),
        (["Each bag gets 18/6 = 3 cookies.", "Each bag also gets 24/6 = 4 brownies."], "4", True),
        (["Each bag gets 18/6 = 3 cookies.", "Each bag also gets 24/6 = 4 brownies."], "5", False),
        # steps that go on counting the asked thing went on from it
        (["Each bag gets 18/6 = 3 cookies.", "With 2 more: 3 + 2 = 5 cookies."], "3", False),
    ],
)
def test_steps_that_end_on_another_counted_thing(steps, answer, linked):
    question = (
        "Tom baked 18 cookies and 24 brownies for 6 identical bags. "
        "How many cookies will be in each bag?"
    )
    assert laundering(question, steps, answer) is not linked


def test_the_trial_a_latex_check_confirms():
    question = "There are 15 bicycles and tricycles with 38 wheels. How many tricycles are there?"
    steps = [
        "Try 7 tricycles and 8 bicycles: $7 \\times 3 + 8 \\times 2 = 21 + 16 = 37$ wheels.",
        "So try 8 tricycles and 7 bicycles: $8 \\times 3 + 7 \\times 2 = 24 + 14 = 38$ wheels. ✓",
    ]
    assert not laundering(question, steps, "$\\boxed{8}$")
    assert laundering(question, steps, "$\\boxed{9}$")


@pytest.mark.parametrize(
    ("question", "steps", "right", "wrong"),
    [
        (  # a part set in bold, in a question of several parts
            "A team's winning percentage rose from .450 to .525. By how many points did it "
            "improve, and what is that as a percent increase?",
            [
                "Difference: .525 − .450 = .075",
                "Thousandths are called points, so .075 is **75 points**.",
                "Relative increase: .075 / .450 = 0.1666… ≈ 16.7%",
            ],
            "75 points (≈16.7%)",
            "85 points (≈16.7%)",
        ),
        (  # a sign before the currency of a conclusion
            "A warranty costs $120; expected repairs cost $85. What is its expected net value?",
            [
                "The warranty costs $120 − $85 = $35 more than the expected repair cost.",
                "So buying it has an expected net value of **−$35**.",
            ],
            "-$35",
            "-$45",
        ),
        (  # a closing step that opens on the rejected version
            "Expand $(2 + 3)^2$.",
            [
                "$(2 + 3)^2 = 5^2 = 25$.",
                "The wrong version would give $4 + 9 = 13$, which is not 25.",
            ],
            "25",
            "20",
        ),
        (  # a letter's value after the approximation it uses
            "A square has side 10 cm. How long is its diagonal, to two decimals?",
            ["$d = 10\\sqrt{2}$.", "With $\\sqrt{2} \\approx 1.414$, $d \\approx 14.14$ cm."],
            "14.14",
            "14.41",
        ),
        (  # a step names the whole number just above its result
            "A gardener has 9,412 plants; each bed holds 120. How many beds?",
            ["Beds: 9,412 ÷ 120 ≈ 78.4, so 79 beds."],
            "79 beds",
            "80 beds",
        ),
        (  # what the question says she must do rounds up
            "A gardener has 9,412 plants; each bed holds 120. How many beds must she plant?",
            ["Beds: 9,412 ÷ 120 ≈ 78.4."],
            "79",
            "80",
        ),
        (  # a result written after `=` where units kept the arithmetic from it, then rounded
            "How much work does gravity do on 12 kg dropping 0.8 m? (g = 9.8 m/s²)",
            ["mg = 12 kg × 9.8 m/s² = 117.6 N", "W = 117.6 N × 0.8 m = 94.08 J", "≈ 94.1 J"],
            "94.08 J",
            "95.08 J",
        ),
        (  # ... and rounded with another metric prefix
            "A 150 hp engine: what is its power in watts? (1 hp = 746 W)",
            ["P = 150 hp × 746 W/hp = 111,900 W", "That is ≈ 112 kW."],
            "111,900 W",
            "112,900 W",
        ),
        (  # the chain goes on from a result in a computation its arithmetic did not read
            "A 65 kg student climbs 12 m in 20 s. What average power? (g = 9.8 m/s²)",
            ["W = mgh = 65 × 9.8 × 12 = 7644 J", "P = W/t = 7644 J / 20 s = 382.2 W"],
            "382.2 W",
            "392.2 W",
        ),
        (  # the answer names its own unit
            "A toaster uses 0.1 kWh at $0.15 per kWh. What does one use cost?",
            ["0.1 kWh × $0.15 = $0.015, i.e. 1.5 cents."],
            "1.5 cents",
            "2.5 cents",
        ),
        (  # a closing average the question does not ask for
            "Her weekly intake is 14,500 kcal against 15,400 kcal. What is the weekly deficit?",
            [
                "Deficit: 15,400 − 14,500 = 900 kcal for the week.",
                "Average per day: 900 ÷ 7 ≈ 128.6 kcal.",
            ],
            "900 kcal",
            "950 kcal",
        ),
        (  # a closing alternative the chain does not take
            "A bed takes 7 rows of 21 cloves. How many cloves do I need?",
            [
                "Total: 7 × 21 = 147 cloves.",
                "If you keep a margin instead, you'd have 6 × 20 = 120 cloves.",
            ],
            "147 cloves",
            "140 cloves",
        ),
        (  # the answer's fractional part in seconds
            "A runner covers 3 km in 14.4 minutes. Find the pace in minutes per km.",
            ["Pace: 14.4 / 3 = 4.8 min per km.", "0.8 × 60 = 48 s, so 4:48 per km."],
            "4.8",
            "4.9",
        ),
        (  # the equality case of a bound, after it
            "Find the minimum of x + 9/x for x > 0.",
            ["By AM-GM, x + 9/x ≥ 2√9 = 6.", "Equality holds when x = 3."],
            "6",
            "7",
        ),
        (  # a time of day read off a sum of hours
            "It is 9 o'clock. What time will it be 4 hours later?",
            ["9 + 4 = 13, which is 1 o'clock."],
            "1",
            "2",
        ),
    ],
)
def test_conclusions_of_rounds_seventeen_to_twenty_four(question, steps, right, wrong):
    assert not laundering(question, steps, right)
    assert laundering(question, steps, wrong)


def test_a_closing_remark_in_other_units_does_not_go_on_from_the_answer():
    q = "A radar echo travels 8.28 × 10^7 km at 3.00 × 10^5 km/s. How long until it returns?"
    steps = ["Time = 828 / 3 = 276 s", "That is 276 / 60 = 4.6 minutes."]
    assert not laundering(q, steps, "276 s")
    assert laundering(q, steps, "286 s")
    # steps that go on multiplying it by a unit factor go on from it
    q = "Tom earns $10 an hour for 5 hours a week. How much does he earn in a year?"
    assert laundering(q, ["5 × 10 = 50 dollars a week.", "50 × 52 = 2600 dollars a year."], "50")


def test_a_closing_average_the_question_asks_for_goes_on_from_the_total():
    steps = ["Deficit: 15,400 − 14,500 = 900 kcal.", "Average per day: 900 ÷ 7 ≈ 128.6 kcal."]
    assert laundering("What is the average daily deficit?", steps, "900 kcal")


@pytest.mark.parametrize(
    ("answer", "steps", "linked"),
    [
        ("29.28 m/s", ["v = 87.84 / 3 = 29.28"], True),
        ("≈ 35 m", ["h = 20 × 1.732 ≈ 34.64", "So the height is ≈ 34.64 m."], True),
        ("≈ 3.36 MB", ["128 kbps × 210 s = 26,880 kb", "26,880 ÷ 8 = 3360 KB"], None),
    ],
)
def test_an_answer_with_a_compound_unit_or_about_is_linked_or_left_unjudged(answer, steps, linked):
    r = validate({"question": "What is it?", "reasoning": steps, "answer": answer})
    assert not r["laundering"]
    codes = [f["code"] for f in r["findings"]]
    assert ("linkage.not_compared" not in codes) is bool(linked)


@pytest.mark.parametrize(
    "question, steps, answer, wrong",
    [
        (
            "A team needs 36 off the last 24 balls. What is the required run rate?",
            ["Required rate = 36 ÷ 4 = 9 runs per over.", "That is 36 ÷ 24 = 1.5 runs a ball."],
            "9",
            "8",
        ),
        (
            "Find the standard error for σ = 12, n = 36.",
            ["SE = 12/6 = 2", "df = 36 − 1 = 35"],
            "2",
            "3",
        ),
        (
            "A shop sells 150 of its 200 units at an average cost of $53. Find the COGS.",
            ["COGS = 150 × $53 = $7,950", "Ending inventory = 50 × $53 = $2,650"],
            "$7,950",
            "$7,590",
        ),
        (
            "A 10-second clip is shot at 240 fps and played at 30 fps. How long does it play?",
            [
                "Frames: 240 × 10 = 2400.",
                "2400 / 60 = 40 seconds.",
                "That's 240 / 30 = 8 times slower.",
            ],
            "40 seconds",
            "45 seconds",
        ),
    ],
)
def test_steps_after_the_answer_that_compute_with_other_numbers_do_not_go_on_from_it(
    question, steps, answer, wrong
):
    assert not laundering(question, steps, answer)
    assert laundering(question, steps, wrong)  # an answer no step computes still is


def test_a_step_after_the_answer_that_takes_it_up_goes_on_from_it():
    q = "A team needs 36 off the last 4 overs. What is the required run rate?"
    steps = ["Required rate = 36 ÷ 4 = 9 runs per over.", "Per ball: 9 ÷ 6 = 1.5 runs."]
    assert laundering(q, steps, "9")
    # and so does one whose computation is not read, when it names the answer
    steps = ["Required rate = 36 ÷ 4 = 9 runs per over.", "Over 6 balls: 9 ÷ 6 = 1.5 ≥ 1.4 ≥ 1."]
    assert laundering(q, steps, "9")


def test_an_answer_written_as_a_size_is_linked_as_a_pair_or_a_product():
    q = "How large can a 3000 × 1800 pixel image be printed at 300 DPI?"
    steps = ["Width = 3000 / 300 = 10 inches.", "Height = 1800 / 300 = 6 inches."]
    assert not laundering(q, steps, "10 × 6 inches")  # both sides computed: a pair
    assert laundering(q, steps, "10 × 7 inches")  # neither a pair nor a product they give
    area = ["Width: 3000 / 300 = 10 in.", "Height: 1800 / 300 = 6 in.", "Area: 10 × 6 = 60 sq in."]
    assert not laundering(q, area, "60")
    assert not laundering(q, ["Print area in square inches: 12 × 5 = 60."], "10 × 6")  # a product


@pytest.mark.parametrize(
    "question, steps, answer, wrong",
    [
        (  # the answer in bytes, then in KiB or MiB: the same value written another way
            "Depth 10,000 with 64-byte frames: how much stack?",
            ["10,000 × 64 = 640,000 bytes.", "That is 640,000 / 1024 = 625 KiB."],
            "640,000 bytes",
            "64,000 bytes",
        ),
        (
            "How much memory does a 1920 × 1080 RGB image need?",
            [
                "Bytes: 1920 × 1080 × 3 = 6,220,800.",
                "In MiB: 6,220,800 / 1,048,576 ≈ 5.93 MiB.",
                "So about 6.2 MB (≈ 5.93 MiB).",
            ],
            "6,220,800 bytes",
            "6,220,000 bytes",
        ),
        (  # the step names what the question asks; the next one something it does not
            "What does a £5 bet at 23/1 return?",
            ["Return = £5 × 24 = £120.", "Profit = £120 − £5 = £115."],
            "£120",
            "£125",
        ),
    ],
)
def test_an_answer_restated_in_another_unit_or_named_as_asked(question, steps, answer, wrong):
    assert not laundering(question, steps, answer)
    assert laundering(question, steps, wrong)


def test_steps_that_go_on_to_what_the_question_asks_still_go_on_from_the_answer():
    # "$50 a week" then "× 12 = $600 a year": the same unit, a new quantity
    q = "Tom saves $50 a week for a year of 12 four-week months. How much does he save a year?"
    assert laundering(
        q, ["5 × 10 = 50 dollars a week.", "50 × 4 × 12 = 2400 dollars a year."], "50"
    )
    # the later step names what the asking sentence asks ("now"), so the answer is not it
    q = "In 3 years Jayden will be half of Ernesto's age. Ernesto is 11. How old is Jayden now?"
    steps = ["Ernesto = 11 + 3 = 14", "Jayden = 14/2 = 7 in 3 years", "Now = 7 - 3 = 4"]
    assert laundering(q, steps, "7")
    assert not laundering(q, steps, "4")
