"""Rule packs: YAML files of a domain's facts, conclusions and requirements (docs/rulepacks.md).

Packs are read with yaml.safe_load, checked field by field (a malformed pack raises
RulePackError naming the file and the field), compiled once per process and cached.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from validators.rules.formula import FormulaError, Node, parse, parse_expression, render, variables

PACK_DIR = Path(__file__).resolve().parent / "packs"
MAX_PACK_BYTES = 1_000_000
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_RESERVED = {"and", "or", "not", "true", "false", "unit", "fill", "num"}
# A stated number: digits (optionally grouped by commas) and a bounded fraction, never part of a
# word ("A1c") or of a longer number; bounded so that a 100,000-digit run is skipped in linear time.
NUMBER = (
    r"(?<![\w.])(?:\d{1,3}(?:,\d{3}){1,4}|\d{1,12})(?:\.\d{1,8})?"
    r"(?!\d|\.\d|,\d{3}|(?:st|nd|rd|th)\b)"  # nor an ordinal ("1st")
)
CITATION_MODES = {
    "parties": {"left", "right"},
    "section": {"section"},
    "article": {"number"},
    "key": set(),
}


class RulePackError(ValueError):
    """A rule pack that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Unit:
    """A unit a fact may be stated in: base value = stated value * factor + offset."""

    name: str
    pattern: re.Pattern[str] | None  # None: only for numbers stated without a unit
    factor: Fraction
    offset: Fraction


@dataclass
class FactDef:
    """A named quantity (or flag) of the domain and how text states it."""

    name: str
    label: str
    kind: str  # quantity | flag
    unit: str
    units: list[Unit]
    range: tuple[Fraction, Fraction] | None
    names: list[str]  # regex sources
    display_unit: str = ""  # what follows its numbers in messages
    unit_regex: re.Pattern[str] | None = None  # this fact's units, matched right after the number
    name_regex: re.Pattern[str] | None = None  # this fact's names


@dataclass
class Conclusion:
    """A conclusion a step may state, and the requirement its cited facts must entail."""

    name: str
    label: str
    patterns: list[re.Pattern[str]]
    requires: Node
    requires_text: str
    source: str
    needs: str
    related: re.Pattern[str] | None  # words that refer to the requirement without a value
    facts: set[str] = field(default_factory=set)  # the facts the requirement reads
    inputs: set[str] = field(default_factory=set)  # those facts and what derives them


@dataclass
class CitationKind:
    """A kind of citation (case, statute section, article) and how its presence is matched."""

    name: str
    label: str
    pattern: re.Pattern[str]
    match: str


@dataclass
class Comparison:
    """ "X is higher than Y" between stated values of one unit (e.g. rates in %)."""

    name: str
    label: str
    unit: str  # regex source
    subject: re.Pattern[str]
    source: str
    display_unit: str = ""  # what follows the compared values in messages


@dataclass
class Pack:
    """A compiled rule pack."""

    name: str
    version: str
    title: str
    path: str
    domains: list[str]
    facts: dict[str, FactDef]
    extractors: list[re.Pattern[str]]
    derived: dict[str, Node]
    conclusions: dict[str, Conclusion]
    citations: list[CitationKind]
    comparisons: list[Comparison]
    conclusion_markers: re.Pattern[str] | None
    fact_regex: re.Pattern[str] | None = None

    def label(self, name: str, number: Fraction | None) -> str:
        """A fact's label, or a number in the fact's base unit ("6.5 %")."""
        from validators.rules.formula import show_number

        fact = self.facts.get(name)
        if number is None:
            return fact.label if fact else name
        unit = fact.display_unit if fact else ""
        return f"{show_number(number)} {unit}".strip()


