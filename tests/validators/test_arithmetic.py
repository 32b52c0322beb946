"""The arithmetic validator on hand-written and real GSM8K computations."""

from __future__ import annotations

import pytest

from validators import validate
from validators.arithmetic.extract import quantities


def report(reasoning: str, **extra) -> dict:
    # The question states every number the step uses, so only arithmetic decides the status.
    return validate({"question": reasoning, "reasoning": reasoning, **extra})


@pytest.mark.parametrize(
    "text",
    [
        "Natalia sold 48/2 = 24 clips in May.",
        "3 × $1.50 = $4.50",
        "5 x 2 = 10",
        "1,200 - 300 = 900",
        "20% of 50 is 10",
        "half of 48 is 24",
        "16 - 3 - 4 = 9",
        "He earned 0.2 x 50 = $10.",
        "5 hours * $10 per hour = $50",
        "8 x 1 1/2 = 12 dinner rolls",
        "2 plus 2 plus 1/2 plus 1/2 equals 5",
        "100 / 3 = 33.33 per person",
        "It is about 100 / 3 = 33 each",
        "So 100 - 15 = 85% of them stay.",
        "48/2 = 24 + 48 = 72 clips in all",
        "The value is 3.2e5 / 2 = 1.6e5.",
        "So 1e5 / 3 = 3.33e4 per share",
        "17 / 5 = 3 R 2, so 2 are left over.",
    ],
)
def test_true_computations_verify(text):
    r = report(text)
    assert r["steps"][0]["status"] == "verified", r["steps"][0]
    assert r["verdict"] == "faithful"


@pytest.mark.parametrize(
    ("text", "computed"),
    [
        ("48 + 24 = 70", "72"),
        ("3 × $1.50 = $4.00", "4.5"),
        ("5 x 2 = 12", "10"),
        ("1,200 - 300 = 800", "900"),
        ("20% of 50 is 12", "10"),
        ("half of 48 is 25", "24"),
        ("16 - 3 - 4 = 10", "9"),
        ("100 / 3 = 33.5", "33.3333"),
        ("The value is 3.2e5 / 2 = 1.7e5.", "160000"),
        ("So 1e5 / 3 = 3.5e4 per share", "33333.3"),
        ("17 / 5 = 4 R 2, so 2 are left over.", "3.4"),
    ],
)
def test_wrong_computations_are_errors_with_evidence(text, computed):
    r = report(text)
    step = r["steps"][0]
    assert step["status"] == "error"
    finding = step["findings"][0]
    assert finding["code"] == "arithmetic.wrong_result"
    assert finding["evidence"]["computed"] == computed
    assert r["verdict"] == "unfaithful"
    assert r["first_error_step"] == 0


def test_declared_rounding_is_tolerated_only_within_its_precision():
    assert report("That is about 100 / 3 = 33 apiece")["verdict"] == "faithful"
    assert report("100 / 3 ≈ 33.3")["verdict"] == "faithful"
    assert report("100 / 3 ≈ 33.5")["verdict"] == "unfaithful"
    assert report("It is about 100 / 3 = 40 each")["verdict"] == "unfaithful"
    # Without a declared rounding, a terminating decimal must be stated exactly.
    assert report("7 / 2 = 4")["verdict"] == "unfaithful"


def test_units_between_numbers_and_operators_are_skipped():
    q = quantities("She bought 12 apples * 3 = 36 apples")
    assert [(c.expression, c.claimed_text) for c in q.claims] == [("12 * 3", "36")]


def test_equations_in_unknowns_are_left_to_algebra():
    assert quantities("2x + 3 = 11").claims == []
    assert quantities("Let B be the count. Then 79 - B - 26 = 8.").claims == []


def test_times_and_leading_zero_numbers_are_not_arithmetic():
    assert quantities("He left at 0900-0130 = 0730 hours").claims == []
    assert quantities("arrived at 6:00+18 hours = 00:00").claims == []


def test_unit_conversion_statement_is_not_a_claim():
    q = quantities("2 hours = 2*60 = 120 minutes")
    assert [(c.expression, c.claimed_text) for c in q.claims] == [("2 * 60", "120")]


def test_error_in_later_step_gives_its_index():
    r = report("Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 70 clips.\n#### 70")
    assert r["first_error_step"] == 1
    assert [s["status"] for s in r["steps"]] == ["verified", "error"]
    assert r["steps"][1]["findings"][0]["message"] == "48 + 24 = 72, not 70"


