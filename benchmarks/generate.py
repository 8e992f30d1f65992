"""Deterministic benchmark data for `revops`: a canonical RevOps dataset at a chosen scale.

    python benchmarks/generate.py --scale 1 --out /tmp/bench1 [--seed 42]
    python benchmarks/generate.py --peer --out /tmp/benchpeer [--seed 42]

Scale 1 is 1,000,000 deals, 2,000,000 leads, 200,000 accounts, 2,000 owners, 150,000 customers,
250,000 subscription rows, 1,500,000 invoices and 50,000 expenses, plus about 3 stage-history rows
per deal and one forecast per quarter and owner (team and company forecasts too). Every size scales
linearly with --scale (0.01 is a quick test). The files use the canonical column names of
SCHEMA.md as headers, so the written revops.yaml needs no `columns:` maps.

The company is a B2B SaaS seller with data from 2024-01-01 to 2026-09-30 (reference day
2026-10-01). Links are consistent: every billing subscription has the won CRM deal that sold it
(amount = 12 x MRR, in the subscription's currency), upgrades have expansion deals, converted
leads point at their deals and back, invoices follow the subscription months. Defects are planted
at low rates for the audit rules (duplicate ids, null and dangling account and owner ids, past-due
and stale open deals, won deals with bad amounts, off-list stages, unparseable dates and amounts,
placeholder e-mails, ...). All randomness comes from one numpy Generator, so a seed gives the same
bytes every time.

--peer writes instead the dataset of ../shared/research/PEER_PERF.md section 2: deals.csv
(1,000,000 rows x 8 columns) and accounts.csv (100,000 rows), a revops.yaml that maps them, and
expected.json with the seven peer counts computed from the numpy arrays.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

EPOCH = date(1970, 1, 1)


def day(iso: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return (date.fromisoformat(iso) - EPOCH).days


D0 = day("2024-01-01")  # first day of the data
D1 = day("2026-09-30")  # last day of the data
AS_OF = day("2026-10-01")  # the reference day the defects are planted against
SPAN = D1 - D0 + 1
SEC = 86_400

BASE_SIZES = {
    "owners": 2_000,
    "accounts": 200_000,
    "leads": 2_000_000,
    "deals": 1_000_000,
    "customers": 150_000,
    "subscriptions": 250_000,
    "invoices": 1_500_000,
    "expenses": 50_000,
}
MIN_SIZES = {"owners": 10, "accounts": 50, "customers": 20}

CURRENCIES = ["USD", "EUR", "GBP", "CAD"]
CURRENCY_P = [0.70, 0.15, 0.10, 0.05]
RATES = {"EUR": 1.08, "GBP": 1.27, "CAD": 0.73}
TAX = {"USD": 0.0, "EUR": 0.19, "GBP": 0.20, "CAD": 0.05}

OPEN_STAGES = ["Prospecting", "Qualification", "Proposal", "Negotiation"]
WON, LOST = "Closed Won", "Closed Lost"
OFF_LIST_STAGES = ["Legal Review", "Stalled"]

SYLLABLES = [
    "al",
    "bel",
    "cor",
    "dan",
    "el",
    "fen",
    "gar",
    "hal",
    "is",
    "jor",
    "kel",
    "lan",
    "mor",
    "nor",
    "or",
    "pel",
    "quin",
    "ros",
    "sel",
    "tor",
    "ul",
    "ven",
    "wil",
    "xan",
    "yor",
    "zel",
    "bri",
    "cla",
    "dra",
    "fro",
    "gla",
    "kra",
    "ler",
    "mar",
    "nes",
    "pra",
    "ril",
    "sta",
    "tre",
    "vis",
]
SECTORS = [
    "Logistics",
    "Software",
    "Health",
    "Analytics",
    "Foods",
    "Energy",
    "Robotics",
    "Design",
    "Insurance",
    "Learning",
    "Apparel",
    "Textiles",
    "Systems",
    "Partners",
    "Labs",
    "Media",
    "Finance",
    "Capital",
    "Dental",
    "Studio",
    "Motors",
    "Retail",
    "Security",
    "Networks",
    "Bio",
    "Consulting",
    "Foundry",
    "Works",
    "Digital",
    "Cloud",
]
LEGAL = ["Inc.", "LLC", "Ltd", "GmbH", "Corp.", "B.V.", "SAS", "AG", "", "", "", ""]
FIRST = [
    "Olivia",
    "Marcus",
    "Hana",
    "Petra",
    "Elias",
    "Ravi",
    "Lucia",
    "Alma",
    "Ethan",
    "Anton",
    "Katja",
    "Samuel",
    "Ella",
    "Noah",
    "Mia",
    "Liam",
    "Sofia",
    "Lucas",
    "Emma",
    "Mateo",
    "Aisha",
    "Omar",
    "Yuki",
    "Kenji",
    "Priya",
    "Arjun",
    "Chloe",
    "Leo",
    "Nora",
    "Felix",
    "Ines",
    "Jonas",
    "Clara",
    "Hugo",
    "Zoe",
    "Ivan",
    "Lena",
    "Tariq",
    "Maya",
    "Owen",
    "Ruth",
    "Diego",
    "Sara",
    "Paul",
    "Amir",
    "Julia",
    "Tom",
    "Vera",
    "Max",
    "Ada",
]
LAST = [
    "Bennett",
    "Reid",
    "Castro",
    "Ahmed",
    "Novak",
    "Walsh",
    "Rossi",
    "Ferrer",
    "Janssen",
    "Costa",
    "Patel",
    "Garcia",
    "Smith",
    "Muller",
    "Dubois",
    "Silva",
    "Kim",
    "Nguyen",
    "Cohen",
    "Larsen",
    "Berg",
    "Moreau",
    "Schmidt",
    "Kowalski",
    "Tanaka",
    "Singh",
    "Lopez",
    "Fischer",
    "Weber",
    "Meyer",
    "Hansen",
    "Nielsen",
    "Romano",
    "Conti",
    "Bianchi",
    "Martin",
    "Lee",
    "Clark",
    "Lewis",
    "Young",
    "King",
    "Wright",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Turner",
    "Brooks",
]
INDUSTRIES = [
    "Software",
    "Logistics",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Finance",
    "Education",
    "Energy",
    "Media",
    "Insurance",
    "Telecom",
    "Hospitality",
]
COUNTRIES = [
    "United States",
    "United Kingdom",
    "Germany",
    "France",
    "Netherlands",
    "Canada",
    "Spain",
    "Italy",
    "Sweden",
    "Australia",
    "Ireland",
    "Switzerland",
]
COUNTRY_P = [0.45, 0.12, 0.10, 0.06, 0.04, 0.06, 0.04, 0.03, 0.03, 0.04, 0.02, 0.01]
SEGMENTS = ["Enterprise", "Mid-Market", "SMB"]
TEAMS = ["Enterprise", "Mid-Market", "SMB", "EMEA", "APAC"]
SOURCES = [
    "Organic Search",
    "Paid Search",
    "Paid Social",
    "Referral",
    "Outbound",
    "Event",
    "Partner",
]
PRE_CUSTOMER_STAGES = ["Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity"]
FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com"]
# (plan, monthly price per seat) of the main plans and the add-ons
PLANS = [("Starter", 29.0), ("Growth", 59.0), ("Business", 99.0), ("Enterprise", 199.0)]
PLAN_P = [0.35, 0.35, 0.22, 0.08]
ADDONS = [("Analytics Add-on", 99.0), ("Extra Storage", 49.0), ("Premium Support", 299.0)]

# A bijection of [0, COMPANY_SPACE): distinct codes give distinct company names and domains.
COMPANY_SPACE = len(SYLLABLES) ** 4 * len(SECTORS)
COMPANY_MULT = 2_654_435_761  # prime, so coprime with COMPANY_SPACE


# --- small helpers ---------------------------------------------------------------------------


def size(name: str, scale: float) -> int:
    return max(round(BASE_SIZES[name] * scale), MIN_SIZES.get(name, 1))


def pick(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """A boolean mask with about `rate * n` True values (at least one when rate > 0 and n > 0)."""
    mask = rng.random(n) < rate
    if rate > 0 and n > 0 and not mask.any():
        mask[rng.integers(n)] = True
    return mask


def skewed_days(
    rng: np.random.Generator, n: int, lo: int, hi: int, power: float = 0.6
) -> np.ndarray:
    """Days in [lo, hi], denser towards hi (a growing company): lo + (hi-lo) * u**power."""
    return lo + np.floor((hi - lo + 1) * rng.random(n) ** power).astype(np.int64).clip(0, hi - lo)


def vocab(words: list[str], idx: np.ndarray) -> pl.Series:
    return pl.Series(words, dtype=pl.String).gather(pl.Series(idx.astype(np.int64)))


def choice(
    rng: np.random.Generator, words: list[str], n: int, p: list[float] | None = None
) -> pl.Series:
    return vocab(words, rng.choice(len(words), size=n, p=p))


def ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    s = pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)
    return (prefix + s) if prefix else s


_LUT_LO, _LUT_HI = day("2020-01-01"), day("2031-01-01")
_DATE_LUT: pl.Series | None = None
_TIME_LUT: pl.Series | None = None


def _luts() -> tuple[pl.Series, pl.Series]:
    """ISO text of every day 2020-2030 and of every second of a day (formatting by lookup)."""
    global _DATE_LUT, _TIME_LUT
    if _DATE_LUT is None or _TIME_LUT is None:
        days = pl.Series(np.arange(_LUT_LO, _LUT_HI, dtype=np.int32)).cast(pl.Date)
        _DATE_LUT = days.dt.to_string("%Y-%m-%d")
        t = np.arange(SEC)
        _TIME_LUT = (
            pl.Series(t // 3600).cast(pl.String).str.zfill(2)
            + ":"
            + pl.Series(t // 60 % 60).cast(pl.String).str.zfill(2)
            + ":"
            + pl.Series(t % 60).cast(pl.String).str.zfill(2)
        )
    return _DATE_LUT, _TIME_LUT


def _in_lut(days: np.ndarray) -> bool:
    return len(days) == 0 or (int(days.min()) >= _LUT_LO and int(days.max()) < _LUT_HI)


def dates(days: np.ndarray) -> pl.Series:
    days = np.asarray(days, dtype=np.int64)
    if not _in_lut(days):
        return pl.Series(days.astype(np.int32)).cast(pl.Date).dt.to_string("%Y-%m-%d")
    return _luts()[0].gather(pl.Series(days - _LUT_LO))


def datetimes(seconds: np.ndarray, utc: bool = False) -> pl.Series:
    seconds = np.asarray(seconds, dtype=np.int64)
    days = seconds // SEC
    if not _in_lut(days):
        fmt = "%Y-%m-%dT%H:%M:%S" + ("Z" if utc else "")
        return pl.from_epoch(pl.Series(seconds), "s").dt.to_string(fmt)
    date_lut, time_lut = _luts()
    parts = [
        date_lut.gather(pl.Series(days - _LUT_LO)),
        pl.lit("T"),
        time_lut.gather(pl.Series(seconds - days * SEC)),
    ]
    if utc:
        parts.append(pl.lit("Z"))
    return pl.select(pl.concat_str(parts)).to_series()


def money(values: np.ndarray) -> pl.Series:
    return pl.Series(np.round(values, 2)).cast(pl.String)


def nulls(n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True)


def put(s: pl.Series, mask: np.ndarray, value: object) -> pl.Series:
    """A copy of `s` with `value` where `mask` holds.

    `value` is a literal (None for empty), a Series as long as `s`, or a function of the
    selected positions returning their values (so that only those values are computed).
    """
    idx = np.flatnonzero(mask)
    if not len(idx):
        return s
    if callable(value):
        vals = value(idx)
    elif isinstance(value, pl.Series):
        vals = value.gather(pl.Series(idx))
    else:
        vals = pl.repeat(value, len(idx), dtype=s.dtype, eager=True)
    return s.clone().scatter(idx, vals)


def secs(days: np.ndarray, rng: np.random.Generator, lo_h: int = 7, hi_h: int = 19) -> np.ndarray:
    """Epoch seconds of `days` at a random time of the working day."""
    return days.astype(np.int64) * SEC + rng.integers(lo_h * 3600, hi_h * 3600, size=len(days))


def lifetimes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Days until churn: mostly at the end of a contract year, some early (monthly plans)."""
    early = rng.random(n) < 0.05
    years = rng.geometric(0.22, n)
    return np.where(
        early,
        30 + rng.exponential(150, n).astype(np.int64),
        365 * years - rng.integers(0, 30, n),
    )


