"""What a chain's concluding step states, and which steps at its end only remark on it.

Linkage holds the answer against these: the values a concluding step states in any of the
ways models write a conclusion (a result, a closing sentence, a residue, a remainder, a
number in bold, "the final price is $41.40"), and the checks, contrasts and asides after it
("Check: …", "This is not …", "Fun fact: …"), which do not go on from it.
"""

from __future__ import annotations

import re
from fractions import Fraction

from validators.arithmetic.exact import Unevaluable, evaluate
from validators.arithmetic.extract import StepQuantities, numbers_in
from validators.arithmetic.tokens import tokens
from validators.text.answers import SCALE_WORDS
from validators.text.mathparse import rational
from validators.text.segment import SENTENCE_END
from validators.types import Analysis


def stated_conclusions(q: StepQuantities, text: str, markup: bool) -> set[Fraction]:
    """The values a concluding step states: its results, or with none its numbers ("So she has
    5 left.", "50 < 52"), and what it states in other forms (`is $\\frac{2}{3}$`, "1/6", a
    residue, a remainder, "... is 7.", "**4 times**", "no solutions")."""
    out = set(q.results)
    if not q.results and q.numbers:
        out.update(q.numbers)
        out.update(-v for v in numbers_in(" ".join(_NEGATIVE.findall(text))))
        if markup:  # "So there is exactly one vertical asymptote, $x = 3$." (in prose, "in
            # the first four months" names no result as often as one)
            out.update(_NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(text))
    elif q.results and not q.math_claims:
        out.update(_closing_statement(text))
    out.update(v for v in map(rational, q.values) if v is not None)
    out.update(_prose_fractions(text))
    out.update(_residues(text))
    out.update(_remainders(text))
    out.update(_closing_values(text))
    out.update(emphasised(text))
    if _NONE.search(text):
        out.add(Fraction(0))  # "So the parabola has no y-intercepts." answers 0
    return out


def rarer_conclusions(q: StepQuantities, text: str, markup: bool) -> set[Fraction]:
    """What a concluding step states in rarer forms, read only for an answer that is none of
    its usual ones: a division written with its remainder (`5050 = 7 \\cdot 721 + 3`),
    thousands grouped by dots ("1.840 €"), in prose one expression after a label ("Result: 6 ×
    10^9")."""
    out = _divisions(text) if "+" in text else set()
    if "." in text:
        out.update(_dot_grouped(text))
    if not markup:
        out.update(_bare_expression(text, labelled=not q.results))
    outside, asides = _PARENTHESISED_CLAIM.subn(" ", text) if "(" in text else (text, 0)
    if asides:  # (tokens, not numbers_in: "4 1/2 more hours" is 4.5)
        out.update(t.value for t in tokens(outside) if t.kind == "num" and t.value is not None)
    out.update(-Fraction(n.replace(",", "")) for n in _DECREASE.findall(text))
    out.update(-Fraction(n.replace(",", "")) for n in _DECREASE_AFTER.findall(text))
    if "10" in text:  # "[H+] ≈ 3.98 × 10^(-8) M": one number in scientific notation
        for mantissa, sign, power in _SCIENTIFIC.findall(text):
            exponent = -int(power) if sign else int(power)
            out.add(Fraction(mantissa.replace(",", "")) * Fraction(10) ** exponent)
    for number, prefix in _PREFIXED_UNIT.findall(text):  # "216 kJ": 216000 (J)
        out.add(Fraction(number) * _PREFIXES[prefix])
    for listed in _LISTED.findall(text):  # "The integers are $26, 28, 30, 32$"
        out.update(numbers_in(listed))
    for number, word in _SCALED.findall(text):  # "₹3 lakh": 300000
        out.add(Fraction(number.replace(",", "")) * SCALE_WORDS[word.lower()])
    for whole, part in _TWO_UNITS.findall(text):
        # "22 minutes 30 seconds": 22.5 minutes, or 1350 seconds
        out.update({int(whole) + Fraction(int(part), 60), Fraction(int(whole) * 60 + int(part))})
    return out


