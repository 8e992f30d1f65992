#!/usr/bin/env python3
"""Write the shipped sample data: sample_data/*.csv and sample_data/PLANTED.md.

Northwind Analytics is a fictional B2B SaaS company. The files hold its CRM exports (HubSpot
style), its billing exports (Stripe style), its expenses (a German accounting export) and its sales
forecasts, for events from 2024-10-01 to 2026-09-30. The data is clean except for a few planted
problems per audit rule, all relative to the reference day 2026-10-01:

    revops audit -c config.example.yaml --as-of 2026-10-01

sample_data/PLANTED.md lists every planted record and the rule it triggers.

Standard library only, and deterministic (one random.Random(SEED)): two runs write byte-identical
files. Regenerate on purpose only: golden tests pin the audit and metric results of these files.

    python scripts/make_sample_data.py
"""

from __future__ import annotations

import argparse
import calendar
import csv
import io
import random
import re
import sys
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 20261001
AS_OF = date(2026, 10, 1)  # the reference day of every planted time-based problem
FIRST = date(2024, 10, 1)  # first day of the data
LAST = date(2026, 9, 30)  # last day of the data
CUTOFF = datetime(2026, 9, 30, 19, 0)  # no ordinary event is later than this
RECENT = date(2026, 9, 19)  # ordinary open deals were touched on or after this day (D003: 14 days)
STAGE_FLOOR = date(2026, 9, 3)  # ordinary open deals entered their stage on or after this (D004)
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "sample_data"
CONFIG = ROOT / "config.example.yaml"
RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}
HOME = "northwind-analytics.example"
Rec = dict[str, Any]


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- vocabulary of the fictional world -----------------------------------------------------------

OWNERS = (  # id, name, team, active; 004 left on 2025-06-30 and 010 on 2026-02-28
    ("001", "Olivia Bennett", "Enterprise", True),
    ("002", "Marcus Reid", "Enterprise", True),
    ("003", "Priya Nair", "Enterprise", True),
    ("004", "Daniel Kowalski", "Mid-Market", False),
    ("005", "Sofia Alvarez", "Mid-Market", True),
    ("006", "Tom Becker", "Mid-Market", True),
    ("007", "James Holloway", "Mid-Market", True),
    ("008", "Hannah Lee", "SMB", True),
    ("009", "Lucas Moreau", "SMB", True),
    ("010", "Grace Okafor", "SMB", False),
    ("011", "Noah Fischer", "SMB", True),
    ("012", "Sofia Alvarez", "Mid-Market", True),  # a second user record of 005 (U006)
)
LEFT = {"004": date(2025, 6, 30), "010": date(2026, 2, 28)}
SUCCESSOR = {"004": "006", "010": "011"}
TEAM_OF_SEGMENT = {"Enterprise": "Enterprise", "Mid-Market": "Mid-Market", "SMB": "SMB"}

OPEN_STAGES = (
    "Appointment Scheduled",
    "Qualified To Buy",
    "Presentation Scheduled",
    "Decision Maker Bought-In",
    "Contract Sent",
)
WON, LOST = "Closed Won", "Closed Lost"
PROBABILITY = dict(zip(OPEN_STAGES, (20, 40, 60, 80, 90), strict=True)) | {WON: 100, LOST: 0}

# plan -> billing cycle -> currency -> price per seat per billing period
PRICES = {
    "Starter": {"monthly": {"USD": 40, "EUR": 37, "GBP": 32}},
    "Growth": {
        "monthly": {"USD": 65, "EUR": 60, "GBP": 52},
        "annual": {"USD": 720, "EUR": 660, "GBP": 570},
    },
    "Enterprise": {
        "annual": {"USD": 1080, "EUR": 990, "GBP": 850},
        "quarterly": {"USD": 270, "EUR": 250, "GBP": 215},
    },
    "Analytics Add-on": {"monthly": {"USD": 99, "EUR": 92, "GBP": 80}},
    "Extra Storage": {"monthly": {"USD": 25, "EUR": 23, "GBP": 20}},
    "Sandbox": {"monthly": {"USD": 0, "EUR": 0, "GBP": 0}},
}
MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
STRIPE_INTERVAL = {"monthly": ("month", 1), "quarterly": ("month", 3), "annual": ("year", 1)}
CYCLE_LABEL = {"monthly": "Monthly", "quarterly": "Quarterly", "annual": "Annual"}

COUNTRIES = (  # country, currency, legal suffixes, weight
    ("United States", "USD", ("Inc.", "LLC", "", "Corp."), 58),
    ("Canada", "USD", ("Inc.", "Ltd."), 4),
    ("Australia", "USD", ("Pty Ltd",), 3),
    ("United Kingdom", "GBP", ("Ltd", "plc", "Ltd"), 9),
    ("Germany", "EUR", ("GmbH", "AG"), 11),
    ("France", "EUR", ("SAS", "SA"), 6),
    ("Netherlands", "EUR", ("B.V.",), 6),
    ("Spain", "EUR", ("S.L.",), 3),
)
PREFIXES = words(
    "Orbit Bluepeak Harbor Kestrel Brightline Northgate Silverleaf Copperfield Redwood Clearwater "
    "Ironbridge Summit Lakeshore Greenfield Starling Maple Granite Falcon Cobalt Juniper Willow "
    "Beacon Crescent Evergreen Highland Meridian Pioneer Quarry Riverbend Sable Tidewater Upland "
    "Vantage Westbrook Yarrow Zephyr Alder Birch Cedar Driftwood Ember Fernhill Glacier Hollow "
    "Indigo Jasper Kingfisher Larch Mistral Nimbus Oakridge Pinecrest Quill Rook Saffron Thistle "
    "Verdant Wren Aurora Basalt Cinder Dune Estuary Fjord Garnet Heron Lumen Opal Pebble"
)
SUFFIXES = {  # company name word -> industry
    "Freight": "Logistics",
    "Logistics": "Logistics",
    "Mobility": "Logistics",
    "Health": "Healthcare",
    "Clinics": "Healthcare",
    "Dental": "Healthcare",
    "Biotech": "Life Sciences",
    "Pharma": "Life Sciences",
    "Analytics": "Software",
    "Software": "Software",
    "Systems": "Software",
    "Labs": "Software",
    "Security": "Software",
    "Foods": "Consumer Goods",
    "Brewing": "Consumer Goods",
    "Apparel": "Retail",
    "Retail": "Retail",
    "Outdoor": "Retail",
    "Robotics": "Manufacturing",
    "Manufacturing": "Manufacturing",
    "Engineering": "Manufacturing",
    "Textiles": "Manufacturing",
    "Energy": "Energy",
    "Media": "Media",
    "Studios": "Media",
    "Capital": "Financial Services",
    "Payments": "Financial Services",
    "Insurance": "Financial Services",
    "Learning": "Education",
    "Hospitality": "Hospitality",
}
MICRO_WORDS = words(
    "Atlas Bramble Chestnut Dapple Elm Foxglove Gable Hazel Ivy Kiln Lantern Marigold Nook "
    "Orchard Parsley Quince Rosehip Sorrel Tansy Umbrella Violet Walnut Acorn Bellwether Clover "
    "Dandelion Ferro Gorse Hearth Inkwell Jetty Kettle Loom Mulberry Nettle Oxbow Plum Rivet "
    "Saddle Tinker Vellum Whistle"
)
MICRO_KINDS = (
    "Consulting",
    "Design",
    "Bakery",
    "Studio",
    "Partners",
    "Works",
    "Digital",
    "Advisors",
)
FIRST_NAMES = words(
    "Ava Liam Emma Noah Mia Ethan Zoe Lucas Chloe Mateo Aisha Omar Hana Kenji Ingrid Lars Chiara "
    "Marco Elena Pablo Lucia Tariq Fatima Ravi Ananya Wei Mei Jonas Freya Nils Astrid Oscar Ruby "
    "Felix Clara Hugo Leonie Jasper Nora Elias Maya Leo Ines Theo Lena Victor Alma Ezra Iris Milo "
    "Sara Adam Julia Samuel Eva Daniel Lily Isaac Ella Gabriel Amara Kofi Yara Tomas Petra Andrei "
    "Olga Diego Camila Rafael Beatriz Arjun Nadia Malik Selin Emre Sven Katja Anton Greta"
)
LAST_NAMES = words(
    "Okoro Lindgren Haddad Nakamura Costa Brennan Varga Schmidt Dubois Moreno Patel Kowal Berg "
    "Fontaine Rossi Novak Jensen Murphy Silva Tanaka Ahmed Keller Laurent Rivera Chen Larsen "
    "Horvat Fischer Olsen Marino Petrov Duarte Sato Walsh Hughes Meyer Romano Sousa Lund Holm "
    "Virtanen Nowak Bauer Roux Ortega Ibrahim Kim Park Quinn Doyle Weber Vogel Mendes Castro "
    "Banerjee Iyer Greco Conti Janssen Peeters Muller Frost Hale Grant Pierce Lowe Sharp Webb "
    "Stone Wolfe Reyes Navarro Ferrer Lopez Tran Nguyen Abbott Barker Carver Dalton"
)
JOB_TITLES = (
    "Head of Finance",
    "VP Operations",
    "Data Analyst",
    "Controller",
    "CFO",
    "Revenue Operations Manager",
    "Head of Data",
    "COO",
    "Business Analyst",
    "IT Manager",
)
SOURCES = (
    ("Organic Search", 30),
    ("Paid Search", 18),
    ("Referrals", 14),
    ("Direct Traffic", 12),
    ("Social Media", 8),
    ("Email Marketing", 8),
    ("Offline Sources", 10),
)
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com")
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
FORCED = {  # won accounts (by order of creation) that get a planted duplicate (U001)
    7: ("Kestrel Logistics", "kestrel-logistics.example"),
    19: ("Brightline Media", "brightline-media.example"),
}
LEGAL = {"inc", "llc", "ltd", "gmbh", "sa", "sas", "bv", "corp", "co", "plc", "ag", "oy", "ab"}


