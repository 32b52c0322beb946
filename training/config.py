"""The run's configuration (one dataclass per stage, gathered in TrainConfig) and its guards."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from training.data import DataConfig
from training.dpo import DPOStageConfig
from training.gate import GateConfig
from training.model import ModelConfig
from training.sft import SFTStageConfig

RECOMMENDED_LR = (1e-5, 5e-5)
REFUSED_LR = 1e-4
SMALL_MODEL_PARAMS = 13_000_000_000
RECOMMENDED_EXAMPLES = (500, 5_000)


class GuardError(ValueError):
    """A setting refused by a guard; the message says why and how to insist (--force)."""


@dataclass
class TrainConfig:
    r"""A corrective fine-tuning run.

    Parameters:
        base (`str`):
            Folder of the base model (safetensors + tokenizer), e.g.
            `.faithgate/models/smollm2-135m-instruct`.
        name (`str` or `None`, defaults to `None`):
            Name of the adapter to register; a dated name is made when None.
        cycles (`int`, defaults to `4`):
            Refinement cycles: each trains (SFT then DPO), evaluates, and feeds the finding
            codes of the still-failing held-back answers into the next.
        learning_rate (`float` or `None`, defaults to `None`):
            Overrides both stages' learning rates when given.
        force (`bool`, defaults to `False`):
            Run despite a refused learning rate; promote despite a failed gate.
        auto_promote (`bool`, defaults to `False`):
            Promote the adapter right away when it passes the gate.
        output_dir (`str`, defaults to `".faithgate/training"`):
            Where runs write their cycle checkpoints, report and chart.
        registry_dir (`str`, defaults to `".faithgate/adapters"`):
            The adapter registry.
        seed (`int`, defaults to `0`):
            Seed of training and sampling.
        model, data, sft, dpo, gate:
            The stage configs (ModelConfig, DataConfig, SFTStageConfig, DPOStageConfig,
            GateConfig), each documented field by field.
    """

    base: str
    name: str | None = None
    cycles: int = 4
    learning_rate: float | None = None
    force: bool = False
    auto_promote: bool = False
    output_dir: str = ".faithgate/training"
    registry_dir: str = ".faithgate/adapters"
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    sft: SFTStageConfig = field(default_factory=SFTStageConfig)
    dpo: DPOStageConfig = field(default_factory=DPOStageConfig)
    gate: GateConfig = field(default_factory=GateConfig)

    def __post_init__(self) -> None:
        if not 1 <= self.cycles <= 50:
            raise ValueError("cycles must be between 1 and 50")
        if self.learning_rate is not None:
            if not self.learning_rate > 0:
                raise ValueError("learning_rate must be positive")
            self.sft.learning_rate = self.learning_rate
            self.dpo.learning_rate = self.learning_rate

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from JSON (unknown keys are an error, nested stage configs by name)."""
        nested = {
            "model": ModelConfig,
            "data": DataConfig,
            "sft": SFTStageConfig,
            "dpo": DPOStageConfig,
            "gate": GateConfig,
        }
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training option(s): {', '.join(unknown)}")
        kwargs = dict(data)
        for key, klass in nested.items():
            if isinstance(kwargs.get(key), dict):
                sub = kwargs[key]
                fields = {f.name for f in dataclasses.fields(klass)}
                bad = sorted(set(sub) - fields)
                if bad:
                    raise ValueError(f"unknown {key} option(s): {', '.join(bad)}")
                kwargs[key] = klass(**sub)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (round-trips through from_dict)."""
        return dataclasses.asdict(self)


def check_learning_rate(lr: float, params: int | None, force: bool) -> list[str]:
    """Warnings for a learning rate; GuardError when it is refused and not forced."""
    warnings = []
    small = params is None or params < SMALL_MODEL_PARAMS
    if lr > REFUSED_LR and small:
        size = "an unknown number of" if params is None else f"{params / 1e6:,.0f}M"
        reason = (
            f"learning rate {lr:g} is above {REFUSED_LR:g} on a model with {size} parameters "
            f"(< 13B): LoRA at such rates overwrites what the base model knows, which is "
            f"exactly the general-reasoning loss the gate guards against"
        )
        if not force:
            raise GuardError(reason + "; pass --force to insist")
        warnings.append(reason + " (forced)")
    elif not RECOMMENDED_LR[0] <= lr <= RECOMMENDED_LR[1]:
        warnings.append(
            f"learning rate {lr:g} is outside the recommended {RECOMMENDED_LR[0]:g}…"
            f"{RECOMMENDED_LR[1]:g}"
        )
    return warnings


def check_examples(n: int) -> str | None:
    """A warning when the number of training examples is outside 500–5,000."""
    low, high = RECOMMENDED_EXAMPLES
    if n < low:
        return (
            f"{n} training examples: fewer than the recommended {low:,}; the adapter may "
            "learn little, and the gate's small samples are noisy"
        )
    if n > high:
        return (
            f"{n:,} training examples: more than the recommended {high:,}; consider fewer "
            "cycles or a smaller learning rate to keep general reasoning intact"
        )
    return None


def check(config: TrainConfig, params: int | None) -> list[str]:
    """Every learning-rate guard of a config (raises GuardError when one refuses)."""
    out: list[str] = []
    for stage, lr in (("sft", config.sft.learning_rate), ("dpo", config.dpo.learning_rate)):
        out.extend(f"{stage}: {w}" for w in check_learning_rate(lr, params, config.force))
    return out