@pytest.mark.parametrize(
    "text",
    [
        # a repeating decimal cut, in percent: 1/6 is 16.66...% (truncated, not rounded)
        "The share is 5 cars / 30 cars * 100% = 16.66...%, about 17%.",
        # spaces as thousands separators on the right of `=` as well as on the left
        "Each year adds 18 000/4 = 4 500 people.",
        "The load is 50 bags x 50 kg/bag = 2 500 kg.",
        # a rate's unit written with a slash: "4 degrees/10% rise" is the divisor's unit
        "Then 20 degrees / 4 degrees/10% rise = 5 such rises",
        # a whole part with its fraction written after it
        "He can buy 100 / 7= 14 and (2/7) books, so 14.",
        # the operands counted in thousands, the result written out
        "It loses 4 thousand dollars a day, so in two days 4 * 2 = $8,000.",
    ],
)
def test_prose_notations_that_state_true_results_verify(text):
    r = report(text)
    assert r["verdict"] != "unfaithful", r["steps"][0]
    assert all(s["status"] != "error" for s in r["steps"])


@pytest.mark.parametrize(
    "text",
    [
        "The share is 5 cars / 30 cars * 100% = 15.55...%.",
        "Each year adds 18 000/4 = 4 400 people.",
        "The load is 50 bags x 50 kg/bag = 2 600 kg.",
        "Then 20 degrees / 4 degrees/10% rise = 6 such rises",
        "He can buy 100 / 7= 15 and (2/7) books.",
        "It loses 4 thousand dollars a day, so in two days 4 * 2 = $9,000.",
    ],
)
def test_the_same_notations_with_a_wrong_result_are_errors(text):
    assert report(text)["steps"][0]["status"] == "error"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # "14, 400" may be 14,400 or a list: where the dividend begins is not certain
        ("They read 180 pages a day because 14, 400 / 80 = 180", "unclear"),
        ("It is 13,2000 / 60 = 220 minutes", "unclear"),
        # a stray point before a decimal's digits: ". 84" is .84 or 84
        ("The shares total 2.46 because .8 + . 84 + .82 = 2.46", "unclear"),
    ],
)
def test_a_run_that_starts_inside_a_garbled_numeral_is_unchecked(text, reason):
    step = report(text)["steps"][0]
    assert step["status"] != "error", step
    assert any(reason in f["message"] for f in step["findings"])


def test_a_number_after_a_list_comma_is_still_read():
    # "Out of the 36, 36 x 3/4": a list, not a garbled numeral, so a wrong result is found
    assert report("Out of the 36, 36 x 3/4 = 25 are in class.")["steps"][0]["status"] == "error"
    assert report("She had 12 and wrapped 8, 12 - 8 = 5 left.")["steps"][0]["status"] == "error"


def test_a_count_before_a_compound_unit_is_not_a_thousands_group():
    r = report("The drive holds 2400 / 200 = 12 200-kilobyte videos.")
    assert r["steps"][0]["status"] == "verified"
    # without the hyphen both readings stand: 12 things of 200 units, or 12,200
    assert report("The drive holds 2400 / 200 = 12 200 kB videos.")["verdict"] != "unfaithful"
    assert report("The drive holds 2400 / 200 = 13 200 kB videos.")["verdict"] == "unfaithful"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        # a phrase that describes the last quantity, between it and `=`
        ("Sam has 4 * 9 books belonging to Ann = 36 books.", True),
        ("Sam has 4 * 9 books belonging to Ann = 38 books.", False),
        ("They buy 12 + 4 extra cups for the party = 16 cups.", True),
        ("They buy 12 + 4 extra cups for the party = 18 cups.", False),
        ("She traded 2 + 15 of her cards = 17 cards.", True),
        ("She traded 2 + 15 of her cards = 20 cards.", False),
        # "times" before `=` is the count's unit
        ("The dog barks 4 * 12 times = 48 times", True),
        ("The dog barks 4 * 12 times = 47 times", False),
        # a unit abbreviated with a full stop does not end the computation
        ("The wall is 4 * 160 sq. ft. = 640 sq. ft. in all", True),
        ("The wall is 4 * 160 sq. ft. = 641 sq. ft. in all", False),
        # "the second round" declares no rounding
        ("The second round will cut 900 * 10% = 90 jobs.", True),
        ("The second round will cut 900 * 10% = 100 jobs.", False),
    ],
)
def test_prose_between_a_computation_and_its_result(text, ok):
    assert (report(text)["steps"][0]["status"] == "verified") is ok


