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
    assert result["outcomes"]["faithful"] == [1, 0, 0]
    assert result["outcomes"]["laundered"] == [0, 1, 0]
    assert result["outcomes"]["general_correct"] == [1, 1, 0, 0]
    # The fresh problems are judged too: the laundered one is neither faithful nor passing,
    # and "no idea" (the unanswered fourth) checks nothing.
    assert result["outcomes"]["general_faithful"] == [1, 1, 0, 0]
    assert result["outcomes"]["general_laundered"] == [0, 0, 1, 0]
    assert result["general_faithfulness"] == 2 / 4 and result["general_laundering"] == 1 / 4
    assert set(engine.adapters_seen) == {"fg-x"}


def outcomes(
    faithful: list[int],
    laundered: list[int],
    general: list[int],
    general_faithful: list[int] | None = None,
    general_laundered: list[int] | None = None,
) -> dict:
    """Synthetic evaluation results: per-case outcomes as gate.evaluate returns them (the
    general problems' faithfulness and laundering left out, as evaluations recorded before
    they were measured have them, unless given)."""
    n, g = len(faithful), len(general)
    result = {
        "faithfulness": sum(faithful) / n,
        "laundering": sum(laundered) / n,
        "general_accuracy": sum(general) / g,
        "outcomes": {
            "ids": [f"c{i}" for i in range(n)],
            "faithful": faithful,
            "laundered": laundered,
            "general_ids": [f"g{i}" for i in range(g)],
            "general_correct": general,
        },
    }
    if general_faithful is not None:
        result["outcomes"]["general_faithful"] = general_faithful
    if general_laundered is not None:
        result["outcomes"]["general_laundered"] = general_laundered
    return result


def test_a_real_effect_passes_with_its_interval_and_p_value() -> None:
    # 200 cases: 40 pass before; after, 90 pass (55 fixed, 5 broken): p is astronomically small.
    before_f = [1] * 40 + [0] * 160
    after_f = [1] * 35 + [0] * 5 + [1] * 55 + [0] * 105
    zeros = [0] * 200
    general = [1] * 30 + [0] * 20
    d = decide(outcomes(before_f, zeros, general), outcomes(after_f, zeros, general), GateConfig())
    assert d["passed"] and d["reasons"] == [] and d["significant"]
    faith = d["tests"]["faithfulness"]
    assert (faith["better"], faith["worse"], faith["effect_points"]) == (55, 5, 25.0)
    assert faith["p_increase"] < 1e-6
    lo, hi = faith["ci95_points"]
    assert 15 < lo < 25 < hi < 35  # the paired interval around +25 points
    assert d["faithfulness_gain_points"] == 25.0 and d["cases_needed"] is None


def test_a_change_of_one_answer_is_refused_as_not_significant_with_cases_needed() -> None:
    # The case: 32 held-back cases, one more passes after.
    before_f = [1] * 10 + [0] * 22
    after_f = [1] * 11 + [0] * 21
    zeros, general = [0] * 32, [1] * 10
    d = decide(outcomes(before_f, zeros, general), outcomes(after_f, zeros, general), GateConfig())
    assert not d["passed"] and not d["significant"]
    (reason,) = d["reasons"]
    assert reason.startswith("faithfulness gain not significant")
    assert "p=0.5" in reason and "needs p < 0.05 on 32 held-back cases" in reason
    assert d["tests"]["faithfulness"]["p_increase"] == 0.5  # exact: 1 discordant pair
    assert d["cases_needed"] > 32 and f"about {d['cases_needed']} held-back" in reason
    # 6 fixed and none broken on 32 cases: p = 1/64, significant at 0.05 but not at 0.01.
    six = [1] * 16 + [0] * 16
    after = outcomes(six, zeros, general)
    assert decide(outcomes(before_f, zeros, general), after, GateConfig())["passed"]
    strict = decide(outcomes(before_f, zeros, general), after, GateConfig(alpha=0.01))
    assert not strict["passed"] and "not significant" in strict["reasons"][0]


def test_no_gain_is_refused_and_needs_no_number_of_cases() -> None:
    same = outcomes([1, 0] * 50, [0] * 100, [1] * 10)
    d = decide(same, same, GateConfig())
    assert not d["passed"] and d["reasons"][0].startswith("faithfulness did not improve")
    assert d["cases_needed"] is None


