"""The tokens of a step's arithmetic: lexing, mixed numbers, word operators and units.

`tokens(text)` reads a step into numbers, operators, `=`, parentheses, unknowns and
separators (`5 hours * 3` -> 5 * 3, `half of 10` -> 1/2 * 10, `4 plus 2 is 6` -> 4 + 2 = 6);
`runs(tokens)` cuts out the runs of mathematics that state a result.
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

from validators.arithmetic.exact import Tok, Unevaluable, number_value

# Spaces and currency signs separate tokens but are none themselves; each token pattern is
# preceded by them (possessively, so that `other` never takes a space), which halves the
# matches a step costs. A line break is a token of its own (`nl`): it may end the mathematics.
#
# The gap is one character class, not the alternation `(?:[$€£¥₹]|[^\S\n])` it stands for
# (which the regex engine enters once per character): every white-space character but the
# line break, listed (the ones `\s` matches in a str pattern, which test_fast_paths checks).
_SPACES = "\t\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_GAP = rf"[$€£¥₹{_SPACES}]"
# A numeral: `1,200.50`, `1,76,400` (Indian grouping: lakhs, crores), `48`, `3.2e5`, `.5`
# (`(?!,*\d)`: see extract._NUMBER).
NUMBER = (
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!,*\d)|\d{1,2}(?:,\d\d){1,6},\d{3}(?:\.\d+)?(?!,*\d)"
    r"|\d+(?:\.\d+)?(?:[eE][-+]?\d{1,2}(?![A-Za-z\d]))?|\.\d+"
)
_WORD = r"[A-Za-z]+(?:[-'’][A-Za-z]+)*"
_ALTERNATIVES = (
    r"(?P<nl>\n\s*)"
    rf"|(?P<word>{_WORD})"
    r"|(?P<time>\d{1,2}:[0-5]\d(?!\d))"
    r"|(?P<lead0>0\d+)"
    rf"|(?P<num>{NUMBER})"
    r"|(?P<pct>%)"
    r"|(?P<op>\*\*|[-+*/×÷^·−–])"
    r"|(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)|(?P<root>[√∛∜])|(?P<vulgar>[¼½¾⅐-⅞])"
    r"|(?P<eq>≈|~=|≅|=)"
    r"|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<other>.)"
)
_TOKEN = re.compile(rf"{_GAP}*+(?:{_ALTERNATIVES})", re.S)
_ROOT_INDICES = {"²": "√", "³": "∛", "⁴": "∜"}
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_TERM = re.compile(r"[-+]|\d+")
# "1¼", "2 ¾", "½": the vulgar fractions, a number's fractional part or a number themselves
_VULGAR = {c: Fraction(unicodedata.numeric(c)).limit_denominator(10) for c in "¼½¾⅐⅑⅒⅓⅔⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞"}
_OPS = {"**": "^", "×": "*", "÷": "/", "·": "*", "−": "-", "–": "-"}
_MULT_WORDS = {"x", "X", "times", "multiplied"}
_VERBAL_OPS = {"plus": "+", "minus": "-", "times": "*", "multiplied": "*", "divided": "/"}
_EQ_WORDS = {"is", "are", "equals", "equal", "makes", "gives", "yields", "was", "were"}
_ROUND_WORDS = {"about", "approximately", "roughly", "around", "nearly", "almost", "approx"}
_FRACTION_WORDS = {"half": Fraction(1, 2), "third": Fraction(1, 3), "quarter": Fraction(1, 4)}
# "time and a half of $20", "one and a half of them": the fraction ends a multiplier (1½ ×),
# it does not take the fraction of what follows
_AND_A = re.compile(rf"(?<![A-Za-z])and{_GAP}+a{_GAP}+$", re.I)
# Words that end a unit phrase: "5 apples and 3 ..." is not "5 apples + ...".
_NOT_UNITS = {
    "of",
    "and",
    "or",
    "so",
    "then",
    "but",
    "because",
    "which",
    "that",
    "to",
    "is",
    "are",
    "was",
    "were",
    "the",
    "he",
    "she",
    "they",
    "it",
    "we",
    "you",
    "i",
    "if",
    "for",
    "from",
    "with",
}

MAX_UNIT_WORDS = 4
# Words that may describe a quantity between it and `=`: "12 + 4 extra donuts for the party ="
_PHRASE_WORDS = {"of", "the", "to", "for", "from", "with"}
MAX_PHRASE_WORDS = 6

# Runs of prose. After a quiet token (the start, a line break, punctuation, `=`, or a word
# that _normalise always makes a separator or `=`: `the`, `to`, `is`) nothing before a word is
# a quantity: no unit can begin there, `of` cannot follow a percentage and `is` cannot close a
# sum. So _normalise makes every word up to the next other token a separator (each one ending
# a word operator's segment), except a fraction word (`half of`), a rounding word (`= about
# 5`), `x`, and a letter beside an operator (an unknown, see _beside_operator). Such a run of
# words is lexed as one `prose` token, which _normalise turns into one separator likewise.
_OPERATOR_CHARS = r"+\-*/=^(×÷"
_PROSE_WORD = (
    # (the case-insensitive words are tried only at a letter one of them starts with: the
    # first character class fails fast on the other words; `sqrt(` is the root, in ASCII)
    r"(?!sqrt\()(?!(?=[aAhHnNqQrRtT])"
    rf"(?i:{'|'.join(sorted({*_FRACTION_WORDS, *_ROUND_WORDS}))})(?![A-Za-z]|[-'’][A-Za-z]))"
    r"(?>[A-Za-z]{2,}(?:[-'’][A-Za-z]+)*|[A-Za-z](?:[-'’][A-Za-z]+)+"
    # a single letter other than x, with no operator within three characters either side
    rf"|(?<![{_OPERATOR_CHARS}])(?<![{_OPERATOR_CHARS}]\s)(?<![{_OPERATOR_CHARS}]\s\s)"
    r"[A-WYZa-wyz](?![A-Za-z]|[-'’][A-Za-z])(?!\s{0,2}[+\-*/=^)×÷]))"
)
_QUIET_TOKEN = re.compile(
    rf"{_GAP}*+(?:(?P<prose>(?=[A-Za-z]){_PROSE_WORD}(?:{_GAP}++{_PROSE_WORD})*)|{_ALTERNATIVES})",
    re.S,
)
# Words that _normalise always makes a separator (or `=`) and at which every unit run stops,
# unless they follow a slash (`$6/is`: skipped as a rate's unit); other quiet tokens.
_QUIET_WORDS = (_NOT_UNITS - {"of", "and"}) | _EQ_WORDS
_QUIET_KINDS = {"other", "eq"}


_new = tuple.__new__  # Tok(...) without NamedTuple's Python-level __new__: lexing makes many
_match_quiet, _match_token = _QUIET_TOKEN.match, _TOKEN.match


def _lex(text: str) -> list[Tok]:
    """Raw tokens of a step; `start` is the character offset, used to tell `2(` from `2 (`."""
    raw: list[Tok] = []
    append = raw.append
    pos, quiet = 0, True
    mergeable = False  # a number followed by a number, "-" or "and": see _merge_mixed_numbers
    # The kind and text of raw[-1] ("" before the first token), kept at hand: nearly every
    # token reads one of them. The branches go by how often each kind comes (numbers first).
    last_kind = last_text = ""
    while m := (
        _match_quiet if quiet else _match_plain if last_kind in _VALUE_KINDS else _match_token
    )(text, pos):
        kind = m.lastgroup or ""  # (every alternative is a named group)
        start, pos = m.span(kind)  # the token closes the match
        s = text[start:pos]
        if kind == "num":
            if last_kind == "num":
                mergeable = True
            try:
                append(_new(Tok, ("num", s, number_value(s), start)))
                last_kind = "num"
            except Unevaluable:
                append(_new(Tok, ("big", s, None, start)))
                last_kind = "big"
            quiet = False
        elif kind == "word":
            if len(s) == 1:
                last_kind = "var" if _beside_operator(text, start, pos, s) else "word"
                append(_new(Tok, (last_kind, s, None, start)))
                quiet = False
            elif s == "sqrt" and text[pos : pos + 1] == "(":
                append(_new(Tok, ("op", "√", None, start)))  # "sqrt(289)": the root, in ASCII
                last_kind = "op"
                quiet = False
            else:
                # "6/is": the word after a slash is a rate's unit, skipped with it (_normalise)
                quiet = s.lower() in _QUIET_WORDS and last_text != "/"
                if s == "and" and last_kind == "num":
                    mergeable = True
                append(_new(Tok, ("word", s, None, start)))
                last_kind = "word"
        elif kind == "prose":
            append(_new(Tok, ("prose", s, None, start)))
            last_kind = "prose"
        elif kind == "op":
            if s == "-" and last_kind == "num" and _hyphenated(text, start, pos):
                continue  # "a 29-liter mixture", "5-year-old": a compound word, not a subtraction
            s = _OPS.get(s, s)
            if s == "-" and last_kind == "num":
                mergeable = True
            append(_new(Tok, ("op", s, None, start)))
            last_kind = "op"
            quiet = False
        elif kind == "nl":
            # A line break ends the mathematics unless the next line goes on with "=" or "≈".
            if text[pos : pos + 1] in ("=", "≈"):
                continue
            while start and text[start - 1].isspace():
                start -= 1  # the token starts where its run of white space does
            append(_new(Tok, ("sep", "\n", None, start)))
            last_kind, last_text = "sep", "\n"
            quiet = True
            continue
        elif kind == "sup":
            if last_kind == "word":
                continue  # "m²", "ft³": part of the unit
            if last_kind in ("num", ")", "var"):
                # "5²", "(2 + 3)²", "10⁸⁻⁵": a power; written "5 ^ 2", "10 ^ (8 - 5)"
                append(_new(Tok, ("op", "^", None, start)))
                terms = _SUPERSCRIPT_TERM.findall(s.translate(_SUPERSCRIPT_DIGITS))
                if len(terms) > 1:
                    append(_new(Tok, ("(", "(", None, start)))
                for term in terms:
                    if term.isdigit():
                        append(_new(Tok, ("num", term, number_value(term), start)))
                    else:
                        append(_new(Tok, ("op", term, None, start)))
                if len(terms) > 1:
                    append(_new(Tok, (")", ")", None, start)))
                last_kind, last_text = raw[-1].kind, raw[-1].text
                quiet = False
                continue
            append(_new(Tok, ("other", s, None, start)))
            last_kind = "other"
            quiet = True
        elif kind == "vulgar":
            part = _VULGAR[s]
            whole = raw[-1] if last_kind == "num" else None
            if whole is not None and whole.value is not None and whole.value.denominator == 1:
                # "1¼", "2 ¼": a mixed number
                raw[-1] = _new(Tok, ("num", whole.text + s, whole.value + part, whole.start))
            else:
                append(_new(Tok, ("num", s, part, start)))
            last_kind = "num"
            quiet = False
        elif kind == "root":
            # "√9 × 10": a prefix operator (evaluated where the root is exact); never dropped,
            # which would read "9 × 10"
            index = raw[-1] if last_kind == "other" and raw else None
            if index is not None and index.start + len(index.text) == start:
                if index.text not in _ROOT_INDICES:  # "⁵√32": no such root sign, not read
                    raw[-1] = _new(Tok, ("big", index.text, None, index.start))
                    continue
                raw.pop()  # "⁴√16" is ∜16, not √16
                s = _ROOT_INDICES[index.text]
            append(_new(Tok, ("op", s, None, start)))
            last_kind = "op"
            quiet = False
        elif kind == "lp" or kind == "rp":
            last_kind = "(" if kind == "lp" else ")"
            append(_new(Tok, (last_kind, s, None, start)))
            quiet = False
        elif kind == "other" and s == "°" and last_kind == "num" and not _an_angles_function(raw):
            continue  # "65° + 180° = 245°": the degree sign is the number's unit
        else:
            if kind == "lead0" and last_kind == "num":
                mergeable = True
            append(_new(Tok, (kind, s, None, start)))
            last_kind = kind
            quiet = kind in _QUIET_KINDS
        last_text = s
    return _merge_mixed_numbers(raw, text) if mergeable else raw


_TRIG_WORDS = frozenset(["sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan"])


def _an_angles_function(raw: list[Tok]) -> bool:
    """Whether the number just lexed is a trigonometric function's argument (`sin 30°`,
    `cos(60°)`): its degree sign ends the run, as the function's value is not read."""
    before = [t for t in raw[-3:-1] if t.kind != "("]
    if not before or before[-1].kind not in ("word", "prose"):
        return False
    return before[-1].text.rsplit(None, 1)[-1].lower() in _TRIG_WORDS  # (prose: words run)


