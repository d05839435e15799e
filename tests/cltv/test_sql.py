"""Names and paths with quotes survive the round trip through DuckDB."""

from __future__ import annotations

import duckdb

from cltv.sql import literal, quoted


def test_a_name_with_quotes_is_one_identifier_and_a_text_with_quotes_one_literal():
    con = duckdb.connect()
    name = 'it\'s a "sheet"; drop table x'
    con.execute(f"create table {quoted(name)} (v varchar)")
    con.execute(f"insert into {quoted(name)} values ({literal(name)})")
    assert con.execute(f"select v from {quoted(name)}").fetchall() == [(name,)]
    assert [row[0] for row in con.execute("show tables").fetchall()] == [name]
