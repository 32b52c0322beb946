"""Split reasoning into steps and find the final answer."""

from __future__ import annotations

import re

from validators.types import MAX_STEP_CHARS, MAX_STEPS, Chain, Step

# GSM8K's calculator annotations: `<<48/2=24>>`; a model never writes them.
_CALC_ANNOTATION = re.compile(r"<<[^<>]{0,500}>>")
# The label before a stated answer, as models write it: "Answer: 42", "**Answer:** 42", "The
# final answer is 42", and in the languages users ask in ("Réponse : 42", "答案是 42").
_EMPHASIS = r"(?:\*\*|__)?"
ANSWER_LABEL = (
    rf"{_EMPHASIS}\s*(?:(?:so|thus|therefore|hence),?\s+)?(?:(?:the|la|le|die|a|o)\s+)?"
    r"(?:final\s+)?(?:answer|respuesta|réponse|antwort|resposta|risposta|ответ|उत्तर|答案|答)"
    rf"\s*(?:(?:is|es|est|ist|é|è|是)(?![A-Za-z]))?\s*{_EMPHASIS}\s*[:：=]?\s*{_EMPHASIS}\s*"
)
_PLAIN_LABEL = r"(?:(?:so|thus|therefore|hence),?\s+)?(?:the\s+)?(?:final\s+)?answer\b"
_ANSWER_PATTERNS = [
    re.compile(r"^\s*#{2,}\s*(?P<a>.+?)\s*$", re.M),
    re.compile(r"^\s*#\s*Answer\s*\n\s*(?P<a>\S.*?)\s*$", re.M | re.I),  # PRM800K's heading
    re.compile(r"\\boxed\{(?P<a>(?:[^{}]|\{[^{}]*\})+)\}"),
    re.compile(
        r"^\s*(?:the\s+)?(?:final\s+)?answer\s*(?:is)?\s*[:=]\s*(?P<a>.+?)\s*\.?\s*$", re.I | re.M
    ),
    # a label in bold or in another language (plain English is read above), a value after it
    re.compile(
        rf"^\s*(?!{_PLAIN_LABEL}){ANSWER_LABEL}(?P<a>[^\s*].*?)\s*\.?\s*$",
        re.I | re.M,
    ),
    re.compile(
        r"^\s*(?:so\s+|thus\s+|therefore\s+)?the\s+(?:final\s+)?answer\s+is\s*:?\s*(?P<a>.+?)\s*\.?\s*$",
        re.I | re.M,
    ),
]
# A line that only announces the answer carries no reasoning of its own ("Answer: $66 - 3
# \cdot 15 = 21$." computes, and is a step).
_ANSWER_ONLY_LINE = re.compile(
    r"^\s*(?:#{2,}.*|#\s*answer\s*\n\s*[^\n]*|(?:the\s+)?(?:final\s+)?answer\s*(?:is)?\s*:[^=]*|\\boxed\{[^{}]*\}\.?|"
    r"(?:(?:so|thus|therefore|hence),?\s+)?the\s+(?:final\s+)?answer\s+is\s*:?[^=]{0,60})\s*$",
    re.I,
)
_LABEL_ONLY_LINE = re.compile(rf"^\s*(?!{_PLAIN_LABEL}){ANSWER_LABEL}[^=\n]{{0,60}}\s*$", re.I)
# Pieces of the labels written in ASCII (Answer, Antwort, Respuesta, Resposta, Risposta), looked
# for before the pattern: most lines have none
_ASCII_LABEL_PIECES = ("nswer", "NSWER", "ntwort", "spuest", "spost")


def _answer_only(line: str) -> bool:
    """A line that only announces the answer ("#### 72", "**Answer:** 72", "Réponse : 72")."""
    if _ANSWER_ONLY_LINE.match(line):
        return True
    if line.isascii():
        for piece in _ASCII_LABEL_PIECES:
            if piece in line:
                return _LABEL_ONLY_LINE.match(line) is not None
        return False
    return _LABEL_ONLY_LINE.match(line) is not None


_STEP_PREFIX = re.compile(r"^\s*(?:step\s*\d+\s*[:.)-]|\d+\s*[.)]\s+(?=\D)|[-*•]\s+)", re.I)
_NUMBERED_LINE = re.compile(r"^\s*(?:step\s*\d+\s*[:.)-]|\d+\s*[.)]\s+\D)", re.I | re.M)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z$\\(\[])")


