"""bench/pyspy.py reads py-spy's collapsed stacks: self time per function, share per part."""

from __future__ import annotations

import pytest

from bench import pyspy

COLLAPSED = "\n".join(
    [
        "run (asyncio/runners.py:118);HotRoutes.__call__ (service/api/hot.py:50);"
        "validate_one (service/api/routes/validate.py:60) 3",
        "run (asyncio/runners.py:118);HotRoutes.__call__ (service/api/hot.py:52) 1",
        "_worker (concurrent/futures/thread.py:83);"
        "AuditWriter._write (service/audit_writer.py:170);"
        "append_entries (service/store/records.py:220);"
        "Connection.execute (sqlalchemy/engine/base.py:1450) 4",
        "_worker (concurrent/futures/thread.py:83);"
        "dumps (/usr/lib/python3.11/json/__init__.py:183) 1",
        "run (asyncio/runners.py:118) 1",
        "garbage line without a count",
    ]
)


def test_self_time_adds_the_lines_of_one_function() -> None:
    top = dict((name, share) for share, name in pyspy.self_time(COLLAPSED))
    assert top["Connection.execute (engine/base.py)"] == pytest.approx(0.4)
    assert top["validate_one (routes/validate.py)"] == pytest.approx(0.3)
    assert top["HotRoutes.__call__ (api/hot.py)"] == pytest.approx(0.1)
    assert sum(top.values()) == pytest.approx(1.0)


def test_a_sample_counts_for_the_deepest_part_on_its_stack() -> None:
    parts = dict((name, share) for share, name in pyspy.by_part(COLLAPSED))
    # SQL under the audit writer is the store's; the handler under HotRoutes is the handler's.
    assert parts["audit store (records, SQL)"] == pytest.approx(0.4)
    assert parts["handlers and operations"] == pytest.approx(0.3 + 0.1)
    # The generic parts only where nothing more specific is on the stack: JSON on the audit
    # thread is the writer's, the bare event loop is the loop's.
    assert parts["audit writer"] == pytest.approx(0.1)
    assert parts["event loop"] == pytest.approx(0.1)
    assert "JSON encoding" not in parts


def test_an_empty_profile_gives_no_rows() -> None:
    assert pyspy.self_time("") == [] and pyspy.by_part("") == []
