"""The schema is defined once: the query-side tables (store/tables.py) are what the migrations
made, table by table and column by column, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from service.store.tables import metadata


def test_the_table_descriptions_match_the_migrated_database(store) -> None:
    with store.db.read() as conn:
        schema = inspect(conn)
        tables = set(schema.get_table_names()) - {"schema_migrations"}
        assert tables == set(metadata.tables)
        for table in metadata.sorted_tables:
            migrated = {c["name"]: c for c in schema.get_columns(table.name)}
            assert list(migrated) == [c.name for c in table.columns], table.name
            for column in table.columns:
                where = f"{table.name}.{column.name}"
                # (SQLite lets a TEXT primary key hold NULL; the primary key is checked below.)
                if not column.primary_key:
                    assert migrated[column.name]["nullable"] == column.nullable, where
                wanted = column.type._type_affinity  # Text, Boolean, Integer, BigInteger
                got = migrated[column.name]["type"]._type_affinity
                assert issubclass(got, wanted) or issubclass(wanted, got), where
            primary = schema.get_pk_constraint(table.name)["constrained_columns"]
            assert primary == [c.name for c in table.primary_key], table.name