def _hyphenated(text: str, start: int, end: int) -> bool:
    """A hyphen glued between a number and a word (`29-liter`)."""
    return text[start - 1 : start].isdigit() and text[end : end + 1].isalpha()


_UNIT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzµ/²³")


def _in_compound_unit(text: str, start: int, end: int) -> bool:
    """`2.54 m/s²`, `28.17 km/h`: the letter is part of a unit with a slash after a number and
    a space (not `3x/y`, nor `x/y` alone)."""
    first, last = start, end
    while first and text[first - 1] in _UNIT_CHARS:
        first -= 1
    while last < len(text) and text[last] in _UNIT_CHARS:
        last += 1
    unit = text[first:last]
    return (
        first >= 2
        and text[first - 1] == " "
        and text[first - 2].isdigit()
        and "/" in unit.strip("/")
        and unit[0] != "/"
        and unit[-1] != "/"
    )


def _beside_operator(text: str, start: int, end: int, letter: str) -> bool:
    """`x + 3`, `S = 847 / 7`, `(X+10)`: a single letter between operators is an unknown, and so
    is one raised to a power (`144 − 16t² = 0`) but for the units written squared (m², s²)."""
    if text[end : end + 1] in ("²", "³") and letter not in "ms":
        return True
    if "/" in text[max(0, start - 1) : end + 1] and _in_compound_unit(text, start, end):
        return False
    before = text[max(0, start - 3) : start].rstrip()
    after = text[end : end + 3].lstrip(" \t")  # (a bullet on the next line is no operator)
    if letter in "xX" and before[-1:].isdigit() and after[:1].isdigit():
        return False  # "5 x 2", "4x5", "75x 8": multiplication
    ops = "+-−–*/=^(×÷·"
    return bool(before and before[-1] in ops) or bool(after and after[0] in ops.replace("(", ")"))


