"""Configuration: guards on the learning rate and the data size, JSON round trip."""

from __future__ import annotations

import pytest

from training.config import GuardError, TrainConfig, check, check_examples, check_learning_rate


def test_learning_rate_above_1e_4_on_a_small_model_is_refused_with_the_reason() -> None:
    with pytest.raises(GuardError) as err:
        check_learning_rate(2e-4, 135_000_000, force=False)
    message = str(err.value)
    assert "above 0.0001" in message and "135M" in message and "--force" in message


def test_force_lets_a_refused_rate_through_with_a_warning() -> None:
    warnings = check_learning_rate(2e-4, 135_000_000, force=True)
    assert warnings and "(forced)" in warnings[0]


def test_large_models_and_the_recommended_range() -> None:
    assert check_learning_rate(2e-4, 70_000_000_000, force=False)  # allowed, but warned
    assert check_learning_rate(2e-5, 135_000_000, force=False) == []
    assert "outside the recommended" in check_learning_rate(8e-5, 135_000_000, False)[0]
    assert "outside the recommended" in check_learning_rate(1e-6, 135_000_000, False)[0]


def test_both_stages_are_checked_and_the_override_sets_both() -> None:
    config = TrainConfig(base="x", learning_rate=3e-4)
    assert config.sft.learning_rate == config.dpo.learning_rate == 3e-4
    with pytest.raises(GuardError):
        check(config, 135_000_000)
    assert check(TrainConfig(base="x"), 135_000_000) == []


def test_example_count_warnings() -> None:
    assert "fewer than the recommended 500" in check_examples(120)
    assert check_examples(800) is None
    assert "more than the recommended 5,000" in check_examples(9000)


def test_json_round_trip_and_unknown_options() -> None:
    config = TrainConfig.from_dict(
        {
            "base": "b",
            "cycles": 2,
            "sft": {"max_steps": 3},
            "gate": {"max_general_drop_points": 1.0},
        }
    )
    again = TrainConfig.from_dict(config.to_dict())
    assert again == config and again.sft.max_steps == 3
    with pytest.raises(ValueError, match="unknown training option"):
        TrainConfig.from_dict({"base": "b", "cycels": 2})
    with pytest.raises(ValueError, match="unknown sft option"):
        TrainConfig.from_dict({"base": "b", "sft": {"lr": 1}})
    with pytest.raises(ValueError):
        TrainConfig.from_dict({"base": "b", "cycles": 0})


def test_defaults_follow_the_issue() -> None:
    config = TrainConfig(base="b")
    assert config.cycles == 4 and config.data.general_mix == 0.15
    assert config.gate.max_general_drop_points == 2.0
    assert 1e-5 <= config.sft.learning_rate <= 5e-5 and 1e-5 <= config.dpo.learning_rate <= 5e-5
    assert config.model.double_quant and config.model.quantization == "auto"