def add_months(day: date, n: int) -> date:
    """The same day of the month n months later (clamped to the month's last day)."""
    years, month0 = divmod(day.month - 1 + n, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_months_dt(moment: datetime, n: int) -> datetime:
    return datetime.combine(add_months(moment.date(), n), moment.time())


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def norm_name(name: str) -> str:
    """CHECKS.md's normalised company name."""
    words = re.sub(r"[^\w\s]", "", name.lower()).split()
    return " ".join(w for w in words if w not in LEGAL)


def norm_domain(value: str) -> str:
    """CHECKS.md's normalised domain."""
    value = value.strip().lower()
    value = re.sub(r"^[a-z]+://", "", value)
    value = value.split("/")[0].split(":")[0]
    return value.removeprefix("www.")


def arr_of(row: Rec, cycle: str) -> float:
    return row["unit"] * row["qty"] * 12 / MONTHS[cycle]


class World:
    """The fictional company: every record of every table, and the planted problems."""

    def __init__(self) -> None:
        self.r = random.Random(SEED)
        self.owners: list[Rec] = [
            {
                "id": oid,
                "name": name,
                "email": f"{name.lower().replace(' ', '.')}@{HOME}",
                "team": team,
                "active": active,
            }
            for oid, name, team, active in OWNERS
        ]
        self.accounts: list[Rec] = []
        self.deals: list[Rec] = []
        self.leads: list[Rec] = []
        self.customers: list[Rec] = []
        self.subs: list[Rec] = []
        self.invoices: list[Rec] = []
        self.expenses: list[Rec] = []
        self.forecasts: list[Rec] = []
        self.plants: list[Rec] = []
        self.people: set[tuple[str, str]] = set()
        self.emails: set[str] = set()
        self.bases: set[str] = {"Kestrel Logistics", "Brightline Media"}
        self.micro: set[str] = set()
        self.stripe_ids: set[str] = set()

    # --- random helpers ------------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def day(self, lo: date, hi: date) -> date:
        return lo + timedelta(days=self.r.randint(0, max(0, (hi - lo).days)))

    def at(self, day: date) -> datetime:
        """A moment during working hours of `day`."""
        return datetime(day.year, day.month, day.day, self.r.randint(7, 18), self.r.randint(0, 59))

    def moment(self, lo: date, hi: date) -> datetime:
        return self.at(self.day(lo, hi))

    def between(self, a: datetime, b: datetime) -> datetime:
        minutes = max(0, int((b - a).total_seconds() // 60))
        return a + timedelta(minutes=self.r.randint(0, minutes))

    def weighted(self, pairs: Any) -> Any:
        values = [p[0] for p in pairs]
        return self.r.choices(values, weights=[p[-1] for p in pairs])[0]

    def stripe_id(self, prefix: str, n: int) -> str:
        while True:
            value = prefix + "".join(self.r.choice(ALNUM) for _ in range(n))
            if value not in self.stripe_ids:
                self.stripe_ids.add(value)
                return value

    def person(self) -> tuple[str, str]:
        while True:
            pair = (self.r.choice(FIRST_NAMES), self.r.choice(LAST_NAMES))
            if pair not in self.people:
                self.people.add(pair)
                return pair

    def email(self, local: str, domain: str) -> str:
        address, n = f"{local}@{domain}", 2
        while address.lower() in self.emails:
            address, n = f"{local}{n}@{domain}", n + 1
        self.emails.add(address.lower())
        return address

    def source(self) -> str:
        return self.weighted(SOURCES)

    def pick(self, pool: list[Rec], test: Any = None, mark: str = "x") -> Rec:
        """A random record of `pool` that passes `test` and no plant has used yet; mark it used."""
        order = list(pool)
        self.r.shuffle(order)
        for rec in order:
            if not rec.get("used") and (test is None or test(rec)):
                rec["used"] = mark
                return rec
        raise RuntimeError(f"no record left for {mark}")

    def pick_deal(self, pool: list[Rec], test: Any = None, mark: str = "x") -> Rec:
        """Like pick, but the deal's account must be unused too, and is reserved with it."""

        def free(deal: Rec) -> bool:
            acc = deal["account"]
            ok = acc is None or not acc.get("used")
            return ok and (test is None or test(deal))

        deal = self.pick(pool, free, mark)
        if deal["account"] is not None:
            deal["account"]["used"] = mark
        return deal

    def plant(self, rule: str, table: str, ref: Any, note: str) -> None:
        self.plants.append({"rule": rule, "table": table, "ref": ref, "note": note})

    # --- owners --------------------------------------------------------------------------------

    def owner_for(self, segment: str, when: date) -> str:
        team = TEAM_OF_SEGMENT[segment]
        candidates = [
            o["id"]
            for o in self.owners
            if o["team"] == team and o["id"] != "012" and LEFT.get(o["id"], date.max) >= when
        ]
        return self.r.choice(candidates)

    @staticmethod
    def active_owner(owner: str | None, when: date) -> str | None:
        """The owner, or the successor who took over the book of an owner who had left by `when`."""
        if owner in LEFT and LEFT[owner] < when:
            return SUCCESSOR[owner]
        return owner

    # --- accounts ------------------------------------------------------------------------------

    def new_account(self, story: str, base: str | None = None, domain: str | None = None) -> Rec:
        segment = self.weighted(
            (("Enterprise", 18), ("Mid-Market", 42), ("SMB", 40))
            if story == "won"
            else (("Enterprise", 15), ("Mid-Market", 40), ("SMB", 45))
        )
        country, currency, legal, _ = self.r.choices(COUNTRIES, [c[3] for c in COUNTRIES])[0]
        if base is None:
            while True:
                base = f"{self.r.choice(PREFIXES)} {self.r.choice(list(SUFFIXES))}"
                if base not in self.bases:
                    break
        self.bases.add(base)
        domain = domain or base.lower().replace(" ", "") + ".example"
        shown = domain
        roll = self.r.random()
        if roll < 0.08:
            shown = "www." + domain
        elif roll < 0.12:
            shown = f"https://www.{domain}/"
        taxed = {"United States": 0.35, "United Kingdom": 0.5}.get(country, 0.3)
        tax = (
            0.0
            if not self.chance(taxed)
            else (
                self.r.choice((0.06, 0.0625, 0.0725, 0.08875))
                if currency == "USD"
                else 0.2
                if currency == "GBP"
                else self.r.choice((0.19, 0.2, 0.21))
            )
        )
        acc = {
            "story": story,
            "base": base,
            "name": f"{base} {self.r.choice(legal)}".strip(),
            "domain": domain,
            "domain_cell": shown,
            "segment": segment,
            "country": country,
            "currency": currency,
            "tax": tax,
            "industry": SUFFIXES[base.split()[-1]],
            "employees": self.r.randint(
                *{"Enterprise": (1000, 12000), "Mid-Market": (150, 999), "SMB": (8, 149)}[segment]
            ),
            "owner": None,
            "created_at": None,
            "lifecycle": None,
            "deals": [],
            "leads": [],
            "customers": [],
            "renewals": [],
            "expanded": False,
            "churned_at": None,
            "reactivated": False,
        }
        self.accounts.append(acc)
        return acc

    # --- deals ---------------------------------------------------------------------------------

    def stage_path(self, top: int) -> list[str]:
        """Open stages 0..top, some of the middle ones skipped."""
        return [
            s
            for i, s in enumerate(OPEN_STAGES[: top + 1])
            if i in (0, top) or self.r.random() > 0.2
        ]

    def make_deal(
        self,
        acc: Rec | None,
        *,
        kind: str,
        status: str,
        created: datetime,
        close: date | None,
        amount: float | None,
        owner: str | None,
        name: str,
        stages: list[str],
        currency: str | None = None,
        entered: datetime | None = None,
    ) -> Rec:
        """A deal with its stage history; `entered` is when an open deal entered its stage."""
        deal: Rec = {
            "account": acc,
            "name": name,
            "type": kind,
            "status": status,
            "amount": amount,
            "currency": currency or (acc["currency"] if acc else "USD"),
            "created_at": created,
            "close_date": close,
            "owner": owner,
            "lead": None,
            "more_leads": [],
            "source": None,
            "pipeline": "Sales Pipeline",
            "raw": {},
        }
        if status in ("won", "lost"):
            assert close is not None
            end = self.at(close)
            if end <= created:
                end = created + timedelta(hours=2)
            times = sorted(self.between(created, end) for _ in stages[1:])
            history = [(stages[0], created), *zip(stages[1:], times, strict=True)]
            history.append((WON if status == "won" else LOST, end))
            deal["stage"] = history[-1][0]
            deal["last_activity_at"] = min(end + timedelta(minutes=self.r.randint(0, 4000)), CUTOFF)
        else:
            if entered is None:
                floor = max(created, midnight(STAGE_FLOOR) + timedelta(hours=8))
                entered = self.between(floor, datetime(2026, 9, 28, 17, 0))
            if len(stages) == 1:
                history = [(stages[0], created)]
            else:
                mids = sorted(self.between(created, entered) for _ in stages[1:-1])
                history = [(stages[0], created), *zip(stages[1:-1], mids, strict=True)]
                history.append((stages[-1], entered))
            deal["stage"] = stages[-1]
            touched = self.moment(RECENT, LAST)
            deal["last_activity_at"] = min(max(touched, history[-1][1]), CUTOFF)
        deal["history"] = [{"deal": deal, "stage": s, "at": t} for s, t in history]
        deal["probability"] = PROBABILITY[deal["stage"]]
        if acc is not None:
            acc["deals"].append(deal)
        self.deals.append(deal)
        return deal

    # --- stories -------------------------------------------------------------------------------

    def plan_for(self, acc: Rec) -> tuple[str, str, int]:
        segment = acc["segment"]
        if segment == "SMB":
            return "Starter", "monthly", self.r.randint(3, 15)
        if segment == "Mid-Market":
            return "Growth", "monthly" if self.chance(0.6) else "annual", self.r.randint(12, 60)
        return "Enterprise", "annual" if self.chance(0.65) else "quarterly", self.r.randint(40, 220)

    def cycle_days(self, acc: Rec) -> int:
        lo, hi = {"SMB": (14, 45), "Mid-Market": (30, 90), "Enterprise": (60, 150)}[acc["segment"]]
        return self.r.randint(lo, hi)

    def lost_attempt(self, acc: Rec, lo: date, hi: date) -> Rec:
        created = self.moment(lo, hi)
        close = min(created.date() + timedelta(days=self.cycle_days(acc)), LAST - timedelta(days=3))
        plan, cycle, seats = self.plan_for(acc)
        amount = PRICES[plan][cycle][acc["currency"]] * seats * 12 / MONTHS[cycle]
        owner = self.owner_for(acc["segment"], created.date())
        acc["owner"] = acc["owner"] or owner
        top = self.weighted([(i, w) for i, w in enumerate((3, 3, 2, 2, 1))])
        return self.make_deal(
            acc,
            kind="newbusiness",
            status="lost",
            created=created,
            close=close,
            amount=round(amount),
            owner=owner,
            name=f"{acc['base']} - New Business",
            stages=self.stage_path(top),
        )

    def won_story(self, acc: Rec) -> None:
        won_on = self.day(date(2024, 10, 25), date(2026, 9, 12))
        created = self.at(max(FIRST, won_on - timedelta(days=self.cycle_days(acc))))
        if created.date() >= date(2025, 3, 1) and self.chance(0.25):
            self.lost_attempt(acc, FIRST, created.date() - timedelta(days=120))
        owner = self.owner_for(acc["segment"], created.date())
        acc["owner"] = acc["owner"] or owner
        plan, cycle, seats = self.plan_for(acc)
        unit = PRICES[plan][cycle][acc["currency"]]
        nb = self.make_deal(
            acc,
            kind="newbusiness",
            status="won",
            created=created,
            close=won_on,
            amount=round(unit * seats * 12 / MONTHS[cycle]),
            owner=owner,
            name=f"{acc['base']} - New Business",
            stages=self.stage_path(4),
        )
        acc["nb"], acc["won_on"] = nb, won_on
        trial = acc["segment"] != "Enterprise" and self.chance(0.2)
        if trial:
            start = self.at(won_on - timedelta(days=12))
            trial_end: datetime | None = start + timedelta(days=14)
        else:
            start = self.at(won_on + timedelta(days=self.r.randint(0, 5)))
            trial_end = None
        customer = self.new_customer(acc, start - timedelta(minutes=self.r.randint(5, 2500)))
        sub = self.new_sub(customer, plan, cycle, seats, start, trial_end)
        acc["main_sub"] = sub
        anchor = trial_end or start
        acc["anchor"] = anchor
        term_start, k = anchor, 1
        while True:
            renew_at = add_months_dt(anchor, 12 * k)
            churn = (
                k == 1
                and won_on < date(2025, 8, 20)
                and renew_at.date() <= LAST
                and self.chance(0.25)
            )
            lo = term_start.date() + timedelta(days=45)
            hi = min(renew_at.date() - timedelta(days=30), date(2026, 9, 15))
            if churn:
                hi = min(hi, date(2025, 8, 15))
            if lo <= hi and self.chance(0.22):
                self.expand(acc, sub, self.at(self.day(lo, hi)))
            if renew_at.date() > LAST:
                if renew_at.date() <= date(2026, 12, 15):
                    self.open_renewal(acc, sub, renew_at)
                break
            if churn:
                self.churn(acc, sub, renew_at)
                break
            self.renew(acc, sub, renew_at)
            term_start, k = renew_at, k + 1

    def deal_owner(self, acc: Rec, when: date) -> str:
        return self.active_owner(acc["owner"], when) or acc["owner"]

    def expand(self, acc: Rec, sub: Rec, when: datetime) -> None:
        row = sub["rows"][-1]
        added = max(1, round(row["qty"] * self.r.uniform(0.15, 0.5)))
        close = (when - timedelta(days=self.r.randint(0, 3))).date()
        created = self.at(close - timedelta(days=self.r.randint(15, 40)))
        self.make_deal(
            acc,
            kind="existingbusiness",
            status="won",
            created=created,
            close=close,
            amount=round(row["unit"] * added * 12 / MONTHS[sub["cycle"]]),
            owner=self.deal_owner(acc, created.date()),
            name=f"{acc['base']} - Expansion {close:%b %Y}",
            stages=["Presentation Scheduled", "Contract Sent"],
        )
        self.change(sub, when, qty=row["qty"] + added)
        acc["expanded"] = True

    def renew(self, acc: Rec, sub: Rec, when: datetime) -> None:
        row, cycle = sub["rows"][-1], sub["cycle"]
        roll = self.r.random()
        new = {"plan": row["plan"], "unit": row["unit"], "qty": row["qty"]}
        if roll < 0.15:
            new["qty"] = max(1, round(row["qty"] * self.r.uniform(0.65, 0.9)))
        elif roll < 0.27:
            if row["plan"] == "Starter":
                new["plan"], new["unit"] = "Growth", PRICES["Growth"]["monthly"][sub["currency"]]
            else:
                new["qty"] = round(row["qty"] * self.r.uniform(1.2, 1.5))
        changed = new != {"plan": row["plan"], "unit": row["unit"], "qty": row["qty"]}
        close = (when - timedelta(days=self.r.randint(2, 15))).date()
        created = self.at(close - timedelta(days=self.r.randint(40, 60)))
        deal = self.make_deal(
            acc,
            kind="renewal",
            status="won",
            created=created,
            close=close,
            amount=round(new["unit"] * new["qty"] * 12 / MONTHS[cycle]),
            owner=self.deal_owner(acc, created.date()),
            name=f"{acc['base']} - Renewal {when.year}",
            stages=["Contract Sent"],
        )
        acc["renewals"].append((deal, changed))
        if changed:
            self.change(sub, when, **new)

    def churn(self, acc: Rec, sub: Rec, when: datetime) -> None:
        row = sub["rows"][-1]
        close = (when - timedelta(days=self.r.randint(3, 20))).date()
        created = self.at(close - timedelta(days=self.r.randint(30, 50)))
        self.make_deal(
            acc,
            kind="renewal",
            status="lost",
            created=created,
            close=close,
            amount=round(arr_of(row, sub["cycle"])),
            owner=self.deal_owner(acc, created.date()),
            name=f"{acc['base']} - Renewal {when.year}",
            stages=["Contract Sent"],
        )
        floor = max(row["start"] + timedelta(days=1), when - timedelta(days=45))
        row.update(
            end=when,
            status="canceled",
            canceled_at=self.between(floor, when - timedelta(days=10)),
            cape=True,
        )
        acc["churned_at"] = when

    def open_renewal(self, acc: Rec, sub: Rec, when: datetime) -> None:
        row = sub["rows"][-1]
        created = self.at(min(when.date() - timedelta(days=60), date(2026, 9, 20)))
        stages = ["Contract Sent"]
        if created.date() < STAGE_FLOOR:
            stages.insert(0, "Decision Maker Bought-In")
        acc["open_renewal"] = self.make_deal(
            acc,
            kind="renewal",
            status="open",
            created=created,
            close=max(when.date() - timedelta(days=5), date(2026, 10, 6)),
            amount=round(arr_of(row, sub["cycle"])),
            owner=self.deal_owner(acc, created.date()),
            name=f"{acc['base']} - Renewal {when.year}",
            stages=stages,
        )

    def open_story(self, acc: Rec) -> None:
        if self.chance(0.3):
            self.lost_attempt(acc, FIRST, date(2025, 12, 31))
        created = self.moment(date(2026, 5, 15), date(2026, 9, 18))
        top = self.weighted([(i, w) for i, w in enumerate((3, 3, 3, 2, 2))])
        stages = self.stage_path(top)
        if created.date() < STAGE_FLOOR and len(stages) == 1:
            stages.append(OPEN_STAGES[1])
        plan, cycle, seats = self.plan_for(acc)
        owner = self.owner_for(acc["segment"], created.date())
        acc["owner"] = acc["owner"] or owner
        acc["open_nb"] = self.make_deal(
            acc,
            kind="newbusiness",
            status="open",
            created=created,
            close=self.day(date(2026, 10, 8), date(2027, 1, 29)),
            amount=round(PRICES[plan][cycle][acc["currency"]] * seats * 12 / MONTHS[cycle]),
            owner=owner,
            name=f"{acc['base']} - New Business",
            stages=stages,
        )

    def lost_story(self, acc: Rec) -> None:
        first = self.lost_attempt(acc, FIRST, date(2026, 7, 15))
        if self.chance(0.4) and first["close_date"] < date(2026, 2, 1):
            self.lost_attempt(acc, first["close_date"] + timedelta(days=60), date(2026, 8, 1))

    # --- billing -------------------------------------------------------------------------------

    def new_customer(self, acc: Rec | None, created: datetime, **extra: Any) -> Rec:
        local = self.r.choice(("billing", "finance", "accounts", "ap", "invoices"))
        customer = {
            "id": self.stripe_id("cus_", 14),
            "account": acc,
            "link": "id" if self.chance(0.82) else "none",
            "email": self.email(local, acc["domain"]) if acc else None,
            "name": acc["name"] if acc else None,
            "created_at": created,
            "currency": acc["currency"] if acc else "USD",
            "tax": acc["tax"] if acc else 0.0,
            "delinquent": False,
            "description": "",
            "raw": {},
        }
        customer.update(extra)
        if acc is not None:
            acc["customers"].append(customer)
        self.customers.append(customer)
        return customer

    def new_sub(
        self,
        customer: Rec,
        plan: str,
        cycle: str,
        qty: int,
        start: datetime,
        trial_end: datetime | None = None,
        **extra: Any,
    ) -> Rec:
        currency = customer["currency"]
        row = {
            "plan": plan,
            "unit": PRICES[plan][cycle][currency],
            "qty": qty,
            "start": start,
            "end": None,
            "status": "active",
            "canceled_at": None,
            "trial_end": trial_end,
            "cape": False,
            "raw": {},
        }
        sub = {
            "id": self.stripe_id("sub_1", 23),
            "customer": customer,
            "customer_id": None,
            "currency": currency,
            "cycle": cycle,
            "rows": [row],
            "created": start,
            "bill": True,
            "bill_until": None,
        }
        sub.update(extra)
        self.subs.append(sub)
        return sub

    @staticmethod
    def change(sub: Rec, when: datetime, **new: Any) -> None:
        """A price change: the current span ends at `when` and a new span starts there."""
        last = sub["rows"][-1]
        last.update(end=when, status="canceled")
        row = {**last, "start": when, "end": None, "status": "active", "trial_end": None}
        row.update(canceled_at=None, cape=False, raw={}, **new)
        sub["rows"].append(row)

    def self_serve_customer(self, live: bool) -> Rec:
        first, last = self.person()
        if self.chance(0.5):
            domain = self.r.choice(FREE_MAIL)
            address = self.email(f"{first}.{last}{self.r.randint(10, 99)}".lower(), domain)
            name = f"{first} {last}"
        else:
            company = self.micro_company()
            address = self.email(first.lower(), company[1])
            name = company[0]
        last_start = date(2026, 3, 31) if live else date(2026, 1, 31)
        start = self.moment(date(2024, 12, 1), last_start)
        customer = self.new_customer(
            None, start - timedelta(minutes=30), email=address, name=name, link="none"
        )
        customer["description"] = "Self-serve signup"
        sub = self.new_sub(customer, "Starter", "monthly", self.r.randint(1, 3), start)
        if not live:
            end = add_months_dt(start, self.r.randint(2, 7))  # ends by 2026-08-31
            floor = max(start + timedelta(days=1), end - timedelta(days=20))
            sub["rows"][-1].update(
                end=end,
                status="canceled",
                canceled_at=self.between(floor, end - timedelta(days=2)),
                cape=True,
            )
        return customer

    def micro_company(self) -> tuple[str, str]:
        while True:
            word, kind = self.r.choice(MICRO_WORDS), self.r.choice(MICRO_KINDS)
            name = f"{word} {kind}"
            if name not in self.micro:
                self.micro.add(name)
                return name, f"{word}{kind}".lower() + ".example"

    # --- leads ---------------------------------------------------------------------------------

    def new_lead(self, **fields: Any) -> Rec:
        lead: Rec = {
            "first": None,
            "last": None,
            "email": None,
            "title": self.r.choice(JOB_TITLES),
            "company": None,
            "account": None,
            "owner": None,
            "status": "New",
            "lifecycle": "Lead",
            "source": self.source(),
            "created_at": None,
            "last_activity_at": None,
            "converted_at": None,
            "deal": None,
            "raw": {},
        }
        lead.update(fields)
        if lead["account"] is not None:
            lead["account"]["leads"].append(lead)
        self.leads.append(lead)
        return lead

    def contact_at(self, acc: Rec, **fields: Any) -> Rec:
        first, last = self.person()
        return self.new_lead(
            first=first,
            last=last,
            email=self.email(f"{first}.{last}".lower(), acc["domain"]),
            company=acc["base"] if self.chance(0.6) else acc["name"],
            account=acc,
            **fields,
        )

    def originating_lead(self, deal: Rec) -> None:
        acc = deal["account"]
        converted = deal["created_at"]
        created = converted - timedelta(days=self.r.randint(3, 45), minutes=self.r.randint(0, 600))
        floor = midnight(FIRST)
        if created < floor:
            created = self.between(floor, max(floor, converted - timedelta(minutes=30)))
        if deal["status"] == "open":
            touched = max(self.moment(date(2026, 9, 10), LAST), converted)
        else:
            end = min(midnight(deal["close_date"]) + timedelta(days=2), CUTOFF)
            touched = self.between(converted, max(converted, end))
        lead = self.contact_at(
            acc,
            owner=deal["owner"],
            status="Open Deal",
            lifecycle={"won": "Customer", "open": "Opportunity", "lost": "Other"}[deal["status"]],
            created_at=created,
            last_activity_at=touched,
            converted_at=converted,
            deal=deal,
        )
        deal["lead"] = lead
        deal["source"] = lead["source"]

    def open_lead_fields(self, created: datetime) -> Rec:
        """Status and activity of an ordinary open lead (touched in the last 30 days)."""
        if created.date() >= date(2026, 9, 29) and self.chance(0.6):
            return {"status": "New", "last_activity_at": None}
        status = self.weighted(
            (("New", 1), ("Attempted to Contact", 3), ("Connected", 2), ("In Progress", 3))
            + ((("Sales Qualified", 1),) if created.date() < date(2026, 9, 20) else ())
        )
        floor = max(created, midnight(date(2026, 9, 5)))
        return {"status": status, "last_activity_at": self.between(floor, CUTOFF)}

    def closed_lead_fields(self, created: datetime) -> Rec:
        end = min(created + timedelta(days=self.r.randint(1, 40)), CUTOFF)
        return {
            "status": self.weighted((("Unqualified", 3), ("Bad Timing", 2))),
            "lifecycle": "Other",
            "last_activity_at": self.between(created, end),
        }

    def free_lead(self, created: datetime) -> Rec:
        """A lead without a company record: free mail or a small company that is no account."""
        first, last = self.person()
        if self.chance(0.35):
            domain = self.r.choice(FREE_MAIL)
            local = self.r.choice((f"{first}.{last}", f"{first}{last}{self.r.randint(1, 99)}"))
            company = None if self.chance(0.5) else self.micro_company()[0]
        else:
            company, domain = self.micro_company()
            local = self.r.choice((first, f"{first}.{last}"))
        segment = self.weighted((("SMB", 2), ("Mid-Market", 1)))
        lead = self.new_lead(
            first=first,
            last=last,
            email=self.email(local.lower(), domain),
            company=company,
            owner=self.owner_for(segment, created.date()),
            created_at=created,
        )
        lead["segment"] = segment
        return lead

    def make_leads(self) -> None:
        for deal in [d for d in self.deals if d["type"] == "newbusiness"]:
            if self.chance(0.85):
                self.originating_lead(deal)
            else:
                deal["source"] = self.r.choice(("Offline Sources", "Direct Traffic", "Referrals"))
        for deal in self.deals:
            if deal["type"] != "newbusiness":
                nb = deal["account"]["nb"] if deal["account"].get("nb") else None
                deal["lead"] = nb["lead"] if nb else None
                deal["source"] = "Offline Sources"
        for acc in self.accounts:
            story = acc["story"]
            if story == "won" and self.chance(0.3):
                # an earlier contact who was not ready then (closed before the company bought)
                lo = acc["nb"]["created_at"] - timedelta(days=200)
                hi = acc["nb"]["created_at"] - timedelta(days=5)
                if lo.date() >= FIRST:
                    created = self.between(lo, hi)
                    old = self.contact_at(
                        acc,
                        owner=acc["owner"],
                        created_at=created,
                        **self.closed_lead_fields(created),
                    )
                    if acc["nb"]["lead"] is not None and self.chance(0.5):
                        acc["nb"]["more_leads"].append(old)
            elif story == "open" and self.chance(0.5):
                created = self.moment(date(2026, 5, 1), date(2026, 9, 25))
                self.contact_at(
                    acc,
                    owner=acc["owner"],
                    created_at=created,
                    **self.open_lead_fields(created),
                )
            elif story == "lost":
                first = acc["deals"][0]["created_at"]
                created = self.between(first - timedelta(days=20), first + timedelta(days=30))
                created = max(created, midnight(FIRST))
                self.contact_at(
                    acc, owner=acc["owner"], created_at=created, **self.closed_lead_fields(created)
                )
            elif story == "cold":
                for _ in range(self.r.randint(1, 3)):
                    created = self.moment(date(2026, 3, 1), LAST)
                    fields = (
                        self.open_lead_fields(created)
                        if created.date() >= date(2026, 9, 2)
                        else self.closed_lead_fields(created)
                    )
                    acc["owner"] = acc["owner"] or self.owner_for(acc["segment"], created.date())
                    self.contact_at(acc, owner=acc["owner"], created_at=created, **fields)
        for _ in range(270):
            created = self.moment(FIRST, LAST)
            lead = self.free_lead(created)
            if created.date() >= date(2026, 9, 2):
                lead.update(self.open_lead_fields(created))
            elif self.chance(0.16):  # still nurtured: an old lead touched this month
                lead.update(
                    status=self.r.choice(("In Progress", "Connected", "Attempted to Contact")),
                    last_activity_at=self.moment(date(2026, 9, 6), LAST),
                )
            else:
                lead.update(self.closed_lead_fields(created))

    # --- the clean world -----------------------------------------------------------------------

    def build(self) -> None:
        stories = ["won"] * 100 + ["open"] * 35 + ["lost"] * 12 + ["cold"] * 5
        self.r.shuffle(stories)
        won = 0
        for story in stories:
            if story == "won":
                won += 1
                acc = self.new_account(story, *FORCED.get(won, (None, None)))
                if won in FORCED:
                    acc["used"] = "U001"  # a duplicate account is planted next to it
                self.won_story(acc)
            else:
                acc = self.new_account(story)
                {"open": self.open_story, "lost": self.lost_story, "cold": lambda a: None}[story](
                    acc
                )
        for acc in self.accounts:
            if acc.get("used") == "U001":
                for customer in acc["customers"]:
                    customer["link"] = "id"  # their domain is shared by a duplicate account
        self.reactivation()
        self.eu_entity()
        self.open_expansions()
        for _ in range(12):
            self.self_serve_customer(live=False)
        self.make_leads()

    def reactivation(self) -> None:
        """A customer who churned and came back later: a win-back deal and a new subscription."""
        acc = self.pick(
            self.accounts,
            lambda a: a["churned_at"] is not None and a["churned_at"].date() <= date(2025, 12, 31),
            "reactivation",
        )
        old = acc["main_sub"]
        created = self.moment(date(2026, 3, 10), date(2026, 3, 31))
        close = self.day(date(2026, 5, 5), date(2026, 5, 25))
        row = old["rows"][-1]
        deal = self.make_deal(
            acc,
            kind="newbusiness",
            status="won",
            created=created,
            close=close,
            amount=round(arr_of(row, old["cycle"])),
            owner=self.deal_owner(acc, created.date()),
            name=f"{acc['base']} - Win-back",
            stages=["Qualified To Buy", "Contract Sent"],
        )
        customer = acc["customers"][0]
        start = self.at(close + timedelta(days=2))
        sub = self.new_sub(customer, row["plan"], old["cycle"], row["qty"], start)
        acc.update(reactivated=True, main_sub=sub, winback=deal)

    def eu_entity(self) -> None:
        """An account whose European subsidiary is billed as a second Stripe customer in EUR."""
        acc = self.pick(
            self.accounts,
            lambda a: (
                a["story"] == "won"
                and a["currency"] == "USD"
                and a["segment"] != "SMB"
                and a["won_on"] >= date(2025, 12, 20)
                and a["won_on"] <= date(2026, 3, 15)
                and not a["expanded"]
                and not a.get("open_renewal")
            ),
            "eu-entity",
        )
        close = self.day(acc["won_on"] + timedelta(days=50), date(2026, 6, 30))
        seats = self.r.randint(10, 20)
        created = self.at(close - timedelta(days=30))
        self.make_deal(
            acc,
            kind="existingbusiness",
            status="won",
            created=created,
            close=close,
            amount=round(PRICES["Growth"]["monthly"]["EUR"] * seats * 12),
            owner=self.deal_owner(acc, created.date()),
            name=f"{acc['base']} - EU Rollout",
            stages=["Presentation Scheduled", "Contract Sent"],
            currency="EUR",
        )
        start = self.at(close + timedelta(days=2))
        customer = self.new_customer(
            acc,
            start - timedelta(hours=3),
            name=f"{acc['base']} Europe B.V.",
            currency="EUR",
            tax=0.0,
            link="id",
        )
        customer["email"] = self.email("billing-eu", acc["domain"])
        self.new_sub(customer, "Growth", "monthly", seats, start)
        acc["expanded"] = True

    # --- invoices ------------------------------------------------------------------------------

    def invoice(
        self,
        customer: Rec,
        sub: Rec | None,
        subtotal: float,
        issued: datetime,
        start: datetime,
        end: datetime,
        billing: str,
        currency: str | None = None,
    ) -> Rec:
        tax = round(subtotal * customer["tax"], 2)
        if billing == "charge_automatically":
            paid: datetime | None = issued + timedelta(minutes=self.r.randint(1, 90))
        else:
            paid = self.at(issued.date() + timedelta(days=self.r.randint(3, 32)))
        status = "paid"
        if paid is not None and paid >= midnight(AS_OF):
            status, paid = "open", None
        inv = {
            "id": self.stripe_id("in_1", 23),
            "customer": customer,
            "customer_id": None,
            "sub": sub,
            "sub_id": None,
            "billing": billing,
            "status": status,
            "currency": currency or customer["currency"],
            "subtotal": round(subtotal, 2),
            "tax": tax,
            "issued": issued,
            "due": issued + timedelta(days=30) if billing == "send_invoice" else None,
            "paid": paid,
            "start": start,
            "end": end,
            "raw": {},
        }
        self.invoices.append(inv)
        return inv

    def bill(self, sub: Rec) -> None:
        if not sub["bill"]:
            return
        rows, cycle = sub["rows"], sub["cycle"]
        months = MONTHS[cycle]
        billing = "charge_automatically" if cycle == "monthly" else "send_invoice"
        anchor = rows[0]["trial_end"] or rows[0]["start"]
        end = rows[-1]["end"]
        stop = min(end or CUTOFF, CUTOFF)
        if sub["bill_until"] is not None:
            stop = min(stop, sub["bill_until"])

        def row_at(moment: datetime) -> Rec:
            return next(
                r for r in rows if r["start"] <= moment and (r["end"] is None or moment < r["end"])
            )

        k = 0
        while True:
            start = add_months_dt(anchor, k * months)
            if start > stop or (end is not None and start >= end):
                break
            nxt = add_months_dt(anchor, (k + 1) * months)
            row = row_at(start)
            total = row["unit"] * row["qty"]
            if total > 0:
                self.invoice(sub["customer"], sub, total, start, start, nxt, billing)
            for later in rows:
                if start < later["start"] < nxt and later["start"] <= stop:
                    before = row_at(later["start"] - timedelta(minutes=1))
                    delta = later["unit"] * later["qty"] - before["unit"] * before["qty"]
                    if delta > 0:
                        share = (nxt - later["start"]) / (nxt - start)
                        self.invoice(
                            sub["customer"],
                            sub,
                            delta * share,
                            later["start"],
                            later["start"],
                            nxt,
                            billing,
                        )
            k += 1

    def bill_all(self) -> None:
        for sub in self.subs:
            self.bill(sub)
        for acc in self.accounts:
            enterprise = acc["story"] == "won" and acc["segment"] == "Enterprise"
            if enterprise and acc["customers"] and self.chance(0.7):
                # a one-off onboarding fee, no subscription
                fee = self.r.choice((4500, 7500, 9500, 12000))
                issued = acc["nb"]["history"][-1]["at"] + timedelta(days=self.r.randint(1, 4))
                issued = min(issued, CUTOFF)
                customer = acc["customers"][0]
                self.invoice(customer, None, fee, issued, issued, issued, "send_invoice")

    # --- expenses and forecasts ----------------------------------------------------------------

    def make_expenses(self) -> None:
        month = FIRST
        n = 0
        while month <= LAST:
            day = date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
            growth = 1 + n / 24

            def add(
                category: str,
                amount: float,
                currency: str,
                channel: str,
                text: str,
                day: date = day,
            ) -> Rec:
                rec = {
                    "date": day,
                    "category": category,
                    "amount": round(amount * self.r.uniform(0.9, 1.1), 2),
                    "currency": currency,
                    "channel": channel,
                    "text": f"{text} {day:%m/%Y}",
                    "raw": {},
                }
                self.expenses.append(rec)
                return rec

            add("Marketing", 18000 * growth, "USD", "Paid Search", "Google Ads")
            add("Marketing", 9000 * growth, "USD", "Paid Social", "LinkedIn Ads")
            add("Marketing", 6000 * growth, "USD", "Content & SEO", "Content-Agentur")
            if n % 3 == 1:
                add("Marketing", 16000 * growth, "EUR", "Events", "Messe und Events")
            if n % 3 == 2:
                add("Marketing", 7000 * growth, "USD", "Partner", "Partnerprogramm")
            add("Vertrieb", 85000 * growth, "USD", "", "Gehaelter Vertrieb")
            won = sum(
                d["amount"] * RATES[d["currency"]]
                for d in self.deals
                if d["status"] == "won"
                and d["type"] != "renewal"
                and d["amount"]
                and d["close_date"]
                and (d["close_date"].year, d["close_date"].month) == (month.year, month.month)
            )
            if won:
                add("Provisionen", 0.08 * won, "USD", "", "Provisionen Vertrieb")
            add("Hosting", 11000 * growth, "USD", "", "Cloud Hosting")
            add("Kundensupport", 9000 * growth, "USD", "", "Support-Team")
            add("Verwaltung", 14000 + 2000 * growth, "EUR", "", "Buero und Verwaltung")
            month, n = add_months(month, 1), n + 1

    def bookings(self, start: date, end: date, owner: str | None = None) -> float:
        return sum(
            d["amount"] * RATES[d["currency"]]
            for d in self.deals
            if d["status"] == "won"
            and d["type"] in ("newbusiness", "existingbusiness")
            and d["amount"]
            and d["close_date"]
            and start <= d["close_date"] <= end
            and (owner is None or d["owner"] == owner)
        )

    def make_forecasts(self) -> None:
        quarters = [(2024, 4)] + [(y, q) for y in (2025, 2026) for q in (1, 2, 3, 4)]
        for year, q in quarters:
            start = date(year, 3 * q - 2, 1)
            end = add_months(start, 3) - timedelta(days=1)
            actual = self.bookings(start, end)
            if (year, q) == (2026, 4):
                actual = 1.1 * self.bookings(date(2026, 4, 1), date(2026, 9, 30)) / 2
            submitted = self.at(start - timedelta(days=self.r.randint(2, 6)))
            period = f"{year}-Q{q}"
            self.forecasts.append(
                {
                    "period": period,
                    "owner": None,
                    "team": None,
                    "amount": round(actual * self.r.uniform(0.85, 1.2), -3),
                    "submitted": submitted,
                    "raw": {},
                }
            )
            if year < 2026:
                continue
            for owner in self.owners:
                oid = owner["id"]
                if oid == "012" or LEFT.get(oid, date.max) < start:
                    continue
                mine = self.bookings(start, end, oid) if q < 4 else 0.0
                if q == 4:
                    mine = self.bookings(date(2026, 4, 1), date(2026, 9, 30), oid) * 0.55
                if mine <= 0:
                    continue
                self.forecasts.append(
                    {
                        "period": period,
                        "owner": oid,
                        "team": None,
                        "amount": round(mine * self.r.uniform(0.8, 1.25), -2),
                        "submitted": submitted + timedelta(minutes=self.r.randint(-600, -30)),
                        "raw": {},
                    }
                )
            if q >= 3:
                team = sum(self.bookings(start, end, o) for o in ("001", "002", "003"))
                if q == 4:
                    team = 1.1 * sum(
                        self.bookings(date(2026, 4, 1), date(2026, 9, 30), o) / 2
                        for o in ("001", "002", "003")
                    )
                self.forecasts.append(
                    {
                        "period": period,
                        "owner": None,
                        "team": "Enterprise",
                        "amount": round(team * self.r.uniform(0.9, 1.15), -3),
                        "submitted": submitted - timedelta(hours=2),
                        "raw": {},
                    }
                )

    # --- helpers for plants --------------------------------------------------------------------

    @staticmethod
    def row_live(row: Rec) -> bool:
        service_end = row["end"] or row["canceled_at"]
        live = row["status"] in ("active", "trialing", "past_due")
        return live and (service_end is None or service_end.date() > AS_OF)

    def account_subs(self, acc: Rec) -> list[Rec]:
        return [s for s in self.subs if s["customer"]["account"] is acc]

    def is_live(self, acc: Rec) -> bool:
        return any(self.row_live(r) for s in self.account_subs(acc) for r in s["rows"])

    def billed(self, acc: Rec) -> float:
        """ARR of the account's live subscriptions, in USD."""
        return sum(
            arr_of(r, s["cycle"]) * RATES[s["currency"]]
            for s in self.account_subs(acc)
            for r in s["rows"]
            if self.row_live(r)
        )

    def won_accounts(self) -> list[Rec]:
        return [a for a in self.accounts if a["story"] == "won"]

    def big_live(self, acc: Rec) -> bool:
        """A live customer account large enough that a small add-on stays within R003's 10 %."""
        return (
            acc["story"] == "won"
            and not acc["reactivated"]
            and self.is_live(acc)
            and self.billed(acc) >= 15000
            and acc["customers"][0]["link"] == "id"
        )

    def open_deals(self, segment: str | None = None) -> list[Rec]:
        return [
            d
            for d in self.deals
            if d["status"] == "open"
            and d["type"] == "newbusiness"
            and d["account"] is not None
            and d["account"]["story"] == "open"
            and (segment is None or d["account"]["segment"] == segment)
        ]

    def reshape(self, deal: Rec, created: datetime, entered: datetime | None = None) -> None:
        """Move an open deal's creation (and optionally its stage entry) keeping its stages."""
        history = deal["history"]
        entered = entered or history[-1]["at"]
        history[0]["at"] = created
        if len(history) > 1:
            mids = sorted(self.between(created, entered) for _ in history[1:-1])
            for entry, moment in zip(history[1:-1], mids, strict=True):
                entry["at"] = moment
            history[-1]["at"] = entered
        deal["created_at"] = created
        lead = deal["lead"]
        if lead is not None:
            lead["converted_at"] = created
            lead["created_at"] = created - timedelta(days=self.r.randint(5, 20))
            lead["last_activity_at"] = max(lead["last_activity_at"], created)

    def extra_account(self, story: str, **fields: Any) -> Rec:
        acc = self.new_account(story)
        acc.update(fields)
        return acc

    def open_expansions(self) -> None:
        """Ordinary open expansion deals at customers (clean)."""
        for _ in range(5):
            acc = self.pick(
                self.won_accounts(),
                lambda a: self.is_live(a) and not a.get("open_renewal") and not a["reactivated"],
                "open-expansion",
            )
            row = acc["main_sub"]["rows"][-1]
            added = max(2, round(row["qty"] * 0.2))
            created = self.moment(date(2026, 9, 4), date(2026, 9, 25))
            self.make_deal(
                acc,
                kind="existingbusiness",
                status="open",
                created=created,
                close=self.day(date(2026, 10, 15), date(2026, 12, 20)),
                amount=round(row["unit"] * added * 12 / MONTHS[acc["main_sub"]["cycle"]]),
                owner=self.deal_owner(acc, created.date()),
                name=f"{acc['base']} - Expansion (+{added} seats)",
                stages=["Presentation Scheduled"],
                entered=created,
            )

    # --- planted problems: CRM -----------------------------------------------------------------

    def plant_accounts(self) -> None:
        p = self.plant
        owners = {o["id"]: o for o in self.owners}
        p("U006", "owners", owners["005"], "same e-mail as owner 012 (a second user record)")
        p("U006", "owners", owners["012"], "same e-mail as owner 005 (created by SSO provisioning)")
        dups = (
            (
                "Kestrel Logistics",
                "Kestrel Logistics Inc",
                "https://www.Kestrel-Logistics.example/",
            ),
            ("Brightline Media", "Brightline Media Ltd", "brightlinemedia.example"),
        )
        for base, name, cell in dups:
            orig = next(a for a in self.accounts if a["base"] == base)
            if norm_name(orig["name"]) != norm_name(base):
                orig["name"] = base
            dup = self.extra_account(
                "dup",
                name=name,
                domain=norm_domain(cell),
                domain_cell=cell,
                segment=orig["segment"],
                country=orig["country"],
                industry=orig["industry"],
                lifecycle="Lead",
                created_override=self.moment(date(2026, 1, 10), date(2026, 6, 30)),
                used="U001",
            )
            dup["owner"] = self.owner_for(dup["segment"], AS_OF)
            tier = "same domain" if norm_domain(cell) == orig["domain"] else "same name only: info"
            p("U001", "accounts", orig, f"customer account; duplicate record {name!r} ({tier})")
            p("U001", "accounts", dup, f"duplicate of {orig['name']!r}, domain {cell!r} ({tier})")
        for cell, why in (("gmail.com", "a free-mail domain"), ("n/a", "not a host name")):
            name = self.micro_company()[0]  # a small business without a domain of its own
            acc = self.extra_account("cold", domain=cell, domain_cell=cell, lifecycle="Lead")
            acc.update(name=name, base=name, segment="SMB", industry="Professional Services")
            acc["employees"] = self.r.randint(2, 12)
            acc["owner"] = self.owner_for(acc["segment"], date(2026, 4, 1))
            acc["created_override"] = self.moment(date(2025, 11, 1), date(2026, 5, 31))
            acc["used"] = "V002"
            p("V002", "accounts", acc, f"Company Domain Name {cell!r}: {why}")
        acc = self.pick(self.accounts, lambda a: a["story"] == "lost", "T003")
        acc["created_override"] = datetime(1970, 1, 1, 0, 0)
        p("T003", "accounts", acc, "Create Date 1970-01-01 00:00 (epoch zero of a broken import)")
        acc = self.pick(
            self.won_accounts(),
            lambda a: self.is_live(a) and a["customers"][0]["link"] == "id",
            "O001",
        )
        acc.update(owner=None, owner_fixed=True)
        p("O001", "accounts", acc, "customer account with an empty Company owner")
        acc = self.pick(
            self.won_accounts(),
            lambda a: self.is_live(a) and a["segment"] == "SMB" and not a["reactivated"],
            "O003",
        )
        acc.update(owner="010", owner_fixed=True)
        p("O003", "accounts", acc, "customer account still owned by 010, who left on 2026-02-28")
        for _ in range(2):
            acc = self.pick(
                self.won_accounts(),
                lambda a: (
                    date(2026, 5, 1) <= a["won_on"] <= date(2026, 9, 10)
                    and self.is_live(a)
                    and not a.get("open_renewal")
                ),
                "A001",
            )
            acc["lifecycle"] = "Opportunity"
            p(
                "A001",
                "accounts",
                acc,
                f"won its first deal on {acc['won_on']} and pays, lifecycle still Opportunity",
            )
        for _ in range(2):
            acc = self.pick(
                self.won_accounts(),
                lambda a: a["churned_at"] is not None and not a["reactivated"],
                "R004",
            )
            acc.update(lifecycle="Customer", owner=self.active_owner(acc["owner"], AS_OF))
            acc["owner_fixed"] = True
            end = acc["main_sub"]["rows"][-1]["end"].date()
            p("R004", "accounts", acc, f"subscription ended {end}, lifecycle still Customer")
        for _ in range(2):
            acc = self.pick(
                self.won_accounts(),
                lambda a: (
                    date(2026, 1, 5) <= a["won_on"] <= date(2026, 8, 20)
                    and not a["expanded"]
                    and not a["reactivated"]
                    and not a.get("open_renewal")
                ),
                "R001",
            )
            gone = {id(c) for c in acc["customers"]}
            self.customers = [c for c in self.customers if id(c) not in gone]
            self.subs = [s for s in self.subs if s["customer"]["account"] is not acc]
            acc.update(customers=[], main_sub=None, lifecycle="Customer", billing_removed=True)
            acc["owner_fixed"] = True
            acc["owner"] = self.active_owner(acc["owner"], AS_OF)
            p("R001", "deals", acc["nb"], f"won {acc['won_on']}, no billing customer at all")
            p("R005", "accounts", acc, "customer account without billing (its won deal: R001)")
        partner = self.extra_account("partner", lifecycle="Evangelist", used="R005")
        partner["owner"] = self.owner_for(partner["segment"], date(2025, 2, 1))
        partner["owner"] = self.active_owner(partner["owner"], AS_OF)
        partner["created_override"] = self.moment(date(2025, 1, 15), date(2025, 2, 28))
        partner["owner_fixed"] = True
        self.partner = partner
        p("R005", "accounts", partner, "reseller partner marked Evangelist, never billed")

    def plant_deals(self) -> None:
        p = self.plant
        p("S001", "deals", "deals.forecast_category", "mapped to 'Forecast category', not exported")
        deal = self.pick_deal(self.open_deals(), None, "S002")
        deal["raw"]["probability"] = "TBD"
        p("S002", "deals", "deals.probability", f"'TBD' in Deal probability of {deal['name']!r}")
        self.probability_tbd = deal
        deal = self.pick_deal(self.open_deals(), None, "V006")
        deal["probability"] = 150
        p("V006", "deals", deal, "Deal probability 150 (percent scale)")
        deal = self.pick_deal(self.open_deals(), lambda d: d["stage"] == "Contract Sent", "S005")
        when = self.between(deal["history"][-1]["at"], datetime(2026, 9, 29, 12, 0))
        deal["history"].append({"deal": deal, "stage": "Legal Review", "at": when})
        deal["stage"] = "Legal Review"
        p("S005", "deals", deal, "Deal Stage 'Legal Review': a new stage missing from the map")
        deal = self.pick_deal(self.open_deals(), None, "O001")
        deal.update(owner=None, owner_fixed=True)
        p("O001", "deals", deal, "open deal with an empty Deal owner")
        acc = self.pick(self.accounts, lambda a: a["story"] == "open", "O002")
        deal = acc["open_nb"]
        deal["used"] = "O002"
        acc.update(owner="019", owner_fixed=True)
        deal.update(owner="019", owner_fixed=True)
        p("O002", "accounts", acc, "Company owner 019: a deactivated user missing from owners.csv")
        p("O002", "deals", deal, "Deal owner 019: a deactivated user missing from owners.csv")
        for _ in range(2):
            deal = self.pick_deal(self.open_deals("SMB"), lambda d: len(d["history"]) >= 2, "O003")
            self.reshape(deal, self.moment(date(2026, 1, 12), date(2026, 2, 20)))
            deal.update(owner="010", owner_fixed=True)
            if deal["lead"] is not None:
                deal["lead"]["owner"] = "010"
            p("O003", "deals", deal, "open deal still owned by 010, who left on 2026-02-28")
        for close in (date(2026, 8, 14), date(2026, 9, 5), date(2026, 9, 28)):
            deal = self.pick_deal(self.open_deals(), None, "D002")
            deal["close_date"] = close
            days = (AS_OF - close).days
            p("D002", "deals", deal, f"open, Close Date {close} ({days} days overdue)")
        for touched in (datetime(2026, 7, 30, 10, 14), datetime(2026, 8, 20, 15, 40)):
            deal = self.pick_deal(self.open_deals(), lambda d: len(d["history"]) >= 2, "D003")
            self.reshape(deal, self.moment(date(2026, 5, 20), date(2026, 6, 30)))
            deal["last_activity_at"] = touched
            days = (AS_OF - touched.date()).days
            p("D003", "deals", deal, f"open, last activity {touched:%Y-%m-%d} ({days} days ago)")
        for entered in (datetime(2026, 6, 2, 11, 30), datetime(2026, 7, 10, 16, 5)):
            deal = self.pick_deal(self.open_deals(), lambda d: len(d["history"]) >= 2, "D004")
            self.reshape(deal, self.moment(date(2026, 4, 1), date(2026, 5, 20)), entered)
            days = (AS_OF - entered.date()).days
            p(
                "D004",
                "deals",
                deal,
                f"in stage {deal['stage']!r} since {entered:%Y-%m-%d} ({days} d)",
            )
        for amount in (None, 0):
            deal = self.pick_deal(self.open_deals(), None, "D006")
            deal["amount"] = amount
            p("D006", "deals", deal, f"open deal with Amount {'empty' if amount is None else '0'}")
        deal = self.pick_deal(self.open_deals(), None, "D007")
        deal["close_date"] = None
        p("D007", "deals", deal, "open deal with an empty Close Date")
        acc = self.pick(self.won_accounts(), lambda a: bool(a["renewals"]), "D007")
        acc["nb"]["close_date"] = None
        p("D007", "deals", acc["nb"], "won deal with an empty Close Date (renewed since)")
        deal = self.pick_deal(
            [a["nb"] for a in self.won_accounts()],
            lambda d: d["close_date"] and d["close_date"] <= date(2026, 6, 30),
            "D010",
        )
        deal["probability"] = 90
        p("D010", "deals", deal, "won deal with Deal probability 90")
        lost = [d for d in self.deals if d["status"] == "lost" and d["type"] == "newbusiness"]
        deal = self.pick_deal(lost, None, "D010")
        deal["probability"] = 20
        p("D010", "deals", deal, "lost deal with Deal probability 20")
        for amount in (0, None):
            acc = self.pick(
                self.won_accounts(),
                lambda a: self.is_live(a) and not a["reactivated"] and not a.get("open_renewal"),
                "D005",
            )
            created = self.moment(date(2026, 3, 1), date(2026, 6, 30))
            close = created.date() + timedelta(days=self.r.randint(10, 30))
            deal = self.make_deal(
                acc,
                kind="existingbusiness",
                status="won",
                created=created,
                close=close,
                amount=amount,
                owner=self.deal_owner(acc, created.date()),
                name=f"{acc['base']} - SSO Add-on",
                stages=["Presentation Scheduled", "Contract Sent"],
            )
            deal["lead"] = acc["nb"]["lead"]
            deal["source"] = "Offline Sources"
            shown = "empty" if amount is None else "0"
            p("D005", "deals", deal, f"won expansion with Amount {shown} (SSO add-on)")
        deal = self.pick_deal(
            [d for d in lost if d["account"]["story"] == "lost"],
            lambda d: d["close_date"] <= date(2026, 6, 30),
            "D008",
        )
        deal["close_date"] = date(2026, 12, 15)
        p("D008", "deals", deal, "lost deal whose Close Date stayed at the planned 2026-12-15")
        deal = self.pick_deal(self.open_deals(), None, "D008")
        won_at = datetime(2026, 9, 29, 16, 5)
        deal.update(status="won", stage=WON, probability=100, close_date=date(2026, 10, 20))
        deal["history"].append({"deal": deal, "stage": WON, "at": won_at})
        deal["last_activity_at"] = won_at
        p("D008", "deals", deal, "marked won on 2026-09-29 with the planned Close Date 2026-10-20")
        deal = self.pick_deal(
            [a["nb"] for a in self.won_accounts()],
            lambda d: (
                d["close_date"]
                and d["close_date"] <= date(2026, 8, 15)
                and d["lead"] is not None
                and self.is_live(d["account"])
            ),
            "T002",
        )
        created = midnight(deal["close_date"]) + timedelta(days=9, hours=10)
        for i, entry in enumerate(deal["history"]):
            entry["at"] = created + timedelta(minutes=5 * i)
        deal.update(created_at=created, last_activity_at=created + timedelta(days=1))
        deal["lead"].update(converted_at=created, last_activity_at=created + timedelta(hours=2))
        p(
            "T002",
            "deals",
            deal,
            f"Create Date {created:%Y-%m-%d}, after its Close Date (backdated)",
        )
        deal = self.pick_deal(
            [a["nb"] for a in self.won_accounts()],
            lambda d: (
                d["close_date"] and date(2025, 10, 5) <= d["close_date"] <= date(2025, 12, 20)
            ),
            "T001",
        )
        entry = deal["history"][-1]
        entry["at"] = entry["at"].replace(year=2026)
        p(
            "T001",
            "deal_stage_history",
            entry,
            f"{WON} entered_at {entry['at']:%Y-%m-%d} (year typo)",
        )
        self.orphan_deals()
        lost_without_lead = [d for d in lost if d["lead"] is None and d["account"] is not None]
        for _ in range(2):
            deal = self.pick_deal(lost_without_lead, None, "I003")
            deal["lead_raw"] = f"deleted-contact#{_}"
            p("I003", "deals", deal, "Associated Contact IDs: a deleted contact")
        acc = self.pick(self.accounts, lambda a: a["story"] == "open", "U004")
        first = acc["open_nb"]
        first["used"] = "U004"
        other = [o["id"] for o in self.owners if o["team"] == acc["segment"] and o["active"]]
        other = [o for o in other if o not in (first["owner"], "012")]
        created = datetime(2026, 9, 8, 14, 20)
        second = self.make_deal(
            acc,
            kind="newbusiness",
            status="open",
            created=created,
            close=first["close_date"] + timedelta(days=14),
            amount=first["amount"],
            owner=self.r.choice(other),
            name=first["name"],
            stages=["Appointment Scheduled"],
            entered=created,
        )
        second["source"] = "Direct Traffic"
        p("U004", "deals", first, f"two open deals {first['name']!r} on one account")
        p("U004", "deals", second, "the second one, created by another rep on 2026-09-08")
        deal = self.pick_deal(lost, lambda d: d["account"] is not None, "S004")
        deal["dup"] = True
        p("S004", "deals", deal, "the deal appears twice (an older copy earlier in the file)")
        expansions = [
            d for d in self.deals if d["status"] == "open" and d["type"] == "existingbusiness"
        ]
        deal = self.pick(expansions, None, "S005")
        deal["raw"]["type"] = "upsell"
        p("S005", "deals", deal, "Deal Type 'upsell' (not in the map; read as new_business)")
        self.extra_open_deals()
        self.r003_deals()

    def orphan_deals(self) -> None:
        p = self.plant
        lead = self.free_lead(self.at(date(2026, 9, 1)))
        created = self.at(date(2026, 9, 9))
        deal = self.make_deal(
            None,
            kind="newbusiness",
            status="open",
            created=created,
            close=date(2026, 11, 30),
            amount=7200,
            owner=self.owner_for("SMB", AS_OF),
            name=f"{lead['company'] or lead['last']} - New Business",
            stages=["Appointment Scheduled", "Qualified To Buy"],
        )
        lead.update(status="Open Deal", converted_at=created, deal=deal, lifecycle="Opportunity")
        lead["last_activity_at"] = deal["last_activity_at"]
        deal.update(lead=lead, source=lead["source"], used="D001")
        p("D001", "deals", deal, "open deal with no Associated Company IDs (detail: null)")
        created = datetime(2025, 3, 4, 10, 30)
        deal = self.make_deal(
            None,
            kind="newbusiness",
            status="lost",
            created=created,
            close=date(2025, 4, 22),
            amount=14400,
            owner="004",
            name="Tanglewood Freight - New Business",
            stages=["Appointment Scheduled", "Qualified To Buy"],
        )
        deal.update(account_raw="deleted-company#D001", source="Paid Search", used="D001")
        p("D001", "deals", deal, "lost deal whose company was deleted (detail: dangling)")

    def extra_open_deals(self) -> None:
        p = self.plant
        colds = [a for a in self.accounts if a["story"] == "cold" and not a.get("used")]
        acc = colds[0]
        acc["used"] = "D003"
        acc["owner"] = acc["owner"] or self.owner_for(acc["segment"], AS_OF)
        created = datetime(2026, 9, 5, 9, 12)
        deal = self.make_deal(
            acc,
            kind="newbusiness",
            status="open",
            created=created,
            close=date(2026, 11, 20),
            amount=9600,
            owner=acc["owner"],
            name=f"{acc['base']} - New Business",
            stages=["Appointment Scheduled"],
            entered=created,
        )
        deal.update(last_activity_at=None, source="Offline Sources", used="D003")
        p("D003", "deals", deal, "created 2026-09-05 and never touched (no Last Activity Date)")
        acc = colds[1]
        acc["used"] = "D004"
        acc["owner"] = acc["owner"] or self.owner_for(acc["segment"], AS_OF)
        created = datetime(2026, 8, 15, 11, 0)
        deal = self.make_deal(
            acc,
            kind="newbusiness",
            status="open",
            created=created,
            close=date(2026, 12, 10),
            amount=22800,
            owner=acc["owner"],
            name=f"{acc['base']} - New Business",
            stages=["Qualified To Buy"],
            entered=created,
        )
        deal.update(history=[], source="Referrals", used="D004")
        p("D004", "deals", deal, "no stage history, created 2026-08-15 (basis: deal_age, 47 d)")

    def r003_deals(self) -> None:
        p = self.plant
        acc = self.pick(
            self.won_accounts(),
            lambda a: (
                self.is_live(a)
                and not a["reactivated"]
                and max(
                    [a["nb"]["close_date"] or FIRST] + [d["close_date"] for d, _ in a["renewals"]]
                )
                < date(2026, 5, 1)
            ),
            "R003",
        )
        sub = acc["main_sub"]
        row = sub["rows"][-1]
        added = max(2, round(row["qty"] * 0.25))
        created = self.moment(date(2026, 6, 1), date(2026, 6, 20))
        close = created.date() + timedelta(days=self.r.randint(20, 35))
        self.make_deal(
            acc,
            kind="existingbusiness",
            status="won",
            created=created,
            close=close,
            amount=round(row["unit"] * added * 12 / MONTHS[sub["cycle"]]),
            owner=self.deal_owner(acc, created.date()),
            name=f"{acc['base']} - Expansion {close:%b %Y}",
            stages=["Presentation Scheduled", "Contract Sent"],
        )
        p("R003", "accounts", acc, f"+{added} seats won {close}, never billed (underbilled)")
        acc = self.pick(
            self.won_accounts(),
            lambda a: (
                self.is_live(a)
                and not a["reactivated"]
                and any(
                    not changed and date(2026, 3, 1) <= d["close_date"] <= date(2026, 8, 31)
                    for d, changed in a["renewals"]
                )
            ),
            "R003",
        )
        deal = next(
            d
            for d, changed in acc["renewals"]
            if not changed and date(2026, 3, 1) <= d["close_date"] <= date(2026, 8, 31)
        )
        deal["amount"] = round(deal["amount"] * 0.75)
        p(
            "R003",
            "accounts",
            acc,
            f"renewal {deal['close_date']} signed 25 % lower, still billed in full (overbilled)",
        )

    def plant_leads(self) -> None:
        p = self.plant
        free = [ld for ld in self.leads if ld["account"] is None and ld["deal"] is None]
        closed = ("Unqualified", "Bad Timing")
        open_words = ("New", "Attempted to Contact", "Connected", "In Progress", "Sales Qualified")
        lead = self.pick(free, lambda ld: ld["status"] in closed, "S004")
        lead["dup"] = True
        p("S004", "leads", lead, "the contact appears twice (an older copy earlier in the file)")
        lead = self.pick(
            free,
            lambda ld: (
                ld["status"] in open_words
                and ld["last_activity_at"] is not None
                and ld["created_at"].date() < date(2026, 6, 1)
            ),
            "S005",
        )
        lead["raw"]["status"] = "Nurture"
        p("S005", "leads", lead, "Lead Status 'Nurture' (not in the map; read as new)")
        self.nurture = lead
        for local, domain, state in (
            ("test", self.micro_company()[1], "closed"),
            (None, "mailinator.com", "closed"),
            (None, "gmail", "open"),
        ):
            first, last = self.person()
            created = self.moment(date(2025, 2, 1), date(2026, 6, 30))
            lead = self.new_lead(
                first=first,
                last=last,
                email=f"{local or (first + '.' + last).lower()}@{domain}",
                owner=self.owner_for("SMB", created.date()),
                created_at=created,
                used="V001",
                **self.closed_lead_fields(created),
            )
            if state == "open":
                lead.update(
                    status="Attempted to Contact",
                    lifecycle="Lead",
                    created_at=datetime(2026, 9, 15, 10, 0),
                    last_activity_at=datetime(2026, 9, 24, 9, 30),
                    owner=self.owner_for("SMB", AS_OF),
                )
            p("V001", "leads", lead, f"Email {lead['email']!r}")
        for field in ("last", "company"):
            created = self.moment(date(2025, 2, 1), date(2026, 6, 30))
            lead = self.free_lead(created)
            lead.update(self.closed_lead_fields(created))
            lead[field] = "Unknown" if field == "last" else "n/a"
            lead["used"] = "V005"
            label = {"last": "Last Name", "company": "Company Name"}[field]
            p("V005", "leads", lead, f"{label} {lead[field]!r}")
        converted_won = [
            ld for ld in self.leads if ld["deal"] is not None and ld["deal"]["status"] == "won"
        ]
        lead = self.pick(converted_won, None, "T001")
        lead["last_activity_at"] = datetime(2027, 6, 4, 10, 12)
        p("T001", "leads", lead, "Last Activity Date 2027-06-04 (year typo)")
        lead = self.pick(converted_won, None, "T002")
        lead["created_at"] = lead["converted_at"] + timedelta(days=3)
        lead["last_activity_at"] = max(lead["last_activity_at"], lead["created_at"])
        p("T002", "leads", lead, "Create Date 3 days after its Became an Opportunity Date")
        lead = self.pick(free, lambda ld: ld["status"] in closed, "T003")
        lead["created_at"] = datetime(1900, 1, 1, 0, 0)
        p("T003", "leads", lead, "Create Date 1900-01-01 (a spreadsheet's zero date)")
        for _ in range(2):
            created = self.moment(date(2025, 1, 15), date(2025, 12, 15))
            company, domain = self.micro_company()
            first, last = self.person()
            lead = self.new_lead(
                first=first,
                last=last,
                email=self.email(first.lower(), domain),
                company=company,
                account_raw=f"deleted-company#I001-{_}",
                owner=self.owner_for("Mid-Market", created.date()),
                created_at=created,
                used="I001",
                **self.closed_lead_fields(created),
            )
            p("I001", "leads", lead, "Associated Company ID of a deleted company")
        created = self.moment(date(2025, 5, 1), date(2025, 9, 30))
        lead = self.free_lead(created)
        lead.update(
            status="Open Deal",
            lifecycle="Opportunity",
            converted_at=created + timedelta(days=12),
            last_activity_at=created + timedelta(days=30),
            deal_raw="deleted-deal#I002",
            used="I002",
        )
        p("I002", "leads", lead, "Associated Deal IDs: a deleted deal")
        lead = self.pick(
            free,
            lambda ld: ld["status"] in open_words and ld["last_activity_at"] is not None,
            "O001",
        )
        lead.update(owner=None, owner_fixed=True)
        p("O001", "leads", lead, "open lead with an empty Contact owner")
        self.lead_hygiene()
        self.duplicate_leads()
        lead_pool = [ld for ld in free if not ld.get("used")]
        blanks = self.r.sample(lead_pool, 46)
        for lead in blanks:
            lead["source"] = None
        p("S003", "leads", "leads.source", "Original Source empty on 46 contacts (a list import)")

    def lead_hygiene(self) -> None:
        p = self.plant
        for status, created, touched, why in (
            ("In Progress", date(2026, 4, 2), datetime(2026, 7, 14, 15, 0), "silent"),
            ("Connected", date(2026, 6, 11), datetime(2026, 8, 22, 9, 45), "silent"),
            ("Sales Qualified", date(2026, 8, 3), None, "never_touched"),
        ):
            lead = self.free_lead(self.at(created))
            lead.update(status=status, last_activity_at=touched, used="L001")
            lead["owner"] = self.active_owner(lead["owner"], AS_OF)
            last = touched.date() if touched else created
            p(
                "L001",
                "leads",
                lead,
                f"{status}, last touch {last} ({(AS_OF - last).days} d, {why})",
            )
        for created in (datetime(2026, 9, 24, 13, 5), datetime(2026, 9, 26, 8, 40)):
            lead = self.free_lead(created)
            lead.update(status="New", last_activity_at=None, used="L002")
            lead["owner"] = self.active_owner(lead["owner"], AS_OF)
            days = (AS_OF - created.date()).days
            p("L002", "leads", lead, f"New since {created:%Y-%m-%d} ({days} d), never contacted")
        converted_won = [
            ld for ld in self.leads if ld["deal"] is not None and ld["deal"]["status"] == "won"
        ]
        lead = self.pick(converted_won, None, "L003")
        lead["converted_at"] = None
        p("L003", "leads", lead, "status Open Deal (converted) without Became an Opportunity Date")
        lead = self.free_lead(self.at(date(2026, 5, 20)))
        lead.update(
            status="In Progress",
            converted_at=datetime(2026, 6, 10, 14, 0),
            last_activity_at=datetime(2026, 9, 22, 11, 15),
            used="L003",
        )
        lead["owner"] = self.active_owner(lead["owner"], AS_OF)
        p("L003", "leads", lead, "In Progress but has a Became an Opportunity Date")
        converted_lost = [
            ld
            for ld in self.leads
            if ld["deal"] is not None
            and ld["deal"]["status"] == "lost"
            and ld["deal"]["account"] is not None
            and ld["deal"]["account"]["story"] == "lost"
        ]
        lead = self.pick(converted_lost, None, "L003")
        lead["status"] = "Unqualified"
        p("L003", "leads", lead, "Unqualified after its deal was lost; deal id and date kept")

    def duplicate_leads(self) -> None:
        p = self.plant
        first, last = self.person()
        company, domain = self.micro_company()
        address = f"{first}.{last}@{domain}"
        older = self.new_lead(
            first=first,
            last=last,
            email=address,
            company=company,
            owner=self.owner_for("SMB", date(2025, 6, 1)),
            created_at=datetime(2025, 6, 3, 10, 20),
            used="U002",
            **self.closed_lead_fields(datetime(2025, 6, 3, 10, 20)),
        )
        newer = self.new_lead(
            first=first,
            last=last,
            email=address.lower(),
            company=company,
            owner=self.owner_for("SMB", AS_OF),
            status="Connected",
            created_at=datetime(2026, 9, 8, 16, 2),
            last_activity_at=datetime(2026, 9, 23, 10, 0),
            used="U002",
        )
        p("U002", "leads", older, f"same e-mail as a newer contact: {address!r}")
        p("U002", "leads", newer, f"same e-mail, lower-cased: {address.lower()!r}")
        first, last = self.person()
        company, domain = self.micro_company()
        for email, shown, when in (
            (f"{first}.{last}@{domain}".lower(), company, datetime(2025, 2, 11, 9, 0)),
            (f"{first}{last}77@gmail.com".lower(), company + " LLC", datetime(2025, 10, 2, 17, 30)),
        ):
            lead = self.new_lead(
                first=first,
                last=last,
                email=email,
                company=shown,
                owner=self.owner_for("SMB", when.date()),
                created_at=when,
                used="U002",
                **self.closed_lead_fields(when),
            )
            p("U002", "leads", lead, f"same name and company as another contact ({shown!r}, info)")
        for _ in range(2):
            acc = self.pick(
                self.won_accounts(),
                lambda a: self.is_live(a) and a["lifecycle"] is None,
                "U003",
            )
            first, last = self.person()
            lead = self.new_lead(
                first=first,
                last=last,
                email=self.email(f"{first}.{last}".lower(), acc["domain"]),
                company=acc["base"],
                account=acc,
                owner=self.deal_owner(acc, AS_OF),
                status="Connected",
                created_at=self.moment(date(2026, 9, 5), date(2026, 9, 15)),
                last_activity_at=self.moment(date(2026, 9, 20), date(2026, 9, 29)),
                used="U003",
            )
            p("U003", "leads", lead, f"open contact at customer {acc['name']!r} (@{acc['domain']})")

    # --- planted problems: billing -------------------------------------------------------------

    def plant_billing(self) -> None:
        p = self.plant
        acc = self.pick(
            self.won_accounts(),
            lambda a: self.is_live(a) and a["currency"] == "EUR" and not a["reactivated"],
            "V003",
        )
        acc["country"] = "Switzerland"
        self.swiss = acc
        acc = self.pick(self.won_accounts(), self.big_live, "U005")
        customer = acc["customers"][0]
        start = self.moment(date(2026, 4, 1), date(2026, 4, 30))
        twin = self.new_customer(
            acc,
            start - timedelta(hours=1),
            email=customer["email"][0].upper() + customer["email"][1:],
            name=acc["base"],
            link="id",
        )
        self.new_sub(twin, "Analytics Add-on", "monthly", 1, start)
        customer["used"] = twin["used"] = "U005"
        p("U005", "customers", customer, f"live subscription; same e-mail as {twin['id']}")
        p("U005", "customers", twin, "a second Stripe customer (add-on), e-mail differs in case")
        addons = (
            ("B001", "Sandbox", "monthly", 1, date(2026, 2, 1), "live Sandbox plan at 0.00"),
            (
                "B002",
                "Analytics Add-on",
                "monthly",
                1,
                date(2026, 2, 2),
                "active, Ended At 2026-07-31",
            ),
            (
                "B002",
                "Extra Storage",
                "monthly",
                2,
                date(2025, 6, 3),
                "canceled, no end or cancel date",
            ),
            (
                "T002",
                "Analytics Add-on",
                "monthly",
                1,
                date(2025, 5, 1),
                "Canceled At before Start Date",
            ),
            ("V006", "Extra Storage", "monthly", 0, date(2025, 9, 1), "quantity 0 (ended add-on)"),
        )
        for rule, plan, cycle, qty, day, note in addons:
            acc = self.pick(self.won_accounts(), self.big_live, rule)
            sub = self.new_sub(acc["customers"][0], plan, cycle, qty, self.at(day))
            row = sub["rows"][0]
            if note.startswith("active, Ended"):
                row["end"] = datetime(2026, 7, 31, 23, 59)
            elif note.startswith("canceled, no"):
                row["status"] = "canceled"
                sub["bill_until"] = datetime(2025, 9, 30)
                sub["planted_status"] = True
            elif rule == "T002":
                moment = datetime(2025, 4, 22, 15, 30)
                row.update(status="canceled", canceled_at=moment, end=moment)
                sub["bill"] = False
            elif rule == "V006":
                row.update(status="canceled", canceled_at=datetime(2025, 9, 20, 9, 0))
                row["end"] = datetime(2025, 10, 1, 0, 0)
                sub["bill"] = False
            p(rule, "subscriptions", sub, f"{plan}: {note}")
        acc = self.pick(self.won_accounts(), self.big_live, "B004")
        for day, hour in ((date(2026, 3, 1), 10), (date(2026, 3, 2), 14)):
            sub = self.new_sub(acc["customers"][0], "Extra Storage", "monthly", 1, midnight(day))
            sub["rows"][0]["start"] = sub["created"] = midnight(day) + timedelta(hours=hour)
            p("B004", "subscriptions", sub, "Extra Storage twice for one customer, both live")
        acc = self.pick(
            self.won_accounts(),
            lambda a: (
                self.is_live(a)
                and not a["reactivated"]
                and a["main_sub"]["cycle"] == "monthly"
                and a["main_sub"]["rows"][-1]["end"] is None
            ),
            "T003",
        )
        acc["main_sub"]["rows"][-1]["end"] = datetime(9999, 12, 31, 0, 0)
        p("T003", "subscriptions", acc["main_sub"], "Ended At 9999-12-31 on a live subscription")
        ghost = self.new_customer(None, self.at(date(2026, 8, 10)), link="none")
        ghost["email"] = self.email("billing", self.micro_company()[1])
        self.customers = [c for c in self.customers if c is not ghost]
        sub = self.new_sub(
            ghost, "Starter", "monthly", 5, ghost["created_at"] + timedelta(minutes=4)
        )
        self.ghost_sub = sub
        p("I005", "subscriptions", sub, f"Customer ID {ghost['id']} is not in stripe_customers.csv")
        for live, how in ((True, "gmail"), (True, "dangling")):
            customer = self.self_serve_customer(live=live)
            first, last = self.person()
            if how == "gmail":
                customer["email"] = self.email(f"{first}.{last}".lower(), "gmail.com")
                customer["name"] = f"{first} {last}"
                note = "live, no company id, a gmail.com address (free mail never links)"
            else:
                company, domain = self.micro_company()
                customer.update(
                    email=self.email("accounts", domain), name=company, link="deleted-company#R002"
                )
                note = "live, company id of a deleted company, e-mail domain of no account"
            customer["used"] = "R002"
            p("R002", "customers", customer, note)
        linked = [
            c
            for c in self.customers
            if c["link"] == "id" and c["account"] is not None and not c["account"].get("used")
        ]
        customer = self.pick(linked, None, "S002")
        customer["account"]["used"] = "S002"
        customer["raw"]["created_at"] = "0000-00-00 00:00"
        p("S002", "customers", "customers.created_at", f"'0000-00-00 00:00' for {customer['id']}")
        live = [c for c in linked if self.is_live(c["account"])]
        customer = self.pick(live, lambda c: not c["account"].get("used"), "V001")
        customer["account"]["used"] = "V001"
        customer["email"] = "ap@example.com"
        p("V001", "customers", customer, "Email 'ap@example.com' (placeholder domain)")
        customer = self.pick(live, lambda c: not c["account"].get("used"), "V005")
        customer["account"]["used"] = "V005"
        customer["name"] = "test"
        p("V005", "customers", customer, "Name 'test'")
        # ordinary (clean) billing variety
        for day in (date(2026, 9, 20), date(2026, 9, 24)):
            acc = self.pick(self.won_accounts(), self.big_live, "trial")
            start = self.at(day)
            sub = self.new_sub(
                acc["customers"][0],
                "Analytics Add-on",
                "monthly",
                1,
                start,
                start + timedelta(days=14),
            )
            sub["bill"] = False
        acc = self.pick(
            self.won_accounts(),
            lambda a: (
                self.is_live(a)
                and not a["reactivated"]
                and a["main_sub"]["cycle"] == "monthly"
                and a["main_sub"]["rows"][-1]["start"] < datetime(2026, 7, 1)
            ),
            "past_due",
        )
        acc["main_sub"]["past_due"] = True
        acc["customers"][0]["delinquent"] = True
        customer = self.pick(live, lambda c: not c["account"].get("used"), "stale-link")
        customer["account"]["used"] = "stale-link"
        customer["link"] = "stale"  # a merged company's old id; the e-mail domain still links it

    def plant_invoices(self) -> None:
        p = self.plant
        live_accounts = [a for a in self.won_accounts() if a.get("main_sub") and self.is_live(a)]
        live_ids = {id(a) for a in live_accounts}

        def paid(test: Any) -> list[Rec]:
            return [
                i
                for i in self.invoices
                if i["status"] == "paid"
                and i["sub"] is not None
                and id(i["customer"]["account"]) in live_ids
                and not i["customer"]["account"].get("used")
                and test(i)
            ]

        for sub in self.subs:
            if sub.get("past_due"):
                sub["rows"][-1]["status"] = "past_due"
                for inv in self.invoices:
                    if inv["sub"] is sub and inv["issued"] >= datetime(2026, 8, 25):
                        inv.update(status="open", paid=None)
        voids = []
        for _ in range(3):
            inv = self.pick(paid(lambda i: True), None, "void")
            copy = {**inv, "id": self.stripe_id("in_1", 23), "status": "void", "paid": None}
            copy.update(issued=inv["issued"] - timedelta(hours=2), raw={}, used="void")
            self.invoices.append(copy)
            voids.append(copy)
        voids[0]["paid"] = voids[0]["issued"] + timedelta(hours=1)
        p("B003", "invoices", voids[0], "void but has a Paid At")
        inv = self.pick(paid(lambda i: i["billing"] == "charge_automatically"), None, "B003")
        inv["paid"] = None
        p("B003", "invoices", inv, "paid without a Paid At")
        inv = self.pick(paid(lambda i: i["billing"] == "send_invoice"), None, "T002")
        inv["paid"] = inv["issued"] - timedelta(days=2)
        p("T002", "invoices", inv, "Paid At two days before the invoice Date (prepayment)")
        churned = [  # monthly subscriptions that ended, of customers no plant uses
            s
            for s in self.subs
            if s["cycle"] == "monthly"
            and s["rows"][-1]["end"] is not None
            and s["rows"][-1]["status"] == "canceled"
            and s["rows"][-1]["canceled_at"] is not None
            and not (s["customer"]["account"] or {}).get("used")
        ]
        for sub in self.r.sample(churned, 2):
            last = max((i for i in self.invoices if i["sub"] is sub), key=lambda i: i["issued"])
            last.update(status="uncollectible", paid=None, used="uncollectible")
        acc = self.pick(
            live_accounts,
            lambda a: a["main_sub"]["cycle"] == "monthly" and not a.get("used"),
            "T001",
        )
        issued = datetime(2026, 10, 15, 6, 0)
        sub = acc["main_sub"]
        row = sub["rows"][-1]
        inv = self.invoice(
            sub["customer"],
            sub,
            row["unit"] * row["qty"],
            issued,
            issued,
            add_months_dt(issued, 1),
            "charge_automatically",
        )
        inv.update(status="draft", paid=None)
        p("T001", "invoices", inv, "draft dated 2026-10-15, after the reference day")
        acc = self.pick(live_accounts, lambda a: not a.get("used"), "V006")
        issued = datetime(2026, 6, 18, 12, 0)
        inv = self.invoice(
            acc["customers"][0], None, -250.0, issued, issued, issued, "send_invoice"
        )
        inv.update(status="paid", paid=issued + timedelta(minutes=3), tax=0.0)
        p("V006", "invoices", inv, "paid invoice of -250.00 (a service credit)")
        issued = datetime(2026, 3, 12, 9, 0)
        customer = self.swiss["customers"][0]
        inv = self.invoice(customer, None, 4800.0, issued, issued, issued, "send_invoice", "CHF")
        inv.update(status="paid", paid=issued + timedelta(days=9), tax=0.0)
        p("V003", "invoices", inv, "one-off training invoice in chf (no rate configured)")
        sub = self.ghost_sub
        for inv in self.invoices:
            if inv["sub"] is sub:
                p("I006", "invoices", inv, f"Customer {sub['customer']['id']} not in customers")
        acc = self.pick(live_accounts, lambda a: not a.get("used"), "I007")
        customer = acc["customers"][0]
        issued = datetime(2026, 2, 3, 10, 0)
        inv = self.invoice(
            customer, None, 1490.0, issued, issued, add_months_dt(issued, 1), "charge_automatically"
        )
        inv["sub_raw"] = self.stripe_id("sub_1", 23)
        p("I007", "invoices", inv, "Subscription of a deleted test subscription")
        other = self.pick(live_accounts, lambda a: not a.get("used"), "I007")
        issued = datetime(2026, 4, 7, 10, 0)
        inv = self.invoice(
            customer,
            other["main_sub"],
            990.0,
            issued,
            issued,
            add_months_dt(issued, 1),
            "charge_automatically",
        )
        p("I007", "invoices", inv, f"Subscription belongs to another customer ({other['name']})")

    # --- planted problems: keyless tables ------------------------------------------------------

    def plant_tables(self) -> None:
        p = self.plant
        company = next(
            f
            for f in self.forecasts
            if f["period"] == "2026-Q3" and f["owner"] is None and f["team"] is None
        )
        again = {**company, "amount": round(company["amount"] * 0.92, -3), "raw": {}}
        again["submitted"] = datetime(2026, 7, 8, 16, 30)
        self.forecasts.append(again)
        when = f"{company['submitted']:%Y-%m-%d}"
        p("F001", "forecasts", company, f"2026-Q3 company forecast, submitted {when}")
        p("F001", "forecasts", again, "2026-Q3 company forecast again, resubmitted 2026-07-08")
        rows = [f for f in self.forecasts if f["period"] == "2026-Q3" and f["owner"] == "007"]
        row = rows[0]
        row["raw"]["owner"] = "7"
        p("I008", "forecasts", row, "owner_id '7' (Excel dropped the zeros of 007)")
        row = next(f for f in self.forecasts if f["period"] == "2026-Q3" and f["owner"] == "011")
        row["raw"]["period"] = "Q3/2026"
        p("S002", "forecasts", "forecasts.period", "period 'Q3/2026' (not a period token)")
        row = [
            e for e in self.expenses if e["category"] == "Verwaltung" and e["date"].year == 2025
        ][4]
        row["raw"]["amount"] = "12.34,50"
        p("S002", "expenses", "expenses.amount", f"Betrag '12.34,50' on {row['date']:%d.%m.%Y}")
        row = [e for e in self.expenses if e["channel"] == "Events"][3]
        row["text"] = f"Messe Berlin; Standmiete {row['date']:%m/%Y}"
        row["ragged"] = True
        p("S002", "expenses", row, "unquoted ';' in Buchungstext: one field too many")
        travel = {
            "date": date(2026, 3, 31),
            "category": "Reisekosten",
            "amount": 3870.4,
            "currency": "EUR",
            "channel": "",
            "text": "Reisekosten Vertrieb 03/2026",
            "raw": {},
        }
        self.expenses.append(travel)
        p("S005", "expenses", travel, "Kategorie 'Reisekosten' (not in the map; read as other)")
        entries = []
        for stage, moment in (
            ("Appointment Scheduled", datetime(2025, 11, 3, 9, 0)),
            ("Qualified To Buy", datetime(2025, 11, 20, 14, 30)),
        ):
            entry = {"deal": None, "deal_raw": "deleted-deal#I004", "stage": stage, "at": moment}
            entries.append(entry)
            p("I004", "deal_stage_history", entry, "history of a deleted deal")
        self.orphan_history = entries

    # --- finishing: statuses, lifecycles, owners, ids ------------------------------------------

    def finish(self) -> None:
        for sub in self.subs:
            last = sub["rows"][-1]
            trial = last["trial_end"]
            if (
                last["end"] is None
                and last["status"] == "active"
                and trial
                and trial.date() > AS_OF
            ):
                last["status"] = "trialing"
        for acc in self.accounts:
            moments = [d["created_at"] for d in acc["deals"]]
            moments += [ld["created_at"] for ld in acc["leads"] if ld["created_at"].year > 2000]
            moments += [c["created_at"] for c in acc["customers"]]
            if acc.get("created_override"):
                acc["created_at"] = acc["created_override"]
            elif moments:
                first = min(moments)
                created = first - timedelta(
                    days=self.r.randint(0, 20), minutes=self.r.randint(1, 300)
                )
                if created < midnight(FIRST):
                    created = midnight(FIRST) + (first - midnight(FIRST)) / 2
                acc["created_at"] = created
            else:
                acc["created_at"] = self.moment(date(2025, 1, 1), date(2026, 6, 30))
        live = {id(a) for a in self.accounts if self.is_live(a)}
        candidates = [a for a in self.won_accounts() if id(a) in live and not a.get("used")]
        evangelists = {id(a) for a in self.r.sample(candidates, 3)}
        for acc in self.accounts:
            if acc["lifecycle"] is None:
                if acc["story"] == "won":
                    acc["lifecycle"] = (
                        "Other"
                        if id(acc) not in live
                        else ("Evangelist" if id(acc) in evangelists else "Customer")
                    )
                elif acc["story"] == "open":
                    acc["lifecycle"] = "Opportunity"
                elif acc["story"] == "lost":
                    acc["lifecycle"] = "Lead"
                else:
                    acc["lifecycle"] = self.weighted(
                        (("Lead", 3), ("Marketing Qualified Lead", 2), ("Subscriber", 1))
                    )
            if not acc.get("owner_fixed"):
                owner = acc["owner"] or self.owner_for(acc["segment"], acc["created_at"].date())
                customer = acc["lifecycle"] in ("Customer", "Evangelist")
                if customer or any(d["status"] == "open" for d in acc["deals"]):
                    owner = self.active_owner(owner, AS_OF)
                acc["owner"] = owner
        for deal in self.deals:
            if deal["status"] == "open" and not deal.get("owner_fixed"):
                deal["owner"] = self.active_owner(deal["owner"], AS_OF)
            usd = deal["currency"] == "USD"
            deal["currency_cell"] = "" if usd and self.chance(0.1) else deal["currency"]
        open_words = ("New", "Attempted to Contact", "Connected", "In Progress", "Sales Qualified")
        for lead in self.leads:
            if lead.get("owner_fixed"):
                continue
            if lead["owner"] is None:
                lead["owner"] = self.owner_for("SMB", lead["created_at"].date())
            if lead["status"] in open_words:
                lead["owner"] = self.active_owner(lead["owner"], AS_OF)
        for acc in [a for a in self.won_accounts() if not a.get("used")][:3]:
            acc["nb"]["extra_account"] = self.partner  # "Associated Company IDs" with two ids
        self.assign_ids()

    def assign_ids(self) -> None:
        self.gaps: dict[str, str] = {}
        n = 5_310_000_000 + self.r.randint(0, 99_999)
        self.account_ids: list[int] = []
        for acc in sorted(self.accounts, key=lambda a: a["created_at"]):
            n += self.r.randint(1_500, 90_000)
            acc["id"] = str(n)
            self.account_ids.append(n)
        n = 101
        self.lead_ids: list[int] = []
        for lead in sorted(self.leads, key=lambda ld: ld["created_at"]):
            n += self.r.randint(40, 400)
            lead["id"] = str(n)
            self.lead_ids.append(n)
        n = 8_840_000_000 + self.r.randint(0, 99_999)
        self.deal_ids: list[int] = []
        for deal in sorted(self.deals, key=lambda d: d["created_at"]):
            n += self.r.randint(500, 60_000)
            deal["id"] = str(n)
            self.deal_ids.append(n)
        for customer in [*self.customers, self.ghost_sub["customer"]]:
            customer["prefix"] = "".join(self.r.choice(ALNUM[:26] + ALNUM[52:]) for _ in range(8))

    def gap(self, tag: str) -> str:
        """A made-up id of a deleted record, in the id space of its table, stable per tag."""
        if tag in self.gaps:
            return self.gaps[tag]
        kind = tag.split("#")[0]
        if kind == "deleted-customer":
            value = self.stripe_id("cus_", 14)
        else:
            taken = {
                "deleted-company": self.account_ids,
                "deleted-contact": self.lead_ids,
                "deleted-deal": self.deal_ids,
            }[kind]
            value = str(self.r.choice(taken[: len(taken) - 1]) + self.r.randint(1, 30))
            assert int(value) not in taken
        self.gaps[tag] = value
        return value

    def account_cell(self, acc: Rec | None, raw: str | None) -> str:
        if raw:
            return self.gap(raw)
        return acc["id"] if acc else ""


def fmt_dt(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def fmt_date(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def iso_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_money(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f}" if value == int(value) else f"{value:.2f}"


def de_money(value: float) -> str:
    """1234.5 -> '1.234,50' (German accounting export)."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def write_csv(name: str, header: list[str], rows: list[list[str]], quote_all: bool = False) -> None:
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, quoting=quoting, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    (OUT / name).write_text(buffer.getvalue(), encoding="utf-8", newline="")


def number_rows(records: list[Rec]) -> None:
    for i, rec in enumerate(records, start=1):
        rec["_row"] = i


def write_files(w: World) -> None:
    OUT.mkdir(exist_ok=True)
    write_csv(
        "owners.csv",
        ["owner_id", "name", "email", "team", "is_active"],
        [[o["id"], o["name"], o["email"], o["team"], str(o["active"]).lower()] for o in w.owners],
    )
    companies = []
    for acc in sorted(w.accounts, key=lambda a: int(a["id"])):
        touched = [d["last_activity_at"] for d in acc["deals"] if d["last_activity_at"]]
        touched += [ld["last_activity_at"] for ld in acc["leads"] if ld["last_activity_at"]]
        touched = [t for t in touched if t <= CUTOFF]
        companies.append(
            [
                acc["id"],
                acc["name"],
                acc["domain_cell"],
                acc["owner"] or "",
                acc["industry"],
                acc["segment"],
                acc["country"],
                str(acc["employees"]),
                fmt_dt(acc["created_at"]),
                acc["lifecycle"],
                fmt_dt(max(touched)) if touched else "",
            ]
        )
    write_csv(
        "hubspot_companies.csv",
        [
            "Record ID",
            "Company name",
            "Company Domain Name",
            "Company owner",
            "Industry",
            "Segment",
            "Country/Region",
            "Number of Employees",
            "Create Date",
            "Lifecycle Stage",
            "Last Activity Date",
        ],
        companies,
        quote_all=True,
    )
    write_contacts(w)
    write_deals(w)
    history = [e for d in w.deals for e in d["history"]] + w.orphan_history
    history.sort(
        key=lambda e: (int(e["deal"]["id"] if e["deal"] else w.gap(e["deal_raw"])), e["at"])
    )
    number_rows(history)
    write_csv(
        "deal_stage_history.csv",
        ["deal_id", "stage", "entered_at"],
        [
            [e["deal"]["id"] if e["deal"] else w.gap(e["deal_raw"]), e["stage"], iso_z(e["at"])]
            for e in history
        ],
    )
    write_billing(w)
    write_expenses(w)
    forecasts = sorted(w.forecasts, key=lambda f: (f["period"], f["submitted"]))
    number_rows(forecasts)
    write_csv(
        "forecasts.csv",
        ["period", "owner_id", "team", "amount", "submitted_at"],
        [
            [
                f["raw"].get("period", f["period"]),
                f["raw"].get("owner", f["owner"] or ""),
                f["team"] or "",
                fmt_money(f["amount"]),
                iso_z(f["submitted"]),
            ]
            for f in forecasts
        ],
    )


def write_contacts(w: World) -> None:
    def row(lead: Rec, stale: bool = False) -> list[str]:
        deal_cell = w.gap(lead["deal_raw"]) if lead.get("deal_raw") else ""
        if lead["deal"] is not None:
            deal_cell = lead["deal"]["id"]
        touched = lead["last_activity_at"]
        status = lead["raw"].get("status", lead["status"])
        if stale:  # the older copy of a duplicated row: an earlier state of the same contact
            touched = touched - timedelta(days=6) if touched else None
            status = "Attempted to Contact"
        return [
            lead["id"],
            lead["first"] or "",
            lead["last"] or "",
            lead["email"] or "",
            lead["title"],
            lead["company"] or "",
            w.account_cell(lead["account"], lead.get("account_raw")),
            lead["owner"] or "",
            status,
            lead["lifecycle"],
            lead["source"] or "",
            fmt_dt(lead["created_at"]),
            fmt_dt(touched),
            fmt_dt(lead["converted_at"]),
            deal_cell,
        ]

    leads = sorted(w.leads, key=lambda ld: int(ld["id"]))
    rows = [row(ld, stale=bool(ld.get("dup"))) for ld in leads]
    rows += [row(ld) for ld in leads if ld.get("dup")]
    write_csv(
        "hubspot_contacts.csv",
        [
            "Record ID",
            "First Name",
            "Last Name",
            "Email",
            "Job Title",
            "Company Name",
            "Associated Company IDs (Primary)",
            "Contact owner",
            "Lead Status",
            "Lifecycle Stage",
            "Original Source",
            "Create Date",
            "Last Activity Date",
            "Became an Opportunity Date",
            "Associated Deal IDs",
        ],
        rows,
        quote_all=True,
    )


def write_deals(w: World) -> None:
    def row(deal: Rec, stale: bool = False) -> list[str]:
        account = w.account_cell(deal["account"], deal.get("account_raw"))
        if deal.get("extra_account"):
            account += ";" + deal["extra_account"]["id"]
        contacts = [w.gap(deal["lead_raw"])] if deal.get("lead_raw") else []
        if deal["lead"] is not None:
            contacts = [deal["lead"]["id"]] + [ld["id"] for ld in deal["more_leads"]]
        amount = deal["amount"]
        touched = deal["last_activity_at"]
        if stale:
            amount = round(amount * 1.2) if amount else amount
            touched = touched - timedelta(days=9) if touched else None
        return [
            deal["id"],
            deal["name"],
            deal["pipeline"],
            deal["stage"],
            fmt_money(amount),
            deal["currency_cell"],
            fmt_date(deal["close_date"]),
            fmt_dt(deal["created_at"]),
            deal["owner"] or "",
            account,
            ";".join(contacts),
            fmt_dt(touched),
            deal["raw"].get("type", deal["type"]),
            deal["raw"].get("probability", fmt_money(deal["probability"])),
            deal["source"] or "Offline Sources",
        ]

    deals = sorted(w.deals, key=lambda d: int(d["id"]))
    rows = [row(d, stale=bool(d.get("dup"))) for d in deals]
    rows += [row(d) for d in deals if d.get("dup")]
    write_csv(
        "hubspot_deals.csv",
        [
            "Record ID",
            "Deal Name",
            "Pipeline",
            "Deal Stage",
            "Amount",
            "Currency",
            "Close Date",
            "Create Date",
            "Deal owner",
            "Associated Company IDs",
            "Associated Contact IDs",
            "Last Activity Date",
            "Deal Type",
            "Deal probability",
            "Original Source Type",
        ],
        rows,
        quote_all=True,
    )


def current_period(sub: Rec, row: Rec) -> tuple[datetime, datetime]:
    """Current Period Start/End (UTC) of a subscription row, as Stripe shows them."""
    months = MONTHS[sub["cycle"]]
    first = sub["rows"][0]
    anchor = first["trial_end"] or first["start"]
    end = row["end"]
    moment = end - timedelta(minutes=1) if end and end.year < 9999 else midnight(AS_OF)
    if moment < anchor:
        return first["start"], anchor
    k = 0
    while add_months_dt(anchor, (k + 1) * months) <= moment:
        k += 1
    return add_months_dt(anchor, k * months), add_months_dt(anchor, (k + 1) * months)


def write_billing(w: World) -> None:
    customers = sorted(w.customers, key=lambda c: c["created_at"], reverse=True)
    rows = []
    for c in customers:
        link = {"id": c["account"]["id"] if c["account"] else "", "none": ""}.get(c["link"])
        if link is None:
            link = w.gap("deleted-company#" + c["id"])
        rows.append(
            [
                c["id"],
                c["description"],
                c["email"] or "",
                c["name"] or "",
                c["raw"].get("created_at", fmt_dt(c["created_at"])),
                str(c["delinquent"]).lower(),
                c["currency"].lower(),
                link,
            ]
        )
    write_csv(
        "stripe_customers.csv",
        [
            "id",
            "Description",
            "Email",
            "Name",
            "Created (UTC)",
            "Delinquent",
            "Currency",
            "hubspot_company_id (metadata)",
        ],
        rows,
    )
    rows = []
    for sub in sorted(w.subs, key=lambda s: (s["created"], s["id"]), reverse=True):
        interval, count = STRIPE_INTERVAL[sub["cycle"]]
        for row in sub["rows"]:
            start, end = current_period(sub, row)
            rows.append(
                [
                    sub["id"],
                    sub["customer"]["id"],
                    sub["customer"]["email"] or "",
                    f"{row['plan']} ({CYCLE_LABEL[sub['cycle']]})",
                    str(row["qty"]),
                    sub["currency"].lower(),
                    interval,
                    str(count),
                    f"{row['unit']:.2f}",
                    row["status"],
                    fmt_dt(sub["created"]),
                    fmt_dt(row["start"]),
                    fmt_dt(start),
                    fmt_dt(end),
                    fmt_dt(row["trial_end"]),
                    fmt_dt(row["canceled_at"]),
                    fmt_dt(row["end"]),
                    str(row["cape"]).lower(),
                ]
            )
    write_csv(
        "stripe_subscriptions.csv",
        [
            "id",
            "Customer ID",
            "Customer Email",
            "Plan",
            "Quantity",
            "Currency",
            "Interval",
            "Interval Count",
            "Amount",
            "Status",
            "Created (UTC)",
            "Start Date (UTC)",
            "Current Period Start (UTC)",
            "Current Period End (UTC)",
            "Trial End (UTC)",
            "Canceled At (UTC)",
            "Ended At (UTC)",
            "Cancel At Period End",
        ],
        rows,
    )
    numbers: dict[str, int] = defaultdict(int)
    for inv in sorted(w.invoices, key=lambda i: i["issued"]):
        numbers[inv["customer"]["id"]] += 1
        inv["number"] = f"{inv['customer']['prefix']}-{numbers[inv['customer']['id']]:04d}"
    rows = []
    for inv in sorted(w.invoices, key=lambda i: (i["issued"], i["id"]), reverse=True):
        total = inv["subtotal"] + inv["tax"]
        cents = [round(x * 100) for x in (inv["subtotal"], inv["tax"], total)]
        sub_cell = inv.get("sub_raw") or (inv["sub"]["id"] if inv["sub"] else "")
        rows.append(
            [
                inv["id"],
                inv["number"],
                inv["customer"]["id"],
                inv["customer"]["email"] or "",
                sub_cell,
                inv["billing"],
                inv["status"],
                inv["currency"].lower(),
                str(cents[0]),
                str(cents[1]),
                str(cents[2]),
                str(cents[2]),
                str(cents[2] if inv["status"] == "paid" else 0),
                fmt_dt(inv["issued"]),
                fmt_dt(inv["due"]),
                fmt_dt(inv["paid"]),
                fmt_dt(inv["start"]),
                fmt_dt(inv["end"]),
            ]
        )
    write_csv(
        "stripe_invoices.csv",
        [
            "id",
            "Number",
            "Customer",
            "Customer Email",
            "Subscription",
            "Billing",
            "Status",
            "Currency",
            "Subtotal",
            "Tax",
            "Total",
            "Amount Due",
            "Amount Paid",
            "Date (UTC)",
            "Due Date (UTC)",
            "Paid At (UTC)",
            "Period Start (UTC)",
            "Period End (UTC)",
        ],
        rows,
    )


def write_expenses(w: World) -> None:
    expenses = sorted(w.expenses, key=lambda e: e["date"])  # stable: booking order within a day
    number_rows(expenses)
    lines = ["Datum;Kategorie;Betrag;Währung;Kanal;Buchungstext"]
    for e in expenses:
        amount = e["raw"].get("amount", de_money(e["amount"]))
        fields = [f"{e['date']:%d.%m.%Y}", e["category"], amount, e["currency"], e["channel"]]
        lines.append(";".join([*fields, e["text"]]))  # written by hand: the ragged row stays ragged
    (OUT / "expenses.csv").write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")


# --- PLANTED.md ----------------------------------------------------------------------------------

RULE_ORDER = words(
    "S001 S002 S003 S004 S005 S006 V001 V002 V003 V005 V006 T001 T002 T003 I001 I002 I003 I004 "
    "I005 I006 I007 I008 O001 O002 O003 L001 L002 L003 A001 D001 D002 D003 D004 D005 D006 D007 "
    "D008 D010 U001 U002 U003 U004 U005 U006 B001 B002 B003 B004 R001 R002 R003 R004 R005 F001"
)
KEYLESS = ("deal_stage_history", "forecasts", "expenses")


def record_id(table: str, ref: Any) -> str:
    """The record id the audit reports for a planted record (CHECKS.md, DECISIONS D28)."""
    if isinstance(ref, str):
        return ref
    if table in KEYLESS:
        return f"{table}:row {ref['_row']}"
    return str(ref["id"])


def label(table: str, ref: Any) -> str:
    if isinstance(ref, str) or table in KEYLESS:
        return ""
    if table in ("accounts", "deals"):
        return f" ({ref['name']})"
    if table == "leads":
        return f" ({ref['first'] or ''} {ref['last'] or ''})".replace("( ", "(")
    if table == "customers":
        return f" ({ref['name']})" if ref.get("name") else ""
    return ""


def write_planted(w: World) -> None:
    lines = [
        "# Planted problems in the sample data",
        "",
        "Written by `scripts/make_sample_data.py` (do not edit by hand). Reference day: every",
        "time-based problem is planted relative to **2026-10-01**:",
        "",
        "```bash",
        "revops audit -c config.example.yaml --as-of 2026-10-01",
        "```",
        "",
        "Northwind Analytics is a fictional B2B SaaS company: every name, domain and e-mail is",
        "made up, and company domains use the reserved `.example` top-level domain. Its data runs",
        "from 2024-10-01 to 2026-09-30 and is clean except for the records below. At that day each",
        "rule of CHECKS.md flags exactly these records and no others: compare the `code` and",
        "`record_id` columns of `--findings PATH`.",
        "",
        "Record ids are the ones the audit reports: the key of the table, `table.column` for",
        "S001-S003, and `table:row N` (1-based data row) for ragged rows and for the tables",
        "without a key (deal_stage_history, forecasts, expenses). Some records share a cause on",
        "purpose: the two R001 deals belong to the first two R005 accounts (billing was never set",
        "up), and the I006 invoices belong to the I005 subscription's missing customer.",
        "",
        "Not planted: S006 (an empty file) and S001 on a key column, which would leave a table",
        "unloaded; the tests cover them with fixtures (DECISIONS D12).",
        "",
        "| rule | table | record id | what was planted |",
        "| --- | --- | --- | --- |",
    ]
    for rule in RULE_ORDER:
        mine = [pl for pl in w.plants if pl["rule"] == rule]
        if rule == "S006":
            lines.append("| S006 | - | - | not planted (D12) |")
        for pl in mine:
            rid = record_id(pl["table"], pl["ref"])
            text = (pl["note"] + label(pl["table"], pl["ref"])).replace("|", "/")
            lines.append(f"| {rule} | {pl['table']} | `{rid}` | {text} |")
    (OUT / "PLANTED.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    w = World()
    w.build()
    w.plant_accounts()
    w.plant_deals()
    w.plant_leads()
    w.plant_billing()
    w.bill_all()
    w.plant_invoices()
    w.make_expenses()
    w.make_forecasts()
    w.plant_tables()
    w.finish()
    write_files(w)
    write_planted(w)
    for path in sorted(OUT.glob("*")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
