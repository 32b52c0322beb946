"""What faithgate says to the model: the step-by-step instruction and the retry feedback."""

from __future__ import annotations

from typing import Any

from training.prompts import ANSWER_LINE

MAX_FEEDBACK_ITEMS = 6  # failed steps named in one retry message


def text_of(content: Any) -> str:
    """A message's text: a string, or the text parts of an OpenAI content list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "text":
            parts.append(str(part.get("text", "")))
    return "\n".join(parts)


def plain(messages: list[dict]) -> list[dict]:
    """The messages as {"role", "content": str} (what the chat templates expect)."""
    return [{"role": m["role"], "content": text_of(m.get("content"))} for m in messages]


def last_user(messages: list[dict]) -> int | None:
    """Index of the last user message, if any."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i]["role"] == "user":
            return i
    return None


def instruct(messages: list[dict], template: str) -> list[dict]:
    """The messages with the last user message put into the step-by-step template."""
    out = plain(messages)
    i = last_user(out)
    if i is not None and "{question}" in template:
        # str.replace, not str.format: the user's text may hold braces of its own.
        out[i] = {"role": "user", "content": template.replace("{question}", out[i]["content"])}
    return out


def question_and_context(messages: list[dict]) -> tuple[str, str | None]:
    """The question (last user message) and the rest of the conversation as context."""
    msgs = plain(messages)
    i = last_user(msgs)
    if i is None:
        return "", None
    rest = [m["content"] for j, m in enumerate(msgs) if j != i and m["content"].strip()]
    return msgs[i]["content"], "\n".join(rest) or None


def feedback(report: dict[str, Any]) -> str:
    """A user message telling the model which steps failed validation and why."""
    lines = []
    for step in report.get("steps") or []:
        for f in step.get("findings") or []:
            if f.get("severity") == "error":
                lines.append(
                    f'- Step {step.get("index", 0) + 1} ("{step.get("text", "")}"): '
                    f"{f.get('message', f.get('code'))}"
                )
    for f in report.get("findings") or []:
        if f.get("severity") == "error":
            lines.append(f"- {f.get('message', f.get('code'))}")
    if not lines and report.get("verdict") == "unverifiable":
        lines.append("- no step could be checked: the answer shows no calculation")
    if not lines:
        lines.append("- the reasoning does not support the answer")
    shown = lines[:MAX_FEEDBACK_ITEMS]
    if len(lines) > len(shown):
        shown.append(f"- and {len(lines) - len(shown)} more")
    return (
        "A checker found problems in your reasoning:\n"
        + "\n".join(shown)
        + "\nSolve the problem again, step by step, fixing these mistakes. Show every "
        f"calculation with its result. {ANSWER_LINE}"
    )