class _Reader:
    """Field access that names the file and the field in every error."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, why: str) -> RulePackError:
        return RulePackError(f"rule pack {self.path}: field '{where}': {why}")

    def get(self, data: Any, key: str, where: str, kind: type, required: bool = True) -> Any:
        if not isinstance(data, dict):
            raise self.fail(where, "must be a mapping")
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}.{key}" if where else key, "is required")
            return None
        if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self.fail(f"{where}.{key}" if where else key, f"must be a {kind.__name__}")
        return value

    def regex(self, source: Any, where: str, flags: int = re.I) -> re.Pattern[str]:
        if not isinstance(source, str) or not source.strip():
            raise self.fail(where, "must be a non-empty regular expression")
        try:
            return re.compile(source.replace("{number}", f"(?:{NUMBER})"), flags)
        except re.error as exc:
            raise self.fail(where, f"invalid regular expression: {exc}") from None

    def number(self, value: Any, where: str) -> Fraction:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.fail(where, "must be a number")
        try:
            return Fraction(str(value))
        except (ValueError, ZeroDivisionError):
            raise self.fail(where, f"must be a number, got {value!r}") from None

    def strings(self, data: Any, key: str, where: str, required: bool = True) -> list[str]:
        value = self.get(data, key, where, list, required) or []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{where}.{key}[{i}]", "must be a non-empty string")
        return value


def _unit(r: _Reader, name: str, spec: Any, where: str) -> Unit:
    if not isinstance(spec, dict):
        raise r.fail(where, "must be a mapping with 'pattern' (and 'factor', 'offset')")
    factor = r.number(spec.get("factor", 1), f"{where}.factor")
    if factor == 0:
        raise r.fail(f"{where}.factor", "must not be 0")
    pattern = r.get(spec, "pattern", where, str, required=False)
    return Unit(
        name=name,
        pattern=r.regex(pattern, f"{where}.pattern") if pattern else None,
        factor=factor,
        offset=r.number(spec.get("offset", 0), f"{where}.offset"),
    )


def _fact(r: _Reader, name: str, spec: Any) -> FactDef:
    where = f"facts.{name}"
    if not _NAME.fullmatch(name) or name in _RESERVED:
        raise r.fail(where, "a fact name is lower case letters, digits and _ (not a keyword)")
    kind = r.get(spec, "type", where, str, required=False) or "quantity"
    if kind not in ("quantity", "flag"):
        raise r.fail(f"{where}.type", "must be 'quantity' or 'flag'")
    names = r.strings(spec, "names", where, required=False)
    for i, source in enumerate(names):
        if "(?P<" in r.regex(source, f"{where}.names[{i}]").pattern:
            raise r.fail(f"{where}.names[{i}]", "must not contain named groups")
    units: list[Unit] = []
    base = ""
    value_range = None
    if kind == "quantity":
        base = r.get(spec, "unit", where, str)
        unit_specs = r.get(spec, "units", where, dict)
        units = [_unit(r, str(k), v, f"{where}.units.{k}") for k, v in unit_specs.items()]
        if base not in unit_specs:
            raise r.fail(f"{where}.unit", f"'{base}' is not one of its units {list(unit_specs)}")
        base_unit = units[list(unit_specs).index(base)]
        if base_unit.factor != 1 or base_unit.offset != 0:
            raise r.fail(f"{where}.units.{base}", "the base unit must have factor 1 and offset 0")
        raw_range = spec.get("range")
        if raw_range is not None:
            if not isinstance(raw_range, list) or len(raw_range) != 2:
                raise r.fail(f"{where}.range", "must be [low, high]")
            value_range = (
                r.number(raw_range[0], f"{where}.range"),
                r.number(raw_range[1], f"{where}.range"),
            )
    label = r.get(spec, "label", where, str, required=False) or name
    fact = FactDef(name, label, kind, base, units, value_range, names)
    shown = spec.get("display_unit") if isinstance(spec, dict) else None
    fact.display_unit = base if shown is None else str(shown)
    sources = [u.pattern.pattern for u in units if u.pattern]
    if sources:
        alts = "|".join(f"(?:{u})" for u in sorted(sources, key=len, reverse=True))
        fact.unit_regex = re.compile(rf"\s*-?\s*(?:{alts})(?!\w)", re.I)
    if names:
        fact.name_regex = re.compile(
            rf"(?<!\w)(?:{'|'.join(f'(?:{n})' for n in names)})(?!\w)", re.I
        )
    return fact


def _fact_regex(facts: dict[str, FactDef]) -> re.Pattern[str] | None:
    """One pattern for every named quantity: NAME, a short filler, a number (then the unit)."""
    alts = [
        f"(?P<f_{f.name}>{'|'.join(f'(?:{n})' for n in f.names)})"
        for f in facts.values()
        if f.names and f.kind == "quantity"
    ]
    if not alts:
        return None
    # The filler stays within the clause: no digits, no sentence end, at most 40 characters.
    return re.compile(
        rf"(?<!\w)(?:{'|'.join(alts)})(?:'s|’s)?(?!\w)"
        rf"(?P<fill>(?:[^\d\n;.]|\.(?!\s)){{0,40}}?)(?P<num>{NUMBER})",
        re.I,
    )


def _conclusion(
    r: _Reader, name: str, spec: Any, facts: dict[str, FactDef], pack: Pack
) -> Conclusion:
    where = f"conclusions.{name}"
    kinds = {f.name: f.kind for f in facts.values()}
    text = r.get(spec, "requires", where, str)
    try:
        node = parse(text, kinds)
    except FormulaError as exc:
        raise r.fail(f"{where}.requires", str(exc)) from None
    patterns = [
        r.regex(p, f"{where}.patterns[{i}]")
        for i, p in enumerate(r.strings(spec, "patterns", where))
    ]
    related = r.strings(spec, "related", where, required=False)
    label = r.get(spec, "label", where, str, required=False) or name
    inputs = set(variables(node))
    for fact in variables(node):
        if fact in pack.derived:
            inputs |= variables(pack.derived[fact])
    related += [n for f in sorted(inputs) for n in facts[f].names]
    return Conclusion(
        name=name,
        label=label,
        patterns=patterns,
        requires=node,
        requires_text=text,
        source=r.get(spec, "source", where, str),
        needs=r.get(spec, "needs", where, str, required=False) or render(node, pack.label),
        related=r.regex("|".join(f"(?:{x})" for x in related), f"{where}.related")
        if related
        else None,
        facts=variables(node),
        inputs=inputs,
    )


def _citation(r: _Reader, i: int, spec: Any) -> CitationKind:
    where = f"citations[{i}]"
    mode = r.get(spec, "match", where, str)
    if mode not in CITATION_MODES:
        raise r.fail(f"{where}.match", f"must be one of {sorted(CITATION_MODES)}")
    pattern = r.regex(r.get(spec, "pattern", where, str), f"{where}.pattern", flags=0)
    missing = CITATION_MODES[mode] - set(pattern.groupindex)
    if missing:
        raise r.fail(
            f"{where}.pattern", f"needs the named group(s) {sorted(missing)} for match '{mode}'"
        )
    name = r.get(spec, "name", where, str)
    return CitationKind(
        name, r.get(spec, "label", where, str, required=False) or name, pattern, mode
    )


def _comparison(r: _Reader, i: int, spec: Any) -> Comparison:
    where = f"comparisons[{i}]"
    unit = r.get(spec, "unit", where, str)
    r.regex(unit, f"{where}.unit")
    name = r.get(spec, "name", where, str)
    return Comparison(
        name=name,
        label=r.get(spec, "label", where, str, required=False) or name,
        unit=unit,
        subject=r.regex(r.get(spec, "subject", where, str), f"{where}.subject"),
        source=r.get(spec, "source", where, str),
        display_unit=r.get(spec, "display_unit", where, str, required=False) or "",
    )


def _extractor(r: _Reader, i: int, spec: Any, facts: dict[str, FactDef]) -> re.Pattern[str]:
    where = f"extractors[{i}]"
    pattern = r.regex(r.get(spec, "pattern", where, str), f"{where}.pattern")
    groups = set(pattern.groupindex)
    unknown = groups - set(facts) - {"unit", "fill"}
    if unknown:
        raise r.fail(
            f"{where}.pattern", f"named groups {sorted(unknown)} are not facts of the pack"
        )
    if not groups & set(facts):
        raise r.fail(f"{where}.pattern", "needs at least one named group that is a fact")
    return pattern


def load_pack_file(path: str | Path) -> Pack:
    """Read, check and compile one pack file; RulePackError names the file and field at fault."""
    path = Path(path)
    r = _Reader(str(path))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RulePackError(f"rule pack {path}: cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_PACK_BYTES:
        raise RulePackError(f"rule pack {path}: larger than {MAX_PACK_BYTES} bytes")
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RulePackError(f"rule pack {path}: not valid YAML: {str(exc)[:300]}") from None
    if not isinstance(data, dict):
        raise RulePackError(f"rule pack {path}: must be a YAML mapping")
    name = r.get(data, "name", "", str)
    if not _NAME.fullmatch(name):
        raise r.fail("name", "lower case letters, digits and _ only")
    fact_specs = r.get(data, "facts", "", dict, required=False) or {}
    facts = {str(k): _fact(r, str(k), v) for k, v in fact_specs.items()}
    kinds = {f.name: f.kind for f in facts.values()}
    derived = {}
    for key, text in (r.get(data, "derived", "", dict, required=False) or {}).items():
        if key not in facts or facts[key].kind != "quantity":
            raise r.fail(f"derived.{key}", "must name a quantity fact of the pack")
        try:
            derived[str(key)] = parse_expression(str(text), kinds)
        except FormulaError as exc:
            raise r.fail(f"derived.{key}", str(exc)) from None
    markers = r.strings(data, "conclusion_markers", "", required=False)
    pack = Pack(
        name=name,
        version=r.get(data, "version", "", str),
        title=r.get(data, "title", "", str, required=False) or name,
        path=str(path),
        domains=[d.lower() for d in r.strings(data, "domains", "", required=False)],
        facts=facts,
        extractors=[
            _extractor(r, i, s, facts)
            for i, s in enumerate(r.get(data, "extractors", "", list, required=False) or [])
        ],
        derived=derived,
        conclusions={},
        citations=[
            _citation(r, i, s)
            for i, s in enumerate(r.get(data, "citations", "", list, required=False) or [])
        ],
        comparisons=[
            _comparison(r, i, s)
            for i, s in enumerate(r.get(data, "comparisons", "", list, required=False) or [])
        ],
        conclusion_markers=r.regex("|".join(f"(?:{m})" for m in markers), "conclusion_markers")
        if markers
        else None,
        fact_regex=_fact_regex(facts),
    )
    for key, spec in (r.get(data, "conclusions", "", dict, required=False) or {}).items():
        pack.conclusions[str(key)] = _conclusion(r, str(key), spec, facts, pack)
    return pack


def load_packs(directory: str | None = None) -> dict[str, Pack]:
    """Every *.yaml pack of a directory (default: the packaged rulepacks/), loaded once."""
    return _load_packs(str(directory) if directory else "")


@functools.lru_cache(maxsize=8)
def _load_packs(directory: str) -> dict[str, Pack]:
    folder = Path(directory) if directory else PACK_DIR
    packs: dict[str, Pack] = {}
    for path in sorted(folder.glob("*.yaml")):
        pack = load_pack_file(path)
        if pack.name in packs:
            raise RulePackError(f"rule pack {path}: field 'name': '{pack.name}' is already defined")
        packs[pack.name] = pack
    return packs


def pack_for(
    rulepack: str | None, domain: str | None, directory: str | None = None
) -> tuple[Pack | None, str | None]:
    """The pack a chain asks for (rulepack, else its domain), and a note when none matches."""
    if not rulepack and not domain:
        return None, None
    packs = load_packs(directory)
    if rulepack:
        key = rulepack.strip().lower()
        if key in packs:
            return packs[key], None
        return None, f"no rule pack named {rulepack[:60]!r} (known: {', '.join(sorted(packs))})"
    key = str(domain).strip().lower()
    for pack in packs.values():
        if key == pack.name or key in pack.domains:
            return pack, None
    return None, None  # a domain without a pack is ordinary: nothing to check
