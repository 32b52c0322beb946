"""The shortcuts taken for speed find exactly what the plain way finds.

Each fast path (prose lexed as one token, pre-checks before slow searches, sums put over a
common denominator without sympy.together, ...) is compared with the plain computation it
replaces, on tricky texts, on real GSM8K lines and on random perturbations of them.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction

import pytest
import sympy

from bench.corrupt import load_gsm8k, split_solution
from validators import validate
from validators.algebra import system as algebra_system
from validators.algebra import validator as algebra_validator
from validators.arithmetic import exact, extract
from validators.arithmetic import tokens as arithtokens
from validators.arithmetic.exact import Tok, TooLarge, Unevaluable, evaluate
from validators.chain import grounding, signals
from validators.logic import validator as logic

TRICKY = [
    "Natalia sold 48/2 = 24 clips in May.",
    "The price is 5 hours * 3 = 15 hours of work.",
    "So the half of 10 = 5 apples, and a third of 9 = 3.",
    "the result = about 5 + 3 = 8, roughly",
    "Then the sum of the two is 5 plus 3 is 8.",
    "5 plus 3, so 3 * 4 is 12",
    "5 plus 2. 3 * 4 is 12",
    "He bought 2 cups of flour * 3 = 6 cups of it.",
    "2 cups of the flour * 3 = 6",
    "x + 3 = 8 so a x = 5, and b = 2 * 4",
    "Let a be 5. Then a + 2 = 7 and I = 3 + 4",
    "The rate is $6/day so 6 * 5 = 30, 6/is the 4 * 2 = 8",
    "she paid 6 / the 2 apples * 3 = 9",
    "to the 5 apples x 3 = 15 and 4 x 5 = 20",
    "1 and 1/4 + 1 = 2 1/4",
    "It took 18 000 + 2 000 = 20 000 steps and 1 500 000 + 1 = 1 500 001",
    "Weeks 1-2 she ran 3 + 4 = 7 miles",
    "20% of 50 = 10 and the 20 % of the 50 = 10",
    "the time is 7:50 and 0900 + 1 = 901",
    "he is at 5 minus 2 is 3 and 6 divided by 2 is 3",
    "and is 4 times 2 = 8, the 4 times by 2 = 8",
    "In 2019 3 + 4 = 7",
    "The a-b test gave 3 * 3 = 9 and the 29-liter tank 29 - 4 = 25",
    "What is 2(3 + 4) = 14 and 500 (2/5) = 200",
    "the total\n= 5 + 5 = 10\nso the rest\n≈ 3",
    "The A. B. C. 3 + 3 = 6 is the $ answer €5 + £5 = 10",
    "It is 9" + "9" * 70 + " + 1 = 2",
    "It is approximately 3.33 = 10/3 and nearly 3 ≈ 10/3",
    "the big-time 3 * 3 = 9 o'clock and the don’t 2 + 2 = 4",
    "one Is THE 4 PLUS 4 IS 8 and HALF OF 8 = 4",
    "e.g. the x2 = 4 and the y = 2x + 1",
]


def _key(q: extract.StepQuantities) -> tuple:
    claims = [
        (
            c.expression,
            c.claimed_text,
            c.computed,
            c.claimed,
            c.operands,
            c.approximate,
            c.unit_after,
            c.after,
            [tuple(t) for t in c.source[0]],
        )
        for c in q.claims
    ]
    return claims, q.results, q.operands, q.numbers, q.unevaluable


def _perturbed(texts: list[str], n: int, seed: int = 5) -> list[str]:
    pieces = list("0123456789=+-*/x()$%., \n") + [
        " of ",
        " is ",
        " the ",
        " plus ",
        " times ",
        " half ",
        " about ",
        " a ",
        " x ",
        "/day",
        " and ",
        " by ",
    ]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choice(texts)
        for _ in range(rng.randint(1, 5)):
            p = rng.randrange(len(t) + 1)
            if rng.random() < 0.6:
                t = t[:p] + rng.choice(pieces) + t[p:]
            else:
                t = t[:p] + t[p + rng.randint(1, 4) :]
        out.append(t)
    return out


def _phrases(n: int, seed: int = 13) -> list[str]:
    """Computations, word operators, units, quiet words and punctuation, in random order."""
    nums = ["5", "3", "12", "0.5", "1,200", "1/2", "1 1/2", "20%", "18 000", "0", "$4", "7:50"]
    ops = ["+", "-", "*", "/", "x", "×", "÷", "plus", "minus", "times", "divided by", "of", "^"]
    eqs = ["=", "=", "is", "are", "was", "equals", "makes", "≈", "= about", "is about", "~="]
    words = ["the", "so", "and", "a", "I", "apples", "hours", "cups of flour", "in", "per"]
    words += ["total", "half of", "a third of", "more than", "left", "day", "x", "S", "then", "if"]
    puncts = [",", ".", ";", ":", "\n", "\n=", "(", ")", "?", "'", "’"]
    rng = random.Random(seed)
    pick = rng.choice
    clauses = [
        lambda: f"{pick(nums)} {pick(ops)} {pick(nums)}",
        lambda: f"{pick(nums)} {pick(ops)} {pick(nums)} {pick(eqs)} {pick(nums)}",
        lambda: f"{pick(nums)} {pick(words)}",
        lambda: pick(words),
        lambda: pick(puncts),
        lambda: f"{pick(eqs)} {pick(nums)}",
    ]
    out = []
    for _ in range(n):
        parts = [pick(clauses)() for _ in range(rng.randint(2, 6))]
        out.append("".join(p + pick([" ", " ", "", "  ", "$"]) for p in parts).strip())
    return out


@pytest.fixture(scope="module")
def texts(data_dir) -> list[str]:
    lines = [
        ln
        for it in load_gsm8k(data_dir / "gsm8k" / "train.jsonl", 400)
        for ln in split_solution(it["answer"])[0]
    ]
    return TRICKY + lines + _perturbed(TRICKY + lines, 3000) + _phrases(20_000)


def test_prose_runs_are_lexed_as_one_separator():
    toks = arithtokens._lex("Natalia sold 48/2 = 24 clips in May.")
    assert Tok("prose", "Natalia sold", None, 0) in toks  # the fast path is taken here...
    # after 24 the words may begin a unit ("24 clips * 2"): only a plain run is one token
    assert Tok("prose", "clips in May", None, 23) in toks
    assert [t.kind for t in arithtokens._lex("24 clips * 2")] == ["num", "word", "op", "num"]


def test_lexing_prose_as_one_token_changes_no_quantity(texts, monkeypatch):
    fast = [_key(extract.quantities(t)) for t in texts]
    # Without the quiet pattern every word is a token of its own: the plain way.
    monkeypatch.setattr(arithtokens, "_match_quiet", arithtokens._match_token)
    plain = [_key(extract.quantities(t)) for t in texts]
    assert sum(bool(k[0]) for k in fast) > 100  # claims were found, not just compared empty
    assert fast == plain


def test_number_patterns_match_the_plain_alternation(texts):
    sci = r"(?:[eE][-+]?\d{1,2}(?![A-Za-z\d]))?"  # `3.2e5`: scientific notation
    indian = r"\d{1,2}(?:,\d\d){1,6},\d{3}(?:\.\d+)?(?![\d,]*\d)"  # `1,76,400`
    plain = re.compile(
        rf"\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?(?![\d,]*\d)|{indian}|\d+(?:\.\d+)?{sci}|\.\d+"
    )
    # numbers_in also reads LaTeX's `1{,}000`
    in_text = re.compile(
        rf"\d{{1,3}}(?:(?:,|\{{,\}})\d{{3}})+(?:\.\d+)?(?![\d,]*\d)|{indian}"
        r"|\d+(?:\.\d+)?(?:[eE][-+]?\d{1,2}(?![A-Za-z\d]))?|\.\d+"
    )
    lexed = re.compile(arithtokens.NUMBER)
    odd = ["1,200.50 and .5", "1.2.3", "12,34", "1,234,567", "3,0000", "1,000,00", ".", "5."]
    odd += ["1,000,1,000,1", "1,000,,,5", "1,000,,,", "12,345,6789", "1,000.5,3", ",1,000"]
    odd += ["1{,}000", "12{,}345{,}678.5", "1{,}00", "1{,}000,5", "3.2e5", "1E-3", "2e100"]
    odd += ["5e", "7em", "4e5x", "1.5e+12 kg"]
    odd += ["1,76,400", "9,94,009.5", "6,91,35,690", "1,76,40", "12,34,567,890", "1,2,345"]
    odd += ["1,00,000,5", "1,00,000,,5", "123,45,678", "1,76,400,000"]
    for t in odd + texts:
        assert extract._NUMBER.findall(t) == in_text.findall(t), t
        for p in range(len(t)):
            a, b = lexed.match(t, p), plain.match(t, p)
            assert (a and a.group()) == (b and b.group()), (t, p)


def test_a_long_list_of_thousands_is_read_in_linear_time():
    # `(?![\d,]*\d)` looked to the end of the text at each digit: minutes for 200,000 chars.
    text = "1,000," * 33_000
    # each "1,000" but the last is followed by a digit after its comma: "1" and "000"
    assert extract.numbers_in(text) == [1, 0] * 32_999 + [1000]


def test_pre_checks_agree_with_the_searches_they_spare(texts):
    extra = ["ALMOST 5", "almoſt 5", "Approx. 5", "5 ~ 6", "≈ 4", "around", "CLEARLY so", "ſo"]
    extra += ["Of Course", "it is well-known", "WITHOUT A DOUBT", "100% sure", "trust me"]
    extra += ["a -> b", "x => y", "∀x P(x)", "forall x", "exists", "p | q", "~p", "A & B"]
    has_claim = re.compile(r"[=≈]|\b(?:is|are|equals|makes|gives|yields|was|were)\b")
    for t in extra + texts:
        assert extract._declares_rounding(t) == bool(extract._ROUNDING_DECLARED.search(t)), t
        assert extract._has_claim(t) == bool(has_claim.search(t)), t
        plain = signals._CONFIDENCE.search(t)
        fast = signals._confidence(t)
        assert (fast and fast.span()) == (plain and plain.span()), t
        assert logic._may_hold_logic(t) == bool(logic._LOGIC_HINT.search(t)), t


# The algebra gate as one regex (what _maybe_algebra's four looks replace, minus its "=").
_VARIABLE_HINT = re.compile(
    r"(?<![A-Za-z])[A-Za-z](?![A-Za-z'’])\s*[=^*/+)²]"
    r"|[=+\-*/^(]\s*\d*\.?\d*[A-Za-z](?![A-Za-z])"
    r"|\d[A-Za-z](?![A-Za-z])"
    r"|\\[A-Za-z]"
)


def test_the_algebra_gate_agrees_with_the_one_pattern(texts, data_dir):
    from bench.math_bench import sets

    math = [s for items in sets().values() for it in items for s in it.chain["reasoning"]]
    rng = random.Random(11)
    soup = "ax Zy1 23.5=+-*/^()²\\'’.\n\t\u2003\u00a0é"
    random_texts = [
        "".join(rng.choice(soup) for _ in range(rng.randint(1, 12))) for _ in range(20_000)
    ]
    gated = 0
    for t in texts + math + random_texts:
        expected = "=" in t and _VARIABLE_HINT.search(t) is not None
        assert algebra_validator._maybe_algebra(t) == expected, t
        gated += expected
    assert gated > 1000  # both answers are common in what was tried


def test_logic_hint_over_joined_texts_is_the_hint_over_each():
    texts = ["x -", "> y", "for", "all x", "P(x) ∧", "Q"]
    for i in range(len(texts)):
        part = texts[i : i + 2]
        joined = logic._may_hold_logic("\n".join(part))
        assert joined == any(logic._LOGIC_HINT.search(t) for t in part)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "^"])
@pytest.mark.parametrize("a, b", [(48, 2), (3, 0), (0, 0), (7, -2), (2, 2000), (Fraction(1, 3), 3)])
def test_one_operation_evaluates_as_the_general_parser_does(op, a, b):
    def tok(v):
        return Tok("num", str(v), Fraction(v))

    def outcome(tokens):
        try:
            return evaluate(tokens)
        except TooLarge:
            return "too large"
        except Unevaluable:
            return "unevaluable"

    short = [tok(a), Tok("op", op), tok(b)]
    assert outcome(short) == outcome([Tok("(", "("), *short, Tok(")", ")")])  # the latter: the loop


@pytest.mark.parametrize("op", ["+", "-", "*"])
def test_whole_numbers_are_computed_as_fractions_are(op):
    """The int path for whole operands: the same values, the same size bound, the same type."""
    rng = random.Random(5)
    big = 10**665  # 2,210 bits, past the bound of 1,332 (MAX_RESULT_DIGITS * 3.33); 2**1331 on it
    pairs = [(rng.randint(-(10**6), 10**6), rng.randint(-(10**6), 10**6)) for _ in range(200)]
    pairs += [(0, 0), (big, big), (big, -big), (-big, 1), (2**1332, 2**1332), (2**1331, 1)]
    generic = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}[op]
    for x, y in pairs:
        expected = generic(Fraction(x), Fraction(y))
        stack = [Fraction(x), Fraction(y)]
        try:
            exact._apply(op, stack)
        except TooLarge:
            assert max(expected.numerator.bit_length(), 1) > exact.MAX_RESULT_DIGITS * 3.33
            continue
        assert stack == [expected] and type(stack[0]) is Fraction
        assert expected.numerator.bit_length() <= exact.MAX_RESULT_DIGITS * 3.33


def _reference_derivable(x: Fraction, known: set) -> bool:
    for n, d in known:
        k = Fraction(n, d)
        if x in (100 - k, 100 + k, k / 100, 1 + k / 100, 1 - k / 100, k * 100):
            return True
    return False


def test_derivable_looks_up_what_the_scan_finds():
    rng = random.Random(2)
    values = [Fraction(rng.randint(-300, 300), rng.choice([1, 1, 2, 4, 5, 100])) for _ in range(60)]
    values += [Fraction(15), Fraction(85), Fraction(115), Fraction(3, 20), Fraction(23, 20)]
    for _ in range(300):
        known = grounding._keys(rng.sample(values, 6))
        x = rng.choice(values + [Fraction(v) for v in (85, 115, 0)])
        assert grounding._derivable(x, known) == _reference_derivable(x, known)


def test_numerator_without_together_is_the_numerator_of_together():
    x, y, z = sympy.symbols("x y z")
    flat = [
        2 * x / 5 - (x + 600) / 4,
        x / 2 + sympy.Rational(1, 4),
        3 * x * y / 2 + x / 3 - 7,
        -x - 1,
        sympy.Integer(0),
        sympy.Rational(5, 3),
        x**2 / 6 + y**3 / 10 - z,
    ]
    nested = [((x + 1) ** 2 - (x - 1) ** 2) / 4, (x / 2 + 1) * (y + 3), 1 / x + 2, sympy.pi * x]
    assert all(algebra_system._denominators_lcm(e) is not None for e in flat)
    assert all(algebra_system._denominators_lcm(e) is None for e in nested)
    for e in flat + nested:
        gens = sorted(e.free_symbols, key=str) or [x]
        want = sympy.Poly(sympy.fraction(sympy.together(e))[0], *gens)
        got = sympy.Poly(algebra_system._numerator(e), *gens)
        assert got == want and got.domain == want.domain and got.as_expr() == want.as_expr()


def test_groebner_bases_are_computed_once_per_system():
    x, y = sympy.symbols("x y")
    eqs = [algebra_system.to_equation(x + y, sympy.Integer(10), "x + y = 10")]
    eqs.append(algebra_system.to_equation(x - y, sympy.Integer(2), "x - y = 2"))
    system = algebra_system.KnownSystem()
    g = system.basis(eqs, [x, y])
    assert system.basis(eqs, [x, y]) is g
    assert list(g.exprs) == list(algebra_system._groebner(eqs, [x, y]).exprs)
    assert system.basis(eqs[:1], [x, y]) is not g


def _generated(pieces: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(n)]


def test_scale_words_read_backwards_as_the_forward_pattern_reads_them():
    forward = re.compile(r"(\d[\d,.]*)\s*(million|billion|thousand)\b", re.I)
    pieces = ["1", "2,5", ".", ",", " ", "\n", "million", "MILLION", "Billion", "thousand"]
    pieces += ["thousands", "millionthousand", "x", "$", "mıllıon", "٣", "5million"]
    for t in _generated(pieces, 20_000, 4):
        assert grounding._scaled(t) == [m.groups() for m in forward.finditer(t)], t


def test_fraction_pattern_starts_whole_parts_where_the_plain_one_does():
    plain = re.compile(r"(?:(\d+)\s+(?:and\s+)?)?(\d{1,4})/(\d{1,4})\b")
    pieces = ["1", "12", "12345", "/", " / ", " ", "\n", " and ", "x", "٣", "3/4", "0/0", "/5"]
    for t in _generated(pieces, 20_000, 9):
        got = [(m.span(), m.groups()) for m in grounding._FRACTION.finditer(t)]
        assert got == [(m.span(), m.groups()) for m in plain.finditer(t)], t


@pytest.mark.parametrize(("later", "warned"), [("12 + 10 = 22", []), ("13 + 10 = 23", ["13"])])
def test_numbers_in_words_ground_a_later_step_though_read_only_when_needed(later, warned):
    chain = {
        "question": "Tom has 5 apples and twelve pears. How many?",
        "reasoning": ["He doubles the apples: 5 * 2 = 10", later],
    }
    r = validate(chain)
    found = [
        f["evidence"]["quantities"]
        for s in r["steps"]
        for f in s["findings"]
        if f["code"] == "grounding.unsupported"
    ]
    assert found == ([warned] if warned else [])
    assert r["steps"][0]["status"] == "verified"


def test_a_long_run_of_two_digit_groups_is_read_in_linear_time():
    # Indian grouping (`1,76,400`) allows a bounded number of two-digit groups: unbounded, each
    # digit of `1,00,00,…` looked to the end of the text for the last group of three
    text = "1" + ",00" * 66_000
    values = extract.numbers_in(text)
    assert values[:2] == [1, 0] and len(values) == 66_001
