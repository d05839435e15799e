"""Exclusion rules on a handful of literal lines, through a real `dbt build`."""

from __future__ import annotations

from datetime import datetime

import pytest

from cltv.config import Settings
from tests.dbt.conftest import line, query, write_bronze

pytestmark = pytest.mark.slow


def test_each_line_is_kept_or_excluded_with_one_reason_by_precedence(settings: Settings, dbt_build):
    kept = line("536365", "17850.0", "2010-12-01 08:26:00")
    write_bronze(
        settings,
        [
            kept,
            kept,  # an exact copy in the same file
            line("536366", None, "2010-12-01 08:28:00"),  # guest
            line("536367", None, "2010-12-01 08:30:00", stock_code="POST"),  # guest and postage: guest wins
            line("536368", "13047", "2010-12-01 08:34:00", stock_code="POST"),
            line("536369", "13047", "2010-12-01 08:35:00", unit_price=0.0),
            line("C536370", "13047", "2010-12-01 09:00:00", quantity=-2),  # a return is a customer fact
        ],
    )
    # the same line again in a later load of another file (whose load id sorts first: age decides)
    write_bronze(settings, [kept], source_file="a_later.csv", loaded_at=datetime(2020, 2, 1))

    dbt_build(
        {"as_of": "2010-12-31"},
        command=("build", "--indirect-selection", "buildable"),
        select="+fct_invoices int_invoice_lines_excluded",
    )

    excluded = query(
        settings,
        "select _source_file, _source_row, exclusion_reason from silver.int_invoice_lines_excluded "
        "order by 3, 1, 2",
    )
    assert excluded == [
        ("a_later.csv", 1, "duplicate"),
        ("test.csv", 2, "duplicate"),
        ("test.csv", 6, "invalid_price"),
        ("test.csv", 3, "missing_customer"),
        ("test.csv", 4, "missing_customer"),
        ("test.csv", 5, "non_product"),
    ]
    assert query(settings, "select invoice_no, customer_id, revenue from gold.fct_invoices order by 1") == [
        ("536365", "17850", 10),
        ("C536370", "13047", -20),
    ]
