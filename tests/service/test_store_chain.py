"""The audit chain on SQLite and PostgreSQL: append, verify, tampering, retention, concurrency."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from service.store import AuditWriteError, Store
from service.store.migrations import MIGRATIONS


def _fill(store: Store, n: int = 5) -> list[dict]:
    return [
        store.append(
            "validation",
            request_id=f"req-{i}",
            key_id="key_test",
            model="m",
            adapter="a",
            data={"verdict": "faithful", "laundering": False, "validators": {"arithmetic": "1.0"}},
            input={"question": f"question {i}", "reasoning": "2 + 2 = 4"},
        )
        for i in range(1, n + 1)
    ]


def _sql(store: Store, statement: str, **params) -> None:
    with store.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_append_links_records_and_verifies(store: Store) -> None:
    records = _fill(store)
    assert [r["id"] for r in records] == [1, 2, 3, 4, 5]
    assert records[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(records, records[1:], strict=False))
    assert store.verify_chain() == {
        "ok": True,
        "count": 5,
        "first_bad": None,
        "message": "chain intact: 5 records",
    }


def test_record_carries_metadata_and_an_independently_recomputable_hash(store: Store) -> None:
    chain = {"question": "q", "reasoning": "r"}
    report = {"verdict": "unfaithful", "laundering": True, "validators": {"linkage": "1.0"}}
    rec = store.append(
        "validation",
        request_id="r1",
        key_id="key_1",
        model="m",
        adapter="ad",
        data=report,
        input=chain,
    )
    assert rec["ts"].endswith("Z") and datetime.fromisoformat(rec["ts"]).tzinfo is not None
    assert (rec["key_id"], rec["model"], rec["adapter"], rec["verdict"], rec["laundering"]) == (
        "key_1",
        "m",
        "ad",
        "unfaithful",
        True,
    )
    assert rec["validators"] == {"linkage": "1.0"}
    canonical = json.dumps(chain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert rec["input_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    header = {k: v for k, v in rec.items() if k != "hash"}
    text_ = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert rec["hash"] == hashlib.sha256(text_.encode()).hexdigest()
    retain = datetime.fromisoformat(rec["retain_until"]) - datetime.fromisoformat(rec["ts"])
    assert retain == timedelta(days=183)


@pytest.mark.parametrize(
    "column, value",
    [
        ("event", "'generation'"),
        ("key_id", "'key_other'"),
        ("verdict", "'unfaithful'"),
        ("ts", "'2020-01-01T00:00:00.000000Z'"),
    ],
)
def test_altered_column_is_named(store: Store, column: str, value: str) -> None:
    _fill(store)
    _sql(store, f"UPDATE audit_records SET {column} = {value} WHERE id = 3")
    result = store.verify_chain()
    assert (result["ok"], result["first_bad"]) == (False, 3)
    assert "record 3 altered" in result["message"]


def test_altered_payload_is_named(store: Store) -> None:
    _fill(store)
    _sql(
        store,
        "UPDATE audit_records SET payload = replace(payload, 'question 4', 'question X') "
        "WHERE id = 4",
    )
    result = store.verify_chain()
    assert (result["ok"], result["first_bad"]) == (False, 4)
    assert "payload" in result["message"]


def test_record_rewritten_with_a_fresh_hash_is_caught_by_its_successor(store: Store) -> None:
    records = _fill(store)
    forged = {k: v for k, v in records[1].items() if k != "hash"}
    forged["event"] = "generation"
    new_hash = hashlib.sha256(
        json.dumps(forged, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    _sql(store, "UPDATE audit_records SET event = 'generation', hash = :h WHERE id = 2", h=new_hash)
    result = store.verify_chain()
    assert (result["ok"], result["first_bad"]) == (False, 2)


@pytest.mark.parametrize(
    ("tampering", "first_bad", "said"),
    [
        (["DELETE FROM audit_records WHERE id = 3"], 3, "missing"),
        (["DELETE FROM audit_records WHERE id = 5"], 5, ""),
        (
            [
                "UPDATE audit_records SET id = -2 WHERE id = 2",
                "UPDATE audit_records SET id = 2 WHERE id = 3",
                "UPDATE audit_records SET id = 3 WHERE id = -2",
            ],
            2,
            "",
        ),
        (["UPDATE audit_records SET payload = NULL WHERE id = 2"], 2, "retention"),
    ],
    ids=["deleted", "deleted-last", "swapped", "payload-removed-before-its-date"],
)
def test_tampering_is_detected_and_named(
    store: Store, tampering: list[str], first_bad: int, said: str
) -> None:
    _fill(store)
    for statement in tampering:
        _sql(store, statement)
    result = store.verify_chain()
    assert (result["ok"], result["first_bad"]) == (False, first_bad)
    assert said in result["message"]


def test_purge_drops_expired_payloads_and_keeps_the_chain_verifiable(
    store: Store, database_url: str
) -> None:
    kept = _fill(store, 1)[0]  # 183 days: not expired
    assert store.purge_expired(now=datetime.now(UTC) + timedelta(days=400)) == 0  # never early
    short = Store(database_url, store.data_dir, retention_days=0)  # expires at once
    records = _fill(short, 3)
    assert short.purge_expired(now=datetime.now(UTC) - timedelta(days=1)) == 0
    assert short.purge_expired() == 3
    with store.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, payload, hash FROM audit_records ORDER BY id")).all()
    assert rows[0].hash == kept["hash"] and rows[0].payload is not None
    assert [r.payload for r in rows[1:4]] == [None, None, None]
    assert [r.hash for r in rows[1:4]] == [r["hash"] for r in records]
    assert json.loads(rows[4].payload)["data"]["records"] == 3  # the audit.purged record
    ok = {"ok": True, "count": 5, "first_bad": None, "message": "chain intact: 5 records"}
    assert store.verify_chain() == ok
    short.close()


def test_redaction_keeps_only_the_sha256_of_the_input(store: Store, database_url: str) -> None:
    chain = {"question": "Patient Jane Roe, 54, HbA1c 7.1%", "reasoning": "Jane Roe has diabetes."}
    finding = {
        "validator": "rules",
        "code": "rules.unsupported",
        "severity": "error",
        "message": "Jane Roe: no HbA1c",
        "evidence": {"text": "Jane Roe"},
    }
    step = {"index": 0, "text": "Jane Roe has diabetes.", "status": "error", "findings": [finding]}
    report = {
        "verdict": "unfaithful",
        "laundering": False,
        "score": 0.5,
        "validators": {"rules": "1.0"},
        "steps": [step],
        "findings": [],
        "answer": "Jane Roe is diabetic",
    }
    item = {"chain": chain, "report": report, "model": None, "adapter": None}
    [result] = store.record_validations([item], request_id="r", key_id="k", redact=True)
    with store.db.engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM audit_records WHERE id = :i"), {"i": result["record_id"]}
        ).one()
        dump = json.dumps(
            [list(r) for r in conn.execute(text("SELECT * FROM audit_records"))], default=str
        )
        dump += json.dumps(
            [list(r) for r in conn.execute(text("SELECT * FROM cases"))], default=str
        )
    assert "Jane" not in dump
    canonical = json.dumps(chain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert row.input_sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    assert bool(row.redacted) is True
    payload = json.loads(row.payload)
    assert payload["input"] is None
    assert payload["data"]["steps"][0]["findings"][0]["code"] == "rules.unsupported"
    assert payload["data"]["verdict"] == "unfaithful"
    if database_url.startswith("sqlite"):
        db_file = Path(database_url.removeprefix("sqlite:///"))
        for f in (db_file, db_file.with_name(db_file.name + "-wal")):
            if f.exists():
                assert b"Jane" not in f.read_bytes()
    assert store.verify_chain()["ok"]


def test_concurrent_appends_from_threads_and_two_stores_never_fork(
    store: Store, database_url: str
) -> None:
    other = Store(database_url, store.data_dir)
    errors: list[BaseException] = []

    def work(s: Store, n: int) -> None:
        try:
            for i in range(n):
                if i % 3:
                    s.append("training.step", data={"i": i})
                else:
                    item = {"chain": {"q": i}, "report": {"verdict": "faithful"}}
                    s.record_validations([item, item], request_id=f"r{i}", key_id=None)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s, 15)) for s in (store, store, other, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert errors == []
    expected = 4 * (10 * 1 + 5 * 2)
    result = store.verify_chain()
    assert result["ok"], result
    assert result["count"] == expected


def test_migrations_are_recorded_once_and_rerunning_them_is_harmless(
    store: Store, database_url: str
) -> None:
    _fill(store, 2)
    store.migrate()
    store.migrate()
    again = Store(database_url, store.data_dir)
    again.close()
    with store.db.engine.connect() as conn:
        versions = [
            r[0]
            for r in conn.execute(text("SELECT version FROM schema_migrations ORDER BY version"))
        ]
    assert versions == [n for n, _, _ in MIGRATIONS]
    assert store.verify_chain()["count"] == 2


def test_a_failed_write_raises_audit_write_error_and_writes_nothing(store: Store) -> None:
    _fill(store, 2)
    _sql(store, "DROP TABLE case_reviews")
    _sql(store, "DROP TABLE cases")
    with pytest.raises(AuditWriteError):
        store.record_validations(
            [{"chain": {"q": 1}, "report": {"verdict": "unfaithful"}}], request_id="r", key_id=None
        )
    assert store.count_records() == 2
    assert store.verify_chain()["ok"]


def test_text_that_json_cannot_hold_is_still_recorded_and_verifiable(store: Store) -> None:
    store.append(
        "validation",
        input={"question": "bad \ud800 text", "x": float("inf")},
        data={"nul": "a\x00b"},
    )
    assert store.verify_chain()["ok"]


def test_signing_key_is_created_once_with_mode_0600(store: Store, database_url: str) -> None:
    key_file = store.data_dir / "audit_signing_key.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = Store(database_url, store.data_dir)
    assert again.fingerprint == store.fingerprint
    again.close()


_CHILD = """
import os, signal, sys
from pathlib import Path
from service.store import Store
s = Store(sys.argv[1], Path(sys.argv[2]))
rec = s.append("validation", data={"verdict": "faithful"}, input={"q": "survives"})
print(rec["hash"], flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_sqlite_record_committed_before_return_survives_sigkill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'faithgate.db'}"
    proc = subprocess.run([sys.executable, "-c", _CHILD, url, str(tmp_path / "data")],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2],
                          timeout=120)  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    reopened = Store(url, tmp_path / "data")
    assert reopened.verify_chain()["count"] == 1
    with reopened.db.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT hash FROM audit_records WHERE id = 1")).scalar()
            == proc.stdout.strip()
        )
    reopened.close()
    assert os.path.exists(tmp_path / "faithgate.db")


