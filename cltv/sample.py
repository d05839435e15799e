"""A realistic, seeded sample of invoice lines in the Online Retail layout, so `make run` works anywhere.

The real UCI data must never be committed, so the pipeline generates its own. Customers follow a
BG/NBD-like process, which makes the future predictable from the past the way real data is:

- each customer has a Poisson purchase rate lambda ~ Gamma, and after every purchase drops out with
  probability p ~ Beta; the drop-out is drawn up front as the number of purchases left (geometric in p);
- spend is heterogeneous per customer (Gamma basket-size and quantity multipliers, Gamma-Gamma style);
- 35% of customers exist at `start`, the rest arrive uniformly over the period with a first purchase;
- purchase rates follow a monthly seasonality with a strong November peak (as in the real data).

Scale: one customer per `LINES_PER_CUSTOMER` (125) target lines, about the real data's ratio (4,400
customers for 540k lines a year, over two years with churn). Customer ids are `12346 + a permutation`, so
they have 5 digits up to ~87k customers (~11M lines) and 6 digits beyond. Invoice numbers start at
536365 and increase with time (7 digits beyond ~460k invoices).

Streaming: the simulation runs month by month on per-customer state arrays, so memory grows with the
number of customers and the lines of one month, not with the total. A cheap first pass runs the invoice
process alone to count invoices per month; the second pass replays it (same per-month seeds) and spreads
the line budget over invoices exactly, so the result has the requested number of lines within rounding.

Customers scale with lines, not with the span: a much shorter span than two years keeps the number of
customers, so invoices get more lines each (the line budget is exact either way).

Files are split by size only: a file holds at most `rows_per_file` lines and a new file starts when it is
full (a month may straddle two files). Every file is a complete CSV (with header) or Parquet file.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

Format = Literal["csv", "parquet"]

LINES_PER_CUSTOMER = 125
INITIAL_CUSTOMER_SHARE = 0.35
FIRST_CUSTOMER_ID = 12346
FIRST_INVOICE_NO = 536365
N_PRODUCTS = 3_000
GUEST_INVOICE_RATIO = 0.22  # guest invoices per customer invoice: ~17% of lines
DUPLICATE_SHARE = 0.01
CANCEL_LINE_SHARE = 0.018
MANUAL_SHARE = 0.001
BANK_CHARGES_SHARE = 0.0002
ZERO_PRICE_SHARE = 0.0005
POSTAGE_SHARE_ABROAD = 0.6
DISCOUNT_SHARE_OF_CANCELS = 0.1
# Purchase-rate multiplier by calendar month: a strong Q4 with the November peak of the real data.
SEASONALITY = np.array([0.75, 0.7, 0.85, 0.8, 0.85, 0.8, 0.85, 0.85, 1.1, 1.3, 1.7, 1.25])
SHOP_OPEN_S, SHOP_CLOSE_S = 8 * 3600, 18 * 3600

COUNTRIES = np.array(
    [
        "United Kingdom",
        "Germany",
        "France",
        "EIRE",
        "Spain",
        "Netherlands",
        "Belgium",
        "Switzerland",
        "Portugal",
        "Australia",
        "Norway",
        "Italy",
        "Channel Islands",
        "Finland",
        "Sweden",
        "Denmark",
    ]
)
COUNTRY_WEIGHTS = np.array([700, 22, 20, 8, 6, 5, 5, 4, 3, 3, 2, 2, 2, 1.5, 1.5, 1.5])
PACK_SIZES = np.array([1, 2, 3, 4, 6, 8, 10, 12, 24, 25, 36, 48, 72, 100])
PACK_WEIGHTS = np.array([30, 15, 6, 8, 12, 2, 4, 14, 5, 1, 1, 1, 0.5, 0.5])

ADJECTIVES = [
    "VINTAGE",
    "RETRO",
    "REGENCY",
    "SWEETHEART",
    "JUMBO",
    "SMALL",
    "LARGE",
    "MINI",
    "HANGING",
    "WOODEN",
    "GLASS",
    "CERAMIC",
    "ENAMEL",
    "PAPER",
    "FELT",
    "METAL",
    "ANTIQUE",
    "PARTY",
]
COLOURS = [
    "RED",
    "PINK",
    "WHITE",
    "BLUE",
    "GREEN",
    "IVORY",
    "SILVER",
    "GOLD",
    "BLACK",
    "PASTEL",
    "SPOTTY",
    "STRIPED",
    "FLORAL",
    "HEART",
    "STAR",
    "CHRISTMAS",
    "DOLLY GIRL",
    "SPACEBOY",
]
NOUNS = [
    "T-LIGHT HOLDER",
    "LUNCH BAG",
    "CAKE CASES",
    "MUG",
    "TEA SET",
    "BUNTING",
    "DOORMAT",
    "CANDLE",
    "NAPKINS",
    "ALARM CLOCK",
    "JAM JAR",
    "WATER BOTTLE",
    "PHOTO FRAME",
    "STORAGE TIN",
    "PURSE",
    "CUSHION COVER",
    "TEACUP AND SAUCER",
    "GIFT WRAP",
    "NOTEBOOK",
    "LANTERN",
    "COAT RACK",
]
# Non-product codes of the real data: (code, description, typical unit price).
SPECIAL_CODES = [
    ("POST", "POSTAGE", 18.0),
    ("M", "Manual", 2.5),
    ("BANK CHARGES", "Bank Charges", 15.0),
    ("D", "Discount", 5.0),
]
POST, MANUAL, BANK, DISCOUNT = range(N_PRODUCTS, N_PRODUCTS + len(SPECIAL_CODES))

COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
SCHEMA = pa.schema(
    [
        ("InvoiceNo", pa.string()),
        ("StockCode", pa.string()),
        ("Description", pa.string()),
        ("Quantity", pa.int64()),
        ("InvoiceDate", pa.timestamp("s")),
        ("UnitPrice", pa.float64()),
        ("CustomerID", pa.int32()),
        ("Country", pa.string()),
    ]
)


@dataclass(frozen=True)
class SampleSpec:
    rows: int = 100_000  # target number of lines (the result differs by < 1%)
    seed: int = 42
    fmt: Format = "csv"
    start: date = date(2023, 1, 1)
    end: date = date(2024, 12, 31)  # inclusive; two full years with two Q4 peaks
    rows_per_file: int = 1_000_000  # files split by size only; see the module docstring


@dataclass(frozen=True)
class SampleReport:
    files: list[Path]
    rows: int
    customers: int
    start: date
    end: date


@dataclass(frozen=True)
class Catalogue:
    """Products then the non-product codes, as parallel arrays indexed by product number."""

    codes: pa.Array
    descriptions: pa.Array
    prices: np.ndarray
    popularity_cdf: np.ndarray  # over real products only


@dataclass
class Customers:
    """Per-customer state; the only memory that grows with the size of the sample."""

    ids: np.ndarray
    arrival_day: np.ndarray  # day offset from start; -1 = already a customer at start
    rate: np.ndarray  # purchases per day, before seasonality
    purchases_left: np.ndarray  # drop-out: purchases until the customer is gone
    basket_scale: np.ndarray
    quantity_scale: np.ndarray
    country: np.ndarray


@dataclass(frozen=True)
class Invoices:
    """A month's invoices: sales first, then the `C` invoices from `first_cancel` on."""

    customer: np.ndarray  # customer index, -1 for a guest
    ts: np.ndarray  # epoch seconds
    first_cancel: int


