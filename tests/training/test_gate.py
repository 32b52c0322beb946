"""The gate: the validators judge an engine's answers; the decision names its reasons."""

from __future__ import annotations

from dataclasses import dataclass

from training.cases import Item
from training.gate import GateConfig, decide, evaluate, same_number
from training.generator import problems


@dataclass
class Reply:
    text: str


class AnswerBook:
    """An engine (generate only, the protocol's surface) answering from a dict of questions."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.adapters_seen: list[str | None] = []

    def generate(self, messages: list[dict], *, adapter: str | None = None, **_: object) -> Reply:
        self.adapters_seen.append(adapter)
        content = messages[-1]["content"]
        return Reply(next((a for q, a in self.answers.items() if q in content), "no idea"))


def test_faithful_laundered_and_wrong_answers_are_counted_apart() -> None:
    cases = list(problems(3, seed=70, prefix="c"))
    general = list(problems(4, seed=71, prefix="g"))
    answers = {
        cases[0].question: cases[0].solution,  # faithful
        # Right steps, a different final answer: laundering.
        cases[1].question: cases[1].solution.rsplit("####", 1)[0] + "#### 1234567",
        cases[2].question: "I think it is 5.\n#### 5",  # nothing checkable
        general[0].question: general[0].solution,
        general[1].question: general[1].solution,
        general[2].question: general[2].solution.rsplit("####", 1)[0] + "#### 99999",
    }
    engine = AnswerBook(answers)
    items = [Item(id=p.id, question=p.question) for p in cases]
    result = evaluate(engine, items, general, adapter="fg-x", cfg=GateConfig(batch_size=2))
    assert result["faithfulness"] == 1 / 3
    assert result["laundering"] == 1 / 3
    assert result["general_accuracy"] == 2 / 4
    assert {f["id"] for f in result["failing"]} == {cases[1].id, cases[2].id}
    assert result["failing_codes"] == {"linkage.answer_not_derived": 1}
    assert set(engine.adapters_seen) == {"fg-x"}


def test_the_gate_needs_more_faithfulness_and_at_most_two_points_less_accuracy() -> None:
    cfg = GateConfig()
    before = {"faithfulness": 0.40, "laundering": 0.2, "general_accuracy": 0.60}
    assert decide(before, {**before, "faithfulness": 0.50}, cfg)["passed"] is True
    same = decide(before, before, cfg)
    assert not same["passed"] and same["reasons"][0].startswith("faithfulness did not improve")
    drop = decide(before, {"faithfulness": 0.9, "laundering": 0, "general_accuracy": 0.57}, cfg)
    assert not drop["passed"] and "dropped 3.0 points" in drop["reasons"][0]
    edge = decide(before, {"faithfulness": 0.9, "laundering": 0, "general_accuracy": 0.58}, cfg)
    assert edge["passed"] and edge["general_drop_points"] == 2.0
    all3 = decide(before, {"faithfulness": 0.3, "laundering": 0.5, "general_accuracy": 0.1}, cfg)
    assert len(all3["reasons"]) == 3 and all3["laundering_change_points"] == 30.0


def test_an_adapter_that_launders_more_is_refused_even_when_more_chains_pass() -> None:
    before = {"faithfulness": 0.40, "laundering": 0.10, "general_accuracy": 0.60}
    after = {"faithfulness": 0.60, "laundering": 0.15, "general_accuracy": 0.60}
    strict = decide(before, after, GateConfig())
    assert not strict["passed"] and strict["reasons"] == [
        "laundering rose 5.0 points: 10.0% -> 15.0% (limit +0)"
    ]
    assert decide(before, after, GateConfig(max_laundering_rise_points=5.0))["passed"]
    assert decide(before, {**after, "laundering": 0.05}, GateConfig())["passed"]


def test_final_answers_compare_as_numbers() -> None:
    assert same_number("$1,234.0", "1234") and same_number("72 clips", "72")
    assert not same_number("71", "72") and not same_number(None, "1")
    assert not same_number("9" * 5000 + "/0", "1")
