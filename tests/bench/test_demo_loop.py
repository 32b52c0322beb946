"""The demonstration's report: paired tests of held-back answers and what it writes."""

from __future__ import annotations

import bench.demo_loop as demo


def answers(faithful: list[int]) -> list[dict]:
    return [{"faithful": f, "laundered": 1 - f, "correct": 0} for f in faithful]


def test_compare_gives_the_paired_test_of_each_outcome():
    before = answers([0] * 150 + [1] * 50)
    after = answers([1] * 120 + [0] * 30 + [1] * 50)  # 120 fixed, none broken
    out = demo.compare(before, after)
    assert out["faithful"]["effect_points"] == 60.0
    assert out["faithful"]["p_increase"] < 1e-6
    assert out["laundered"]["effect_points"] == -60.0
    lo, hi = out["faithful"]["ci95_points"]
    assert lo <= 60.0 <= hi
    assert out["correct"]["effect_points"] == 0.0


def test_outputs_carry_effect_interval_p_and_the_gate(tmp_path, monkeypatch):
    sections = {}
    monkeypatch.setattr(demo, "ROOT", tmp_path)
    monkeypatch.setattr(
        demo, "write_section", lambda name, title, cmd, body: sections.update({name: body})
    )
    (tmp_path / "docs" / "training-example").mkdir(parents=True)
    run = tmp_path / "run"
    run.mkdir()
    (run / "chart.png").write_bytes(b"png")
    before, after = answers([0] * 30 + [1] * 10), answers([1] * 20 + [0] * 10 + [1] * 10)
    result = {
        "command": "python -m bench.demo_loop",
        "train_problems": 300,
        "flagged": 160,
        "held_back_problems": 40,
        "gate": {"passed": False, "reasons": ["faithfulness gain not significant"]},
        "promotion_forced": True,
        "held_back": demo.compare(before, after),
        "minutes": 100.0,
        "minutes_at_end_of": {"asked": 40.0, "before": 70.0, "train": 85.0, "after": 100.0},
        "work": "/somewhere/local",
    }
    demo.write_outputs(result, run)
    body = sections[demo.SECTION]
    assert "| faithfulness | 25.0 % | 75.0 % | +50.0 pts" in body
    assert "100.0 min (minutes at the end of each stage: asked 40.0, before 70.0" in body
    assert "refused: faithfulness gain not significant" in body and "forced: True" in body
    written = (tmp_path / "docs" / "training-example" / "demo-loop.json").read_text()
    assert "/somewhere/local" not in written  # no local paths in the committed example
    assert (tmp_path / "docs" / "training-example" / "demo-loop-gate.png").read_bytes() == b"png"


def test_the_gate_holds_back_about_gate_cases_of_the_flagged():
    args = demo.argparse.Namespace(
        gate_cases=64, general=50, threads=2, sft_steps=40, dpo_steps=20, max_tokens=160, batch=16
    )
    share = lambda flagged: demo.train_options(args, flagged)["data"]["eval_fraction"]  # noqa: E731
    assert share(160) == 0.4  # 64 of 160
    assert share(40) == 0.5  # never more than half: training needs cases too
    assert share(1000) == 0.1  # never less than the data's default
    assert share(0) == 0.5
    assert demo.train_options(args, 160)["gate"]["batch_size"] == 16


def test_rejudge_reads_a_runs_held_back_answers_from_its_audit_trail(tmp_path):
    # A run's audit trail as the service writes it: training chats by the base model only,
    # held-back problems asked of the base model and of the adapter.
    from service.store import Store
    from validators.pipeline import validate

    store = Store(f"sqlite:///{tmp_path / 'faithgate.db'}", tmp_path / "data")
    restated = "The garden has 4 rows of 4 plants.\nThe first row of 4 plants die.\n#### 6"
    solved = "The garden has 4 * 4 = 16 plants.\nAfter 6 die, 16 - 6 = 10 are left.\n#### 10"
    chats = [
        ("A garden has 4 rows of 4 plants. Then 6 plants die. How many are left?", None, restated),
        ("A garden has 4 rows of 4 plants. Then 6 plants die. How many are left?", "fg", solved),
        ("Ana has 2 bags of 3 pens. How many pens?", None, "2 * 3 = 6 pens.\n#### 6"),
    ]
    for question, adapter, reasoning in chats:
        chain = {"question": question, "reasoning": reasoning}
        item = {"chain": chain, "report": validate(chain), "model": "m", "adapter": adapter}
        store.record_validations([item], request_id="r", key_id=None)
    store.close()
    out = demo.rejudge(tmp_path)
    assert out["held_back_problems"] == 1  # the training chat has no adapter answer
    assert (out["faithful"]["before"], out["faithful"]["after"]) == (0.0, 1.0)
    assert (out["laundered"]["before"], out["laundered"]["after"]) == (0.0, 0.0)
