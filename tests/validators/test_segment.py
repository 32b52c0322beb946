"""Splitting reasoning into steps and finding the final answer."""

from __future__ import annotations

import pytest

from validators.text.segment import find_answer, segment, strip_annotations
from validators.types import Chain


def steps_of(reasoning, **kw) -> tuple[list[str], str | None]:
    steps, answer, _ = segment(Chain(question="q", reasoning=reasoning, **kw))
    return [s.text for s in steps], answer


def test_lines_and_gsm8k_marker():
    texts, answer = steps_of("Natalia sold 48/2 = 24 clips.\nShe sold 48+24 = 72.\n#### 72")
    assert texts == ["Natalia sold 48/2 = 24 clips.", "She sold 48+24 = 72."]
    assert answer == "72"


def test_calculator_annotations_are_stripped():
    assert strip_annotations("sold 48/2 = <<48/2=24>>24 clips") == "sold 48/2 = 24 clips"


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("so x = 4.\nThe answer is: 4", "4"),
        ("Thus the total is \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
        ("Step 1: 2 + 2 = 4\nFinal answer: 4", "4"),
        ("So the answer is 18 dollars.", "18 dollars"),
        # in bold and in the languages users ask in
        ("6 × 7 = 42\n\n**Answer:** $42", "$42"),
        ("6 × 7 = 42\n**Final Answer:** 42", "42"),
        ("6 × 7 = 42\nRéponse : 42", "42"),
        ("6 × 7 = 42\nLa respuesta es 42.", "42"),
        ("6 × 7 = 42\n答案是 42", "42"),
        ("6 × 7 = 42\nОтвет: 42.", "42"),
        ("Answer each question.\n5 + 5 = 10", None),  # an instruction, not a label
    ],
)
def test_answer_markers(text, answer):
    assert find_answer(text) == answer


def test_a_labelled_answer_line_is_no_step():
    texts, answer = steps_of("There are 6 × 7 = 42 eggs.\n\n**Answer:** 41")
    assert texts == ["There are 6 × 7 = 42 eggs."] and answer == "41"


def test_a_prm800k_answer_heading_step_is_no_step():
    texts, answer = steps_of(["The probability is $\\frac{13}{90}$.", "# Answer\n\n\\frac{13}{90}"])
    assert texts == ["The probability is $\\frac{13}{90}$."] and answer == "\\frac{13}{90}"


def test_single_paragraph_splits_into_sentences_without_breaking_decimals():
    texts, _ = steps_of("He pays $1.50 per cup. So 3 x 1.50 = 4.50 dollars. That is all.")
    assert texts == ["He pays $1.50 per cup.", "So 3 x 1.50 = 4.50 dollars.", "That is all."]


def test_list_of_steps_is_kept_and_given_answer_wins():
    texts, answer = steps_of(["Step 1: 2 + 3 = 5", "Step 2: 5 * 2 = 10"], answer="10")
    assert texts == ["Step 1: 2 + 3 = 5", "Step 2: 5 * 2 = 10"]
    assert answer == "10"


def test_answer_falls_back_to_last_line():
    steps, answer, inferred = segment(Chain(question="q", reasoning="a = 1\nso it is 5"))
    assert answer == "so it is 5" and inferred
    assert len(steps) == 2


def test_abbreviations_do_not_end_sentences():
    texts, _ = steps_of(
        "Under Brown v. Board of Education, the rule holds. Dr. Smith agrees. So 2 + 2 = 4."
    )
    assert texts == [
        "Under Brown v. Board of Education, the rule holds.",
        "Dr. Smith agrees.",
        "So 2 + 2 = 4.",
    ]
