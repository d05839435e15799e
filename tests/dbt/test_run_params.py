"""The run's parameters as environment variables (macro run_param), the way the DAG passes them."""

from __future__ import annotations

from datetime import date

import pytest

from cltv.config import Settings
from cltv.dbt_runner import artifacts_dir, run_dbt, run_param_env
from tests.dbt.conftest import line, query, write_bronze

pytestmark = pytest.mark.slow

SELECT = "+report_country_customers"
FULL_PARSE = "Unable to do partial parsing"


def full_parses(settings: Settings) -> int:
    return (artifacts_dir(settings) / "logs" / "dbt.log").read_text().count(FULL_PARSE)


def test_a_new_as_of_in_the_environment_is_used_without_parsing_the_whole_project(settings: Settings):
    write_bronze(
        settings,
        [
            line("536370", "12583", "2011-01-05 10:00:00"),
            line("536371", "13047", "2011-02-10 10:00:00"),
        ],
    )
    run_dbt(["run", "--select", SELECT], settings, run_params={"as_of": "2011-01-31"})
    assert query(settings, "select as_of_date, customer_count from gold.report_country_customers") == [
        (date(2011, 1, 31), 1)
    ]
    parsed_before = full_parses(settings)
    assert parsed_before == 1  # the first build parses everything: the log shows it

    run_dbt(["run", "--select", SELECT], settings, run_params={"as_of": "2011-02-28"})

    assert query(settings, "select as_of_date, customer_count from gold.report_country_customers") == [
        (date(2011, 2, 28), 2)
    ]
    assert full_parses(settings) == parsed_before  # only the files that read as_of were parsed again


def test_vars_serve_when_the_environment_leaves_a_parameter_out(settings: Settings):
    write_bronze(settings, [line("536370", "12583", "2011-01-05 10:00:00")])
    run_dbt(["run", "--select", SELECT], settings, {"as_of": "2011-01-31"})
    assert query(settings, "select as_of_date from gold.report_country_customers") == [(date(2011, 1, 31),)]


def test_parameters_are_text_and_unknown_ones_are_refused():
    assert run_param_env({"as_of": date(2011, 1, 31), "feature_cutoffs": ["2010-12-31", "2011-01-31"]}) == {
        "CLTV_RUN_AS_OF": "2011-01-31",
        "CLTV_RUN_HORIZON_DAYS": "",
        "CLTV_RUN_FEATURE_CUTOFFS": "2010-12-31,2011-01-31",
    }
    with pytest.raises(ValueError, match="not run parameters: \\['as_off'\\]"):
        run_param_env({"as_off": "2011-01-31"})
