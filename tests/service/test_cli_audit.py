"""`faithgate audit …` through main([...]) on both back ends, and once as the console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import main
from service.store import Store


@pytest.fixture
def filled(database_url: str, tmp_path: Path) -> tuple[list[str], Store]:
    """Options naming a store that holds a few records."""
    data = tmp_path / "data"
    store = Store(database_url, data)
    for i in range(4):
        store.append(
            "validation",
            request_id=f"r{i}",
            data={"verdict": "faithful"},
            input={"q": f"quest-{i}"},
        )
    yield ["--database-url", database_url, "--data-dir", str(data)], store
    store.close()


def test_export_then_verify(filled, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    opts, store = filled
    bundle = tmp_path / "audit.tar"
    assert main(["audit", "export", *opts, "-o", str(bundle)]) == 0
    assert "4 records" in capsys.readouterr().out
    assert main(["audit", "verify", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: intact: 4 records")
    assert store.fingerprint in out and "compare this fingerprint" in out


def test_verify_names_the_altered_record_and_exits_1(filled, tmp_path: Path, capsys) -> None:
    opts, _ = filled
    bundle = tmp_path / "audit.tar"
    main(["audit", "export", *opts, "-o", str(bundle)])
    raw = bundle.read_bytes()
    at = raw.index(b"quest-2")
    bundle.write_bytes(raw[:at] + b"Q" + raw[at + 1 :])
    capsys.readouterr()
    assert main(["audit", "verify", str(bundle)]) == 1
    assert "FAILED: record 3 altered" in capsys.readouterr().out


def test_period_export_with_iso_times(filled, tmp_path: Path, capsys) -> None:
    opts, _ = filled
    bundle = tmp_path / "p.tar"
    args = [
        "audit",
        "export",
        *opts,
        "--since",
        "2000-01-01T00:00:00Z",
        "--until",
        "2999-01-01",
        "-o",
        str(bundle),
    ]
    assert main(args) == 0
    assert main(["audit", "verify", str(bundle)]) == 0
    assert main(["audit", "export", *opts, "--since", "last tuesday", "-o", str(bundle)]) == 2


def test_verify_db_and_purge(filled, capsys) -> None:
    opts, store = filled
    assert main(["audit", "verify", "--db", *opts]) == 0
    assert "chain intact: 4 records" in capsys.readouterr().out
    assert main(["audit", "purge", *opts]) == 0
    assert "purged the payloads of 0" in capsys.readouterr().out
    with store.db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_records SET request_id = 'forged' WHERE id = 2")
    assert main(["audit", "verify", "--db", *opts]) == 1
    assert "record 2 altered" in capsys.readouterr().out


def test_public_key_prints_the_fingerprint(filled, capsys) -> None:
    opts, store = filled
    assert main(["audit", "public-key", *opts]) == 0
    out = capsys.readouterr().out
    assert "BEGIN PUBLIC KEY" in out and store.fingerprint in out


def test_verify_needs_a_bundle_or_db(capsys) -> None:
    assert main(["audit", "verify"]) == 2


def test_environment_defaults(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("FAITHGATE_DATA_DIR", str(tmp_path / "envdata"))
    monkeypatch.delenv("FAITHGATE_DATABASE_URL", raising=False)
    assert main(["audit", "verify", "--db"]) == 0
    assert (tmp_path / "envdata" / "faithgate.db").exists()
    assert (tmp_path / "envdata" / "audit_signing_key.pem").exists()


def test_console_script_verifies_a_bundle(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data")
    store.append("validation", data={"verdict": "faithful"})
    bundle = tmp_path / "b.tar"
    with bundle.open("wb") as fh:
        store.export_bundle(fh)
    store.close()
    script = Path(sys.executable).parent / "faithgate"
    done = subprocess.run(
        [str(script), "audit", "verify", str(bundle)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "OK: intact: 1 records" in done.stdout