def _space_groups(raw: list[Tok], i: int, text: str) -> int:
    """End of the space-separated 3-digit groups after raw[i] that are one number with it.

    They are when one group is 0-led ("18 000"), or right after `=` ("= 3 400" states 3400,
    not 3 and a 400) unless the last group begins a compound ("= 12 200-kilobyte videos").
    Otherwise i: the numbers stay apart.
    """
    t = raw[i]
    if t.kind != "num" or len(t.text) > 3 or not t.text.isdigit():
        return i
    j, zero_led = i + 1, False
    while j < len(raw) and raw[j].kind in ("num", "lead0") and len(raw[j].text) == 3:
        if raw[j].start != raw[j - 1].start + len(raw[j - 1].text) + 1 or not raw[j].text.isdigit():
            break
        zero_led = zero_led or raw[j].kind == "lead0"
        j += 1
    if zero_led:
        return j
    last = raw[j - 1]
    compound = text[last.start + len(last.text) : last.start + len(last.text) + 1] == "-"
    return j if i and raw[i - 1].kind == "eq" and not compound else i


def _merge_mixed_numbers(raw: list[Tok], text: str) -> list[Tok]:
    """`1 1/2` and `1 and 1/4` are one quantity, 3/2 and 5/4."""
    out: list[Tok] = []
    append = out.append
    i, n = 0, len(raw)
    while i < n:
        t = raw[i]
        nxt = raw[i + 1] if i + 1 < n else None
        # Every rule below starts at a number followed by a number, a hyphen or "and".
        if (
            t.kind != "num"
            or nxt is None
            or (nxt.kind not in ("num", "lead0") and nxt.text not in ("-", "and"))
        ):
            append(t)
            i += 1
            continue
        j = i + 1
        end = t.start + len(t.text)
        # spaced groups need a next token of three characters one space after this one
        spaced = j < n and raw[j].start == end + 1 and len(raw[j].text) == 3
        groups = _space_groups(raw, i, text) if spaced else i
        if groups > i + 1:
            # "18 000", "1 500 000": spaces as thousands separators
            joined = " ".join(g.text for g in raw[i:groups])
            out.append(Tok("num", joined, number_value(joined.replace(" ", "")), t.start))
            i = groups
            continue
        if (
            t.kind == "num"
            and j + 1 < n
            and raw[j].text == "-"
            and raw[j + 1].kind == "num"
            and raw[j].start == end
            and raw[j + 1].start == end + 1
            and t.value is not None
            and (upper := raw[j + 1].value) is not None
            and t.value < upper
            and (not out or out[-1].kind in ("word", "prose", "other", "sep"))
            and not (j + 2 < n and raw[j + 2].kind == "op")
        ):
            out.append(Tok("sep", t.text + "-" + raw[j + 1].text, None, t.start))  # "Weeks 1-2"
            i = j + 2
            continue
        # (a whole part right after a slash is a denominator: "4/12 and 3/4" are two; after
        # a division sign it is a whole part: "3 1/2 ÷ 1 3/4")
        whole = not out or out[-1].text != "/" or text[out[-1].start] == "÷"
        if whole and t.value is not None and t.value.denominator == 1:
            with_and = j < n and raw[j].text == "and"
            if with_and:
                j += 1
            if (
                j + 2 < n
                and raw[j].kind == "num"
                and raw[j + 1].text == "/"
                and raw[j + 2].kind == "num"
            ):
                num, den = raw[j].value, raw[j + 2].value
                spaced = raw[j].start > t.start + len(t.text)
                # an improper part only where a number is stated, written tight: "= 4 16/12"
                stated = not with_and and out and out[-1].kind == "eq"
                tight = raw[j + 2].start == raw[j].start + len(raw[j].text) + 1
                proper = num is not None and den and (num < den or (stated and tight))
                if spaced and proper and num is not None and den and num.denominator == 1:
                    written = f"{t.text} {raw[j].text}/{raw[j + 2].text}"
                    out.append(Tok("num", written, t.value + num / den, t.start))
                    i = j + 3
                    continue
        out.append(t)
        i += 1
    return out


