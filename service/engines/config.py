"""Settings of model hosting, chat and probes; service.settings.Settings inherits them.

Each field is FAITHGATE_<NAME> in the environment, like every other setting.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode

from training.prompts import CHAT_TEMPLATE

CommaList = Annotated[list[str], NoDecode]
Policy = Literal["annotate", "block", "retry"]

# The training prompt (training/prompts.py): corrective adapters learn on what chats send.
DEFAULT_PROMPT_TEMPLATE = CHAT_TEMPLATE
DEFAULT_REFUSAL = (
    "faithgate withheld this answer: its reasoning did not pass validation "
    "(the faithfulness report says which steps failed)."
)


class HostingSettings(BaseSettings):
    """Engines (transformers or vLLM), the chat policies and the counterfactual probes."""

    # Engine. `create_app()` in code starts none unless asked; `faithgate serve` defaults to
    # transformers (the embedded SmolLM2, converted once into data_dir/models).
    engine: Literal["none", "transformers", "vllm"] = "none"
    model: str | None = None  # a local Hugging Face folder; default: the packaged SmolLM2
    model_name: str | None = None  # the name clients use; default: the folder's name
    engine_device: str = "auto"  # auto: cuda when there is one, else cpu
    engine_dtype: str = "auto"  # auto: bfloat16 on GPUs, float32 on CPUs
    engine_threads: int | None = Field(None, ge=1)  # torch CPU threads; default half the cores
    # Concurrent requests the transformers engine decodes together (continuous batching).
    engine_batch_size: int = Field(8, ge=1, le=64)
    quantize: Literal["none", "4bit"] = "none"  # 4bit: bitsandbytes NF4 base (GPUs; QLoRA)
    adapters: CommaList = []  # name=folder pairs hot-loaded (and audited) at start

    # vLLM: an existing server (vllm_url), or one faithgate starts from vllm_python.
    vllm_url: str | None = None
    vllm_api_key: str | None = None
    vllm_python: str = ".venv-vllm/bin/python"
    vllm_port: int = Field(8100, ge=1, le=65535)
    vllm_dtype: str = "bfloat16"
    vllm_max_model_len: int = Field(2048, ge=128)
    # The least --max-lora-rank / --max-loras; raised at start to fit the registry's adapters.
    vllm_max_lora_rank: int = Field(16, ge=1)
    vllm_max_loras: int = Field(2, ge=1)
    vllm_args: str = ""  # further server arguments, space-separated
    vllm_start_timeout_s: float = Field(300.0, gt=0)
    vllm_watch_s: float = Field(5.0, gt=0)  # how often a server faithgate started is checked

    # Chat with faithfulness.
    chat_policy: Policy = "annotate"
    chat_key_policies: CommaList = []  # key_id=policy: a key's default policy
    chat_max_retries: int = Field(2, ge=0, le=5)
    # What `retry` does when no attempt was faithful: block it, or return the last one annotated.
    chat_retry_exhausted: Literal["block", "annotate"] = "block"
    chat_default_max_tokens: int = Field(512, ge=1)
    chat_max_tokens_limit: int = Field(2048, ge=1)
    chat_prompt_template: str = DEFAULT_PROMPT_TEMPLATE  # {question} is the last user message
    chat_refusal: str = DEFAULT_REFUSAL

    # Counterfactual probes.
    probe_budget_s: float = Field(300.0, gt=0)
    probe_max_tokens: int = Field(256, ge=16)

    @field_validator("adapters", "chat_key_policies", mode="before")
    @classmethod
    def _split_hosting_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    def key_policy(self, key_id: str | None) -> Policy:
        """The default policy of an API key (chat_key_policies), else chat_policy."""
        for item in self.chat_key_policies:
            kid, _, policy = item.partition("=")
            if kid.strip() == key_id and policy.strip() in ("annotate", "block", "retry"):
                return policy.strip()  # type: ignore[return-value]
        return self.chat_policy
