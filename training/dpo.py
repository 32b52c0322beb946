"""Preference tuning on (passing, flagged) chain pairs: a config beside a DPOTrainer wrapper."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from training.model import Loaded, match_adapter_dtype, unpack_for_training, warmup_steps
from training.progress import Progress, trainer_callback


@dataclass
class DPOStageConfig:
    r"""The DPO stage of each refinement cycle (turned into TRL's `DPOConfig`).

    The reference policy is the adapter as SFT left it in the same cycle: TRL copies the PEFT
    adapter into a frozen "ref" adapter, so no second model is loaded.

    Parameters:
        learning_rate (`float`, defaults to `1e-5`):
            Peak learning rate (same guards as SFT).
        beta (`float`, defaults to `0.1`):
            Strength of the pull towards the reference policy (higher: smaller deviation).
        loss_type (`str`, defaults to `"sigmoid"`):
            TRL DPO loss (`sigmoid` is the DPO paper's; `ipo`, `hinge`, … are accepted).
        max_steps (`int`, defaults to `30`):
            Optimizer steps per cycle.
        per_device_train_batch_size (`int`, defaults to `2`):
            Pairs per step per device (each pair is two sequences through two adapters).
        gradient_accumulation_steps (`int`, defaults to `1`):
            Steps accumulated before each optimizer update.
        max_length (`int`, defaults to `512`):
            Tokens per sequence (prompt + chosen or rejected).
        warmup_steps (`float`, defaults to `0.1`):
            Linear warm-up from 0: a count of steps, or a share of them when below 1;
            floored and held to at most a third of max_steps, so that most steps train.
        lr_scheduler_type (`str`, defaults to `"cosine"`):
            Learning-rate schedule after warm-up.
        max_grad_norm (`float`, defaults to `1.0`):
            Gradient clipping norm.
        logging_steps (`int`, defaults to `1`):
            Log the loss every this many steps.
    """

    learning_rate: float = field(default=1e-5, metadata={"help": "Peak learning rate."})
    beta: float = field(default=0.1, metadata={"help": "DPO beta."})
    loss_type: str = field(default="sigmoid", metadata={"help": "DPO loss type."})
    max_steps: int = field(default=30, metadata={"help": "Optimizer steps per cycle."})
    per_device_train_batch_size: int = field(default=2, metadata={"help": "Pairs per step."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Accumulation."})
    max_length: int = field(default=512, metadata={"help": "Tokens per sequence."})
    warmup_steps: float = field(default=0.1, metadata={"help": "Warm-up steps or share."})
    lr_scheduler_type: str = field(default="cosine", metadata={"help": "LR schedule."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping."})
    logging_steps: int = field(default=1, metadata={"help": "Logging interval."})

    def to_trl(self, output_dir: str, loaded: Loaded, seed: int) -> Any:
        """TRL's DPOConfig for one cycle on this device (bf16 only on a GPU)."""
        from trl import DPOConfig

        # Every field is a DPOConfig argument of the same name (loss_type as a one-item list).
        stage = {
            **asdict(self),
            "loss_type": [self.loss_type],
            "warmup_steps": warmup_steps(self.warmup_steps, self.max_steps),
        }
        return DPOConfig(**loaded.trainer_args(output_dir, seed), **stage)


def run_dpo(
    loaded: Loaded,
    model: Any,
    rows: list[dict],
    cfg: DPOStageConfig,
    output_dir: str,
    progress: Progress,
    seed: int = 0,
) -> tuple[Any, list[float], list[float]]:
    """Train one DPO stage on the PEFT model; returns (the model, losses, step seconds).

    The temporary "ref" adapter TRL adds is deleted afterwards, so only the trained adapter is
    saved and the next cycle's reference is again the adapter as it then stands.
    """
    from datasets import Dataset
    from peft import PeftModel
    from trl import DPOTrainer

    callback = trainer_callback(progress)
    trainer = DPOTrainer(
        model=model,
        args=cfg.to_trl(output_dir, loaded, seed),
        train_dataset=Dataset.from_list(rows),
        processing_class=loaded.tokenizer,
        callbacks=[callback],
        # Only when no SFT stage ran before: the adapter starts here, the base is the reference.
        peft_config=None if isinstance(model, PeftModel) else loaded.lora,
    )
    match_adapter_dtype(trainer.model, loaded.compute_dtype)
    unpack_for_training(trainer.model)
    try:
        trainer.train()
    finally:
        trained = trainer.model
        if "ref" in getattr(trained, "peft_config", {}):
            trained.set_adapter("default")
            trained.delete_adapter("ref")
    progress.check()
    return trained, callback.losses, callback.step_s