@dataclass(frozen=True)
class Month:
    index: int
    first_day: int  # day offsets from spec.start, inclusive
    last_day: int
    seasonality: float


def _rng(seed: int, *stream: int) -> np.random.Generator:
    """An independent generator per (seed, stream, month): both passes replay the same draws."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


def build_catalogue(rng: np.random.Generator) -> Catalogue:
    """A few thousand products: 5-digit codes (some with a letter), word-list names, lognormal prices."""
    numbers = rng.choice(np.arange(10002, 90000), size=N_PRODUCTS, replace=False)
    suffix = np.where(rng.random(N_PRODUCTS) < 0.12, rng.choice(list("ABCDEFGLNPS"), N_PRODUCTS), "")
    codes = np.char.add(numbers.astype(str), suffix)
    words = [
        rng.choice(ADJECTIVES, N_PRODUCTS),
        rng.choice(COLOURS, N_PRODUCTS),
        rng.choice(NOUNS, N_PRODUCTS),
    ]
    names = np.char.add(np.char.add(np.char.add(words[0], " "), np.char.add(words[1], " ")), words[2])
    prices = np.exp(rng.normal(np.log(2.2), 0.85, N_PRODUCTS))
    three_decimals = (prices < 1.0) & (rng.random(N_PRODUCTS) < 0.3)
    prices = np.where(three_decimals, np.round(prices, 3), np.round(np.maximum(prices, 0.1), 2))
    popularity = 1.0 / np.arange(1, N_PRODUCTS + 1) ** 0.9
    cdf = np.cumsum(popularity) / popularity.sum()
    special_codes, special_names, special_prices = zip(*SPECIAL_CODES, strict=True)
    return Catalogue(
        codes=pa.array([*codes.tolist(), *special_codes]),
        descriptions=pa.array([*names.tolist(), *special_names]),
        prices=np.concatenate([prices, special_prices]),
        popularity_cdf=cdf,
    )


def build_customers(n: int, total_days: int, rng: np.random.Generator) -> Customers:
    """Heterogeneous customers: Gamma rates, Beta drop-out, Gamma spend, UK-dominant countries."""
    initial = rng.random(n) < INITIAL_CUSTOMER_SHARE
    arrival = np.where(initial, -1, rng.integers(0, total_days, n)).astype(np.int32)
    dropout = rng.beta(1.0, 20.0, n)
    return Customers(
        ids=(FIRST_CUSTOMER_ID + rng.permutation(n)).astype(np.int32),
        arrival_day=arrival,
        rate=rng.gamma(0.7, 1 / 70 / 0.7, n),
        purchases_left=rng.geometric(dropout).astype(np.int32),
        basket_scale=rng.gamma(1.2, 1 / 1.2, n),
        quantity_scale=rng.gamma(1.5, 1 / 1.5, n),
        country=rng.choice(len(COUNTRIES), n, p=COUNTRY_WEIGHTS / COUNTRY_WEIGHTS.sum()).astype(np.int8),
    )


def months_between(start: date, end: date) -> list[Month]:
    """Calendar months clipped to [start, end], as day offsets from start."""
    months, first = [], np.datetime64(start, "D")
    month = np.datetime64(start, "M")
    while month <= np.datetime64(end, "M"):
        lo = max(month.astype("datetime64[D]"), first)
        hi = min((month + 1).astype("datetime64[D]") - 1, np.datetime64(end, "D"))
        calendar_month = int(month.astype(int) % 12)
        months.append(
            Month(
                len(months),
                int((lo - first).astype(int)),
                int((hi - first).astype(int)),
                float(SEASONALITY[calendar_month]),
            )
        )
        month += 1
    return months


def customer_purchases(customers: Customers, month: Month, rng: np.random.Generator) -> np.ndarray:
    """Purchases per customer this month (Poisson in exposure, capped by drop-out); updates the state."""
    arrival = customers.arrival_day
    arrived = arrival <= month.last_day
    arrives_now = (arrival >= month.first_day) & arrived
    exposure = np.where(arrived, month.last_day + 1 - np.maximum(arrival + 1, month.first_day), 0)
    exposure = np.clip(exposure, 0, None) * (customers.purchases_left > 0)
    counts = rng.poisson(customers.rate * month.seasonality * exposure) + arrives_now
    counts = np.minimum(counts, customers.purchases_left).astype(np.int32)
    customers.purchases_left -= counts
    return counts


def split_exactly(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer shares of `total` proportional to `weights` that sum exactly to `total`."""
    if len(weights) == 0 or total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    raw = weights / weights.sum() * total
    shares = np.floor(raw).astype(np.int64)
    remainder = total - int(shares.sum())
    if remainder:
        shares[np.argpartition(shares - raw, remainder - 1)[:remainder]] += 1
    return shares


