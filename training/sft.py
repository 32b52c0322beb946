"""Supervised fine-tuning on corrected reasoning: a config beside a thin SFTTrainer wrapper."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from training.model import Loaded, match_adapter_dtype, unpack_for_training, warmup_steps
from training.progress import Progress, trainer_callback


@dataclass
class SFTStageConfig:
    r"""The SFT stage of each refinement cycle (turned into TRL's `SFTConfig`).

    Parameters:
        learning_rate (`float`, defaults to `2e-5`):
            Peak learning rate; the guards hold it to 1e-5…5e-5 and refuse > 1e-4 on models
            under 13B parameters unless forced.
        max_steps (`int`, defaults to `60`):
            Optimizer steps per cycle (a cycle is a bounded slice of training, not an epoch).
        per_device_train_batch_size (`int`, defaults to `4`):
            Examples per step per device.
        gradient_accumulation_steps (`int`, defaults to `1`):
            Steps accumulated before each optimizer update.
        max_length (`int`, defaults to `512`):
            Tokens per example (prompt + completion); longer ones are truncated.
        warmup_steps (`float`, defaults to `0.1`):
            Linear warm-up from 0: a count of steps, or a share of them when below 1;
            floored and held to at most a third of max_steps, so that most steps train.
        lr_scheduler_type (`str`, defaults to `"cosine"`):
            Learning-rate schedule after warm-up.
        weight_decay (`float`, defaults to `0.0`):
            AdamW weight decay.
        max_grad_norm (`float`, defaults to `1.0`):
            Gradient clipping norm.
        completion_only_loss (`bool`, defaults to `True`):
            Loss on the completion (the reasoning) only, not on the prompt.
        logging_steps (`int`, defaults to `1`):
            Log the loss every this many steps (progress reports the last logged loss).
    """

    learning_rate: float = field(default=2e-5, metadata={"help": "Peak learning rate."})
    max_steps: int = field(default=60, metadata={"help": "Optimizer steps per cycle."})
    per_device_train_batch_size: int = field(default=4, metadata={"help": "Batch size."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Accumulation."})
    max_length: int = field(default=512, metadata={"help": "Tokens per example."})
    warmup_steps: float = field(default=0.1, metadata={"help": "Warm-up steps or share."})
    lr_scheduler_type: str = field(default="cosine", metadata={"help": "LR schedule."})
    weight_decay: float = field(default=0.0, metadata={"help": "Weight decay."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping."})
    completion_only_loss: bool = field(default=True, metadata={"help": "Completion-only loss."})
    logging_steps: int = field(default=1, metadata={"help": "Logging interval."})

    def to_trl(self, output_dir: str, loaded: Loaded, seed: int) -> Any:
        """TRL's SFTConfig for one cycle on this device (bf16 only on a GPU)."""
        from trl import SFTConfig

        # Every field is an SFTConfig argument of the same name.
        stage = {**asdict(self), "warmup_steps": warmup_steps(self.warmup_steps, self.max_steps)}
        return SFTConfig(**loaded.trainer_args(output_dir, seed), **stage, dataset_num_proc=None)


def run_sft(
    loaded: Loaded,
    model: Any,
    rows: list[dict],
    cfg: SFTStageConfig,
    output_dir: str,
    progress: Progress,
    seed: int = 0,
) -> tuple[Any, list[float], list[float]]:
    """Train one SFT stage; returns (the PEFT model, losses, step seconds).

    `model` is the base model on the first cycle (a LoRA adapter is attached here) and the
    PEFT model afterwards (its adapter keeps training).
    """
    from datasets import Dataset
    from peft import PeftModel
    from trl import SFTTrainer

    callback = trainer_callback(progress)
    trainer = SFTTrainer(
        model=model,
        args=cfg.to_trl(output_dir, loaded, seed),
        train_dataset=Dataset.from_list(rows),
        processing_class=loaded.tokenizer,
        peft_config=None if isinstance(model, PeftModel) else loaded.lora,
        callbacks=[callback],
    )
    match_adapter_dtype(trainer.model, loaded.compute_dtype)
    unpack_for_training(trainer.model)
    trainer.train()
    progress.check()
    return trainer.model, callback.losses, callback.step_s
