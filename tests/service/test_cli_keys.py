"""`faithgate keys …` through main([...]) on both back ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli import main
from service.store import Store


@pytest.fixture
def opts(database_url: str, tmp_path: Path) -> list[str]:
    """Options naming a fresh store."""
    return ["--database-url", database_url, "--data-dir", str(tmp_path / "data")]


def _create(opts: list[str], capsys, *extra: str) -> tuple[list[str], str]:
    assert (
        main(["keys", "create", *opts, "--name", "app", "--scopes", "validate,review", *extra]) == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    return lines, lines[-1]


def test_create_prints_the_secret_last_and_it_authenticates(
    opts, database_url, tmp_path, capsys
) -> None:
    lines, secret = _create(opts, capsys, "--redact")
    assert secret.startswith("fg_") and " " not in secret
    store = Store(database_url, tmp_path / "data")
    info = store.authenticate(secret)
    store.close()
    assert info is not None and info.scopes == {"validate", "review"} and info.redact
    assert info.id in lines[0]


def test_list_never_shows_secrets_and_revoke_works(opts, capsys) -> None:
    lines, secret = _create(opts, capsys)
    key_id = lines[0].split()[1]
    assert main(["keys", "list", *opts]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and "active" in listing and secret not in listing
    assert main(["keys", "revoke", *opts, key_id]) == 0
    assert main(["keys", "revoke", *opts, key_id]) == 1
    capsys.readouterr()
    main(["keys", "list", *opts])
    assert "revoked" in capsys.readouterr().out


def test_unknown_scope_is_a_clear_error(opts, capsys) -> None:
    assert main(["keys", "create", *opts, "--name", "x", "--scopes", "validate,root"]) == 2
    err = capsys.readouterr().err
    assert "unknown scope 'root'" in err and "audit:read" in err
