"""Data building: generator, corrections re-validated, DPO/PRM rows, dedup, held-back split, mix."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.training.conftest import flagged_cases, make_case
from training import data as data_mod
from training import mix
from training.cases import corrected_solution, prm_row
from training.dedup import clusters, holdout_score, split_clusters
from training.generator import corrupted, problems, verified
from training.prompts import trim_generation
from validators.pipeline import validate


def test_generator_is_seeded_and_every_solution_passes_the_validators() -> None:
    a = list(problems(40, seed=5))
    assert [p.question for p in a] == [p.question for p in problems(40, seed=5)]
    assert [p.question for p in a] != [p.question for p in problems(40, seed=6)]
    assert len({p.question for p in a}) == 40
    for p in a:
        report = validate(p.chain())
        assert report["verdict"] == "faithful" and not report["laundering"], p.solution
        assert p.solution.endswith(f"#### {p.answer}")


def test_a_corrupted_solution_is_flagged_by_the_validators() -> None:
    rng = random.Random(0)
    for p in problems(20, seed=2):
        bad = corrupted(p, rng)
        if bad is not None:
            assert validate({"question": p.question, "reasoning": bad})["verdict"] == "unfaithful"
            assert bad != p.solution


def test_a_correction_that_fails_the_validators_is_refused_with_the_reason() -> None:
    p = next(problems(1, seed=9))
    wrong = [s.replace("=", "= 1 +", 1) if i == 0 else s for i, s in enumerate(p.steps)]
    case = make_case(p, random.Random(1), correction=wrong)
    text, _, reason = corrected_solution(case)
    assert text is None
    assert reason.startswith("corrected reasoning rejected by the validators: verdict unfaithful")
    bundle = data_mod.build(
        [case] * 1,
        data_mod.DataConfig(eval_fraction=0, eval_min=0, general_eval_size=0, general_mix=0),
    )
    assert bundle.sft == [] and bundle.dpo == []
    kinds = {(r.kind, r.reason.split(":")[0]) for r in bundle.rejected}
    assert ("sft", "corrected reasoning rejected by the validators") in kinds


def test_sft_and_dpo_rows_are_trl_conversational_and_hold_the_right_texts() -> None:
    case = flagged_cases(1)[0]
    bundle = data_mod.build(
        [case], data_mod.DataConfig(eval_fraction=0, eval_min=0, general_eval_size=0, general_mix=0)
    )
    (sft,), (dpo,) = bundle.sft, bundle.dpo
    assert set(sft) == {"prompt", "completion"} and set(dpo) == {"prompt", "chosen", "rejected"}
    assert (
        sft["prompt"][0]["role"] == "user"
        and case["chain"]["question"] in sft["prompt"][0]["content"]
    )
    assert "step by step" in sft["prompt"][0]["content"]
    assert sft["completion"][0]["role"] == "assistant"
    assert (
        validate(
            {"question": case["chain"]["question"], "reasoning": sft["completion"][0]["content"]}
        )["verdict"]
        == "faithful"
    )
    assert dpo["chosen"] == sft["completion"]
    assert dpo["rejected"][0]["content"] == case["chain"]["reasoning"]
    assert bundle.sft_sources == [case["id"]] and bundle.case_ids == [case["id"]]


def test_prm_labels_follow_the_report_and_the_reviewer() -> None:
    case = flagged_cases(1, seed=4)[0]
    row, _ = prm_row(case)
    statuses = [s["status"] for s in case["report"]["steps"]]
    # The steps, then the stated final answer line as a step of its own.
    assert len(row["labels"]) == len(row["completions"]) == len(statuses) + 1
    assert row["completions"][-1] == f"#### {case['report']['answer']}"
    first_bad = statuses.index("error")
    assert row["labels"][first_bad] is False
    assert all(row["labels"][:first_bad])
    # The reviewer overrules: a step they mark wrong is labelled False.
    case["reviews"][-1]["wrong_steps"] = [0]
    row, _ = prm_row(case)
    assert row["labels"][0] is False


def test_reviewer_cleared_and_purged_cases_are_left_out_with_reasons() -> None:
    cases = flagged_cases(3, seed=21)
    cases[0]["reviews"][-1]["verdict"] = "faithful"
    cases[1]["chain"] = None
    bundle = data_mod.build(
        cases, data_mod.DataConfig(eval_fraction=0, eval_min=0, general_eval_size=0, general_mix=0)
    )
    reasons = {r.case_id: r.reason for r in bundle.rejected}
    assert "reviewer judged the flagged chain faithful" in reasons[cases[0]["id"]]
    assert "purged" in reasons[cases[1]["id"]]
    assert bundle.case_ids == [cases[2]["id"]]


def test_near_duplicates_cluster_and_the_split_is_stable() -> None:
    texts = [
        "Ana buys 3 pens at $2 each. How much does Ana pay?",
        "Ana buys 3 pens at $2 each. How much does Ana pay in all?",
        "A train travels 60 km per hour for 2 hours. How far does it go?",
        "  ana BUYS 3 pens at $2 each.   How much does Ana pay? ",
    ]
    groups = clusters(texts, 0.7)
    assert [0, 1, 3] in groups and [2] in groups
    keys = [f"question number {i} about apples and pears" for i in range(200)]
    train, held = split_clusters(keys, 0.1, 8, "salt")
    assert set(train).isdisjoint(held) and len(train) + len(held) == 200
    assert 8 <= len(held) <= 40
    assert split_clusters(keys, 0.1, 8, "salt") == (train, held)
    # A key whose score holds it back stays held back when other keys come and go.
    by_score = {k for k in keys[:150] if holdout_score(k, "salt") < 0.1}
    _, held2 = split_clusters(keys[:150], 0.1, 8, "salt")
    assert by_score and by_score <= {keys[i] for i in held2}


def test_held_back_cases_never_reach_the_training_rows() -> None:
    cases = flagged_cases(60, seed=31)
    dup = json.loads(json.dumps(cases[0]))
    dup["id"] = "case_dup"
    cfg = data_mod.DataConfig(eval_fraction=0.2, eval_min=4, general_eval_size=5, general_mix=0.15)
    bundle = data_mod.build(cases + [dup], cfg)
    held = set(bundle.held_back)
    assert held and held.isdisjoint(bundle.sft_sources) and held.isdisjoint(bundle.dpo_sources)
    questions = {c["chain"]["question"] for c in cases + [dup] if c["id"] in held}
    trained = json.dumps(bundle.sft + bundle.dpo)
    assert not any(q in trained for q in questions)
    assert {it.id for it in bundle.eval_items} <= held
    ids = bundle.sft_sources
    assert not ("case_dup" in ids and cases[0]["id"] in ids)  # the duplicate went
    assert data_mod.build(cases + [dup], cfg).data_hash == bundle.data_hash


def test_the_general_mix_is_its_share_and_never_the_evaluation_set() -> None:
    cases = flagged_cases(40, seed=41)
    cfg = data_mod.DataConfig(eval_fraction=0, eval_min=0, general_eval_size=20, general_mix=0.2)
    bundle = data_mod.build(cases, cfg)
    general = [s for s in bundle.sft_sources if s.startswith("general:")]
    assert abs(len(general) / len(bundle.sft) - 0.2) < 0.03
    eval_questions = {p.question for p in bundle.general_eval}
    assert not any(q in json.dumps(bundle.sft + bundle.dpo) for q in eval_questions)
    assert mix.general_count(85, 0.15) == 15 and mix.general_count(10, 0) == 0
    assert not any(s.startswith("general:") for s in bundle.prm_sources)  # PRM: cases only


def test_the_mix_share_is_a_ceiling_and_a_zero_share_warns() -> None:
    assert mix.general_count(2, 0.15) == 0  # one row of three would be 33 %
    assert mix.general_count(6, 0.15) == 1  # 1 of 7 is 14 %
    assert mix.general_count(17, 0.15) == 3  # exactly 15 %, not rounded away
    cfg = data_mod.DataConfig(eval_fraction=0, eval_min=0, general_eval_size=5)
    bundle = data_mod.build(flagged_cases(2, seed=41), cfg)
    assert not any(s.startswith("general:") for s in bundle.sft_sources + bundle.dpo_sources)
    assert bundle.warnings and "rounds down to 0 general rows" in bundle.warnings[0]


def test_a_laundered_final_answer_is_labelled_false_in_prm_rows() -> None:
    laundered = next(c for c in flagged_cases(10, seed=11) if c["report"]["laundering"])
    row, _ = prm_row(laundered)
    assert row["completions"][-1] == f"#### {laundered['report']['answer']}"
    assert row["labels"][-1] is False


def test_a_user_jsonl_mix_keeps_only_validated_solutions(tmp_path: Path) -> None:
    good = next(problems(1, seed=51))
    lines = [
        json.dumps(
            {
                "question": good.question,
                # GSM8K's calculator annotations are stripped before validating.
                "answer": good.steps[0]
                + "<<1+1=2>>\n"
                + "\n".join(good.steps[1:])
                + f"\n#### {good.answer}",
            }
        ),
        json.dumps({"question": "Two plus two?", "answer": "2 + 2 = 5\n#### 5"}),
        "not json",
        json.dumps({"question": "no answer"}),
    ]
    path = tmp_path / "general.jsonl"
    path.write_text("\n".join(lines) + "\n")
    loaded, refused = mix.load_file(path, 10)
    assert [p.question for p in loaded] == [good.question] and refused == 3
    assert verified(loaded[0])


def test_trim_generation_stops_after_the_answer_line() -> None:
    assert trim_generation("a = 1\n#### 4\nMore chatter") == "a = 1\n#### 4"
    assert trim_generation("no answer line") == "no answer line"