_PAIRS: tuple[pl.Series, pl.Series] | None = None


def _syllable_pairs() -> tuple[pl.Series, pl.Series]:
    """Every pair of syllables, lower-case and capitalised (1,600 of each)."""
    global _PAIRS
    if _PAIRS is None:
        pairs = [a + b for a in SYLLABLES for b in SYLLABLES]
        _PAIRS = (pl.Series(pairs), pl.Series([p.capitalize() for p in pairs]))
    return _PAIRS


def companies(codes: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """(name without legal suffix, domain) of company codes; distinct codes -> distinct names."""
    c = (codes.astype(np.uint64) * np.uint64(COMPANY_MULT)) % np.uint64(COMPANY_SPACE)
    c = c.astype(np.int64)
    ns, npair = len(SECTORS), len(SYLLABLES) ** 2
    sector, c = c % ns, c // ns
    head, tail = pl.Series(c % npair), pl.Series(c // npair % npair)
    lower, capital = _syllable_pairs()
    sec = pl.Series(SECTORS).gather(pl.Series(sector))
    sec_lower = pl.Series([x.lower() for x in SECTORS]).gather(pl.Series(sector))
    tail_s = lower.gather(tail)
    name = pl.select(pl.concat_str([capital.gather(head), tail_s, pl.lit(" "), sec])).to_series()
    domain = pl.select(
        pl.concat_str([lower.gather(head), tail_s, sec_lower, pl.lit(".example")])
    ).to_series()
    return name, domain


def write(frame: pl.DataFrame, out: Path, name: str) -> int:
    path = out / f"{name}.csv"
    frame.write_csv(path, null_value="")
    return path.stat().st_size


# --- the canonical dataset --------------------------------------------------------------------


def generate(
    scale: float, out: Path, seed: int, verbose: bool = False
) -> dict[str, dict[str, int]]:
    rng = np.random.default_rng(seed)
    n_own = size("owners", scale)
    n_acc = size("accounts", scale)
    n_cus = min(size("customers", scale), n_acc)
    n_sub_rows = max(size("subscriptions", scale), n_cus)
    n_inv = size("invoices", scale)
    n_deal = size("deals", scale)
    n_lead = size("leads", scale)
    n_exp = size("expenses", scale)
    stats: dict[str, dict[str, int]] = {}

    clock = [time.perf_counter()]

    def done(name: str, frame: pl.DataFrame) -> None:
        t = time.perf_counter()
        stats[name] = {"rows": frame.height, "bytes": write(frame, out, name)}
        now = time.perf_counter()
        if verbose:
            print(
                f"  {name}: built in {t - clock[0]:.1f} s, written in {now - t:.1f} s",
                file=sys.stderr,
            )
        clock[0] = now

    # --- owners ---
    own_team = rng.integers(0, len(TEAMS), n_own)
    own_first = rng.integers(0, len(FIRST), n_own)
    own_last = rng.integers(0, len(LAST), n_own)
    owner_ids = ids("OWN", np.arange(1, n_own + 1), 5)
    first = vocab(FIRST, own_first)
    last = vocab(LAST, own_last)
    own_email = (
        first.str.to_lowercase()
        + "."
        + last.str.to_lowercase()
        + ids("", np.arange(1, n_own + 1), 4)
        + "@northwind-analytics.example"
    )
    own_active = rng.random(n_own) >= 0.05
    dup = np.flatnonzero(pick(rng, n_own, 0.002))  # U006: an owner exported twice under two ids
    own_email = own_email.scatter(dup, own_email.gather((dup + 1) % n_own))
    own_email = put(own_email, pick(rng, n_own, 0.001), "test@northwind-analytics.example")
    owners = pl.DataFrame(
        {
            "owner_id": owner_ids,
            "name": first + " " + last,
            "email": own_email,
            "team": vocab(TEAMS, own_team),
            "is_active": pl.Series(own_active).cast(pl.String).str.to_lowercase(),
        }
    )
    done("owners", owners)
    active_owner_idx = np.flatnonzero(own_active)

    def owner_refs(
        n: int, null_rate: float, dangling_rate: float, base: np.ndarray | None = None
    ) -> pl.Series:
        idx = (
            base
            if base is not None
            else active_owner_idx[rng.integers(0, len(active_owner_idx), n)]
        )
        s = owner_ids.gather(pl.Series(idx.astype(np.int64)))
        s = put(
            s,
            pick(rng, n, dangling_rate),
            lambda k: ids("OWN9", rng.integers(0, 10_000, len(k)), 4),
        )
        return put(s, pick(rng, n, null_rate), None)

    # --- customers and subscriptions (billing drives the won CRM deals) ---
    cus_acc = rng.permutation(n_acc)[:n_cus]  # the account of each customer (distinct)
    cus_cur = rng.choice(len(CURRENCIES), n_cus, p=CURRENCY_P)
    p_start = skewed_days(rng, n_cus, D0, D1 - 1, 0.55)
    life = lifetimes(rng, n_cus)
    p_end = p_start + life
    p_live = p_end > D1
    # add-ons: a second subscription of 20% of the customers, inside the main one
    n_add = round(0.2 * n_cus)
    add_cus = rng.choice(n_cus, n_add, replace=False)
    horizon = np.where(p_live[add_cus], D1, p_end[add_cus]) - p_start[add_cus]
    a_start = p_start[add_cus] + (rng.random(n_add) * np.minimum(180, horizon - 1)).astype(np.int64)
    own_churn = rng.random(n_add) < 0.2
    a_end = np.where(own_churn, a_start + lifetimes(rng, n_add), p_end[add_cus])
    a_end = np.maximum(
        np.minimum(a_end, np.where(p_live[add_cus], a_end, p_end[add_cus])), a_start + 1
    )
    n_sub = n_cus + n_add
    sub_cus = np.concatenate([np.arange(n_cus), add_cus])
    s_start = np.concatenate([p_start, a_start])
    s_end = np.concatenate([p_end, a_end])
    s_live = s_end > D1
    s_is_addon = np.arange(n_sub) >= n_cus
    plan_idx = rng.choice(len(PLANS), n_cus, p=PLAN_P)
    addon_idx = rng.integers(0, len(ADDONS), n_add)
    plan_name = [p for p, _ in PLANS] + [a for a, _ in ADDONS]
    plan_price = np.array([x for _, x in PLANS] + [x for _, x in ADDONS])
    s_plan = np.concatenate([plan_idx, len(PLANS) + addon_idx])
    # B004: a few add-ons are a second subscription of the customer's own main plan
    same_plan = pick(rng, n_add, 0.002)
    s_plan[n_cus:][same_plan] = plan_idx[add_cus[same_plan]]
    # billing interval: month (75%), quarter as month x 3 (5%), year (20%; 2 months free)
    iv = rng.choice(3, n_sub, p=[0.75, 0.05, 0.20])
    iv_months = np.array([1, 3, 12])[iv]
    s_qty = np.where(
        s_is_addon, rng.integers(1, 4, n_sub), 1 + rng.geometric(0.12, n_sub).clip(max=200)
    )
    monthly = plan_price[s_plan]
    s_amount = np.where(iv == 2, monthly * 10, monthly * iv_months)
    s_cur = cus_cur[sub_cus]
    sub_ids = ids("sub_", np.arange(1, n_sub + 1), 10)

    # price changes: a second row for some subscriptions (upgrade 80%, downgrade 20%)
    n_chg = max(0, n_sub_rows - n_sub)
    dur = np.where(s_live, D1, s_end) - s_start
    eligible = np.flatnonzero(dur >= 60)
    n_chg = min(n_chg, len(eligible))
    chg = np.sort(rng.choice(eligible, n_chg, replace=False))
    chg_day = s_start[chg] + 30 + (rng.random(n_chg) * (dur[chg] - 30)).astype(np.int64)
    up = rng.random(n_chg) < 0.8
    new_qty = np.where(
        up,
        s_qty[chg] + np.maximum(1, (s_qty[chg] * rng.uniform(0.1, 0.5, n_chg)).astype(np.int64)),
        np.maximum(
            1,
            s_qty[chg]
            - np.maximum(1, (s_qty[chg] * rng.uniform(0.1, 0.4, n_chg)).astype(np.int64)),
        ),
    )
    up &= new_qty > s_qty[chg]
    # rows: every subscription's first span, then the second span of the changed ones
    has_chg = np.zeros(n_sub, bool)
    has_chg[chg] = True
    r_sub = np.concatenate([np.arange(n_sub), chg])
    r_start = np.concatenate([s_start, chg_day])
    first_end = s_end.copy()
    first_end[chg] = chg_day
    r_end = np.concatenate([first_end, s_end[chg]])
    r_qty = np.concatenate([s_qty, new_qty])
    r_final = np.concatenate([~has_chg, np.ones(n_chg, bool)])  # the subscription's latest row
    r_open = r_final & s_live[r_sub]
    n_rows = len(r_sub)
    # status of each row
    trial = r_open & (r_start >= AS_OF - 14) & ~s_is_addon[r_sub]
    past_due = r_open & ~trial & pick(rng, n_rows, 0.01)
    status = np.full(n_rows, "canceled", dtype=object)
    status[r_open] = "active"
    status[past_due] = "past_due"
    status[trial] = "trialing"
    churn_row = r_final & ~s_live[r_sub]
    cancel_sec = secs(np.maximum(r_start, r_end - rng.integers(0, 21, n_rows)), rng)
    end_days = np.where(r_open, 0, r_end)
    sub_rows = pl.DataFrame(
        {
            "subscription_id": sub_ids.gather(pl.Series(r_sub)),
            "customer_id": ids("cus_", sub_cus[r_sub] + 1, 9),
            "plan": vocab(plan_name, s_plan[r_sub]),
            "status": pl.Series(status.astype(str)),
            "amount": money(s_amount[r_sub]),
            "currency": vocab([c.lower() for c in CURRENCIES], s_cur[r_sub]),
            "interval": vocab(["month", "month", "year"], iv[r_sub]),
            "interval_count": pl.Series(np.where(iv[r_sub] == 1, 3, 1)).cast(pl.String),
            "quantity": pl.Series(r_qty).cast(pl.String),
            "start_date": dates(r_start),
            "end_date": put(dates(end_days), r_open, None),
            "canceled_at": put(datetimes(cancel_sec, utc=True), ~churn_row, None),
            "trial_end": put(dates(r_start + 14), ~trial, None),
        }
    )
    # defects: I005 dangling customer, V006 zero seats, T002 canceled before start,
    # B002 active with a past end date
    sub_rows = sub_rows.with_columns(
        customer_id=put(
            sub_rows["customer_id"],
            pick(rng, n_rows, 0.0002),
            lambda k: ids("cus_9", rng.integers(0, 10**8, len(k)), 8),
        ),
        quantity=put(sub_rows["quantity"], pick(rng, n_rows, 0.0002), "0"),
        canceled_at=put(
            sub_rows["canceled_at"],
            churn_row & pick(rng, n_rows, 0.0002),
            lambda k: datetimes(secs(r_start[k] - 3, rng), utc=True),
        ),
    )
    stale_active = churn_row & pick(rng, n_rows, 0.0005)
    sub_rows = sub_rows.with_columns(
        status=put(sub_rows["status"], stale_active, "active"),
        canceled_at=put(sub_rows["canceled_at"], stale_active, None),
    )
    done("subscriptions", sub_rows)

    # --- invoices: one per billing period of every subscription row ---
    bill = np.flatnonzero(~trial & (r_start <= D1))
    b_start, b_stop = r_start[bill], np.minimum(np.where(r_open[bill], D1 + 1, r_end[bill]), D1 + 1)
    step = iv_months[r_sub[bill]]
    m0 = b_start.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    dom = b_start - m0.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    m1 = b_stop.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    n_per = (m1 - m0) // step + 1
    rep = np.repeat(np.arange(len(bill)), n_per)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(n_per) - n_per, n_per)
    mon = m0[rep] + k * step[rep]
    mon_start = mon.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    dim = (mon + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - mon_start
    p_start_d = mon_start + np.minimum(dom[rep], dim - 1)
    mon2 = mon + step[rep]
    mon2_start = mon2.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    dim2 = (mon2 + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - mon2_start
    p_end_d = mon2_start + np.minimum(dom[rep], dim2 - 1)
    keep = p_start_d < b_stop[rep]
    rep, p_start_d, p_end_d = rep[keep], p_start_d[keep], p_end_d[keep]
    row = bill[rep]
    if len(rep) > n_inv:  # keep exactly n_inv, in order
        sel = np.sort(rng.choice(len(rep), n_inv, replace=False))
        row, p_start_d, p_end_d = row[sel], p_start_d[sel], p_end_d[sel]
    n_sub_inv = len(row)
    if verbose:
        print(
            f"  invoices: {len(rep):,d} subscription periods, {n_sub_inv:,d} kept", file=sys.stderr
        )
    n_one_off = n_inv - n_sub_inv  # one-off invoices (setup fees, training) fill up to n_inv
    one_cus = rng.integers(0, n_cus, n_one_off)
    one_day = skewed_days(rng, n_one_off, D0, D1)
    sub_of = r_sub[row]
    subtotal = np.concatenate(
        [s_amount[sub_of] * r_qty[row], rng.choice([500.0, 1500.0, 2500.0], n_one_off)]
    )
    inv_cus = np.concatenate([sub_cus[sub_of], one_cus])
    inv_cur = np.concatenate([s_cur[sub_of], cus_cur[one_cus]])
    tax = np.round(subtotal * np.array([TAX[c] for c in CURRENCIES])[inv_cur], 2)
    issued_day = np.concatenate([p_start_d, one_day])
    issued = secs(issued_day, rng, 0, 6)
    inv_status = np.full(n_inv, "paid", dtype=object)
    recent = issued_day >= AS_OF - 30
    inv_status[recent & (rng.random(n_inv) < 0.35)] = "open"
    inv_status[pick(rng, n_inv, 0.005)] = "void"
    inv_status[pick(rng, n_inv, 0.003) & ~recent] = "uncollectible"
    inv_status[pick(rng, n_inv, 0.001) & recent] = "draft"
    paid = inv_status == "paid"
    paid_at = np.minimum(issued + rng.integers(60, 6 * SEC, n_inv), AS_OF * SEC - 60)
    period_start = np.concatenate([p_start_d, one_day])
    period_end = np.concatenate([p_end_d, one_day + 1])
    invoices = pl.DataFrame(
        {
            "invoice_id": ids("in_", rng.permutation(n_inv) + 10**9, 12),
            "customer_id": ids("cus_", inv_cus + 1, 9),
            "subscription_id": put(
                sub_ids.gather(pl.Series(np.concatenate([sub_of, np.zeros(n_one_off, np.int64)]))),
                np.arange(n_inv) >= n_sub_inv,
                None,
            ),
            "amount": money(subtotal + tax),
            "tax_amount": money(tax),
            "currency": vocab([c.lower() for c in CURRENCIES], inv_cur),
            "status": pl.Series(inv_status.astype(str)),
            "issued_at": datetimes(issued, utc=True),
            "paid_at": put(datetimes(paid_at, utc=True), ~paid, None),
            "period_start": dates(period_start),
            "period_end": dates(period_end),
        }
    )
    # defects: B003 paid without paid_at, T002 paid before issued, I006/I007 dangling links,
    # V006 a paid credit note, S002 an unparseable amount, S004 a duplicated id
    bad_sub = pick(rng, n_inv, 0.0001) & (np.arange(n_inv) < n_sub_inv)
    dup = np.flatnonzero(pick(rng, n_inv, 0.00005))
    invoices = invoices.with_columns(
        paid_at=put(
            put(invoices["paid_at"], paid & pick(rng, n_inv, 0.0002), None),
            paid & pick(rng, n_inv, 0.0001),
            lambda k: datetimes(issued[k] - 2 * SEC, utc=True),
        ),
        customer_id=put(
            invoices["customer_id"],
            pick(rng, n_inv, 0.0001),
            lambda k: ids("cus_8", rng.integers(0, 10**8, len(k)), 8),
        ),
        subscription_id=put(
            invoices["subscription_id"],
            bad_sub,
            lambda k: ids("sub_9", rng.integers(0, 10**9, len(k)), 9),
        ),
        amount=put(
            put(invoices["amount"], paid & pick(rng, n_inv, 0.0001), "-250.00"),
            pick(rng, n_inv, 0.00005),
            "n/a",
        ),
    )
    invoices = invoices.with_columns(
        invoice_id=invoices["invoice_id"].scatter(
            dup, invoices["invoice_id"].gather((dup + 7) % n_inv)
        )
    )
    done("invoices", invoices)
    del invoices, sub_rows

    # --- accounts ---
    acc_name, acc_domain = companies(np.arange(n_acc))
    acc_owner_idx = active_owner_idx[rng.integers(0, len(active_owner_idx), n_acc)]
    cus_live = np.zeros(n_cus, bool)
    np.logical_or.at(cus_live, sub_cus, s_live)
    acc_stage_idx = rng.integers(0, len(PRE_CUSTOMER_STAGES), n_acc)
    lifecycle = vocab(PRE_CUSTOMER_STAGES, acc_stage_idx)
    stage_of = np.full(n_acc, -1)
    stage_of[cus_acc] = np.where(cus_live, 0, 1)  # 0 customer, 1 former customer
    stage_of[cus_acc[~cus_live & (rng.random(n_cus) < 0.05)]] = 0  # R004: churned, still Customer
    stage_of[cus_acc[cus_live & (rng.random(n_cus) < 0.005)]] = -1  # A001: live, not Customer
    no_billing = (stage_of == -1) & pick(rng, n_acc, 0.002)  # R005: Customer without billing
    lifecycle = put(lifecycle, (stage_of == 0) | no_billing, "Customer")
    lifecycle = put(lifecycle, stage_of == 1, "Former Customer")
    acc_created_day = rng.integers(D0, D1 + 1, n_acc)
    first_start = np.full(n_acc, D1 + 1)
    first_start[cus_acc] = p_start
    acc_created_day = np.minimum(
        acc_created_day, np.maximum(D0, first_start - rng.integers(0, 90, n_acc))
    )
    acc_created = datetimes(secs(acc_created_day, rng))
    acc_created = put(acc_created, pick(rng, n_acc, 0.0001), "1970-01-01T00:00:00")  # T003
    legal = vocab(LEGAL, rng.integers(0, len(LEGAL), n_acc))
    full_name = (acc_name + " " + legal).str.strip_chars()
    domain = acc_domain.clone()
    dup_dom = np.flatnonzero(pick(rng, n_acc, 0.003))  # U001: the same company twice
    domain = domain.scatter(dup_dom, domain.gather((dup_dom + 1) % n_acc))
    domain = put(domain, pick(rng, n_acc, 0.0005), "gmail.com")  # V002
    domain = put(domain, pick(rng, n_acc, 0.0002), "n/a")  # V002
    domain = put(domain, pick(rng, n_acc, 0.01), None)  # S003 fill is still above 95%
    full_name = put(full_name, pick(rng, n_acc, 0.0002), "test")  # V005
    accounts = pl.DataFrame(
        {
            "account_id": ids("A", np.arange(1, n_acc + 1), 8),
            "name": full_name,
            "domain": domain,
            "owner_id": owner_refs(n_acc, 0.02, 0.003, acc_owner_idx),
            "industry": choice(rng, INDUSTRIES, n_acc),
            "segment": choice(rng, SEGMENTS, n_acc, [0.15, 0.35, 0.50]),
            "country": choice(rng, COUNTRIES, n_acc, COUNTRY_P),
            "created_at": acc_created,
            "lifecycle_stage": lifecycle,
        }
    )
    dup_rows = np.flatnonzero(pick(rng, n_acc, 0.0001))  # S004: an account exported twice
    accounts = pl.concat([accounts, accounts[dup_rows]])
    done("accounts", accounts)
    acc_ids = accounts["account_id"][:n_acc]
    del accounts

    # --- customers ---
    cus_name = put(full_name.gather(pl.Series(cus_acc)), pick(rng, n_cus, 0.0002), "test")
    cus_email = (
        vocab(["billing", "ap", "finance", "invoices"], rng.integers(0, 4, n_cus))
        + "@"
        + acc_domain.gather(pl.Series(cus_acc))
    )
    dup_e = np.flatnonzero(pick(rng, n_cus, 0.001))  # U005 when both are live
    cus_email = cus_email.scatter(dup_e, cus_email.gather((dup_e + 1) % n_cus))
    cus_email = put(cus_email, pick(rng, n_cus, 0.0002), "ap@example.com")  # V001
    cus_account = acc_ids.gather(pl.Series(cus_acc))
    cus_account = put(
        cus_account, pick(rng, n_cus, 0.005), lambda k: ids("A9", rng.integers(0, 10**8, len(k)), 8)
    )
    cus_account = put(cus_account, pick(rng, n_cus, 0.02), None)  # linked by e-mail domain
    customers = pl.DataFrame(
        {
            "customer_id": ids("cus_", np.arange(1, n_cus + 1), 9),
            "account_id": cus_account,
            "email": cus_email,
            "name": cus_name,
            "created_at": put(
                datetimes(p_start * SEC + rng.integers(0, 6 * 3600, n_cus), utc=True),
                pick(rng, n_cus, 0.0001),
                "0000-00-00T00:00:00Z",
            ),
        }
    )
    done("customers", customers)
    del customers

    # --- deals: the won deals behind billing, then the rest of the pipeline ---
    # A: one won deal per subscription (main: new business, add-on: expansion), per upgrade
    # (expansion) and per yearly renewal of a main subscription (renewal, at the customer's ARR)
    up_rows = chg[up]
    row_mrr = s_amount[r_sub] * r_qty / iv_months[r_sub]
    p_stop = np.where(p_live, D1 + 1, p_end)
    n_ren = np.maximum(0, (np.minimum(p_stop - 1, D1) - p_start) // 365)
    ren_cus = np.repeat(np.arange(n_cus), n_ren)
    ren_k = 1 + np.arange(len(ren_cus)) - np.repeat(np.cumsum(n_ren) - n_ren, n_ren)
    ren_day = p_start[ren_cus] + 365 * ren_k
    spans = pl.DataFrame(
        {
            "cus": sub_cus[r_sub],
            "start": r_start,
            "end": np.where(r_open, 10**7, r_end),
            "mrr": row_mrr,
        }
    )
    ren_mrr = (
        pl.DataFrame({"e": np.arange(len(ren_cus)), "cus": ren_cus, "d": ren_day})
        .join(spans, on="cus")
        .filter((pl.col("start") <= pl.col("d")) & (pl.col("d") < pl.col("end")))
        .group_by("e")
        .agg(pl.col("mrr").sum())
    )
    ren_arr = np.zeros(len(ren_cus))
    ren_arr[ren_mrr["e"].to_numpy()] = ren_mrr["mrr"].to_numpy()
    a_close = np.concatenate([s_start, chg_day[up], ren_day])
    a_mrr = np.concatenate(
        [
            s_amount * s_qty / iv_months,
            s_amount[up_rows] * (new_qty[up] - s_qty[up_rows]) / iv_months[up_rows],
            ren_arr,
        ]
    )
    a_type = np.concatenate(
        [np.where(s_is_addon, 1, 0), np.ones(len(up_rows), np.int64), np.full(len(ren_cus), 2)]
    )
    a_cus = np.concatenate([sub_cus, sub_cus[up_rows], ren_cus])
    a_acc = cus_acc[a_cus]
    a_cur = cus_cur[a_cus]
    a_n = len(a_close)
    if a_n > n_deal:  # tiny scales: keep the first n_deal
        a_n = n_deal
        a_close, a_mrr, a_type, a_acc, a_cur = (
            x[:n_deal] for x in (a_close, a_mrr, a_type, a_acc, a_cur)
        )
    b_n = n_deal - a_n
    # B: pipeline deals on any account; old ones are mostly closed lost, recent ones open
    b_created = skewed_days(rng, b_n, D0, D1, 0.7)
    age = AS_OF - b_created
    b_open = rng.random(b_n) < np.where(age <= 120, 0.75, 0.03)
    b_won = ~b_open & (rng.random(b_n) < 0.003)  # R001: won, but never billed
    cycle = rng.integers(14, 150, b_n)
    b_close = b_created + cycle
    b_close = np.where(~b_open, np.minimum(b_close, D1), b_close)
    # open: most close in the future; some are past due (D002)
    b_close = np.where(
        b_open & (b_close < AS_OF) & (rng.random(b_n) > 0.25),
        AS_OF + rng.integers(1, 120, b_n),
        b_close,
    )
    b_stage = np.where(b_open, rng.choice(4, b_n, p=[0.35, 0.3, 0.2, 0.15]), np.where(b_won, 4, 5))
    b_type = rng.choice(3, b_n, p=[0.8, 0.12, 0.08])
    b_acc = rng.integers(0, n_acc, b_n)
    b_cur = rng.choice(len(CURRENCIES), b_n, p=CURRENCY_P)
    b_amount = np.round(np.exp(rng.normal(9.6, 0.9, b_n)), -1)

    created = np.concatenate([np.maximum(D0, a_close - rng.integers(14, 120, a_n)), b_created])
    close = np.concatenate([a_close, b_close])
    stage = np.concatenate([np.full(a_n, 4), b_stage])  # 0-3 open, 4 won, 5 lost
    is_open = stage < 4
    dtype_idx = np.concatenate([a_type, b_type])
    deal_acc = np.concatenate([a_acc, b_acc])
    deal_cur = np.concatenate([a_cur, b_cur])
    seats = rng.integers(5, 500, n_deal)
    a_seats = np.concatenate([s_qty, new_qty[up] - s_qty[up_rows], s_qty[ren_cus]])
    seats[:a_n] = a_seats[:a_n]
    # U004: a few open deals entered twice on the same account
    open_idx = np.flatnonzero(is_open)
    if len(open_idx) >= 2:
        n_pair = max(1, len(open_idx) // 2000)
        pair = rng.choice(open_idx, 2 * n_pair, replace=False)
        deal_acc[pair[n_pair:]] = deal_acc[pair[:n_pair]]
        dtype_idx[pair[n_pair:]] = dtype_idx[pair[:n_pair]]
        seats[pair[n_pair:]] = seats[pair[:n_pair]]
    # last activity: a day or two after closing; open deals mostly recent, some stale (D003)
    quiet = np.where(
        rng.random(n_deal) < 0.08, rng.integers(15, 120, n_deal), rng.integers(0, 14, n_deal)
    )
    last_act = np.where(
        is_open,
        np.maximum(created, AS_OF - 1 - quiet),
        np.minimum(close + rng.integers(0, 3, n_deal), D1),
    )
    last_act = np.maximum(last_act, created)
    created_s = secs(created, rng)
    last_s = np.maximum(secs(last_act, rng), created_s)
    amount = np.concatenate([np.round(12 * a_mrr, 2), b_amount])
    stage_words = [*OPEN_STAGES, WON, LOST]
    stage_s = vocab(stage_words, stage)
    if len(open_idx):  # S005: stages missing from the map
        off = np.zeros(n_deal, bool)
        off[rng.choice(open_idx, min(len(open_idx), max(3, n_deal // 2000)), replace=False)] = True
        stage_s = put(stage_s, off, vocab(OFF_LIST_STAGES, rng.integers(0, 2, n_deal)))
    prob = np.array([10, 20, 50, 80, 100, 0])[stage]
    fc = vocab(["Pipeline", "Pipeline", "Best Case", "Commit", "Closed", "Omitted"], stage)
    type_words = ["new_business", "expansion", "renewal"]
    type_label = vocab(["New Business", "Expansion", "Renewal"], dtype_idx)
    deal_ids = ids("D", np.arange(1, n_deal + 1), 9)
    amount_s = money(amount)
    won = stage == 4
    bad_amt = won & pick(rng, n_deal, 0.002)  # D005
    amount_s = put(amount_s, bad_amt & (rng.random(n_deal) < 0.5), None)
    amount_s = put(amount_s, bad_amt & (rng.random(n_deal) < 0.5), "0")
    amount_s = put(amount_s, is_open & pick(rng, n_deal, 0.01), None)  # D006
    amount_s = put(amount_s, pick(rng, n_deal, 0.0001), "n/a")  # S002
    close_s = dates(close)
    close_s = put(close_s, pick(rng, n_deal, 0.0001), "TBD")  # S002
    close_s = put(close_s, is_open & pick(rng, n_deal, 0.003), None)  # D007
    close_s = put(
        close_s,
        ~is_open & pick(rng, n_deal, 0.0002),
        str(date.fromordinal(EPOCH.toordinal() + AS_OF + 40)),
    )  # D008
    created_str = datetimes(created_s)
    created_str = put(
        created_str, pick(rng, n_deal, 0.0001), lambda k: datetimes(close[k] * SEC + 5 * SEC)
    )  # T002
    prob_s = pl.Series(prob).cast(pl.String)
    prob_s = put(prob_s, pick(rng, n_deal, 0.0001), "150")  # V006
    deal_owner_idx = np.where(
        rng.random(n_deal) < 0.8,
        acc_owner_idx[deal_acc],
        active_owner_idx[rng.integers(0, len(active_owner_idx), n_deal)],
    )
    account_ref = acc_ids.gather(pl.Series(deal_acc))
    account_ref = put(
        account_ref,
        pick(rng, n_deal, 0.003),
        lambda k: ids("A9", rng.integers(0, 10**8, len(k)), 8),
    )
    account_ref = put(account_ref, pick(rng, n_deal, 0.01), None)  # D001
    # converted leads: 30% of the deals came from a lead (deal.lead_id <-> lead.converted_deal_id)
    n_conv = min(int(0.3 * n_deal), n_lead // 2)
    conv_deal = np.sort(rng.choice(n_deal, n_conv, replace=False))
    conv_lead = rng.choice(n_lead, n_conv, replace=False)
    lead_ids = ids("L", np.arange(1, n_lead + 1), 9)
    deal_lead = nulls(n_deal).scatter(conv_deal, lead_ids.gather(pl.Series(conv_lead)))
    deal_lead = put(
        deal_lead, pick(rng, n_deal, 0.0001), lambda k: ids("L9", rng.integers(0, 10**8, len(k)), 8)
    )  # I003
    deal_name = (
        acc_name.gather(pl.Series(deal_acc))
        + " - "
        + type_label
        + " ("
        + pl.Series(seats).cast(pl.String)
        + " seats)"
    )
    deals = pl.DataFrame(
        {
            "deal_id": deal_ids,
            "name": deal_name,
            "account_id": account_ref,
            "owner_id": owner_refs(n_deal, 0.01, 0.002, deal_owner_idx),
            "stage": stage_s,
            "amount": amount_s,
            "currency": vocab(CURRENCIES, deal_cur),
            "deal_type": vocab(type_words, dtype_idx),
            "created_at": created_str,
            "close_date": close_s,
            "last_activity_at": datetimes(last_s),
            "probability": prob_s,
            "forecast_category": fc,
            "lead_id": deal_lead,
            "source": choice(rng, SOURCES, n_deal),
        }
    )
    dup = np.flatnonzero(pick(rng, n_deal, 0.0002))  # S004: ids reused by another row
    deals = deals.with_columns(
        deal_id=deals["deal_id"].scatter(dup, deal_ids.gather((dup + 13) % n_deal))
    )
    done("deals", deals)
    del deals, deal_name

    # --- deal stage history: ~3 rows per deal ---
    # closed deals: 1-4 open stages, then the closing stage on the close date; open deals: one
    # row per stage reached, the current one entered shortly before the last activity
    n_hist = np.where(is_open, stage + 1, rng.integers(1, 5, n_deal) + 1)
    hrep = np.repeat(np.arange(n_deal), n_hist)
    j = np.arange(len(hrep)) - np.repeat(np.cumsum(n_hist) - n_hist, n_hist)
    last_row = j == n_hist[hrep] - 1
    h_stage = np.where(last_row, stage[hrep], np.minimum(j, 3))
    cur_entry = np.where(
        is_open,
        last_s - rng.integers(0, 20 * SEC, n_deal),
        close * SEC + 17 * 3600,
    )
    cur_entry = np.maximum(cur_entry, created_s)
    frac = np.where(last_row, 1.0, j / np.maximum(n_hist[hrep] - 1, 1))
    entered = created_s[hrep] + (frac * (cur_entry[hrep] - created_s[hrep])).astype(np.int64)
    n_h = len(hrep)
    hist = pl.DataFrame(
        {
            "deal_id": put(
                deal_ids.gather(pl.Series(hrep)),
                pick(rng, n_h, 0.0001),
                lambda k: ids("D9", rng.integers(0, 10**8, len(k)), 8),
            ),  # I004
            "stage": vocab(stage_words, h_stage),
            "entered_at": put(
                datetimes(entered, utc=True),
                pick(rng, n_h, 0.00005),
                lambda k: datetimes(entered[k] + 390 * SEC, utc=True),
            ),  # T001
        }
    )
    done("deal_stage_history", hist)
    del hist

    # --- leads ---
    l_first = rng.integers(0, len(FIRST), n_lead)
    l_last = rng.integers(0, len(LAST), n_lead)
    first = vocab(FIRST, l_first)
    last = vocab(LAST, l_last)
    linked = rng.random(n_lead) < 0.35
    # leads link mostly to prospects; a few come from customer accounts (U003)
    prospects = np.setdiff1d(np.arange(n_acc), cus_acc)
    l_acc = np.where(
        (rng.random(n_lead) < 0.9) & (len(prospects) > 0),
        prospects[rng.integers(0, max(len(prospects), 1), n_lead)] if len(prospects) else 0,
        rng.integers(0, n_acc, n_lead),
    )
    l_acc[conv_lead] = deal_acc[conv_deal]
    linked[conv_lead] = True
    other_co, other_dom = companies(n_acc + rng.integers(0, max(n_lead // 5, 1), n_lead))
    company = put(other_co, linked, acc_name.gather(pl.Series(l_acc)))
    l_domain = put(other_dom, linked, acc_domain.gather(pl.Series(l_acc)))
    free = ~linked & (rng.random(n_lead) < 0.15)
    l_domain = put(l_domain, free, vocab(FREE_MAIL, rng.integers(0, len(FREE_MAIL), n_lead)))
    first_lc = vocab([f.lower() for f in FIRST], l_first)
    last_lc = vocab([x.lower() for x in LAST], l_last)
    email = pl.select(
        pl.concat_str([first_lc, pl.lit("."), last_lc, pl.lit("@"), l_domain])
    ).to_series()
    # some people have a number in their address; free-mail addresses always do (a free-mail
    # first.last is taken, so two leads with the same name rarely share one)
    email = put(
        email,
        (rng.random(n_lead) < 0.3) | free,
        lambda k: pl.select(
            pl.concat_str(
                [
                    first_lc.gather(k),
                    pl.lit("."),
                    last_lc.gather(k),
                    ids(
                        "",
                        np.where(
                            free[k], rng.integers(1, 10_000, len(k)), rng.integers(1, 100, len(k))
                        ),
                        2,
                    ),
                    pl.lit("@"),
                    l_domain.gather(k),
                ]
            )
        ).to_series(),
    )
    dup = np.flatnonzero(pick(rng, n_lead, 0.003))  # U002: the same person twice
    email = email.scatter(dup, email.gather((dup + 1) % n_lead))
    email = put(
        email, pick(rng, n_lead, 0.0005), lambda k: "test@" + l_domain.gather(pl.Series(k))
    )  # V001 placeholder
    email = put(email, pick(rng, n_lead, 0.0002), lambda k: first_lc.gather(k) + "@mailinator.com")
    email = put(email, pick(rng, n_lead, 0.0002), lambda k: first_lc.gather(k) + "@gmail")  # syntax
    email = put(email, pick(rng, n_lead, 0.01), None)
    l_created = skewed_days(rng, n_lead, D0, D1, 0.7)
    l_created[conv_lead] = np.maximum(D0, created[conv_deal] - rng.integers(0, 30, n_conv))
    l_age = AS_OF - l_created
    # status: 0 new, 1 working, 2 qualified, 3 converted, 4 disqualified
    l_status = np.where(
        l_age > 90,
        np.where(rng.random(n_lead) < 0.85, 4, rng.choice(3, n_lead)),
        rng.choice(5, n_lead, p=[0.35, 0.3, 0.15, 0.0, 0.2]),
    )
    l_status[conv_lead] = 3
    l_created_s = secs(l_created, rng)
    never = (l_status == 0) & (rng.random(n_lead) < 0.05)  # L002 when older than 2 days
    act_day = np.minimum(l_created + rng.integers(0, 60, n_lead), D1)
    act_day = np.where(
        l_status <= 2,
        np.maximum(
            act_day,
            AS_OF
            - 1
            - np.where(
                rng.random(n_lead) < 0.15, rng.integers(31, 90, n_lead), rng.integers(0, 30, n_lead)
            ),
        ),
        act_day,
    )
    l_act_s = np.maximum(secs(act_day, rng), l_created_s)
    conv_at = np.zeros(n_lead, np.int64)
    conv_at[conv_lead] = np.maximum(created_s[conv_deal], l_created_s[conv_lead])
    is_conv = l_status == 3
    status_s = vocab(["new", "working", "qualified", "converted", "disqualified"], l_status)
    status_s = put(status_s, (l_status <= 2) & pick(rng, n_lead, 0.0005), "Nurture")  # S005
    conv_at_s = put(nulls(n_lead), is_conv, lambda k: datetimes(conv_at[k]))
    conv_at_s = put(conv_at_s, is_conv & pick(rng, n_lead, 0.0002), None)  # L003
    conv_deal_s = nulls(n_lead).scatter(conv_lead, deal_ids.gather(pl.Series(conv_deal)))
    conv_deal_s = put(
        conv_deal_s,
        pick(rng, n_lead, 0.0001),
        lambda k: ids("D8", rng.integers(0, 10**8, len(k)), 8),
    )  # I002 / L003
    created_str = datetimes(l_created_s)
    created_str = put(
        created_str, is_conv & pick(rng, n_lead, 0.0001), lambda k: datetimes(conv_at[k] + 3 * SEC)
    )  # T002
    created_str = put(created_str, pick(rng, n_lead, 0.00005), "1900-01-01T00:00:00")  # T003
    act_str = put(datetimes(l_act_s), never, None)
    act_str = put(
        act_str, pick(rng, n_lead, 0.00005), lambda k: datetimes(l_act_s[k] + 250 * SEC)
    )  # T001
    act_str = put(act_str, pick(rng, n_lead, 0.00005), "n/a")  # S002
    account_ref = put(acc_ids.gather(pl.Series(l_acc)), ~linked, None)
    account_ref = put(
        account_ref,
        pick(rng, n_lead, 0.001),
        lambda k: ids("A8", rng.integers(0, 10**8, len(k)), 8),
    )  # I001
    last_s_name = put(last, pick(rng, n_lead, 0.0002), "Unknown")  # V005
    leads = pl.DataFrame(
        {
            "lead_id": lead_ids,
            "email": email,
            "first_name": first,
            "last_name": last_s_name,
            "company": put(company, pick(rng, n_lead, 0.0002), "n/a"),
            "account_id": account_ref,
            "owner_id": owner_refs(n_lead, 0.02, 0.001),
            "status": status_s,
            "source": put(choice(rng, SOURCES, n_lead), pick(rng, n_lead, 0.03), None),
            "created_at": created_str,
            "last_activity_at": act_str,
            "converted_at": conv_at_s,
            "converted_deal_id": conv_deal_s,
        }
    )
    dup_rows = np.flatnonzero(pick(rng, n_lead, 0.00005))  # S004: a contact exported twice
    leads = pl.concat([leads[: n_lead - len(dup_rows)], leads[dup_rows]])
    done("leads", leads)
    del leads

    # --- expenses ---
    cat = rng.choice(4, n_exp, p=[0.5, 0.25, 0.15, 0.10])
    channels = {
        0: ["Paid Search", "Paid Social", "Events", "Content", "Sponsorship"],
        1: ["Salaries", "Commissions", "Sales Tools", "Travel"],
        2: ["Hosting", "Customer Support", "Third-party APIs"],
        3: ["Rent", "Legal", "Accounting"],
    }
    ch = np.empty(n_exp, dtype=object)
    for c, words in channels.items():
        m = cat == c
        ch[m] = np.array(words, dtype=object)[rng.integers(0, len(words), int(m.sum()))]
    exp_amount = np.round(np.exp(rng.normal(7.5, 1.2, n_exp)), 2)
    cat_s = vocab(["marketing", "sales", "cogs", "other"], cat)
    cat_s = put(cat_s, pick(rng, n_exp, 0.001), "travel")  # S005
    amount_s = put(money(exp_amount), pick(rng, n_exp, 0.0002), "12.34,50")  # S002
    expenses = pl.DataFrame(
        {
            "date": dates(np.sort(rng.integers(D0, D1 + 1, n_exp))),
            "category": cat_s,
            "amount": amount_s,
            "currency": vocab(["USD", "EUR"], (rng.random(n_exp) < 0.2).astype(np.int64)),
            "channel": pl.Series(ch.astype(str)),
        }
    )
    done("expenses", expenses)

    # --- forecasts: per quarter x active owner, per team, and the company ---
    quarters = [(y, q) for y in (2024, 2025, 2026) for q in (1, 2, 3, 4)]
    q_start = np.array([day(f"{y}-{3 * q - 2:02d}-01") for y, q in quarters])
    q_label = [f"{y}-Q{q}" for y, q in quarters]
    n_act = len(active_owner_idx)
    rows_q = np.repeat(np.arange(len(quarters)), n_act + len(TEAMS) + 1)
    who = np.tile(np.arange(n_act + len(TEAMS) + 1), len(quarters))
    is_owner = who < n_act
    is_team = (who >= n_act) & (who < n_act + len(TEAMS))
    n_f = len(rows_q)
    f_owner = nulls(n_f).scatter(
        np.flatnonzero(is_owner), owner_ids.gather(pl.Series(active_owner_idx[who[is_owner]]))
    )
    team_idx = np.where(
        is_owner, own_team[active_owner_idx[np.minimum(who, n_act - 1)]], who - n_act
    )
    f_team = put(vocab(TEAMS, np.clip(team_idx, 0, len(TEAMS) - 1)), ~(is_owner | is_team), None)
    base_amt = rng.uniform(0.6, 1.4, n_f) * np.where(
        is_owner, 120_000, np.where(is_team, 120_000 * n_act / len(TEAMS), 120_000 * n_act)
    )
    f_sub = secs(q_start[rows_q] - rng.integers(1, 10, n_f), rng)
    fc = pl.DataFrame(
        {
            "period": vocab(q_label, rows_q),
            "owner_id": put(
                f_owner,
                is_owner & pick(rng, n_f, 0.001),
                lambda k: ids("OWN9", rng.integers(0, 10_000, len(k)), 4),
            ),  # I008
            "team": f_team,
            "amount": money(np.round(base_amt, -2)),
            "submitted_at": datetimes(f_sub),
        }
    )
    resub = np.flatnonzero(pick(rng, n_f, 0.02))  # F001: a resubmission mid-quarter
    extra = fc[resub].with_columns(
        amount=money(np.round(base_amt[resub] * 1.1, -2)),
        submitted_at=datetimes(f_sub[resub] + 40 * SEC),
    )
    fc = pl.concat([fc, extra])
    done("forecasts", fc)

    write_config(out)
    return stats


CONFIG = """\
# revops config of the benchmark dataset (benchmarks/generate.py). Every file uses the canonical
# column names as headers, so no `columns:` map is needed. Reference day: 2026-10-01.
version: 1
currency:
  base: USD
  rates: {RATES}
sources:
  owners: {path: owners.csv}
  accounts: {path: accounts.csv}
  leads: {path: leads.csv}
  deals:
    path: deals.csv
    values:
      status:
        won: [Closed Won]
        lost: [Closed Lost]
        open: [Prospecting, Qualification, Proposal, Negotiation]
  deal_stage_history: {path: deal_stage_history.csv}
  customers: {path: customers.csv}
  subscriptions: {path: subscriptions.csv}
  invoices: {path: invoices.csv}
  expenses: {path: expenses.csv}
  forecasts: {path: forecasts.csv}
metrics:
  sales:
    stages: [Prospecting, Qualification, Proposal, Negotiation]
"""


def write_config(out: Path) -> None:
    rates = "{" + ", ".join(f"{code}: {rate}" for code, rate in RATES.items()) + "}"
    (out / "revops.yaml").write_text(CONFIG.replace("{RATES}", rates), encoding="utf-8")


# --- the peer dataset of PEER_PERF.md section 2 ----------------------------------------------

PEER_STAGES = [
    "Prospecting",
    "Qualification",
    "Proposal",
    "Negotiation",
    "Closed Won",
    "Closed Lost",
]
PEER_AS_OF = "2025-06-30"

PEER_CONFIG = """\
# revops config of the peer dataset (PEER_PERF.md section 2; benchmarks/generate.py --peer).
# Reference day 2025-06-30. Owners are not part of this dataset.
version: 1
sources:
  deals:
    path: deals.csv
    values:
      status:
        won: [Closed Won]
        lost: [Closed Lost]
        open: [Prospecting, Qualification, Proposal, Negotiation]
  accounts: {path: accounts.csv}
"""


def generate_peer(
    out: Path, seed: int, n: int = 1_000_000, n_acc: int = 100_000
) -> dict[str, dict[str, int]]:
    rng = np.random.default_rng(seed)
    lo, hi = day("2023-01-01"), day(PEER_AS_OF)
    # deal ids: 200 rows reuse the id of 200 other rows (each duplicated id appears twice)
    deal_num = np.arange(1, n + 1)
    pairs = rng.choice(n, 400, replace=False)
    deal_num[pairs[:200]] = deal_num[pairs[200:]]
    # account ids: ~2% empty, ~1% X ids that are not in accounts, the rest valid
    u = rng.random(n)
    acc_null = u < 0.02
    acc_dangling = (u >= 0.02) & (u < 0.03)
    acc_num = rng.integers(1, n_acc + 1, n)
    owner_null = rng.random(n) < 0.03
    stage = rng.integers(0, 6, n)
    stage_s = vocab(PEER_STAGES, stage)
    off = rng.choice(n, 1500, replace=False)  # 1,000 'closed won' and 500 'Stalled'
    stage_s = stage_s.scatter(off[:1000], "closed won").scatter(off[1000:], "Stalled")
    canonical = np.ones(n, bool)
    canonical[off] = False
    amount = np.round(np.exp(rng.normal(9.5, 1.0, n)), 2)
    v = rng.random(n)
    amt_null = v < 0.01
    amount = np.where((v >= 0.01) & (v < 0.015), -amount, amount)
    amount = np.where((v >= 0.015) & (v < 0.017), 0.0, amount)
    created = lo * SEC + (rng.random(n) * ((hi - lo) * SEC)).astype(np.int64)
    last_act = created + (rng.random(n) * (hi * SEC - created)).astype(np.int64)
    close = np.minimum(created // SEC + rng.integers(0, 181, n), hi)
    deals = pl.DataFrame(
        {
            "deal_id": ids("D", deal_num, 8),
            "account_id": put(
                put(
                    ids("A", acc_num, 6),
                    acc_dangling,
                    lambda k: ids("X", rng.integers(1, 10**6, len(k)), 6),
                ),
                acc_null,
                None,
            ),
            "owner_id": put(ids("U", rng.integers(1, 501, n), 4), owner_null, None),
            "stage": stage_s,
            "amount": put(money(amount), amt_null, None),
            "created_at": datetimes(created),
            "close_date": dates(close),
            "last_activity_at": datetimes(last_act),
        }
    )
    _name, domain = companies(np.arange(n_acc))
    accounts = pl.DataFrame(
        {
            "account_id": ids("A", np.arange(1, n_acc + 1), 6),
            "domain": domain,
            "owner_id": ids("U", rng.integers(1, 501, n_acc), 4),
        }
    )
    stats = {
        "deals": {"rows": n, "bytes": write(deals, out, "deals")},
        "accounts": {"rows": n_acc, "bytes": write(accounts, out, "accounts")},
    }
    # ground truth from the arrays, with PEER_PERF's definitions (a-g)
    stage_is = lambda k: canonical & (stage == k)  # noqa: E731
    is_open = canonical & (stage < 4)
    won = stage_is(4)
    stale_before = (hi - 14) * SEC
    expected = {
        "a_missing_owner": int(owner_null.sum()),
        "b_duplicate_deal_id": int(n - len(np.unique(deal_num))),
        "c_orphan_deals": int((acc_null | acc_dangling).sum()),
        "d_open_past_close": int((is_open & (close < hi)).sum()),
        "e_open_stale": int((is_open & (last_act < stale_before)).sum()),
        "f_won_bad_amount": int((won & (amt_null | (amount <= 0))).sum()),
        "g_invalid_stage": int((~canonical).sum()),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    (out / "revops.yaml").write_text(PEER_CONFIG, encoding="utf-8")
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--scale", type=float, default=1.0, help="1 = 1M deals, 2M leads, ... (default 1)"
    )
    ap.add_argument("--out", type=Path, required=True, help="output folder (created)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--peer", action="store_true", help="write the PEER_PERF.md dataset instead")
    ap.add_argument("-v", "--verbose", action="store_true", help="time each table")
    args = ap.parse_args(argv)
    if args.scale <= 0:
        ap.error("--scale must be > 0")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    stats = (
        generate_peer(args.out, args.seed)
        if args.peer
        else generate(args.scale, args.out, args.seed, args.verbose)
    )
    elapsed = time.perf_counter() - t0
    total = sum(s["bytes"] for s in stats.values())
    for name, s in stats.items():
        print(f"{name:20s} {s['rows']:>12,d} rows {s['bytes'] / 1e6:>10.1f} MB")
    print(
        f"{'total':20s} {sum(s['rows'] for s in stats.values()):>12,d} rows {total / 1e6:>10.1f} MB"
    )
    print(f"wrote {args.out} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
