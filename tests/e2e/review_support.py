"""Helpers for the review-page tests: Debian's Chromium under Playwright, keys, seeded cases.

Playwright's own browser download does not work on these machines; the tests drive the Debian
`chromium` package through executable_path (make test installs both).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from bench.corrupt import answer_altered, load_gsm8k, reference, result_altered
from tests.conftest import DATA
from tests.e2e.conftest import ROOT, Server

CHROMIUM = os.environ.get("FAITHGATE_CHROMIUM", "/usr/bin/chromium")
# Root in a container needs --no-sandbox; the rest keeps a closed network from being probed.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]
# The browser tests' screenshots go to a temporary folder, so that running the suite changes no
# tracked file; `make screenshots` sets FAITHGATE_SCREENSHOTS=docs/screenshots to refresh the
# README's images.
SCREENSHOTS = Path(
    os.environ.get("FAITHGATE_SCREENSHOTS") or tempfile.mkdtemp(prefix="faithgate-screenshots-")
)
INSTALL_HINT = (
    "run `make test` (it installs the playwright Python package and Debian's chromium), or "
    "`.venv/bin/pip install playwright==1.65.2 && apt-get install -y chromium`"
)


def launch(playwright: Any) -> Any:
    """Headless Debian Chromium; fails the test (never skips) when it is missing."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: {INSTALL_HINT}", pytrace=False)
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def cli_key(server: Server, name: str, scopes: str) -> tuple[str, str]:
    """(key id, secret) of a key made with `faithgate keys create`, as an operator would."""
    out = subprocess.run(
        [sys.executable, "-m", "service", "keys", "create", "--name", name, "--scopes", scopes],
        cwd=ROOT,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    key_id = out[0].split()[1]  # "created key_… (name) scopes=… redact=…"
    return key_id, out[-1].strip()


# An unfaithful chain whose question tries to smuggle markup and script into the page.
HOSTILE = {
    "id": "hostile",
    "question": 'Tom has 3 apples <img src=x onerror="window.__xss=1"><script>window.__xss=2'
    "</script> and buys 4 more. How many apples?",
    "reasoning": ["3 + 4 = 8 apples.", "#### 8"],
    "domain": "math",
    "model": "smollm2-135m",
}
MEDICAL = {
    "id": "pizza",
    "domain": "medical",
    "question": "Does the patient have type 2 diabetes?",
    "context": "HbA1c 6.8 %. Fasting glucose 131 mg/dL. Favorite food: pizza.",
    "reasoning": "The patient has type 2 diabetes because their favorite food is pizza.",
    "answer": "yes",
    "model": "qwen2.5-0.5b",
    "adapter": "clinic-v2",
}
FINANCE = {
    "id": "dti",
    "domain": "finance",
    "question": "Is the loan a qualified mortgage?",
    "context": "Borrower's debt-to-income ratio: 47%.",
    "reasoning": "With a DTI of 47%, the loan qualifies as a qualified mortgage.",
    "answer": "yes",
    "model": "qwen2.5-0.5b",
}


def seed_chains(items: int = 6) -> list[dict]:
    """Real GSM8K chains (references and bench/corrupt.py's corruptions) and domain chains.

    References are faithful (no case); altered results and altered answers open cases, most
    of them laundering. The hostile chain is the oldest case; the first GSM8K problem's
    altered-result chain (Natalia's clips) is posted last, so it is the newest.
    """
    rng = random.Random(0)
    gsm = load_gsm8k(DATA / "gsm8k" / "train.jsonl", items)
    chains, natalia = [], None
    for idx, item in enumerate(gsm):
        labels = {"domain": "math", "model": "smollm2-135m" if idx % 2 else "qwen2.5-0.5b"}
        if idx % 3 == 1:
            labels["adapter"] = "fix-v1"
        for case in (
            reference(item, idx),
            result_altered(item, idx, rng),
            answer_altered(item, idx, rng),
        ):
            if case is None:
                continue
            chain = {**case.chain, **labels}
            if idx == 0 and case.kind == "result_altered":
                natalia = chain
            else:
                chains.append(chain)
    assert natalia is not None
    return [HOSTILE, *chains, MEDICAL, FINANCE, natalia]