def cumulative_split(total: int, weights: np.ndarray) -> np.ndarray:
    """Rounded shares of `total` that sum exactly, by differencing the rounded cumulative sum."""
    cumulative = np.round(np.cumsum(weights) / max(weights.sum(), 1) * total).astype(np.int64)
    return np.diff(cumulative, prepend=0)


class MonthSimulator:
    """Turns one month of the customer process into invoice lines (a pyarrow table)."""

    def __init__(self, spec: SampleSpec, catalogue: Catalogue, customers: Customers) -> None:
        self.spec, self.catalogue, self.customers = spec, catalogue, customers
        self.epoch_s = int(np.datetime64(spec.start, "s").astype(np.int64))
        self.next_invoice_no = FIRST_INVOICE_NO

    def simulate(self, month: Month, line_budget: int, duplicates: int, cancels: int) -> pa.Table:
        rng_invoices, rng_lines = _rng(self.spec.seed, 1, month.index), _rng(self.spec.seed, 2, month.index)
        counts = customer_purchases(self.customers, month, rng_invoices)
        inv_customer, inv_ts = self._invoices(counts, month, rng_lines)
        order = np.argsort(inv_ts, kind="stable")
        inv_customer, inv_ts = inv_customer[order], inv_ts[order]
        line_inv = self._basket_sizes(inv_customer, line_budget, rng_lines)
        line_inv = np.sort(np.concatenate([line_inv, rng_lines.choice(line_inv, duplicates)]))
        lines = self._fill_lines(line_inv, inv_customer, rng_lines)
        lines, invoices = self._add_cancellations(lines, inv_customer, inv_ts, month, cancels, rng_lines)
        return self._to_table(lines, invoices)

    def _invoices(self, counts: np.ndarray, month: Month, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """Customer invoices (first purchase on the arrival day) plus guest invoices, with timestamps."""
        buyers = np.flatnonzero(counts)
        cust = np.repeat(buyers, counts[buyers])
        lo = np.maximum(self.customers.arrival_day[cust], month.first_day)
        day = lo + np.floor(rng.random(len(cust)) * (month.last_day + 1 - lo)).astype(np.int64)
        first_of_customer = np.cumsum(counts[buyers]) - counts[buyers]
        arrived_now = self.customers.arrival_day[buyers] >= month.first_day
        day[first_of_customer[arrived_now]] = self.customers.arrival_day[buyers[arrived_now]]
        n_guests = round(GUEST_INVOICE_RATIO * len(cust))
        guest_day = rng.integers(month.first_day, month.last_day + 1, n_guests)
        inv_customer = np.concatenate([cust, np.full(n_guests, -1)])
        days = np.concatenate([day, guest_day])
        seconds = np.clip(rng.normal(12.5 * 3600, 2.3 * 3600, len(days)), SHOP_OPEN_S, SHOP_CLOSE_S)
        return inv_customer, self.epoch_s + days * 86400 + seconds.astype(np.int64)

    def _basket_sizes(self, inv_customer: np.ndarray, budget: int, rng: np.random.Generator) -> np.ndarray:
        """The invoice of each line: sizes are 1 + a Gamma-weighted exact split of the month's budget."""
        n = len(inv_customer)
        scale = np.where(inv_customer >= 0, self.customers.basket_scale[np.maximum(inv_customer, 0)], 1.0)
        sizes = 1 + split_exactly(budget - n, rng.gamma(2.0, 1.0, n) * scale)
        return np.repeat(np.arange(n), sizes)

    def _fill_lines(self, line_inv: np.ndarray, inv_customer: np.ndarray, rng: np.random.Generator) -> dict:
        """Products by Zipf popularity, pack-size quantities scaled per customer, non-product codes."""
        n = len(line_inv)
        product = np.searchsorted(self.catalogue.popularity_cdf, rng.random(n)).astype(np.int64)
        product = np.minimum(product, N_PRODUCTS - 1)
        cust = inv_customer[line_inv]
        qscale = np.where(cust >= 0, self.customers.quantity_scale[np.maximum(cust, 0)], 0.8)
        packs = rng.choice(PACK_SIZES, n, p=PACK_WEIGHTS / PACK_WEIGHTS.sum())
        quantity = np.maximum(1, np.round(packs * qscale)).astype(np.int64)
        abroad = np.where(cust >= 0, self.customers.country[np.maximum(cust, 0)] > 0, False)
        first_line = np.r_[True, line_inv[1:] != line_inv[:-1]]
        postage = first_line & abroad & (rng.random(n) < POSTAGE_SHARE_ABROAD)
        product[postage] = POST
        quantity[postage] = rng.integers(1, 4, int(postage.sum()))
        special = rng.random(n)
        product[special < MANUAL_SHARE] = MANUAL
        product[(special >= MANUAL_SHARE) & (special < MANUAL_SHARE + BANK_CHARGES_SHARE)] = BANK
        price = self.catalogue.prices[product]
        price = np.where(quantity >= 24, np.round(price * 0.85, 2), price)
        manual = product == MANUAL
        price[manual] = np.round(np.exp(rng.normal(np.log(2.5), 1.0, int(manual.sum()))), 2)
        quantity[manual | (product == BANK)] = 1
        price[rng.random(n) < ZERO_PRICE_SHARE] = 0.0
        return {"inv": line_inv, "product": product, "quantity": quantity, "price": price}

    def _add_cancellations(
        self,
        lines: dict,
        inv_customer: np.ndarray,
        inv_ts: np.ndarray,
        month: Month,
        n_cancel: int,
        rng: np.random.Generator,
    ) -> tuple[dict, Invoices]:
        """`C` invoices reversing some product lines of an earlier invoice of the same customer."""
        candidates = np.flatnonzero((inv_customer[lines["inv"]] >= 0) & (lines["product"] < N_PRODUCTS))
        picked = np.sort(rng.choice(candidates, min(n_cancel, len(candidates)), replace=False))
        originals, cancel_of_line = np.unique(lines["inv"][picked], return_inverse=True)
        n_orig = len(originals)
        orig_ts = inv_ts[originals]
        orig_day = (orig_ts - self.epoch_s) // 86400
        delay_days = np.minimum(rng.integers(0, 8, n_orig), month.last_day - orig_day)
        cancel_ts = orig_ts + delay_days * 86400 + rng.integers(1800, 5400, n_orig)
        first_inv = len(inv_customer)
        quantity = -np.minimum(lines["quantity"][picked], rng.integers(1, 13, len(picked)))
        product, price = lines["product"][picked].copy(), lines["price"][picked].copy()
        first_of_cancel = np.r_[True, cancel_of_line[1:] != cancel_of_line[:-1]]
        discount = first_of_cancel & (rng.random(len(picked)) < DISCOUNT_SHARE_OF_CANCELS)
        product[discount], quantity[discount] = DISCOUNT, -1
        price[discount] = np.round(rng.uniform(1, 30, int(discount.sum())), 2)
        invoices = Invoices(
            customer=np.concatenate([inv_customer, inv_customer[originals]]),
            ts=np.concatenate([inv_ts, cancel_ts]),
            first_cancel=first_inv,
        )
        return {
            "inv": np.concatenate([lines["inv"], first_inv + cancel_of_line]),
            "product": np.concatenate([lines["product"], product]),
            "quantity": np.concatenate([lines["quantity"], quantity]),
            "price": np.concatenate([lines["price"], price]),
        }, invoices

    def _to_table(self, lines: dict, invoices: Invoices) -> pa.Table:
        """Number invoices in time order (cancellations share the counter) and build the Arrow table."""
        all_customer, all_ts, first_cancel = invoices.customer, invoices.ts, invoices.first_cancel
        rank = np.empty(len(all_ts), dtype=np.int64)
        rank[np.argsort(all_ts, kind="stable")] = np.arange(len(all_ts))
        numbers = self.next_invoice_no + rank
        self.next_invoice_no += len(all_ts)
        row_order = np.argsort(rank[lines["inv"]], kind="stable")
        inv = lines["inv"][row_order]
        product = lines["product"][row_order]
        is_cancel = inv >= first_cancel
        invoice_no = pc.binary_join_element_wise(
            pa.array(np.where(is_cancel, "C", "")), pc.cast(pa.array(numbers[inv]), pa.string()), ""
        )
        cust = all_customer[inv]
        countries = np.where(cust >= 0, self.customers.country[np.maximum(cust, 0)], 0)
        customer_ids = pa.array(self.customers.ids[np.maximum(cust, 0)], mask=cust < 0, type=pa.int32())
        product_idx = pa.array(product)
        return pa.table(
            [
                invoice_no,
                self.catalogue.codes.take(product_idx),
                self.catalogue.descriptions.take(product_idx),
                pa.array(lines["quantity"][row_order]),
                pa.array(all_ts[inv].astype("datetime64[s]")),
                pa.array(lines["price"][row_order]),
                customer_ids,
                pa.array(COUNTRIES).take(pa.array(countries.astype(np.int64))),
            ],
            schema=SCHEMA,
        )


class ChunkedWriter:
    """Writes tables to numbered files of at most `rows_per_file` lines, reporting progress per file."""

    def __init__(self, spec: SampleSpec, out_dir: Path, progress: Callable[[str], None] | None) -> None:
        self.spec, self.out_dir, self.progress = spec, out_dir, progress
        self.files: list[Path] = []
        self.rows = 0
        self._writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
        self._sink = None
        self._in_file = 0
        self._started = time.perf_counter()

    def write(self, table: pa.Table) -> None:
        offset = 0
        while offset < table.num_rows:
            if self._writer is None:
                self._open()
            take = min(table.num_rows - offset, self.spec.rows_per_file - self._in_file)
            self._writer.write_table(table.slice(offset, take))
            offset += take
            self._in_file += take
            self.rows += take
            if self._in_file >= self.spec.rows_per_file:
                self._close()

    def close(self) -> None:
        if self._writer is not None:
            self._close()

    def _open(self) -> None:
        path = self.out_dir / f"sample-s{self.spec.seed}-{len(self.files) + 1:05d}.{self.spec.fmt}"
        self.files.append(path)
        if self.spec.fmt == "parquet":
            self._writer = pq.ParquetWriter(path, SCHEMA, compression="zstd")
        else:
            self._sink = path.open("wb")
            self._sink.write((",".join(COLUMNS) + "\n").encode())
            self._writer = pacsv.CSVWriter(
                self._sink,
                SCHEMA,
                write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"),
            )
        self._in_file = 0

    def _close(self) -> None:
        self._writer.close()
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        self._writer = None
        elapsed = time.perf_counter() - self._started
        message = (
            f"wrote {self.files[-1].name}: {self.rows:,} rows so far, "
            f"{self.rows / max(elapsed, 1e-9):,.0f} rows/s"
        )
        log.info(message)
        if self.progress is not None:
            self.progress(message)


def invoices_per_month(
    spec: SampleSpec, months: list[Month], n_customers: int, total_days: int
) -> np.ndarray:
    """First pass: the invoice process alone (cheap), to spread the line budget over months."""
    customers = build_customers(n_customers, total_days, _rng(spec.seed, 0))
    counts = [int(customer_purchases(customers, m, _rng(spec.seed, 1, m.index)).sum()) for m in months]
    return np.array(counts, dtype=np.float64) * (1 + GUEST_INVOICE_RATIO)


def generate_sample(
    spec: SampleSpec, out_dir: Path, progress: Callable[[str], None] | None = None
) -> SampleReport:
    """Simulate month by month and stream the lines to `out_dir`; same spec, byte-identical files."""
    if spec.end < spec.start or spec.rows < 1 or spec.rows_per_file < 1:
        raise ValueError(f"invalid sample spec: {spec}")
    out_dir.mkdir(parents=True, exist_ok=True)
    months = months_between(spec.start, spec.end)
    total_days = months[-1].last_day + 1
    n_customers = max(10, round(spec.rows / LINES_PER_CUSTOMER))
    invoice_weights = invoices_per_month(spec, months, n_customers, total_days)
    base_lines = spec.rows / (1 + DUPLICATE_SHARE + CANCEL_LINE_SHARE)
    budgets = cumulative_split(round(base_lines), invoice_weights)
    duplicates = cumulative_split(round(base_lines * DUPLICATE_SHARE), invoice_weights)
    cancels = cumulative_split(spec.rows - int(budgets.sum()) - int(duplicates.sum()), invoice_weights)
    simulator = MonthSimulator(
        spec,
        build_catalogue(_rng(spec.seed, 3)),
        build_customers(n_customers, total_days, _rng(spec.seed, 0)),
    )
    writer = ChunkedWriter(spec, out_dir, progress)
    try:
        for month, budget, dup, cancel in zip(months, budgets, duplicates, cancels, strict=True):
            writer.write(simulator.simulate(month, int(budget), int(dup), int(cancel)))
    finally:
        writer.close()
    return SampleReport(
        files=writer.files, rows=writer.rows, customers=n_customers, start=spec.start, end=spec.end
    )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = SampleSpec()
    parser = argparse.ArgumentParser(prog="cltv-sample", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=defaults.rows)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--format", dest="fmt", choices=["csv", "parquet"], default=defaults.fmt)
    parser.add_argument("--start", type=date.fromisoformat, default=defaults.start)
    parser.add_argument("--end", type=date.fromisoformat, default=defaults.end)
    parser.add_argument("--out", type=Path, default=Path("data/sample"))
    parser.add_argument("--rows-per-file", type=int, default=defaults.rows_per_file)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    spec = SampleSpec(args.rows, args.seed, args.fmt, args.start, args.end, args.rows_per_file)
    report = generate_sample(spec, args.out, progress=print)
    print(
        f"{report.rows:,} lines, {report.customers:,} customers in {len(report.files)} files under {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
