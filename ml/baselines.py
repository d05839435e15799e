"""The two baselines XGBoost must beat, computed from the same features and cutoffs.

- naive: the customer keeps spending at their past rate. Rate = net revenue of the last 365 days over the
  days observed in that year (tenure + 1, at most 365, at least 30 so that a customer first seen yesterday
  does not get a year's spend extrapolated from one day), times H.
- BG/NBD + Gamma-Gamma (Fader, Hardie & Lee 2005; `lifetimes`): purchase days and drop-out from
  (x = repeat purchase days, t_x = last - first purchase day, T = tenure), spend per purchase day from
  Gamma-Gamma fitted on repeat customers with positive spend. CLV for the horizon = expected purchase days
  in (c, c + H] x expected spend per purchase day. Fitted on the cutoff's own features (no labels): it is
  the classic "calibration period up to the cutoff" use.

Degenerate inputs do not fail a run: invalid rows (no purchase, t_x > T) are cleaned, the fit is retried
with a stronger penalizer, and when nothing converges to usable parameters the BG/NBD columns are NULL and
the run says so.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

log = logging.getLogger(__name__)

PENALIZERS = (0.001, 0.01, 0.1, 1.0)
NAIVE_MIN_DAYS = 30
NAIVE_MAX_DAYS = 365


def naive_revenue(frame: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """Past year's spend rate x H (see the module docstring); 0 for a customer without purchases."""
    revenue = np.maximum(frame["revenue_365d"].to_numpy(dtype=np.float64), 0.0)
    days = np.clip(frame["tenure_days"].to_numpy(dtype=np.float64) + 1, NAIVE_MIN_DAYS, NAIVE_MAX_DAYS)
    rate = np.where(np.isfinite(revenue) & np.isfinite(days), revenue / days, 0.0)
    return rate * horizon_days


def _rfm(frame: pd.DataFrame) -> pd.DataFrame:
    """x, t_x, T and spend per purchase day, cleaned so that lifetimes accepts every row."""
    x = np.nan_to_num(frame["frequency_repeat_days"].to_numpy(dtype=np.float64), nan=0.0)
    tenure = np.nan_to_num(frame["tenure_days"].to_numpy(dtype=np.float64), nan=0.0)
    recency = np.nan_to_num(frame["recency_bgnbd_days"].to_numpy(dtype=np.float64), nan=0.0)
    x = np.maximum(np.round(x), 0.0)
    tenure = np.maximum(tenure, 0.0)
    recency = np.where(x > 0, np.clip(recency, 0.0, tenure), 0.0)
    monetary = np.nan_to_num(frame["monetary"].to_numpy(dtype=np.float64), nan=0.0)
    spend = monetary / (x + 1)
    return pd.DataFrame({"x": x, "t_x": recency, "T": tenure, "spend": spend})


def _deterministic_sample(rfm: pd.DataFrame, customer_ids: pd.Series, max_rows: int) -> pd.DataFrame:
    if len(rfm) <= max_rows:
        return rfm
    hashes = pd.util.hash_pandas_object(customer_ids.reset_index(drop=True), index=False).to_numpy()
    keep = (hashes % 1_000_000) < int(1_000_000 * max_rows / len(rfm))
    return rfm[keep]


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted parameters, stored in the run's JSON (BG/NBD r, alpha, a, b; Gamma-Gamma p, q, v)."""

    r: float
    alpha: float
    a: float
    b: float
    p: float | None
    q: float | None
    v: float | None
    penalizer: float
    fit_customers: int

    def to_dict(self) -> dict[str, float | int | None]:
        return dict(self.__dict__)


def _fit_bgnbd(rfm: pd.DataFrame) -> tuple[BetaGeoFitter, float] | None:
    patterns = rfm.groupby(["x", "t_x", "T"], as_index=False).size()
    for penalizer in PENALIZERS:
        model = BetaGeoFitter(penalizer_coef=penalizer)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                model.fit(patterns["x"], patterns["t_x"], patterns["T"], weights=patterns["size"])
        except Exception as error:  # lifetimes raises ConvergenceError, ValueError, LinAlgError...
            log.info("BG/NBD fit with penalizer %s failed: %s", penalizer, " ".join(str(error).split())[:120])
            continue
        params = model.params_
        if np.all(np.isfinite(params.to_numpy())) and params["a"] > 0 and params["b"] > 0:
            probe = _expected_purchases(model, rfm.head(1000), 30)
            if np.all(np.isfinite(probe)) and np.all(probe >= 0):
                return model, penalizer
        log.info("BG/NBD fit with penalizer %s gave unusable parameters %s", penalizer, params.to_dict())
    return None


def _fit_gamma_gamma(rfm: pd.DataFrame) -> GammaGammaFitter | None:
    repeat = rfm[(rfm["x"] > 0) & (rfm["spend"] > 0)]
    if len(repeat) < 10:
        return None
    for penalizer in PENALIZERS:
        model = GammaGammaFitter(penalizer_coef=penalizer)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                model.fit(repeat["x"], repeat["spend"])
        except Exception as error:
            log.info(
                "Gamma-Gamma fit with penalizer %s failed: %s", penalizer, " ".join(str(error).split())[:120]
            )
            continue
        params = model.params_
        if np.all(np.isfinite(params.to_numpy())) and params["q"] > 1:
            return model
    return None


def _expected_purchases(model: BetaGeoFitter, rfm: pd.DataFrame, horizon_days: int) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(
            model.conditional_expected_number_of_purchases_up_to_time(
                horizon_days, rfm["x"].to_numpy(), rfm["t_x"].to_numpy(), rfm["T"].to_numpy()
            ),
            dtype=np.float64,
        )