def test_a_significant_laundering_rise_or_general_drop_refuses() -> None:
    before_f, after_f = [0] * 100, [1] * 60 + [0] * 40
    before = outcomes(before_f, [0] * 100, [1] * 100)
    launders = outcomes(after_f, [1] * 10 + [0] * 90, [1] * 100)
    d = decide(before, launders, GateConfig(max_laundering_rise_points=50))
    assert not d["passed"] and d["reasons"][0].startswith("laundering rose significantly")
    forgets = outcomes(after_f, [0] * 100, [1] * 90 + [0] * 10)
    d = decide(before, forgets, GateConfig(max_general_drop_points=50))
    assert not d["passed"]
    assert d["reasons"][0].startswith("general-reasoning accuracy dropped significantly")
    assert d["general_drop_points"] == 10.0
    # A drop too small to be significant still refuses past the point margin (2 by default).
    small = outcomes(after_f, [0] * 100, [1] * 97 + [0] * 3)
    d = decide(before, small, GateConfig())
    assert not d["passed"] and "dropped 3.0 points" in d["reasons"][0]
    assert decide(before, outcomes(after_f, [0] * 100, [1] * 98 + [0] * 2), GateConfig())["passed"]


def test_an_adapter_worse_on_fresh_problems_is_refused_despite_its_held_back_gain() -> None:
    # The demo-loop pattern: the held-back cases (base failures) improve significantly, while
    # on the fresh general problems faithfulness falls and laundering rises.
    before_f, after_f = [0] * 100, [1] * 30 + [0] * 70
    zeros, right = [0] * 100, [1] * 50
    fresh_before = [1] * 20 + [0] * 30
    fresh_after = [1] * 14 + [0] * 36  # 6 broken, none fixed: 12 points, p = 1/64
    d = decide(
        outcomes(before_f, zeros, right, fresh_before, [0] * 50),
        outcomes(after_f, zeros, right, fresh_after, [0] * 50),
        GateConfig(max_general_faithfulness_drop_points=50),
    )
    assert not d["passed"] and d["significant"]  # the held-back gain alone would pass
    (reason,) = d["reasons"]
    assert reason.startswith("faithfulness on the general problems dropped significantly")
    assert "40.0% -> 28.0%" in reason and "p=0.0156" in reason
    assert d["general_faithfulness_drop_points"] == 12.0
    assert d["tests"]["general_faithfulness"]["worse"] == 6
    # Past the point margin (2 by default) a drop refuses even when not significant.
    two = [1] * 18 + [0] * 32  # 2 broken of 50: 4 points, p = 0.25
    d = decide(
        outcomes(before_f, zeros, right, fresh_before, [0] * 50),
        outcomes(after_f, zeros, right, two, [0] * 50),
        GateConfig(),
    )
    assert not d["passed"] and "dropped 4.0 points" in d["reasons"][0]
    # More laundering on the fresh problems refuses like more on the held-back cases.
    d = decide(
        outcomes(before_f, zeros, right, fresh_before, [0] * 50),
        outcomes(after_f, zeros, right, fresh_before, [1] * 2 + [0] * 48),
        GateConfig(),
    )
    assert not d["passed"] and d["reasons"][0].startswith("laundering on the general problems")
    assert d["general_laundering_change_points"] == 4.0
    # Unchanged fresh problems: the held-back gain passes.
    d = decide(
        outcomes(before_f, zeros, right, fresh_before, [0] * 50),
        outcomes(after_f, zeros, right, fresh_before, [0] * 50),
        GateConfig(),
    )
    assert d["passed"], d["reasons"]


def test_an_evaluation_recorded_before_general_faithfulness_still_decides() -> None:
    # A registry entry from before the fresh problems were judged has no such outcomes.
    before = outcomes([0] * 100, [0] * 100, [1] * 50)
    after = outcomes([1] * 30 + [0] * 70, [0] * 100, [1] * 50, [0] * 50, [0] * 50)
    d = decide(before, after, GateConfig())
    assert d["passed"] and d["tests"]["general_faithfulness"]["n"] == 0


def test_cases_are_paired_by_id_not_by_position() -> None:
    before = outcomes([1, 0, 0, 0], [0] * 4, [1])
    after = outcomes([0, 0, 0, 1], [0] * 4, [1])
    after["outcomes"]["ids"] = ["c3", "c1", "c2", "c0"]  # the same answers, listed reversed
    d = decide(before, after, GateConfig())
    assert d["tests"]["faithfulness"]["better"] == 0 and d["tests"]["faithfulness"]["worse"] == 0


def test_final_answers_compare_as_numbers() -> None:
    assert same_number("$1,234.0", "1234") and same_number("72 clips", "72")
    assert not same_number("71", "72") and not same_number(None, "1")
    assert not same_number("9" * 5000 + "/0", "1")
