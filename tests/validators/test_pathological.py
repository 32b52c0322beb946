"""Pathological input finishes quickly with `unchecked`, never a hang or a crash."""

from __future__ import annotations

import pytest

from validators import validate


def _statuses(r: dict) -> list[str]:
    return [s["status"] for s in r["steps"]]


@pytest.mark.parametrize(
    "reasoning",
    [
        "9**9**9**9 = 5",
        "9^9^9^9 = 7",
        "(" * 10_000 + "1" + ")" * 10_000 + " = 1",
        "1" + "0" * 100_000 + " + 1 = 2",
        "2 ** 100000 = 3",
    ],
)
def test_huge_or_deep_expressions_are_unchecked(reasoning):
    r = validate({"question": "q", "reasoning": reasoning})
    assert r["verdict"] == "unverifiable"
    assert _statuses(r) == ["unchecked"]
    why = [f for s in r["steps"] for f in s["findings"] if f["code"].endswith("unchecked")]
    assert why and why[0]["severity"] == "info"


def test_one_megabyte_step_is_unchecked():
    step = "48 + 24 = 72 " * 80_000
    r = validate({"question": "q", "reasoning": [step, "So 2 + 2 = 4"]})
    assert r["steps"][0]["status"] == "unchecked"
    assert r["steps"][1]["status"] == "verified"


def test_nested_json_and_non_string_fields_are_invalid_not_crashes():
    r = validate({"question": "q", "reasoning": {"a": 1}})
    assert r["verdict"] == "unverifiable"
    assert r["findings"][0]["code"] == "input.invalid"
    assert "reasoning" in r["findings"][0]["message"]
    assert validate(["not", "an", "object"])["findings"][0]["code"] == "input.invalid"


def test_lone_surrogates_and_control_characters_do_not_crash():
    r = validate({"question": "\ud800", "reasoning": "3 + 4 = 7\x00\x1b[2J"})
    assert r["verdict"] == "faithful"


@pytest.mark.parametrize(
    "text",
    ["He had 5 apples times the rest = 3", "5 hours plus = 3", "2 cups of x times = 4"],
)
def test_unit_words_before_a_dangling_word_operator_terminate(text):
    # A regression: a unit run ending on a word operator that is not one looped forever.
    r = validate({"question": text, "reasoning": text, "answer": "3"})
    assert r["verdict"] in ("faithful", "unfaithful", "unverifiable")


@pytest.mark.parametrize(
    "question",
    [
        "1" * 190_000 + "/2",  # a whole part of a fraction tried from each digit
        "1,000," * 33_000 + " x million",  # a scaled number tried from each digit
        "1,000," * 33_000,  # thousands separators looked past to the end
    ],
)
def test_long_runs_of_digits_in_the_question_are_read_in_linear_time(question):
    # Each of these took minutes (a pattern retried from every digit), far past the budget.
    r = validate({"question": question, "reasoning": "1 + 1 = 2", "answer": "2"})
    assert r["verdict"] == "faithful"


def _cpu_s(question: str, step: str) -> tuple[float, dict]:
    """CPU seconds of this thread to validate one step (and a checked one after it)."""
    import time

    started = time.thread_time()  # this thread only: other threads of the test process don't count
    r = validate({"question": question, "reasoning": [step, "So 2 + 2 = 4"]})
    return time.thread_time() - started, r


def _words_step_cpu_s(words: int) -> float:
    """CPU seconds to validate a step of `words` plain words after a number."""
    took, r = _cpu_s("He has 5 apples.", "5 " + "apples " * words + "* 3 = 15")
    assert r["steps"][1]["status"] == "verified"
    return took


def test_a_long_run_of_words_after_a_number_is_read_once():
    # Runs of plain words are lexed as one token only right after a quantity: looked for after
    # every word, this step (just under the step limit) took seconds, quadratic in its words.
    # Ten times the words must cost about ten times as much, not a hundred (a ratio in one run,
    # not a wall-clock bound: the machines are shared).
    _words_step_cpu_s(280)  # warm
    short = min(_words_step_cpu_s(280) for _ in range(3))
    long = min(_words_step_cpu_s(2_800) for _ in range(3))
    assert long < 35 * max(short, 1e-4), (short, long)


@pytest.mark.parametrize(
    "unit",
    [
        "14, 400 / 80 = 180 and ",  # a run starting inside a garbled numeral
        "12 / 4 = 3 500 kg, ",  # spaced groups after `=`
        "2 + 4 of the red cups for the party = 6, ",  # a describing phrase before `=`
        "4 * 160 sq. ft. = 640 sq. ft. and ",  # abbreviated units
    ],
)
def test_many_claims_of_each_new_reading_cost_linear_time(unit):
    # Each claim looks back or ahead a bounded window only: ten times the claims must cost
    # about ten times as much (a ratio within one run, not a wall-clock bound).
    _cpu_s("How many?", unit * 20)[0]  # warm
    short = min(_cpu_s("How many?", unit * 20)[0] for _ in range(3))
    long = min(_cpu_s("How many?", unit * 200)[0] for _ in range(3))
    assert long < 35 * max(short, 1e-4), (short, long)
