"""Audiences on the tiny shop: each named list and the builder give exactly the expected customers."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from cltv.config import Settings
from dashboard import audiences, data
from dashboard.audiences import AUDIENCE_COLUMNS, AudienceFilter
from tests.dashboard.conftest import AS_OF, CURRENT_TIERS, LAST_PERIOD_REVENUE


def customers(settings: Settings, spec: AudienceFilter) -> list[str]:
    listed = data.read(lambda con: audiences.audience(con, AS_OF, spec), settings)
    return list(listed["customer_id"])


def test_the_base_holds_every_customer_scored_at_as_of_with_last_period_and_current_tier(
    tiny_publication: Settings,
):
    base = data.read(lambda con: audiences.customer_base(con, AS_OF), tiny_publication)

    assert list(base.columns) == list(AUDIENCE_COLUMNS)
    assert list(base["customer_id"]) == ["A", "E", "F", "C", "B", "G", "D"]  # by predicted revenue
    assert dict(zip(base["customer_id"], base["current_tier"], strict=True)) == CURRENT_TIERS
    assert dict(zip(base["customer_id"], base["last_period_revenue"], strict=True)) == LAST_PERIOD_REVENUE
    a = base.set_index("customer_id").loc["A"]
    assert (a["predicted_revenue"], a["segment"], a["value_tier"]) == (800.0, "Champions", "High")


@pytest.mark.parametrize(
    ("minimum", "expected"),
    [(500.0, ["A", "E"]), (600.0, ["A", "E"]), (600.01, ["A"]), (0.0, ["A", "E", "F", "C", "B", "G", "D"])],
)
def test_likely_to_spend_at_least_x(tiny_publication: Settings, minimum: float, expected: list[str]):
    assert customers(tiny_publication, audiences.likely_to_spend(minimum)) == expected


def test_spending_drop_needs_a_purchase_last_period_and_a_drop_of_at_least_the_share(
    tiny_publication: Settings,
):
    # B 250 -> 100 (-60%), G 200 -> 50 (-75%); C 150 -> 120 (-20%) and F 300 -> 250 (-17%) drop too little;
    # D and E bought nothing last period.
    assert customers(tiny_publication, audiences.spending_drop()) == ["B", "G"]
    assert customers(tiny_publication, audiences.spending_drop(0.7)) == ["G"]
    assert customers(tiny_publication, audiences.spending_drop(0.15)) == ["A", "F", "C", "B", "G"]  # A -20%


def test_predicted_no_purchase_is_the_none_tier(tiny_publication: Settings):
    assert customers(tiny_publication, audiences.predicted_no_purchase()) == ["G", "D"]


def test_high_value_at_risk_is_rfm_high_predicted_none_or_low(tiny_publication: Settings):
    # A is High but predicted high; C is predicted low but Mid.
    assert customers(tiny_publication, audiences.high_value_at_risk()) == ["B", "D"]


def test_the_builder_combines_every_condition(tiny_publication: Settings):
    spec = AudienceFilter(segments=("Champions", "At Risk"), min_p_purchase=0.5)
    assert customers(tiny_publication, spec) == ["A"]
    spec = AudienceFilter(current_tiers=("none",), predicted_tiers=("high",))
    assert customers(tiny_publication, spec) == ["E"]
    spec = AudienceFilter(
        value_tiers=("Mid", "Low"), max_predicted_revenue=250.0, min_last_period_revenue=150.0
    )
    assert customers(tiny_publication, spec) == ["F", "C", "G"]
    spec = AudienceFilter(segments=("Loyal Customers",), max_p_purchase=0.6)
    assert customers(tiny_publication, spec) == ["F"]


def test_an_audience_nobody_matches_is_an_empty_list_with_the_columns(tiny_publication: Settings):
    listed = data.read(
        lambda con: audiences.audience(con, AS_OF, AudienceFilter(segments=("Lost",))), tiny_publication
    )
    assert listed.empty
    assert list(listed.columns) == list(AUDIENCE_COLUMNS)


def test_the_csv_has_a_header_and_one_row_per_customer_rounded_to_the_cent(tiny_publication: Settings):
    listed = data.read(
        lambda con: audiences.audience(con, AS_OF, audiences.spending_drop()), tiny_publication
    )
    text = audiences.to_csv(listed).decode("utf-8")

    assert text.splitlines()[0] == ",".join(AUDIENCE_COLUMNS)
    parsed = pd.read_csv(io.StringIO(text), dtype={"customer_id": str})
    assert list(parsed["customer_id"]) == ["B", "G"]
    assert list(parsed["predicted_revenue"]) == [100.0, 50.0]
    assert list(parsed["last_period_revenue"]) == [250.0, 200.0]
    assert list(parsed["p_purchase"]) == [0.4, 0.3]


def test_where_clause_names_only_the_parameters_it_uses():
    condition, params = audiences.where_clause(AudienceFilter(segments=("Champions",), min_p_purchase=0.5))
    assert condition == "list_contains($segments, segment) and (p_purchase >= $min_p_purchase)"
    assert params == {"segments": ["Champions"], "min_p_purchase": 0.5}
    assert audiences.where_clause(AudienceFilter()) == ("true", {})