def test_a_new_clause_before_equals_is_not_read_as_a_unit():
    # "1/3 of Ann" multiplies by a quantity the text does not state: no claim
    assert report("Then 1/3 of Ann's cards = 12 cards.")["verdict"] != "unfaithful"
    assert report("He has 5 + 3 apples and she has 2 = 2 pears.")["verdict"] != "unfaithful"


def test_a_compound_after_an_earlier_thousands_group_is_still_a_compound():
    # The compound test reads the step's own text, also after "18 000" was merged earlier on.
    from validators.arithmetic.tokens import tokens

    nums = [t.text for t in tokens("It holds 18 000 / 1500 = 12 200-kilobyte videos.")]
    assert "18 000" in nums and "12" in nums and "12 200" not in nums


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        # a root sign is a prefix operator, exact where the root is ("√9 × 10" is not 9 × 10)
        ("√9 × 10 = 3 × 10 = 30", "√9 × 10 = 3 × 10 = 40"),
        ("The side is √(16 + 9) = 5 cm.", "The side is √(16 + 9) = 6 cm."),
        ("∛27 × 2 = 6", "∛27 × 2 = 9"),
        # superscript digits are powers after a number, part of the unit after a word
        ("50 × 10 = 5 × 10² = 500", "50 × 10 = 5 × 10² = 5000"),
        ("3² + 4² = 9 + 16 = 25", "3² + 4² = 9 + 16 = 24"),
        ("Area = 12 × 12 = 144 m², so 144 m² / 16 m² = 9 tiles.", "So 144 m² / 16 m² = 8 tiles."),
        # an approximation between two expressions, to the rounding of its decimals
        ("100 × 1/3 ≈ 100 × 0.333 = 33.3", "100 × 1/3 ≈ 100 × 0.35 = 35"),
        ("2/3 × 90 ≈ 0.67 × 90 ≈ 60", "2/3 × 90 ≈ 0.5 × 90 ≈ 45"),
        ("A = 5000 × 1.005^12 ≈ 5000 × 1.061678", "A = 5000 × 1.005^12 ≈ 5000 × 1.08"),
    ],
)
def test_roots_powers_and_rounded_factors_as_models_write_them(text, wrong):
    r = report(text)
    assert all(s["status"] != "error" for s in r["steps"]), r["steps"]
    assert r["verdict"] == "faithful", r["steps"]
    assert report(wrong)["steps"][0]["status"] == "error"


@pytest.mark.parametrize(
    "text",
    [
        "√2 × 10 ≈ 14.14",  # an irrational root: not evaluated, never "2 × 10 = 20"
        "2√9 = 6",  # a root after a number multiplies it
        "f(2+1) = 9",  # a function's argument is not its value
        "Area = π(4)² = 3.14159 x 16 ≈ 50.27",  # π before the power
        "V = (4/3)π(3)³ = (4/3)π(27) = 36π",  # π after the fraction
        "The outer size is (24 + 6) by (15 + 6) = 30 by 21.",  # one size of a pair
        # a change of unit the text does not spell out
        "Three pieces are 3 × 8 in = 2 ft long in total.",
        "2 ft = 24 in, so 3 ropes are 3 × 2 ft = 72 in.",
        "Each tile is 6 in × 6 in = 0.25 sq ft.",
        "12 stickers cost 12 × 50 cents = $6.",
    ],
)
def test_math_the_prose_reading_cannot_see_whole_is_never_an_error(text):
    assert all(s["status"] != "error" for s in report(text)["steps"])


def test_inches_beside_feet_stay_checked():
    assert report("Vlad is 6 ft * 12 in/ft + 3 = 75 inches tall.")["verdict"] == "faithful"
    assert report("Vlad is 6 ft * 12 in/ft + 3 = 76 inches tall.")["verdict"] == "unfaithful"
    # a rate in dollars is no change from cents to dollars
    assert report("He saves 1/2 * $6/day = $8/day.")["verdict"] == "unfaithful"


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        # `.` groups thousands and `,` is the decimal point (German, Spanish, French, ...)
        ("1.250 + 750 = 2.000", "1.250 + 750 = 2.100"),
        ("300 × 400 = 120.000", "300 × 400 = 125.000"),
        ("5 / 2 = 2,5", "5 / 2 = 2,7"),
        ("7 / 2 = 3,5 kg", "7 / 2 = 3,6 kg"),
        ("0,065 × 340 = 22,1 Liter", "0,065 × 340 = 23,1 Liter"),
        ("2,125 × 8 = 17", "2,125 × 8 = 18"),
    ],
)
def test_a_european_number_reading_is_tried_before_a_refutation(text, wrong):
    assert report(text)["verdict"] == "faithful"
    assert report(wrong)["steps"][0]["status"] == "error"