# Words with a rule of their own in _normalise; any other word is a unit or a separator.
_RULE_WORDS = (
    set(_VERBAL_OPS)
    | {w.lower() for w in _MULT_WORDS}
    | {"of"}
    | set(_FRACTION_WORDS)
    | _EQ_WORDS
    | _ROUND_WORDS
)
_PASSED_KINDS = {"num", "sep", "other", "var", "big", "time", "lead0", ")"}  # no rule applies

# Plain words after a quantity: "= 24 clips in May.", "8 hours walking poodles, ...". Outside
# the quiet state each word is a token of its own, since the first word after a quantity may
# begin a unit ("5 hours * 3"). But a run of plain words (two letters or more, none with a rule
# of its own, nor "and", which joins mixed numbers) that ends before punctuation, a digit, "("
# or the end is no unit: _unit_run_end finds no operator, `=` or ")" within reach of its first
# word, so _normalise makes each word a separator, as it makes a prose token one. Such a run is
# lexed as one `prose` token too. It is looked for only right after a quantity (so never after
# a slash: "$6/day" skips the word after it), which also reads each run of words once: looked
# for after every word, a long run ending in an operator would be read again from each word.
_VALUE_KINDS = ("num", ")")
_PLAIN_EXCLUDED = sorted(_RULE_WORDS - {"x"} | {"and"})
_PLAIN_WORD = (
    # (the case-insensitive words tried only at a letter one of them starts with, as above)
    r"(?!sqrt\()"
    rf"(?!(?=[{''.join(sorted({c for w in _PLAIN_EXCLUDED for c in w[0] + w[0].upper()}))}])"
    rf"(?i:{'|'.join(_PLAIN_EXCLUDED)})(?![A-Za-z]|[-'’][A-Za-z]))"
    r"[A-Za-z]{2,}(?:[-'’][A-Za-z]+)*"
)
_PLAIN_TOKEN = re.compile(
    # (?=[A-Za-z]{2}): the usual token, a number or a sign, fails at once
    rf"{_GAP}*+(?:(?P<prose>(?=[A-Za-z]{{2}}){_PLAIN_WORD}(?:{_GAP}++{_PLAIN_WORD})*+)"
    rf"(?={_GAP}*+(?:[.,;:!?(\d]|\Z))|{_ALTERNATIVES})",
    re.S,
)
_match_plain = _PLAIN_TOKEN.match


