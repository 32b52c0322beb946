"""Duplicate and near-duplicate removal, and the held-back split that never enters training.

Near-duplicates are found on word 3-gram shingles with an inverted index (exact Jaccard on the
candidates that share a rare shingle), which stays fast for the 500-5,000 examples a corrective
run uses. Clusters of near-duplicates go to one side of the split as a whole, so a paraphrase of
an evaluation question can never leak into training.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence

_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")


def normalize(text: str) -> str:
    """Lower-case words and numbers only, single spaces (the exact-duplicate key)."""
    return " ".join(_WORD.findall(text.lower()))


def shingles(text: str, n: int = 3) -> frozenset[str]:
    """The word n-grams of the normalized text (the text itself when it is shorter)."""
    words = normalize(text).split()
    if len(words) <= n:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def clusters(texts: Sequence[str], threshold: float = 0.8) -> list[list[int]]:
    """Groups of indices whose texts are equal after normalizing or near-duplicates.

    Each group lists its indices in input order; groups are ordered by their first index.
    """
    n = len(texts)
    uf = _UnionFind(n)
    by_exact: dict[str, int] = {}
    sets = [shingles(t) for t in texts]
    for i, t in enumerate(texts):
        key = normalize(t)
        if key in by_exact:
            uf.union(by_exact[key], i)
        else:
            by_exact[key] = i
    index: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            index[sh].append(i)
    # Shingles that most texts share ("how many does") say nothing about near-duplication and
    # would make the candidate search quadratic; skip them.
    common = max(50, n // 20)
    for i, s in enumerate(sets):
        seen: set[int] = set()
        for sh in s:
            posting = index[sh]
            if len(posting) > common:
                continue
            for j in posting:
                if j > i and j not in seen:
                    seen.add(j)
                    if jaccard(s, sets[j]) >= threshold:
                        uf.union(i, j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[uf.find(i)].append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def holdout_score(key: str, salt: str) -> float:
    """A stable pseudo-random number in [0, 1) for a text (the split does not move between runs)."""
    digest = hashlib.sha256(f"{salt}\x00{normalize(key)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_clusters(
    keys: Sequence[str], fraction: float, minimum: int, salt: str
) -> tuple[list[int], list[int]]:
    """(train, held_back) positions of cluster keys: held back when the key's score < fraction.

    At least `minimum` clusters are held back (those with the lowest scores) as long as that
    leaves at least as many for training; the same keys always fall on the same side.
    """
    scored = sorted(range(len(keys)), key=lambda i: holdout_score(keys[i], salt))
    held = {i for i in scored if holdout_score(keys[i], salt) < fraction}
    floor = min(minimum, len(keys) // 2)
    for i in scored[:floor]:
        held.add(i)
    train = [i for i in range(len(keys)) if i not in held]
    return train, sorted(held)
