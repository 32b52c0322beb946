"""Corrective fine-tuning: flagged cases -> SFT/DPO data -> QLoRA adapters -> evaluation gate.

Modules: prompts (the answer format), generator (verified general problems), cases/data/mix/
dedup (datasets), model/sft/dpo (QLoRA training, a config beside each trainer), engine/gate
(evaluation), registry (adapters on disk), pipeline (the run), report (JSON and chart).
Uses validators/ to judge; knows nothing about HTTP.
"""