def strip_annotations(text: str) -> str:
    """Remove GSM8K calculator annotations so the text reads as a model writes it."""
    return _CALC_ANNOTATION.sub("", text)


def find_answer(text: str) -> str | None:
    """The final answer a reasoning text states ("#### 72", "The answer is 72", \\boxed{72})."""
    for pattern in _ANSWER_PATTERNS:
        matches = list(pattern.finditer(text))
        if matches:
            return matches[-1].group("a").strip()
    return None


_ABBREVIATION = re.compile(
    r"(?:\b(?:v|vs|U\.S|Cir|No|Inc|Co|Corp|Dr|Mr|Mrs|Ms|St|Jr|e\.g|i\.e|etc|approx|Fig|Art|Sec)\.|"
    r"\b[A-Z]\.)$"
)


def _sentences(line: str) -> list[str]:
    """Sentences of one line; "Brown v. Board" and "U.S. Code" are not sentence ends."""
    out: list[str] = []
    for piece in SENTENCE_END.split(line):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return [s.strip() for s in out if s.strip()]


# Display math that spans lines: `\\[`…`\\]`, `$$`…`$$`, `\\begin{align}`…`\\end{align}`.
_DISPLAY_OPEN = re.compile(r"\\\[|\\begin\{")
_DISPLAY_CLOSE = re.compile(r"\\\]|\\end\{")
_DISPLAY_START = re.compile(r"\\\[|\$\$|\\begin\{")
MAX_DISPLAY_LINES = 60


def _display_change(line: str, depth: int) -> int:
    """How a line changes the number of display blocks left open."""
    if "$$" in line:  # `$$` opens and closes alike: an odd count flips the state
        return (-1 if depth else 1) if line.count("$$") % 2 else 0
    return len(_DISPLAY_OPEN.findall(line)) - len(_DISPLAY_CLOSE.findall(line))


def _join_displays(lines: list[str]) -> list[str]:
    """Lines inside one display block become one line: a formula is never cut in two."""
    out: list[str] = []
    depth, held = 0, 0
    for line in lines:
        if depth > 0 and held < MAX_DISPLAY_LINES:
            out[-1] = f"{out[-1]}\n{line}"
            held += 1
        elif out and out[-1].endswith(":") and _DISPLAY_START.match(line):
            out[-1] = f"{out[-1]}\n{line}"  # "we need to verify if:" + its display
            depth, held = 0, 1
        else:
            out.append(line)
            depth, held = 0, 0
        depth = max(0, depth + _display_change(line, depth))
    return out


def _split_text(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if "\\" in text or "$$" in text:
        lines = _join_displays(lines)
    if len(lines) == 1 and not _NUMBERED_LINE.search(text):
        return _sentences(lines[0])
    return lines


def step_body(text: str) -> str:
    """A step's text without its "Step 3:" / "3." / bullet prefix."""
    return _STEP_PREFIX.sub("", text, count=1)


def unlabelled(text: str) -> str:
    """A step's text with its list label ("3. ", "Step 2:", "- ") blanked out.

    A label counts steps, not things: read as a quantity, "3. The third step is to find the
    plants that survive." stated 3, and an answer no step computed was "not what the steps
    give (3)". Spaces keep the length, so offsets into the text still hold.
    """
    m = _STEP_PREFIX.match(text)
    return text if m is None else " " * m.end() + text[m.end() :]


def segment(chain: Chain) -> tuple[list[Step], str | None, bool]:
    """The steps (capped in count and size), the answer, and whether it is just the last line."""
    if isinstance(chain.reasoning, list):
        raw = [strip_annotations(s).strip() for s in chain.reasoning]
        raw = [s for s in raw if s]
        full = "\n".join(raw)
    else:
        full = strip_annotations(chain.reasoning)
        raw = _split_text(full)
    answer = chain.answer.strip() if chain.answer is not None else find_answer(full)
    inferred = answer is None and bool(raw)
    if inferred:
        answer = raw[-1]
    texts = [t for t in raw if not _answer_only(t)] or raw
    steps = []
    for i, text in enumerate(texts[:MAX_STEPS]):
        step = Step(index=i, text=text)
        if len(text) > MAX_STEP_CHARS:
            step.unchecked_reason = f"step longer than {MAX_STEP_CHARS} characters"
        steps.append(step)
    return steps, answer, inferred
