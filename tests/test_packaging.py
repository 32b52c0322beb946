"""The wheel the images install works on its own: no file of the checkout is needed.

The Docker images `pip install .` (not editable), so templates, static files and rule packs
must travel inside the wheel, and nothing may reach for the repository by a relative path.
The wheel is built from a copy of what the Dockerfile copies (a stale build/ folder in the
checkout cannot hide a missing file), unpacked into a folder of its own and used from another
directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What deploy/docker/Dockerfile copies into its build stage.
SOURCES = ["pyproject.toml", "constraints.txt", "README.md", "validators", "training", "service"]

# Runs in a child process whose import path starts with the unpacked wheel.
CHECK = r"""
import json, sys
from pathlib import Path
import service, validators
site = Path(sys.argv[1])
assert Path(service.__file__).is_relative_to(site), service.__file__
assert Path(validators.__file__).is_relative_to(site), validators.__file__
from fastapi.testclient import TestClient
from service.main import create_app
from service.settings import Settings
from validators.pipeline import validate

app = create_app(Settings(workers=1, data_dir=Path(sys.argv[2])))
with TestClient(app) as client:
    page = client.get("/review")
    css = client.get("/review/static/review.css")
    key = app.state.faithgate.store.create_key("k", ["validate"])[1]
    chain = json.loads(sys.argv[3])
    checked = client.post("/v1/validate", json=chain, headers={"Authorization": f"Bearer {key}"})
print(json.dumps({
    "page": [page.status_code, "signin-form" in page.text],
    "css": [css.status_code, css.headers["content-type"]],
    "validate": [checked.status_code, checked.json().get("laundering")],
    "pack": validate(chain)["laundering"],
}))
"""

PIZZA = {
    "rulepack": "medical",
    "question": "Does the patient have type 2 diabetes?",
    "context": "HbA1c 6.8 %. Fasting glucose 131 mg/dL. Favorite food: pizza.",
    "reasoning": "The patient has type 2 diabetes because their favorite food is pizza.",
    "answer": "yes",
}


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    src = out / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    assert "BuildBackendWarning" not in build.stderr, build.stderr[-3000:]
    (wheel,) = out.glob("faithgate-*.whl")
    site = out / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)  # a pure-Python wheel: unpacking it is installing it
    return site


def test_the_wheel_carries_its_data_files(unpacked: Path) -> None:
    for name in ("base.html", "queue.html", "case.html"):
        assert (unpacked / "service" / "review" / "templates" / name).is_file()
    for name in ("review.css", "review.js", "case.js"):
        assert (unpacked / "service" / "review" / "static" / name).is_file()
    packs = {p.stem for p in (unpacked / "validators" / "rules" / "packs").glob("*.yaml")}
    assert packs == {"medical", "finance", "legal"}
    assert not (unpacked / "tests").exists() and not (unpacked / "bench").exists()


def test_the_service_runs_from_the_wheel_outside_the_checkout(
    unpacked: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    env.pop("FAITHGATE_ENGINE", None)
    run = subprocess.run(
        [sys.executable, "-c", CHECK, str(unpacked), str(tmp_path / "data"), json.dumps(PIZZA)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["page"] == [200, True]
    assert result["css"] == [200, "text/css; charset=utf-8"]
    assert result["validate"] == [200, True]  # through the worker processes, rule pack included
    assert result["pack"] is True