def test_an_empty_chain_verifies(store: Store) -> None:
    assert store.verify_chain() == {
        "ok": True,
        "count": 0,
        "first_bad": None,
        "message": "chain intact: 0 records",
    }


def test_group_commit_writes_several_requests_in_one_chain_segment(store: Store) -> None:
    flagged = {"chain": {"q": 1}, "report": {"verdict": "unfaithful"}}
    fine = {"chain": {"q": 2}, "report": {"verdict": "faithful"}}
    groups = [
        {"items": [fine, flagged], "request_id": "a", "key_id": "k1", "redact": False},
        {"items": [flagged], "request_id": "b", "key_id": None, "redact": True},
    ]
    out = store.record_validation_groups(groups)
    assert [[r["record_id"] for r in g] for g in out] == [[1, 2], [3]]
    assert [[r["case_id"] is not None for r in g] for g in out] == [[False, True], [True]]
    assert store.get_case(out[1][0]["case_id"])["chain"] is None  # redacted group
    assert store.verify_chain()["count"] == 3


def test_the_bundle_verifier_imports_nothing_from_the_database_side() -> None:
    code = "import sys, service.store.verify\nprint([m for m in sys.modules if 'sqlalchemy' in m])"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_column_edited_into_invalid_json_is_named(store: Store) -> None:
    _fill(store, 3)
    _sql(store, "UPDATE audit_records SET validators = '{not json' WHERE id = 2")
    result = store.verify_chain()
    assert (result["ok"], result["first_bad"]) == (False, 2)