# A segment or angle named by its points (BC, ABC), not a unit written in capitals
_SEGMENT = re.compile(r"[A-Z]{2,3}")
_CAPITAL_UNIT = re.compile(
    r"[KMGT]B|[AP]M|HP|[KMG]W|MPH|RPM|BTU|USD|EUR|GBP|INR|JPY|CAD|AUD|CHF|CNY"
)


def _normalise(toks: list[Tok], text: str) -> list[Tok]:
    """Fold percent signs, `x`/`times`/`plus`, `half of`, unit words and `is` into arithmetic."""
    out: list[Tok] = []
    append = out.append
    verbal = False  # the current segment uses a word operator: only then may "is" mean "="
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        kind = t.kind
        if kind in _PASSED_KINDS:
            append(t)
            i += 1
            continue
        if kind == "prose":  # words that are all separators (see _QUIET_TOKEN)
            append(_new(Tok, ("sep", t.text, None, t.start)))
            verbal = False
            i += 1
            continue
        prev = out[-1] if out else None
        prev_value = prev is not None and prev.kind in ("num", ")")
        if kind == "word" and (low := t.text.lower()) not in _RULE_WORDS:
            # The usual word (before `nxt` is looked up: it needs none): a unit or a separator.
            if prev_value and (end := _unit_run_end(toks, i)) > i:
                i = end  # a unit after a quantity: "5 hours * 3", "2 cups of flour * 3"
                continue
            append(_new(Tok, ("sep", t.text, None, t.start)))
            verbal = False
            i += 1
            continue
        nxt = toks[i + 1] if i + 1 < n else None
        if kind == "pct" and prev is not None and prev.kind == "num":
            out[-1] = Tok("num", prev.text + "%", (prev.value or Fraction(0)) / 100, prev.start)
        elif kind == "pct" and prev is not None and prev.kind == ")":
            # "(100 × 100)/(100 × 8) % = 12 1/2 %": a percentage of the bracket's value
            out.append(Tok("op", "*", None, t.start))
            out.append(Tok("num", "1%", Fraction(1, 100), t.start))
        elif t.kind == "op" and t.text == "/" and nxt is not None and nxt.kind == "word":
            if _SEGMENT.fullmatch(nxt.text) and not _CAPITAL_UNIT.fullmatch(nxt.text):
                # "5/15 = 4/BC": a division by a length named by its end points, unknown
                out.extend([t, Tok("var", nxt.text, None, nxt.start)])
                i += 2
                continue
            i += 1  # "$6/day", "pounds/hour": a rate's unit, not a division
        elif t.kind == "(" and prev_value and text[t.start - 1].isspace():
            out.extend([Tok("sep", " ", None, t.start), t])  # "500 (2/5)" is not 500 × 2/5
        elif t.kind == "word":
            nxt_value = nxt is not None and nxt.kind in ("num", "(")
            if low in _VERBAL_OPS and low not in _MULT_WORDS and prev_value:
                if len(out) > 1 and out[-2].kind == "eq" and _computes_before_eq(toks, i + 1):
                    # "21 × 3 = 63 plus 21 × 0.5 = 10.5": the word joins two statements
                    out.append(_new(Tok, ("sep", t.text, None, t.start)))
                    verbal = False
                    i += 1
                    continue
                out.append(Tok("op", _VERBAL_OPS[low], None, t.start))
                verbal = True
                if low == "divided" and nxt is not None and nxt.text == "by":
                    i += 1
            elif low in _MULT_WORDS and prev_value and (nxt_value or (nxt and nxt.text == "by")):
                out.append(Tok("op", "*", None, t.start))
                verbal = verbal or low != "x"
                if nxt is not None and nxt.text == "by":
                    i += 1
            elif low == "of" and prev is not None and prev.text.endswith("%") and nxt_value:
                out.append(Tok("op", "*", None, t.start))
                verbal = True
            elif (
                low in _FRACTION_WORDS
                and nxt is not None
                and nxt.text == "of"
                and not _AND_A.search(text, max(0, t.start - 16), t.start)
            ):
                out.append(Tok("num", t.text, _FRACTION_WORDS[low], t.start))
                out.append(Tok("op", "*", None, nxt.start))
                verbal = True
                i += 1
            elif low in _EQ_WORDS:
                if verbal and _segment_has_op(out):
                    out.append(Tok("eq", "=", None, t.start))
                else:
                    out.append(Tok("sep", t.text, None, t.start))
                verbal = False
            elif low in _ROUND_WORDS and prev is not None and prev.kind == "eq":
                out.append(Tok("approx", t.text, None, t.start))
            elif prev_value and (end := _unit_run_end(toks, i)) > i:
                i = end  # a unit after a quantity: "5 hours * 3", "2 cups of flour * 3"
                continue
            else:
                out.append(_new(Tok, ("sep", t.text, None, t.start)))
                verbal = False
        elif t.kind == "eq":
            out.append(_new(Tok, ("eq", "=", None, t.start)))
            if t.text != "=":
                out.append(Tok("approx", t.text, None, t.start))
            verbal = False
        else:
            out.append(t)
        i += 1
    return out


