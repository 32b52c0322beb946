"""One prompt for training, the gate and the service's chats (training/prompts.py)."""

from __future__ import annotations

from service.chat.prompts import feedback, instruct
from service.engines.config import HostingSettings
from training.prompts import ANSWER_LINE, prompt_messages, solution_text, trim_generation

QUESTION = "A shop sells pens at $3 each. How much do 4 pens cost? {not a placeholder}"


def test_the_service_default_chat_prompt_is_the_training_prompt() -> None:
    template = HostingSettings().chat_prompt_template
    served = instruct([{"role": "user", "content": QUESTION}], template)
    assert served == prompt_messages(QUESTION)


def test_the_answer_line_asked_for_is_the_one_training_writes_and_reads() -> None:
    solution = solution_text(["4 * 3 = 12"], "12")
    assert solution.endswith("#### 12") and "'#### <answer>'" in ANSWER_LINE
    assert trim_generation(solution + "\nMore words") == solution
    retry = feedback({"verdict": "unverifiable", "steps": [], "findings": []})
    assert retry.endswith(ANSWER_LINE)