@pytest.mark.parametrize(
    "text",
    [
        "1 250 − 480 = 770",  # a space may group thousands: where the number begins is unclear
        "2 400 € + 120 € = 2 520 €",
        "4 h − 25 min = 3 h 35 min",  # a result in two units
        "1 h 30 min + 45 min = 2 h 15 min",
        "15h30 + 45 min = 16h15",  # a time
    ],
)
def test_grouped_numbers_and_compound_quantities_are_never_an_error(text):
    assert all(s["status"] != "error" for s in report(text)["steps"])


def test_a_word_after_a_result_is_no_second_unit():
    text = "Yola weighed 250-80=171 pounds 2 years ago."
    assert report(text)["steps"][0]["status"] == "error"


def test_a_run_that_starts_at_a_label_number_is_unchecked():
    text = "10 pages per day on day 1 * 2 = 20 pages per day for days 2 through 7"
    step = report(text)["steps"][0]
    assert step["status"] != "error" and "label" in step["findings"][0]["message"]
    # a count after "every day" or "in 7 weeks" is no label
    assert report("Every day 20+8+5 = 34 birds are lost")["steps"][0]["status"] == "error"
    assert report("In 7 weeks 5*7 = 36 goldfish die.")["steps"][0]["status"] == "error"


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        # vulgar fractions, alone or as a mixed number's part
        ("5/4 = 1¼", True),
        ("3 × ¾ = 9/4 = 2 ¼", True),
        ("½ × 12 = 6", True),
        ("5/4 = 1¾", False),
        # a superscript exponent with a sign: 10⁸⁻⁵ is 10^(8 - 5), 10⁻³ is 10^-3
        ("(1.5 × 10⁸) ÷ (3 × 10⁵) = (1.5 ÷ 3) × 10⁸⁻⁵ = 0.5 × 10³", True),
        ("10⁻³ × 2000 = 2", True),
        ("(1.5 × 10⁸) ÷ (3 × 10⁵) = 0.5 × 10⁴", False),
        # a regrouped mixed number, stated after "=", may have an improper part
        ("5 4/12 = 4 + 12/12 + 4/12 = 4 16/12", True),
        ("5 4/12 = 4 + 12/12 + 4/12 = 4 15/12", False),
        # two statements that a word operator joins
        ("21 × 3 = 63 plus 21 × 0.5 = 10.5, so 63 + 10.5 = 73.5", True),
        ("21 × 3 = 63 plus 21 × 0.5 = 11", False),
        ("5 + 3 = 8 plus 4 = 12", True),  # a running sum in words
    ],
)
def test_fractions_powers_and_joined_statements_as_tutors_write_them(text, holds):
    statuses = {s["status"] for s in report(text)["steps"]}
    assert ("error" not in statuses) == holds and statuses != {"unchecked"}


@pytest.mark.parametrize(
    "text",
    [
        "1/3 = 4/12 and 3/4 = 9/12, so the problem becomes 5 4/12 − 2 9/12.",  # no "12 and 3/4"
        "2 × 9 = 18 and 6 ÷ 3 = 2 → 18 + 2",  # no "18 and 6/3"
        "Subtracting the lunch: 8 h 45 min − 45 min = 8 h.",  # a quantity in two units
        "Ratio: 6 : 4 = 3 : 2",
        "The ratio 6 to 4 = 3 to 2 in lowest terms.",
    ],
)
def test_separate_numbers_ratios_and_compound_starts_are_never_an_error(text):
    assert all(s["status"] != "error" for s in report(text)["steps"])


@pytest.mark.parametrize(
    "text",
    [
        "So 3/4 cup = 12 tablespoons.",  # a change of unit the text does not spell out
        "So 2/3 cup = 10 tablespoons + 2 teaspoons.",
        "So 1/2 lb = 8 oz.",
        "Speed in still water = 1/2 (16 + 10) = 13 km/hr",  # a factor cut off by a space
        "unit digit of 7 ^ 1 = 7 , 7 ^ 2 = 9 , 7 ^ 3 = 3 , 7 ^ 4 = 1",  # last digits
    ],
)
def test_conversions_cut_factors_and_last_digits_are_never_an_error(text):
    assert all(s["status"] != "error" for s in report(text)["steps"])


