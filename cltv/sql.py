"""Quoting for the few SQL statements cltv builds from names and paths it does not control.

Table, column and sheet names come from users' files and warehouses; DuckDB cannot bind identifiers or
the path of a COPY as parameters, so they are quoted here, in one place.
"""

from __future__ import annotations

from pathlib import Path


def quoted(name: str) -> str:
    """An identifier in double quotes, embedded quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str | Path) -> str:
    """A string literal in single quotes, embedded quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"