_FAILING_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER nope BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'nope'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION nope() RETURNS trigger "
        "AS $$ BEGIN RAISE EXCEPTION 'nope'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER nope BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION nope()",
    ],
}


def test_audit_write_error_does_not_quote_the_payload(store: Store) -> None:
    for statement in _FAILING_TRIGGER[store.db.dialect]:
        _sql(store, statement)
    item = {"chain": {"question": "secret-patient-name"}, "report": {"verdict": "unfaithful"}}
    with pytest.raises(AuditWriteError) as caught:
        store.record_validations([item], request_id="r", key_id=None)
    assert "nope" in str(caught.value)
    assert "secret-patient-name" not in str(caught.value)
    assert store.count_records() == 0


@pytest.mark.parametrize(
    "chain",
    [
        {"id": "plain", "question": "2 + 2?", "reasoning": ["2 + 2 = 4"], "answer": "4"},
        {"id": "odd", "question": "lone \ud800 surrogate", "x": float("nan"), "é": [1.5, None]},
        {"id": "keys", 1: "int key", "b": {"z": 1, "a": [True, {"y": "ü"}]}},
    ],
)
def test_the_payload_is_composed_byte_for_byte_as_its_canonical_json(chain) -> None:
    from service.store.canonical import to_canonical_text
    from service.store.records import payload_text
    from validators import validate

    report = validate({k: v for k, v in chain.items() if isinstance(k, str)})
    whole = to_canonical_text({"input": chain, "data": report})
    assert payload_text(to_canonical_text(report), to_canonical_text(chain)) == whole
    assert payload_text(to_canonical_text(report), None) == to_canonical_text(
        {"input": None, "data": report}
    )