def test_a_percentage_of_a_bracket():
    assert report("Rate = (100 × 100)/(100 × 8) % = 12 1/2 %")["steps"][0]["status"] == "verified"
    assert report("Rate = (100 × 100)/(100 × 8) % = 13 1/2 %")["steps"][0]["status"] == "error"
    # "a remainder of 340 - 172" is no function's argument
    assert (
        report("He was left with a remainder of 340 - 172 = 158.")["steps"][0]["status"] == "error"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Cross-multiply: 3 × 2 = 3x → 6 = 3x → x = 2",  # the coefficient of an unknown
        "$150 \\div 12 = 12$ with a remainder of 6. So there are 12 full dozens.",
        "47 ÷ 6 = 7 con resto 5, así que llena 7 bolsas.",
        "So 19.8 × 31.2 ≈ 20 × 30 = 600.",  # an estimate, rounded how far it does not say
        "2³⁰ = (2¹⁰)³ ≈ (10³)³ = 10⁹.",
        "15% = 10% + 5% = 6.8 + 3.4 = 10.2.",  # percentages of an amount not written
        "$\\log_{10} 2 < 0.3 \\iff 2 < 10^{0.3} \\iff 2^{10} < 10^{3}$.",  # an equivalence
        "At $x = -4$: $1 - 3(-4) = 13$, which fails $13 < 13$, so $-4$ is excluded.",
        "f''(-2) = 48 - 16 = 32 > 0, a local min",  # a function's argument, not "-2 = 48 - 16"
        "3 5/5 − 2 3/5 = (3 − 2) + (5/5 − 3/5) = 1 + 2/5 = 1 2/5",  # a regrouped mixed number
        "On the x-axis, y = 0, so 6k − 3 = 0 and k = 1/2.",  # an unknown before a Unicode minus
        "So E ≈ 3.98 × 10⁻¹⁹ J ≈ 2.48 eV.",  # one quantity in two units
        "Time A needs: 2/3 hour = 2/3 × 60 = 40 minutes.",  # a change of unit, spelled out
        "P(all distinct) = (365/365)(364/365)...(343/365) ≈ 0.4927",  # a product with dots
        "Start with `ways[0] = 1` and `ways[1] = 1`; the count is $\\boxed{89}$.",  # code
    ],
)
def test_coefficients_remainders_estimates_and_equivalences_are_never_an_error(text):
    assert all(s["status"] != "error" for s in report(text)["steps"])


@pytest.mark.parametrize(
    ("right", "wrong"),
    [
        ("Moyenne : 66 / 5 = 13,2.", "Moyenne : 66 / 5 = 13,3."),  # a decimal comma, then a stop
        ("Neuer Preis: 1'280 − 192 = 1'088", "Neuer Preis: 1'280 − 192 = 1'098"),  # Swiss
        ("| 20 oz | $4.99 ÷ 20 = 24.95¢ |", "| 20 oz | $4.99 ÷ 20 = 25.95¢ |"),  # into cents
        ("So 3 1/2 ÷ 1 3/4 = 2.", "So 3 1/2 ÷ 1 3/4 = 3."),  # a mixed number after ÷
        (  # a number of percentage points
            "Check: the 4 percentage-point gap × 12,000 = 480 votes.",
            "Check: the 4 percentage-point gap × 12,000 = 490 votes.",
        ),
        (  # scientific notation rounds to the digits its mantissa shows
            "6.022 × 10^23 pennies × 1.52 mm/penny = 9.153 × 10^23 mm",
            "6.022 × 10^23 pennies × 1.52 mm/penny = 9.163 × 10^23 mm",
        ),
        ("3 1/2 ÷ 1 3/4 = 7/2 ÷ 7/4 = 2", "3 1/2 ÷ 1 3/4 = 7/2 ÷ 7/5 = 2"),  # tight fractions
        (
            "$v = \\frac{\\text{distance}}{\\text{time}} = \\frac{120}{2} = 60$ km/h",
            "$v = \\frac{\\text{distance}}{\\text{time}} = \\frac{120}{2} = 50$ km/h",
        ),
        # a rounded intermediate inside an expression, as in LaTeX
        (
            "E = 6.626 × 2.998 / 5.00 = 19.865 / 5.00 = 3.973",
            "E = 6.626 × 2.998 / 5.00 = 19.865 / 5.00 = 3.983",
        ),
        # Indian grouping: lakhs and crores
        ("x = 28800 × 100/16 = 1,80,000", "x = 28800 × 100/16 = 1,80,500"),
        ("Ans. 997² = 9,94,009", "Ans. 997² = 9,94,019"),
        ("Check: 28,000 + 42,000 + 56,000 = 1,26,000 ✓", "Check: 28,000 + 42,000 = 1,26,000 ✓"),
        ("Total = 2,50,00,000 + 50,00,000 = 3,00,00,000", "Total = 2,50,00,000 × 2 = 3,00,00,000"),
        (  # a difference of shares in percentage points
            "That's 1,227 / 50,000 = 2.454 percentage points.",
            "That's 1,227 / 50,000 = 2.554 percentage points.",
        ),
        # "time and a half": a multiplier of 1½, not half of what follows (not "half * 20 = 10")
        (
            "Time and a half of $20 is $20 × 1.5 = $30.",
            "Time and a half of $20 is $20 × 1.5 = $35.",
        ),
    ],
)
def test_locales_cents_and_fractions_of_words_are_read(right, wrong):
    assert report(right)["steps"][0]["status"] == "verified"
    assert report(wrong)["steps"][0]["status"] == "error"


