"""Building a corrective run's data: cases -> dedup -> held-back split -> SFT/DPO/PRM + mix."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from training import cases as C
from training import mix
from training.dedup import clusters, normalize, split_clusters
from training.generator import Problem


@dataclass
class DataConfig:
    r"""How cases become training and evaluation data.

    Parameters:
        general_mix (`float`, defaults to `0.15`):
            Largest share of general-reasoning examples in the SFT and DPO sets (floored: a
            share that rounds to 0 rows adds none, with a warning; 0 turns the mix off). The
            PRM export holds case rows only: a general row's steps are all correct by
            construction and would teach the reward model nothing about the failures.
        general_source (`str`, defaults to `"generated"`):
            `"generated"` for the project's seeded generator, else the path of a JSONL file in
            GSM8K format (`question`, `answer` ending in `#### N`); its solutions are validated
            and the failing ones dropped.
        general_eval_size (`int`, defaults to `50`):
            Size of the fixed generated set on which the gate measures general accuracy.
        general_eval_seed (`int`, defaults to `9001`):
            Seed of that set; it never overlaps the training mix (its questions are excluded).
        eval_fraction (`float`, defaults to `0.1`):
            Share of case clusters held back for evaluation; they never enter training.
        eval_min (`int`, defaults to `8`):
            At least this many clusters are held back (when there are twice as many).
        eval_max (`int`, defaults to `64`):
            At most this many held-back cases are asked in each evaluation (the rest stay held
            back all the same); bounds the gate's generation time.
        near_duplicate_threshold (`float`, defaults to `0.8`):
            Jaccard similarity of word 3-grams above which two questions are near-duplicates.
        holdout_salt (`str`, defaults to `"faithgate-holdout-v1"`):
            Salt of the split hash; the same question always lands on the same side for a salt,
            so a case held back once stays held back in later runs.
        accept_unverifiable (`bool`, defaults to `False`):
            Accept corrected reasoning that the validators find `unverifiable` (nothing to check,
            e.g. prose-only domains). Off: only `faithful` corrections are trained on.
        regenerations (`int`, defaults to `0`):
            Sampled regenerations tried per case to find a passing DPO "chosen" when the
            reviewer's correction is missing or fails (needs a model; the CLI export has none).
        validation_budget_s (`float`, defaults to `2.0`):
            Validator time budget per chain when re-validating corrections.
        seed (`int`, defaults to `0`):
            Seed for sampling the mix and shuffling.
    """

    general_mix: float = field(default=0.15, metadata={"help": "Share of general examples."})
    general_source: str = field(default=mix.GENERATED, metadata={"help": "generated or a JSONL"})
    general_eval_size: int = field(default=50, metadata={"help": "Fixed general eval set size."})
    general_eval_seed: int = field(default=9001, metadata={"help": "Seed of the general set."})
    eval_fraction: float = field(default=0.1, metadata={"help": "Held-back share of clusters."})
    eval_min: int = field(default=8, metadata={"help": "Minimum held-back clusters."})
    eval_max: int = field(default=64, metadata={"help": "Held-back cases asked per evaluation."})
    near_duplicate_threshold: float = field(default=0.8, metadata={"help": "Jaccard threshold."})
    holdout_salt: str = field(default="faithgate-holdout-v1", metadata={"help": "Split salt."})
    accept_unverifiable: bool = field(default=False, metadata={"help": "Train on unverifiable."})
    regenerations: int = field(default=0, metadata={"help": "Sampled chosen per DPO pair."})
    validation_budget_s: float = field(default=2.0, metadata={"help": "Budget per chain (s)."})
    seed: int = field(default=0, metadata={"help": "Sampling seed."})

    def __post_init__(self) -> None:
        if not 0 <= self.general_mix < 1:
            raise ValueError("general_mix must be in [0, 1)")
        if not 0 <= self.eval_fraction < 1:
            raise ValueError("eval_fraction must be in [0, 1)")
        if not 0 < self.near_duplicate_threshold <= 1:
            raise ValueError("near_duplicate_threshold must be in (0, 1]")


@dataclass
class Bundle:
    """Everything one run trains and evaluates on, with its lineage."""

    sft: list[dict] = field(default_factory=list)
    dpo: list[dict] = field(default_factory=list)
    prm: list[dict] = field(default_factory=list)
    sft_sources: list[str] = field(default_factory=list)  # case id or "general:<id>" per row
    dpo_sources: list[str] = field(default_factory=list)
    prm_sources: list[str] = field(default_factory=list)
    sft_codes: list[list[str]] = field(default_factory=list)  # flagged chain's finding codes
    dpo_codes: list[list[str]] = field(default_factory=list)
    eval_items: list[C.Item] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)  # every held-back case id
    general_eval: list[Problem] = field(default_factory=list)
    rejected: list[C.Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. a mix that rounds to 0 rows
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def case_ids(self) -> list[str]:
        """The cases the training data came from (lineage), sorted."""
        ids = {s for s in self.sft_sources + self.dpo_sources if not s.startswith("general:")}
        return sorted(ids)

    @property
    def data_hash(self) -> str:
        """SHA-256 of the training rows and the held-back ids (what the adapter learned from)."""
        body = {"sft": self.sft, "dpo": self.dpo, "held_back": sorted(self.held_back)}
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def summary(self) -> dict[str, Any]:
        """Counts, reasons and hash (for the audit trail and the report; no case text)."""
        reasons = Counter(f"{r.kind}: {r.reason.split(':')[0]}" for r in self.rejected)
        return {
            **self.stats,
            "sft": len(self.sft),
            "dpo": len(self.dpo),
            "prm": len(self.prm),
            "eval_cases": len(self.eval_items),
            "held_back": len(self.held_back),
            "general_eval": len(self.general_eval),
            "rejected": len(self.rejected),
            "rejected_reasons": dict(reasons.most_common()),
            "data_hash": self.data_hash,
        }


def _usable(cases: Iterable[dict], bundle: Bundle) -> list[dict]:
    out = []
    for case in cases:
        cid = str(case.get("id"))
        if C.chain_of(case) is None:
            bundle.rejected.append(C.Rejection(cid, "case", "chain purged or redacted"))
        elif C.reviewer_cleared(case):
            bundle.rejected.append(
                C.Rejection(cid, "case", "reviewer judged the flagged chain faithful")
            )
        else:
            out.append(case)
    return out


def _representative(group: list[dict]) -> dict:
    # Prefer a reviewed case with a correction, then the most recent.
    def rank(case: dict) -> tuple[int, str]:
        review = C.latest_review(case)
        has_fix = bool(review and review.get("corrected_reasoning"))
        return (int(has_fix) + int(review is not None), str(case.get("created_at") or ""))

    return max(group, key=rank)


def _split(cases: list[dict], cfg: DataConfig, bundle: Bundle) -> tuple[list[dict], list[dict]]:
    questions = [C.chain_of(c)["question"] for c in cases]  # type: ignore[index]
    groups = clusters(questions, cfg.near_duplicate_threshold)
    keys = [min(normalize(questions[i]) for i in g) for g in groups]
    train_g, held_g = split_clusters(keys, cfg.eval_fraction, cfg.eval_min, cfg.holdout_salt)
    train, held = [], []
    for gi in train_g:
        members = [cases[i] for i in groups[gi]]
        keep = _representative(members)
        train.append(keep)
        for other in members:
            if other is not keep:
                bundle.rejected.append(C.Rejection(str(other.get("id")), "case", "duplicate"))
    for gi in held_g:
        members = [cases[i] for i in groups[gi]]
        bundle.held_back.extend(str(c.get("id")) for c in members)
        held.append(_representative(members))
    bundle.stats["clusters"] = len(groups)
    bundle.stats["duplicates_removed"] = sum(len(groups[g]) - 1 for g in train_g)
    return train, held


def _case_examples(
    train: list[dict], cfg: DataConfig, bundle: Bundle, sampler: C.Sampler | None
) -> None:
    budget, unverifiable = cfg.validation_budget_s, cfg.accept_unverifiable
    for case in train:
        cid, chain = str(case.get("id")), C.chain_of(case)
        codes = C.finding_codes(case.get("report"))
        solution, _, reason = C.corrected_solution(
            case, budget_s=budget, accept_unverifiable=unverifiable
        )
        if solution is not None:
            bundle.sft.append(C.sft_row(chain, solution))
            bundle.sft_sources.append(cid)
            bundle.sft_codes.append(codes)
        else:
            bundle.rejected.append(C.Rejection(cid, "sft", str(reason)))
        chosen = solution
        if chosen is None and cfg.regenerations > 0:
            chosen = C.regenerate(chain, sampler, budget_s=budget, accept_unverifiable=unverifiable)
        rejected = C.flagged_solution(case)
        if chosen is None or rejected is None:
            bundle.rejected.append(C.Rejection(cid, "dpo", "no chain the validators pass"))
        elif C.normalize_text(chosen) == C.normalize_text(rejected):
            bundle.rejected.append(C.Rejection(cid, "dpo", "chosen equals the flagged chain"))
        else:
            bundle.dpo.append(C.dpo_row(chain, chosen, rejected))
            bundle.dpo_sources.append(cid)
            bundle.dpo_codes.append(codes)
        row, why = C.prm_row(case)
        if row is None:
            bundle.rejected.append(C.Rejection(cid, "prm", str(why)))
        else:
            bundle.prm.append(row)
            bundle.prm_sources.append(cid)


def _held_items(held: list[dict], cfg: DataConfig, bundle: Bundle) -> None:
    items = []
    for case in held:
        _, answer, _ = C.corrected_solution(
            case, budget_s=cfg.validation_budget_s, accept_unverifiable=cfg.accept_unverifiable
        )
        item = C.item_of(case, answer)
        if item is not None:
            items.append(item)
    random.Random(cfg.seed).shuffle(items)
    bundle.eval_items = sorted(items[: cfg.eval_max], key=lambda it: it.id)


def _general(cfg: DataConfig, bundle: Bundle, case_questions: set[str]) -> None:
    bundle.general_eval = mix.eval_set(cfg.general_eval_size, cfg.general_eval_seed)
    exclude = case_questions | {normalize(p.question) for p in bundle.general_eval}
    n_sft = mix.general_count(len(bundle.sft), cfg.general_mix)
    n_dpo = mix.general_count(len(bundle.dpo), cfg.general_mix)
    if cfg.general_mix > 0 and (bundle.sft or bundle.dpo) and not (n_sft or n_dpo):
        bundle.warnings.append(
            f"general mix {cfg.general_mix:g} of {len(bundle.sft)} SFT / {len(bundle.dpo)} DPO "
            "case rows rounds down to 0 general rows: none added (the share is a ceiling)"
        )
    pool, refused = mix.training_problems(cfg.general_source, max(n_sft, n_dpo), cfg.seed, exclude)
    rng = random.Random(cfg.seed)
    for p in pool[:n_sft]:
        bundle.sft.append(mix.sft_row(p))
        bundle.sft_sources.append(f"general:{p.id}")
        bundle.sft_codes.append([])
    for p in pool[:n_dpo]:
        row = mix.dpo_row(p, rng)
        if row is not None:
            bundle.dpo.append(row)
            bundle.dpo_sources.append(f"general:{p.id}")
            bundle.dpo_codes.append([])
    bundle.stats["general_source"] = cfg.general_source
    bundle.stats["general_refused"] = refused
    bundle.stats["general_sft"] = sum(s.startswith("general:") for s in bundle.sft_sources)
    bundle.stats["general_dpo"] = sum(s.startswith("general:") for s in bundle.dpo_sources)


def build(cases: Iterable[dict], cfg: DataConfig, sampler: C.Sampler | None = None) -> Bundle:
    """The run's data from cases: dedup, held-back split, examples, general mix, lineage."""
    bundle = Bundle()
    cases = list(cases)
    bundle.stats["cases"] = len(cases)
    usable = _usable(cases, bundle)
    train, held = _split(usable, cfg, bundle)
    _case_examples(train, cfg, bundle, sampler)
    _held_items(held, cfg, bundle)
    questions = {normalize(C.chain_of(c)["question"]) for c in usable}  # type: ignore[index]
    _general(cfg, bundle, questions)
    return bundle


def config_dict(cfg: DataConfig) -> dict[str, Any]:
    """The config as JSON."""
    return asdict(cfg)
