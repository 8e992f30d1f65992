"""The canonical tables of spec/SCHEMA.md: columns, types, keys, required columns, vocabularies."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColumnType(StrEnum):
    """How a canonical column is parsed at load (DECISIONS D25)."""

    ID = "id"
    TEXT = "text"
    CURRENCY = "currency"
    DATETIME = "datetime"
    DATE = "date"
    MONEY = "money"
    NUMBER = "number"
    INTEGER = "integer"
    BOOL = "bool"
    PERIOD = "period"
    VOCAB = "vocab"


# Types whose non-empty cells can fail to parse; rule S002 reports those.
TYPED = frozenset(
    {
        ColumnType.DATETIME,
        ColumnType.DATE,
        ColumnType.MONEY,
        ColumnType.NUMBER,
        ColumnType.INTEGER,
        ColumnType.BOOL,
    }
)


@dataclass(frozen=True)
class Vocabulary:
    """A closed set of canonical words; `default` is used for empty cells and unknown raw values."""

    words: tuple[str, ...]
    default: str | None


@dataclass(frozen=True)
class Table:
    """One canonical table: ordered columns with their types, the key and the required columns."""

    name: str
    columns: dict[str, ColumnType]
    key: str | None
    required: tuple[str, ...]
    vocabularies: dict[str, Vocabulary] = field(default_factory=dict)

    @property
    def record_id(self) -> str | None:
        """The column naming a record in findings (subscriptions: `subscription_id`, D14)."""
        return self.key or ("subscription_id" if self.name == "subscriptions" else None)


C = ColumnType

DEAL_STATUS = Vocabulary(("open", "won", "lost"), "open")
# Subscription statuses that never carry MRR whatever the dates say (METRICS §1.5.1): a trial, or
# a first payment that has not gone through yet (Chargebee `future` maps here, D26).
NEVER_PAID = ("trialing", "incomplete")
VOCABULARIES: dict[tuple[str, str], Vocabulary] = {
    ("deals", "status"): DEAL_STATUS,
    ("deals", "deal_type"): Vocabulary(("new_business", "expansion", "renewal"), "new_business"),
    ("leads", "status"): Vocabulary(
        ("new", "working", "qualified", "converted", "disqualified"), "new"
    ),
    ("subscriptions", "status"): Vocabulary(
        (
            "trialing",
            "active",
            "past_due",
            "unpaid",
            "paused",
            "canceled",
            "incomplete",
            "incomplete_expired",
        ),
        "active",
    ),
    # D26: an unknown interval has no default; it becomes null and is excluded from MRR.
    ("subscriptions", "interval"): Vocabulary(
        ("day", "week", "month", "quarter", "half_year", "year"), None
    ),
    ("invoices", "status"): Vocabulary(("draft", "open", "paid", "void", "uncollectible"), "paid"),
    ("expenses", "category"): Vocabulary(("marketing", "sales", "cogs", "other"), "other"),
}


def _table(
    name: str, key: str | None, required: tuple[str, ...], /, **columns: ColumnType
) -> Table:
    vocabularies = {col: v for (tbl, col), v in VOCABULARIES.items() if tbl == name}
    return Table(name, dict(columns), key, required, vocabularies)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _table(
            "owners",
            "owner_id",
            ("owner_id",),
            owner_id=C.ID,
            name=C.TEXT,
            email=C.TEXT,
            team=C.TEXT,
            is_active=C.BOOL,
        ),
        _table(
            "accounts",
            "account_id",
            ("account_id",),
            account_id=C.ID,
            name=C.TEXT,
            domain=C.TEXT,
            owner_id=C.ID,
            industry=C.TEXT,
            segment=C.TEXT,
            country=C.TEXT,
            created_at=C.DATETIME,
            lifecycle_stage=C.TEXT,
        ),
        _table(
            "leads",
            "lead_id",
            ("lead_id",),
            lead_id=C.ID,
            email=C.TEXT,
            first_name=C.TEXT,
            last_name=C.TEXT,
            company=C.TEXT,
            account_id=C.ID,
            owner_id=C.ID,
            status=C.VOCAB,
            source=C.TEXT,
            created_at=C.DATETIME,
            last_activity_at=C.DATETIME,
            converted_at=C.DATETIME,
            converted_deal_id=C.ID,
        ),
        _table(
            "deals",
            "deal_id",
            ("deal_id",),
            deal_id=C.ID,
            name=C.TEXT,
            account_id=C.ID,
            owner_id=C.ID,
            stage=C.TEXT,
            status=C.VOCAB,
            amount=C.MONEY,
            currency=C.CURRENCY,
            deal_type=C.VOCAB,
            created_at=C.DATETIME,
            close_date=C.DATE,
            last_activity_at=C.DATETIME,
            probability=C.NUMBER,
            forecast_category=C.TEXT,
            lead_id=C.ID,
            source=C.TEXT,
        ),
        _table(
            "deal_stage_history",
            None,
            ("deal_id", "stage", "entered_at"),
            deal_id=C.ID,
            stage=C.TEXT,
            entered_at=C.DATETIME,
        ),
        _table(
            "customers",
            "customer_id",
            ("customer_id",),
            customer_id=C.ID,
            account_id=C.ID,
            email=C.TEXT,
            name=C.TEXT,
            created_at=C.DATETIME,
        ),
        _table(
            "subscriptions",
            None,
            ("subscription_id", "customer_id", "start_date"),
            subscription_id=C.ID,
            customer_id=C.ID,
            plan=C.TEXT,
            status=C.VOCAB,
            amount=C.MONEY,
            currency=C.CURRENCY,
            interval=C.VOCAB,
            interval_count=C.INTEGER,
            quantity=C.INTEGER,
            mrr=C.MONEY,
            start_date=C.DATE,
            end_date=C.DATE,
            canceled_at=C.DATETIME,
            trial_end=C.DATE,
        ),
        _table(
            "invoices",
            "invoice_id",
            ("invoice_id", "customer_id"),
            invoice_id=C.ID,
            customer_id=C.ID,
            subscription_id=C.ID,
            amount=C.MONEY,
            tax_amount=C.MONEY,
            currency=C.CURRENCY,
            status=C.VOCAB,
            issued_at=C.DATETIME,
            paid_at=C.DATETIME,
            period_start=C.DATE,
            period_end=C.DATE,
        ),
        _table(
            "expenses",
            None,
            ("date", "category", "amount"),
            date=C.DATE,
            category=C.VOCAB,
            amount=C.MONEY,
            currency=C.CURRENCY,
            channel=C.TEXT,
        ),
        _table(
            "forecasts",
            None,
            ("period", "amount"),
            period=C.PERIOD,
            amount=C.MONEY,
            owner_id=C.ID,
            team=C.TEXT,
            submitted_at=C.DATETIME,
        ),
    )
}

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)

# Bookkeeping columns the loader adds to every canonical frame.
ROW = "_row"  # 1-based data row of the source file (record id of keyless tables: "table:row N")