@pytest.mark.parametrize(
    "steps",
    [
        # `1.0 × 10⁻⁶` after a slash is one number as often as two factors
        ["R = (1.68 × 10⁻⁸ Ω·m × 10 m) / (1.0 × 10⁻⁶ m²)\n= 1.68 × 10⁻⁷ / 1.0 × 10⁻⁶\n= 0.168 Ω"],
        # a Greek letter is a function's name, not a word to drop: φ(36) is not 36
        ["Factor: $36 = 2^2 \\cdot 3^2$.", "So φ(36) = 36(1 − 1/2)(1 − 1/3) = 12."],
        # a letter with a hat, called: ŷ(1) is no 1
        ["The line is $\\hat{y} = 1.8 + 1.2x$.", "Fitted: ŷ(1) = 3.0, ŷ(2) = 4.2, ŷ(3) = 5.4"],
    ],
)
def test_scientific_divisors_and_greek_functions_are_never_an_error(steps):
    question = "A wire of ρ = 1.68 × 10⁻⁸ Ω·m is 10 m long, 1.0 × 10⁻⁶ m² across. Find φ(36)."
    assert validate({"question": question, "reasoning": steps})["first_error_step"] is None


def test_place_values_are_counted_not_added():
    # "4 tens + 7 ones" is 47, not 4 + 7; the sum after it is still checked
    assert report("Hint 3: 4 tens + 7 ones = 40 + 7 = 47")["first_error_step"] is None
    assert report("Hint 3: 4 tens + 7 ones = 40 + 7 = 48")["first_error_step"] == 0


@pytest.mark.parametrize(
    "text",
    ["7.3 overs = 7 overs + 3 balls = 7.5 overs.", "2 dozen + 5 eggs = 29 eggs in all."],
)
def test_counts_of_different_things_given_in_one_of_them_are_not_a_plain_sum(text):
    # 3 balls is half an over, a dozen twelve eggs: the text's own units, not a sum of 7 and 3
    assert report(text)["steps"][0]["status"] == "unchecked"
    # counts of one thing, or of several given as another, are added as written
    assert report("5 apples + 3 apples = 9 apples.")["steps"][0]["status"] == "error"
    assert report("5 dogs + 3 cats = 9 pets.")["steps"][0]["status"] == "error"
    assert report("5 dogs + 3 cats = 8 pets.")["steps"][0]["status"] == "verified"