def _computes_before_eq(toks: list[Tok], i: int) -> bool:
    """Whether the tokens from i hold an operation of their own before the next `=`."""
    for t in toks[i : i + 12]:
        if t.kind == "op" or (t.kind == "word" and t.text.lower() in _VERBAL_OPS):
            return True
        if t.kind in ("eq", "sep", "prose", "word"):
            # (any other word ends the look: the plain lexer joins a run of them into one
            # `prose` token, and both lexers must read a step alike)
            return False
    return False


def _segment_has_op(out: list[Tok]) -> bool:
    for t in reversed(out):
        if t.kind == "op":
            return True
        if t.kind in ("eq", "sep", "other", "big"):
            return False
    return False


def _unit_run_end(toks: list[Tok], i: int) -> int:
    """Where a run of unit words at toks[i] ends in an operator or `=` (0 when it is not one)."""
    phrase = False  # a describing phrase ("4 * 9 books belonging to Stu = 36") may only end in `=`
    summed = i >= 2 and toks[i - 2].text in ("+", "-")
    for j in range(i, min(i + MAX_PHRASE_WORDS + 1, len(toks))):
        t = toks[j]
        if t.kind == "word":
            low = t.text.lower()
            if low in _MULT_WORDS or low in _VERBAL_OPS:
                if j == i and j + 1 < len(toks) and toks[j + 1].kind == "eq":
                    continue  # "4 * 12 times = 48 times": a count's unit
                return 0 if phrase or j - i > MAX_UNIT_WORDS else j
            if low in _EQ_WORDS or (low == "of" and j == i and not summed):
                # "2 cups of flour *" is a unit; "1/3 of Solomon =" is not; "2 + 15 of her
                # cards =" is (a term of a sum counts things)
                return 0
            if low in _NOT_UNITS:
                if low not in _PHRASE_WORDS:
                    return 0  # "and", "so", "he": a new clause
                phrase = phrase or low != "of"
            continue
        if t.kind == "prose" and phrase:
            continue  # the words after "to", "for", ...: lexed as one run
        if t.kind == "eq":
            return j
        if phrase or j - i > MAX_UNIT_WORDS:
            return 0
        return j if t.kind in ("op", ")") else 0
    return 0


_MATH_KINDS = {"num", "op", "(", ")", "eq", "approx", "var"}


def runs(toks: list[Tok]) -> list[list[Tok]]:
    """The maximal runs of mathematical tokens that hold an `=`."""
    out, cur, has_eq = [], [], False
    for t in toks:
        if t.kind in _MATH_KINDS:
            cur.append(t)
            has_eq = has_eq or t.kind == "eq"
        elif cur:
            if has_eq:
                out.append(cur)
            cur, has_eq = [], False
    if has_eq:
        out.append(cur)
    return out


# Unit abbreviations with a full stop ("4 * 160 sq. ft. = 640"): the stop is no sentence end.
_ABBREVIATED_UNIT = re.compile(
    r"\b(sq|ft|in|lbs?|oz|yds?|hrs?|mins?|secs?|gal|qt|pt|mi)\.(?= ?[\w=])"
)


def tokens(text: str) -> list[Tok]:
    """The normalised tokens of a step's text."""
    if "." in text:
        # a space for the stop keeps every offset
        text = _ABBREVIATED_UNIT.sub(lambda m: m.group(1) + " ", text)
    return _normalise(_lex(text), text)
