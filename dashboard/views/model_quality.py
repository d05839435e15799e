"""Model quality: backtest metrics over runs, decile calibration, and the model against its baselines."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data
from dashboard.views.common import read_page, show_run, table

VERDICTS = {True: "beat both baselines", False: "did NOT beat the baselines", None: "has no backtest verdict"}


def render() -> None:
    pub, quality = read_page(data.model_quality)
    st.title("Model quality")
    show_run(pub)
    if quality.runs.empty:
        st.info("No model runs in this publication.")
        return
    own = quality.runs[quality.runs["run_id"] == quality.run_id]
    shown = (own if len(own) else quality.runs).iloc[0]
    beat = None if pd.isna(shown["beat_baselines"]) else bool(shown["beat_baselines"])
    (st.success if beat else st.warning)(
        f"Run `{shown['run_id']}` ({shown['status']}, model `{shown['model_version']}`): XGBoost "
        f"{VERDICTS[beat]} on its out-of-time backtests. {shown['reason']}"
    )
    st.subheader("This run against the baselines")
    st.caption(
        "Mean over the run's backtest cutoffs. Gini, Spearman and top-10%/20% capture: higher is better; "
        "RMSE and RMSLE: lower is better. Champion rule: higher Gini and Spearman than both baselines, "
        "lower RMSE than naive."
    )
    comparison = quality.comparison.rename(columns=charts.MODEL_LABELS)
    st.dataframe(comparison.round(3), hide_index=True, width="stretch")
    st.subheader("Metrics over runs")
    metric = st.selectbox("Metric", list(data.QUALITY_METRICS), key="quality_metric")
    st.altair_chart(charts.metrics_over_runs(quality.metrics_over_runs, metric), width="stretch")
    st.subheader("Decile calibration")
    run_ids = list(quality.runs["run_id"])
    run_id = st.selectbox("Run", run_ids, key="calibration_run")
    deciles = quality.calibration[quality.calibration["run_id"] == run_id]
    st.caption(
        "Customers of each backtest ranked by predicted revenue and cut in ten; mean predicted against "
        "mean actual revenue per decile. On the dashed line, predictions are right on average."
    )
    st.altair_chart(charts.calibration(deciles), width="stretch")
    if not quality.matured.empty:
        st.subheader("Predictions judged after their horizon passed")
        st.caption("Each earlier run's predictions scored on the revenue that followed them.")
        matured = quality.matured.pivot_table(
            index=["prediction_as_of", "evaluated_as_of", "metric"], columns="model", values="value"
        )
        matured = matured.reindex(columns=[m for m in charts.MODEL_LABELS if m in matured.columns])
        table(matured.round(3).rename(columns=charts.MODEL_LABELS).reset_index())
    st.subheader("Runs")
    table(quality.runs)