def test_a_socratic_sub_question_marker_is_no_power():
    text = "How many eggs are left? ** She has 16 - 7 = <<16-7=9>>9 eggs left."
    assert report(text)["steps"][0]["status"] == "verified"
    assert report(text.replace("=9>>9", "=9>>8"))["steps"][0]["status"] == "error"


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("1/2 cup = 120 mL.", False),  # a change of unit, not 1/2 = 120
        ("So 2/3 cup = (2/3) × 16 = 32/3 tablespoons.", False),
        ("So 2/3 cup = (2/3) × 16 = 31/3 tablespoons.", True),
        ("Add: 1/2 + 3/4 = 5/4 = 1-1/4 inches.", False),  # a carpenter's mixed number
        ("The fraction older is 1-2/3 = 1/3", False),  # the same hyphen as a subtraction
        ("The fraction older is 1-2/3 = 1/2", True),
        ("The pool fills at 2400 ml/hour - 200 ml/hour = 2200 ml/hour", False),
        ("The pool fills at 2400 ml/hour - 200 ml/hour = 2300 ml/hour", True),
        # units of data: a change of unit inside the equation is not checked here
        ("2 × 10^12 bytes = 1.6 × 10^13 bits", False),
        ("A 7B model at fp16: 14 × 10⁹ bytes = 14 GB", False),
        ("2 KiB × 8 = 16,384 bits", False),
        ("3 × 4 GB = 13 GB", True),
        # an amount over its own rate is in the rate's unit of time: no change of unit
        ("Time = 16,000 Mb ÷ 50 Mbps = 320 seconds.", False),
        ("Time = 16,000 Mb ÷ 50 Mbps = 360 seconds.", True),
        ("120 miles ÷ 60 mph = 3 hours", True),
        ("16,000 Mb ÷ 50 Mbps = 5.33 minutes", False),
        # each term restated in another unit, the others kept
        ("Paint: 2 buckets + 3 gallons = 10 + 3 = 13 gallons.", False),
        ("Paint: 2 buckets + 3 gallons = 10 + 3 = 14 gallons.", True),
        ("5 apples + 3 pears = 5 + 4 = 9 fruits", True),  # 4 is no unit's multiple of 3
        ("2 hours + 30 minutes = 120 + 30 = 150 minutes", False),
    ],
)
def test_units_rates_and_hyphens_between_numbers(text, flagged):
    r = report(text)
    assert any(f["severity"] == "error" for s in r["steps"] for f in s["findings"]) is flagged


@pytest.mark.parametrize(
    ("steps", "flagged"),
    [
        # a compound unit after the result: the last side is read, not taken for algebra
        (["a = 2 × 9.8 / 8 = 19.6 / 8 = 2.45 m/s²"], False),
        (["a = 2 × 9.8 / 8 = 19.6 / 8 = 2.54 m/s²"], True),
        (["Average speed = 60 ÷ (72/35) = 2100/72 ≈ 29.17 km/h."], False),
        (["Average speed = 60 ÷ (72/35) = 2100/72 ≈ 28.17 km/h."], True),
        # ... and a change of SI prefix is a change of unit
        (["Per mole: 3.97 × 10⁻¹⁹ J × 6.022 × 10²³ = 2.39 × 10⁵ J/mol = 239 kJ/mol"], False),
        # an operand an earlier step rounded, or a repeating decimal cut short
        (["Per km: 11,700 / 42.195 ≈ 277.3 s.", "Per 5K: 277.3 × 5 ≈ 1386.4 s."], False),
        (["Per km: 11,700 / 42.195 ≈ 277.3 s.", "Per 5K: 277.3 × 5 ≈ 1387.4 s."], True),
        (["Speed: 8.333 m/s × 3.6 = 30 km/h."], False),
        # other decimals are exact: no room for a slip
        (["That's 21 × 3 = 63 plus 21 × 0.5 = 11.5."], True),
        (["0.6 × 84 = 50.6"], True),
        # a rounded decimal less 1: the rounding's whole size, not a share of the small rest
        (["Exact: 1.05 / 1.02 − 1 ≈ 1.0294 − 1 = 0.0294, about 2.94%."], False),
        (["Exact: 1.05 / 1.02 − 1 ≈ 1.0394 − 1 = 0.0394, about 3.94%."], True),
        # letters glued to a bracket are no word to cut the formula at
        (["p = 1/6, so np(1 − p) = 25/6."], False),
        (["v² = u² + 2as → 15² = 25² + 2a(100)"], False),
        # what a unit is worth, put in for it
        (["1 ly / 1 AU = (9.461 × 10^12) / (1.496 × 10^8) ≈ 63,242"], False),
        (["1/H₀ = (1 Mpc)/(70 km/s) = 3.086 × 10^19 km / 70 km/s"], False),
        (["1 AU / 1 light-minute = 149,600,000 / 17,987,520 ≈ 8.317"], False),
        (["1 full tank - 1/3 tank = 70/3 of the tank is empty."], True),  # no unit's worth
        # a root's index written as a superscript before it
        (["By AM-GM, a + b + c + d ≥ 4 · ⁴√16 = 4 · 2 = 8, since ⁴√16 = 2."], False),
        (["⁴√16 = 4"], True),
        (["⁵√32 = 2"], False),  # no such root sign: not read
        # a fraction of a unit in another unit, by the factor between them
        (["1 yard = 3 feet, so 3/4 yard = 3/4 × 3 = 9/4 = 2.25 feet."], False),
        (["1 yard = 3 feet, so 3/4 yard = 3/4 × 3 = 9/4 = 2.5 feet."], True),
        (["One mile is 5280 feet, so 3/4 mile = 3/4 × 5280 = 3960 feet."], False),
        (["1/12 hour = 60 ÷ 12 = 5 minutes."], False),
        (["1/2 hour = 60 ÷ 3 = 20 minutes."], True),  # 60 ÷ 3 is no half hour
        # a fraction built of raised and lowered digits is 3 2/4, not 3²
        (["Perimeter: 5¾ + 3½ = 5¾ + 3²⁄₄ = 9¼ in."], False),
        # coins counted and added become money; change worked out stays checked
        (["Her coins: 4 quarters + 3 dimes = $1.00 + 30¢ = $1.30."], False),
        (["2 quarters + 1 dime = 60¢"], False),
        (["Each machine holds 80 quarters / 4 = $20."], False),
        (["Each machine holds 80 quarters / 4 = $25."], True),
        # a comparison the step answers "no" or "false" is tested, not claimed
        (["Is 3 > 11? No.", "$x < -4$"], False),
        (["Try $x = 0$: it gives $3 > 11$, false ✓", "$x < -4$"], False),
        (["$3 > 11$, so x works.", "$x < -4$"], True),
        # ... while a name that labels a quantity still lets the computation after it be read
        (["$\\text{Area}(P_5 P_6 C) = 6 \\times 3 = 19$"], True),
    ],
)
def test_units_rounded_operands_glued_letters_and_what_units_are_worth(steps, flagged):
    r = validate({"question": " ".join(steps), "reasoning": steps})
    assert any(f["severity"] == "error" for s in r["steps"] for f in s["findings"]) is flagged


