"""How a question is put to the model and how a step-by-step answer is written back.

One format everywhere: the SFT completions, the DPO pairs, the evaluation gate's prompts, the
generated general-reasoning problems and the service's default chat template all use it, so
what the adapter learns is exactly what the gate and the service ask for.
"""

from __future__ import annotations

import re

from validators.text.segment import find_answer, strip_annotations

ANSWER_LINE = "End with a last line of the form '#### <answer>'."
STEP_INSTRUCTION = (
    "Solve the problem step by step. Write each step on its own line and show every "
    f"calculation with its result (for example 48 / 2 = 24). {ANSWER_LINE}"
)
# The service's default chat template (FAITHGATE_CHAT_PROMPT_TEMPLATE) is this same prompt, so
# a corrective adapter is trained, gated and served on one prompt.
CHAT_TEMPLATE = "{question}\n\n" + STEP_INSTRUCTION
_FINAL_LINE = re.compile(r"^\s*#{2,}\s*\S", re.M)


def user_content(question: str, context: str | list[str] | None = None) -> str:
    """The user turn: the question, its context if any, and the step-by-step instruction."""
    parts = []
    if context:
        text = "\n".join(context) if isinstance(context, list) else context
        parts.append(f"Context:\n{text.strip()}")
    parts.append(question.strip())
    parts.append(STEP_INSTRUCTION)
    return "\n\n".join(parts)


def prompt_messages(question: str, context: str | list[str] | None = None) -> list[dict]:
    """The prompt in OpenAI chat format (what the engine and TRL's chat template receive)."""
    return [{"role": "user", "content": user_content(question, context)}]


def solution_text(reasoning: str | list[str], answer: str | None = None) -> str:
    """Reasoning as step lines ending with '#### <answer>' (added when the text has none)."""
    if isinstance(reasoning, list):
        lines = [strip_annotations(s).strip() for s in reasoning]
        text = "\n".join(s for s in lines if s)
    else:
        text = strip_annotations(reasoning).strip()
    if _FINAL_LINE.search(text):
        return text
    final = answer if answer is not None else find_answer(text)
    if final is None or not str(final).strip():
        return text
    return f"{text}\n#### {str(final).strip()}"


def steps_of(reasoning: str | list[str]) -> list[str]:
    """The step lines of a reasoning (without the '#### answer' line)."""
    text = solution_text(reasoning) if isinstance(reasoning, list) else strip_annotations(reasoning)
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not _FINAL_LINE.match(ln)]


def trim_generation(text: str) -> str:
    """A generated answer cut after its '#### <answer>' line (models keep talking)."""
    match = _FINAL_LINE.search(text)
    if not match:
        return text.strip()
    end = text.find("\n", match.end())
    return (text if end < 0 else text[:end]).strip()