class BgNbdBaseline:
    """BG/NBD + Gamma-Gamma fitted on one cutoff's features; `None` predictions when it cannot be fitted."""

    def __init__(self) -> None:
        self.bgnbd: BetaGeoFitter | None = None
        self.gamma_gamma: GammaGammaFitter | None = None
        self.params: BgNbdParams | None = None
        self.mean_spend = 0.0

    def fit(self, frame: pd.DataFrame, max_rows: int) -> BgNbdBaseline:
        rfm = _rfm(frame)
        purchased = frame["tenure_days"].notna().to_numpy()
        rfm, ids = rfm[purchased], frame.loc[purchased, "customer_id"]
        rfm = _deterministic_sample(rfm, ids, max_rows)
        if len(rfm) < 20 or rfm["x"].sum() == 0:
            log.warning("BG/NBD not fitted: %d customers, %d repeat purchase days", len(rfm), rfm["x"].sum())
            return self
        fitted = _fit_bgnbd(rfm)
        if fitted is None:
            log.warning("BG/NBD did not converge to usable parameters with any penalizer %s", PENALIZERS)
            return self
        self.bgnbd, penalizer = fitted
        self.gamma_gamma = _fit_gamma_gamma(rfm)
        positive = rfm["spend"][rfm["spend"] > 0]
        self.mean_spend = float(positive.mean()) if len(positive) else 0.0
        gg = self.gamma_gamma.params_ if self.gamma_gamma is not None else {}
        self.params = BgNbdParams(
            **{k: float(self.bgnbd.params_[k]) for k in ("r", "alpha", "a", "b")},
            p=float(gg["p"]) if "p" in gg else None,
            q=float(gg["q"]) if "q" in gg else None,
            v=float(gg["v"]) if "v" in gg else None,
            penalizer=penalizer,
            fit_customers=len(rfm),
        )
        return self

    @property
    def is_fitted(self) -> bool:
        return self.bgnbd is not None

    def predict(self, frame: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
        """expected_purchases, p_alive, expected_spend and clv for the horizon; NaN if not fitted."""
        n = len(frame)
        if self.bgnbd is None:
            nan = np.full(n, np.nan)
            return pd.DataFrame(
                {"expected_purchases": nan, "p_alive": nan, "expected_spend": nan, "clv": nan}
            )
        rfm = _rfm(frame)
        no_purchase = frame["tenure_days"].isna().to_numpy()
        purchases = np.where(no_purchase, 0.0, _expected_purchases(self.bgnbd, rfm, horizon_days))
        with np.errstate(all="ignore"):
            alive = np.asarray(
                self.bgnbd.conditional_probability_alive(
                    rfm["x"].to_numpy(), rfm["t_x"].to_numpy(), rfm["T"].to_numpy()
                ),
                dtype=np.float64,
            )
        spend = self._expected_spend(rfm)
        purchases = np.nan_to_num(np.maximum(purchases, 0.0), nan=0.0)
        return pd.DataFrame(
            {
                "expected_purchases": purchases,
                "p_alive": np.where(no_purchase, np.nan, np.clip(alive, 0.0, 1.0)),
                "expected_spend": spend,
                "clv": purchases * spend,
            }
        )

    def _expected_spend(self, rfm: pd.DataFrame) -> np.ndarray:
        """Gamma-Gamma's conditional mean; its population mean for one-time or non-positive spenders."""
        if self.gamma_gamma is None:
            return np.where(rfm["spend"] > 0, rfm["spend"], self.mean_spend).astype(np.float64)
        usable = (rfm["x"] > 0) & (rfm["spend"] > 0)
        x = np.where(usable, rfm["x"], 0.0)
        spend = np.where(usable, rfm["spend"], 0.0)
        expected = self.gamma_gamma.conditional_expected_average_profit(pd.Series(x), pd.Series(spend))
        return np.maximum(np.asarray(expected, dtype=np.float64), 0.0)


def with_bgnbd_features(
    frame: pd.DataFrame,
    horizon_days: int,
    max_rows: int,
    fitted: Mapping[date, BgNbdBaseline] | None = None,
) -> pd.DataFrame:
    """The frame with BG/NBD's expected purchases, P(alive) and CLV, fitted on each cutoff's own customers.

    `fitted` holds cutoffs' models fitted once for every frame that holds them (the ML stage fits each cutoff
    once for the backtest folds and the final training, which share cutoffs); a cutoff without one is
    fitted here on the frame's rows.
    """
    parts = []
    for cutoff, rows in frame.groupby("cutoff_date", sort=True):
        model = (fitted or {}).get(cutoff) or BgNbdBaseline().fit(rows, max_rows)
        parts.append(add_bgnbd_columns(rows, model.predict(rows, horizon_days)))
    if not parts:
        return add_bgnbd_columns(frame, BgNbdBaseline().predict(frame, horizon_days))
    return pd.concat(parts).loc[frame.index]


def add_bgnbd_columns(frame: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    """Copy of `frame` with `BgNbdBaseline.predict` output as the model's BG/NBD feature columns."""
    out = frame.copy()
    out["bgnbd_expected_purchases"] = predicted["expected_purchases"].to_numpy(dtype=np.float32)
    out["bgnbd_p_alive"] = predicted["p_alive"].to_numpy(dtype=np.float32)
    out["bgnbd_clv"] = predicted["clv"].to_numpy(dtype=np.float32)
    return out