@pytest.mark.parametrize(
    "step",
    [
        "3.086 × 10^19 / 70 ≈ 4.409 × 10^17 s",  # a rounding shown above the units place
        "1 ly / 1 AU = 9.461e12 / 1.496e8 ≈ 63,242",  # e-notation inside an expression
    ],
)
def test_scientific_results_are_read_without_an_internal_error(step):
    r = validate({"question": step, "reasoning": [step]})
    assert not [f for f in r["findings"] if "could not check" in f["message"]], r["findings"]
    assert r["steps"][0]["status"] != "error"


@pytest.mark.parametrize(
    "text, status",
    [
        ("sqrt(289) = 17", "verified"),  # the root, written in ASCII
        ("sqrt(289) = 18", "error"),
        ("d = sqrt(8^2 + 15^2) = sqrt(289) = 17 m", "verified"),
        ("P = (364/365)⋯(343/365) ≈ 0.4927.", "unchecked"),  # a product with a midline ellipsis
        ("log_100(10^8) = 4.", "unchecked"),  # a logarithm's base, not a factor 100
        ("log_2(8) = 3, so 2 + 3 = 6.", "error"),
    ],
)
def test_ascii_roots_ellipses_and_subscripts(text, status):
    assert report(text)["steps"][0]["status"] == status


@pytest.mark.parametrize(
    "text, status",
    [
        ("Back bearing = 65° + 180° = 245°.", "verified"),  # the degree sign is the unit
        ("Back bearing = 65° + 180° = 235°.", "error"),
        ("sin B = 10 sin 30° / 5 = 5/5 = 1", "verified"),  # a function's argument: not 30 / 5
        ("cos(60°) / 2 = 0.25", "unchecked"),
    ],
)
def test_degrees_are_a_unit_but_not_a_functions_value(text, status):
    assert report(text)["steps"][0]["status"] == status


def test_a_chains_first_quantity_computed_again_and_given_in_another_unit():
    # in cricket 7.4 overs is 7 overs and 4 balls: a change of unit, not a wrong sum
    assert report("46 balls = 7 × 6 + 4 = 7.4 overs.")["steps"][0]["status"] == "unchecked"
    assert report("46 balls = 7 × 6 + 4 = 47 balls.")["steps"][0]["status"] == "error"
    assert report("3 feet = 3 × 12 = 38 inches.")["steps"][0]["status"] == "error"


@pytest.mark.parametrize(
    "text, status",
    [
        ("d = 2 × 10⁻³ mm = 2 × 10⁻⁶ m", "unchecked"),  # mm to m, after raised digits
        ("2 × 50 cm = 1 m", "unchecked"),
        ("2 × 10⁻³ mm = 3 × 10⁻³ mm", "error"),
        ("2 × 50 cm = 110 cm", "error"),
        ("The speed is 1.5 km/0.75 hour = 2 kilometers per hour.", "verified"),
    ],
)
def test_metric_lengths_are_units_a_result_may_change_to(text, status):
    assert report(text)["steps"][0]["status"] == status