# "so 7 gallons (6 gallons would cover only 6 × 350 = 2,100 square feet)": an aside that
# computes, inside the concluding sentence
_PARENTHESISED_CLAIM = re.compile(r"\([^()=]*=[^()]*\)")
# "decreased by 4%", "4% lower", "a loss of $40": a negative change, stated in words
_DECREASE = re.compile(
    r"\b(?:decrease[sd]?|dropped|fell|declined|loss)\s+(?:by\s+|of\s+)?\$?(\d[\d,]*(?:\.\d+)?)",
    re.I,
)
_DECREASE_AFTER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?%?\s+(?:lower|less|smaller|cheaper)\b", re.I)
_SCIENTIFIC = re.compile(
    r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*(?:[×x*·]|\\times|\\cdot)\s*10\s*\^\s*[({]?\s*([-−–])?\s*(\d{1,3})(?!\.?\d)"
)
# A quantity in a unit with a metric prefix, and the prefixes' factors
_PREFIXED_UNIT = re.compile(
    r"(?<![\d.,])(\d+(?:\.\d+)?)\s?([kMGTmµμn])(?:J|Wh|W|Pa|Hz|N|V|A|Ω|g|L|eV|s|m)(?![A-Za-z])"
)
_PREFIXES = {
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "m": Fraction(1, 10**3),
    "µ": Fraction(1, 10**6),
    "μ": Fraction(1, 10**6),
    "n": Fraction(1, 10**9),
}
_LISTED = re.compile(r"\$\s*(-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)+)\s*\$")
_SCALED = re.compile(rf"(\d[\d,]*(?:\.\d+)?)\s*({'|'.join(SCALE_WORDS)})s?\b", re.I)
# A duration in two units: "22 minutes 30 seconds", "2 hours and 15 minutes"
_TWO_UNITS = re.compile(
    r"(\d{1,4})\s*(?:hours?|hrs?|h|minutes?|mins?)\s*(?:and\s+)?(\d{1,2})\s*"
    r"(?:minutes?|mins?|seconds?|secs?)\b"
)


_NUMBER_NAMES = "zero one two three four five six seven eight nine ten eleven twelve"
_NUMBER_WORDS = {w: Fraction(i) for i, w in enumerate(_NUMBER_NAMES.split())}  # noqa: SIM905
_NUMBER_WORDS.update({"once": Fraction(1), "twice": Fraction(2), "thrice": Fraction(3)})
_NUMBER_WORD = re.compile(rf"\b(?:{'|'.join(_NUMBER_WORDS)})\b", re.I)
_BOLD = re.compile(r"\*\*([^*\n]{1,80})\*\*")


def emphasised(text: str) -> set[Fraction]:
    """Numbers a step sets in bold ("so she fills it **4 times**"): what it concludes."""
    if "**" not in text:
        return set()
    spans = _BOLD.findall(text)
    words = {_NUMBER_WORDS[w.lower()] for span in spans for w in _NUMBER_WORD.findall(span)}
    return words | {v for span in spans for v in numbers_in(span)}


# "Result: ", "Final answer: ": a label before a closing expression
_LABEL = re.compile(r"\s*[A-Za-z][A-Za-z ]{0,30}:")
_EXPRESSION_KINDS = frozenset(["num", "op", "(", ")"])


def _bare_expression(text: str, labelled: bool) -> set[Fraction]:
    """The value of a closing step that is one expression after its label (`labelled`:
    "Result: 6 × 10^9"), or that ends on one after its last `=` ("So 2.5 kWh = 9.0 × 10^6 J.",
    "= 1200 g = 1.2 kg"): in prose what a LaTeX span that is one value states."""
    out: set[Fraction] = set()
    if labelled:
        label = _LABEL.match(text)
        out = _expression_value(text[label.end() if label else 0 :].strip().rstrip("."), True)
    if "=" in text:
        out |= _expression_value(text[text.rindex("=") + 1 :], False)
    return out


def _expression_value(text: str, whole: bool) -> set[Fraction]:
    """The value of the expression a text is (`whole`, and computes) or begins with."""
    toks = tokens(text)
    end = next((k for k, t in enumerate(toks) if t.kind not in _EXPRESSION_KINDS), len(toks))
    if not toks or (whole and end < len(toks)):
        return set()
    if whole and not any(t.kind == "op" for t in toks):
        return set()  # (after the last `=` one number is a value too: "= 1200 g = 1.2 kg")
    try:
        return {evaluate(toks[:end])}
    except Unevaluable:
        return set()


# "Ana gana 1.840 € en 4 semanas.": thousands grouped by dots, as in much of Europe
_DOT_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+(?![\d,]|\.\d)")


def _dot_grouped(text: str) -> set[Fraction]:
    """Numbers whose dots may group thousands (`1.840`), read so: a conclusion either way."""
    return {Fraction(int(m.replace(".", ""))) for m in _DOT_GROUPED.findall(text)}


# "-12", "= −3", "**−$35**" (a sign before the currency)
_NEGATIVE = re.compile(r"(?:^|[=\s$({\[:,*])[-−]\s?[$£€₹]?\s?(\d[\d,]*(?:\.\d+)?)")


_NONE = re.compile(r"\b(?:no|none|zero)\b", re.I)
_PROSE_FRACTION = re.compile(r"(?<![\d.,/])(\d{1,6})\s?/\s?(\d{1,6})(?![\d,/]|\.\d)")


# `2^{10} \equiv 1 \pmod{11}`, `≡ -1 (mod 7)`: the residue a congruence states (the arithmetic
# reads no congruence, so it is no result; in number theory it is often the answer).
_RESIDUE = re.compile(
    r"(?:\\equiv|≡)\s*(-?)\s*(\d{1,6})(?![\d,^/{]|\.\d)"
    # `\equiv 2^2 = 4 \pmod 7`: the value a congruence's last side states
    r"|=\s*(-?)\s*(\d{1,6})\s*(?:\\pmod|\\bmod|\\mod\b|\(\s*mod\b)"
)


# "..., the last digit of $3^{2023}$ is 7.": the number the closing sentence ends on, after
# "is"; and `1101_2`, a numeral in another base, stated by its digits
_ENDS_ON = re.compile(r"\b(?:is|are|equals)\s+\$?(-?\d[\d,]*(?:\.\d+)?)\$?\s*[.!]?\s*$")
_BASE_NUMERAL = re.compile(r"(?<![\w.])(\d{1,12})_\{?\d{1,2}\}?")


def _closing_values(text: str) -> set[Fraction]:
    """The number the closing sentence ends on ("... is 7."), and numerals written in a base."""
    out = (
        {Fraction(int(digits)) for digits in _BASE_NUMERAL.findall(text)} if "_" in text else set()
    )
    ends_on_digit = text.rstrip().rstrip(".!").rstrip().rstrip("$")[-1:].isdigit()
    end = _ENDS_ON.search(text[-80:]) if ends_on_digit else None
    if end is not None:
        out.add(Fraction(end.group(1).replace(",", "")))
    return out


def _residues(text: str) -> set[Fraction]:
    """Values a congruence states as its residue."""
    if "equiv" not in text and "≡" not in text and "mod" not in text:
        return set()
    return {Fraction(int(s + d if d else t + e)) for s, d, t, e in _RESIDUE.findall(text)}


# "100 ÷ 7 = 14 R 2", "17 divided by 5 is 3 with a remainder of 2": a division's remainder,
# which the arithmetic holds beside the quotient (a question about what is left answers it)
_REMAINDER = re.compile(
    r"(?:(?<=\d)\s*R\.?|\brem\.?|\bremainders?(?:\s+(?:of|is|=))?)\s*\$?\s*(\d{1,6})(?!\d|[.,]\d)"
)


# `5050 = 7 \cdot 721 + 3`: a division with its remainder, written out
_DIVISION = re.compile(
    r"(?<![\d.])(\d{1,9})\s*=\s*(\d{1,9})\s*(?:\\cdot|\\times|[×*·])\s*(\d{1,9})\s*\+\s*(\d{1,9})"
    r"(?![\d.]|\s*(?:\\cdot|\\times|[×*·^/]))"
)


def _remainders(text: str) -> set[Fraction]:
    """Values the step states as a division's remainder ("R 2", "remainder 2")."""
    if "R" not in text and "rem" not in text:
        return set()
    return {Fraction(int(digits)) for digits in _REMAINDER.findall(text)}


def _divisions(text: str) -> set[Fraction]:
    """The remainders of divisions written out (`17 = 5 \\cdot 3 + 2` for 2)."""
    return {
        Fraction(int(r))
        for n, a, b, r in _DIVISION.findall(text)
        if int(n) == int(a) * int(b) + int(r) and int(r) < max(int(a), int(b))
    }


def _prose_fractions(text: str) -> set[Fraction]:
    """Values written as `a/b` in prose ("the probability is 1/6")."""
    if "/" not in text:
        return set()
    return {Fraction(int(a), int(b)) for a, b in _PROSE_FRACTION.findall(text) if int(b)}


_NUMERAL = r"(\d[\d,]*(?:\.\d+)?)"
_ANSWER_IS = re.compile(
    rf"{_NUMERAL} is the (?:final )?answer|(?:answer|final(?: [a-z]+){{1,2}}) is \$?{_NUMERAL}"
)


def _closing_statement(text: str) -> set[Fraction]:
    """Values prose names after its last computation: "... = 6 sodas. It takes Jerry 3 weeks
    to get down to 6 sodas.", "40+80=120, confirming that 80 is the answer"."""
    out = set()
    if "answer" in text or "final" in text:
        out = {Fraction((a or b).replace(",", "")) for a, b in _ANSWER_IS.findall(text)}
    cut = text.rfind("=")
    if cut >= 0:
        sentence_end = SENTENCE_END.search(text, cut)
        if sentence_end is not None:
            out.update(numbers_in(text[sentence_end.end() :]))
        # "... = 560 pages are done, so the job finishes during the 17th minute."
        so = _SO_CLAUSE.search(text, cut)
        if so is not None and "=" not in text[so.end() :]:
            out.update(numbers_in(text[so.end() :]))
    return out


_SO_CLAUSE = re.compile(r"[,;]\s+(?:so|therefore|thus|hence|which means)\b", re.I)


# A step that checks what came before: "Check: ...", "Let's verify", "Double-checking", "✓",
# also after a speaker's label ("**Tutor:** Let's check: ...")
_CHECKING = re.compile(
    r"^[\W\d_]*(?:step\s*\d+\W*)?(?:[A-Za-z]+:[\W_]*)?"
    r"(?:(?:let'?s|let us|let me|to|we can|i can|i'll|now|finally|as a|wait)\W+)*"
    r"(?:double[- ]?|quick\s+|sanity\s+)?"
    r"(?:check(?:ing|ed)?\b|verif|confirm|make\s+sure\b|indeed\b)",
    re.I,
)


# A step that opens by setting another value against the result: "This is not (60 + 40) ÷ 2 =
# 50.", "Not 48 - 14 = 34, because ...", "A common mistake is ..." (a conclusion that says "is
# not joining" or "instead of 5 years" further on is none)
_CONTRAST = re.compile(
    r"^[\W\d_]*(?:note(?:\s+that)?\W+)?(?:(?:this|that|it)\s+(?:is\s+not|isn't)\b|not\b"
    r"|it(?:\s+is|'s)\s+tempting|(?:a|one|another)\s+(?:common\s+|typical\s+)?(?:mistake|error"
    r"|pitfall)|the\s+wrong\b|careful\b|beware\b|watch\s+out\b)",
    re.I,
)


# A step that opens as an aside: "Fun fact: …", "> Note: …", "(This underestimates …)",
# "Interestingly, …", "By the way, …"
_ASIDE = re.compile(
    # (and the equality case of a bound: "Equality holds when x = 3." after "≥ 2√9 = 6")
    r"^\W*(?:(?:side\s+)?note\b|fun\s+fact|(?:as\s+an\s+)?aside\b|interestingly|by\s+the\s+way"
    r"|(?:and\s+|with\s+)?equality\s+(?:holds|occurs|is\s+(?:attained|achieved|reached)|when|iff"
    r"|if|at)\b"
    r"|in\s+general\b|(?:for\s+)?example\b|e\.g\."
    r"|bonus\b|just\s+(?:as\s+a|to|for\s+a)\b)|^\s*\((?s:.*)\)[.\s]*$",
    re.I,
)


def closing_remarks(analysis: Analysis) -> int:
    """How many steps at the end of the chain only check, contrast or remark on the result
    before them."""
    n = 0
    for step in reversed(analysis.steps):
        text = step.text
        if not (
            _CHECKING.match(text)
            or "✓" in text
            or "✔" in text
            or "✅" in text
            or _CONTRAST.match(text)
            or _ASIDE.match(text)
        ):
            break
        n += 1
    return n
