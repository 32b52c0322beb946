"""Grounding (quantities from nowhere) and signals (warnings only)."""

from __future__ import annotations

from validators import validate

Q = "Weng earns $12 an hour for babysitting. Yesterday, she did 50 minutes. How much did she earn?"


def test_quantities_from_question_constants_and_earlier_steps_are_grounded():
    r = validate({"question": Q, "reasoning": "12/60 = $0.2 per minute.\n0.2 x 50 = $10.\n#### 10"})
    assert [s["status"] for s in r["steps"]] == ["verified", "verified"]


def test_invented_quantity_is_unsupported_but_not_an_error():
    r = validate({"question": Q, "reasoning": "12/60 = $0.2 per minute.\n0.2 x 75 = $15.\n#### 15"})
    step = r["steps"][1]
    assert step["status"] == "unsupported"
    assert step["findings"][0]["code"] == "grounding.unsupported"
    assert step["findings"][0]["evidence"]["quantities"] == ["75"]
    assert r["first_error_step"] is None


def test_number_words_ground_quantities():
    q = "Tom has three boxes with a dozen eggs each. How many eggs?"
    r = validate({"question": q, "reasoning": "3 * 12 = 36 eggs.\n#### 36"})
    assert r["steps"][0]["status"] == "verified"


def test_signals_warn_without_changing_the_verdict():
    reasoning = [
        "Clearly the answer is obvious.",
        "12/60 = $0.2 per minute.",
        "12/60 = $0.2 per minute.",
        "0.2 x 50 = $10.",
    ]
    r = validate({"question": Q, "reasoning": reasoning, "answer": "10"})
    codes = {f["code"] for s in r["steps"] for f in s["findings"]}
    assert {"signals.unsupported_confidence", "signals.repetition"} <= codes
    assert r["verdict"] == "faithful"
    padded = ["We think.", "We consider.", "We reflect.", "We ponder more.", "2 + 2 = 4"]
    r = validate({"question": "2 and 2", "reasoning": padded, "answer": "4"})
    assert "signals.padding" in [f["code"] for f in r["findings"]]


def test_a_quarter_is_known_as_itself_only():
    q = "Jerry mows three-quarters of his 8 acres with a riding mower."
    r = validate({"question": q, "reasoning": "He mows 8 acres x ¾ = 6 acres.\n#### 6"})
    assert r["steps"][0]["status"] == "verified"
    r = validate({"question": q, "reasoning": "He mows 8 acres x 75 / 100 = 6 acres.\n#### 6"})
    assert r["steps"][0]["status"] == "unsupported"  # 75 is no quarter
