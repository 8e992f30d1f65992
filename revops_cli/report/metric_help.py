"""`revops explain <metric>`: each metric key in full, from one table of per-section help.

The formula is the metric's docstring (metrics/*.py). What it needs, the `metrics:` options that
change it, the reasons it can be null or unavailable and how to fix the data are kept per
catalogue section of METRICS.md §4 (`SECTIONS`). `EXAMPLES` has a worked example of every key: on
the toy dataset of METRICS.md §3 (P = 2024-Q3, A = 2024-10-05) where §4 works one out, else a
small case of its own. Option defaults are read from the config model, so they cannot drift.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, replace
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from revops_cli.config import MetricsConfig
from revops_cli.metrics.registry import Metric
from revops_cli.report.output import OutputFormat, fields_csv, md_table, to_json


@dataclass(frozen=True)
class SectionHelp:
    """What the metrics of one catalogue section need, what changes them and how to fix them."""

    needs: tuple[str, ...]  # table.column that must be mapped
    optional: tuple[str, ...]  # table.column used when mapped
    options: tuple[str, ...]  # keys under `metrics:` in the config
    reasons: tuple[str, ...]  # why the value can be null or unavailable
    fix: str


# D10: a column with a stated default (status, currency, deal type) is optional
MRR_NEEDS = (
    "subscriptions.customer_id",
    "subscriptions.amount",
    "subscriptions.interval",
    "subscriptions.start_date",
    "subscriptions.end_date or subscriptions.canceled_at",
)
MRR_OPTIONAL = (
    "subscriptions.status",
    "subscriptions.currency",
    "subscriptions.mrr",
    "subscriptions.quantity",
    "subscriptions.interval_count",
    "subscriptions.trial_end",
    "customers.account_id",
)
MRR_OPTIONS = (
    "timezone",
    "mrr.source",
    "mrr.customer_grain",
    "mrr.movement_epsilon",
    "mrr.churn_recognition",
    "subscriptions.end_date_inclusive",
    "subscriptions.amount_includes_quantity",
)
MRR_MISSING = ("missing_table:subscriptions", "missing_column:subscriptions.<column>")
MRR_FIX = (
    "Map the subscriptions export with its customer, status, amount (or a ready `mrr` column with "
    "`metrics.mrr.source: column`), currency, interval and start and end dates; map raw statuses "
    "under `sources.subscriptions.values.status` and give every currency a rate under "
    "`currency.rates` (rows without one are left out with a `no_fx_rate` warning). "
    "`revops audit --select B,V003` lists the subscription rows that are left out."
)
DEAL_NEEDS = ("deals.amount", "deals.close_date")
DEAL_OPTIONAL = (
    "deals.status",  # from the stage map; every deal is open without one (D10)
    "deals.currency",
    "deals.deal_type",
    "deals.created_at",
    "deal_stage_history.entered_at",
)
DEAL_OPTIONS = (
    "timezone",
    "deals.close_date_source",
    "deals.default_deal_type",
    "sales.deal_types",
)
DEAL_MISSING = ("missing_table:deals", "missing_column:deals.<column>")
DEAL_FIX = (
    "Map deals with their status (raw stages to open/won/lost under "
    "`sources.deals.values.status`), amount, currency, close date and deal type; closed deals "
    "need their actual close date. `revops audit --select D,V003` lists deals with no amount, no "
    "close date, a past close date while open or a currency without a rate."
)
INVOICE_NEEDS = ("invoices.amount", "invoices.issued_at")
INVOICE_OPTIONAL = (
    "invoices.status",
    "invoices.currency",
    "invoices.tax_amount",
    "invoices.period_start",
    "invoices.period_end",
    "invoices.subscription_id",
)
INVOICE_OPTIONS = (
    "timezone",
    "revenue.invoice_statuses",
    "revenue.recognition",
    "invoices.period_end_inclusive",
)
INVOICE_MISSING = ("missing_table:invoices", "missing_column:invoices.<column>")
INVOICE_FIX = (
    "Map invoices with amount, currency, status and issue date; map `tax_amount` so revenue is "
    "net of tax, `period_start`/`period_end` so it is spread over the service period, and "
    "`subscription_id` so recurring and one-time revenue are told apart. "
    "`revops audit --select B,V003` lists invoices that cannot be counted."
)
EXPENSE_NEEDS = ("expenses.date", "expenses.category", "expenses.amount")
EXPENSE_FIX = (
    "Map the expenses export and its raw categories to marketing, sales and cogs under "
    "`sources.expenses.values.category`; a period without rows of a category counts 0 spend."
)
SALES_FIX = (
    "Only in-scope deals count (`metrics.sales.deal_types`, default new_business and expansion). "
    + DEAL_FIX
)

MRR_HELP = SectionHelp(MRR_NEEDS, MRR_OPTIONAL, MRR_OPTIONS, MRR_MISSING, MRR_FIX)
MRR_RATIO_HELP = replace(MRR_HELP, reasons=(*MRR_MISSING, "zero_denominator"))

SECTIONS: dict[str, SectionHelp] = {
    "A1": MRR_HELP,
    "A2": MRR_HELP,
    "A3": MRR_HELP,
    "A4": MRR_HELP,
    "A5": MRR_RATIO_HELP,
    "A6": MRR_RATIO_HELP,
    "A7": MRR_RATIO_HELP,
    "B1": replace(MRR_RATIO_HELP, reasons=(*MRR_RATIO_HELP.reasons, "period_incomplete")),
    "B2": MRR_RATIO_HELP,
    "B3": MRR_RATIO_HELP,
    "B4": MRR_RATIO_HELP,
    "B5": MRR_RATIO_HELP,
    "B6": SectionHelp(
        ("deals.close_date",),  # renewal_rate_amount needs the amount too (KEY_NEEDS)
        ("deals.status", "deals.deal_type", "deal_stage_history.entered_at"),
        ("timezone", "deals.close_date_source", "deals.default_deal_type"),
        (*DEAL_MISSING, "zero_denominator"),
        "Renewals are deals of type `renewal`: map `deal_type` (raw values under "
        "`sources.deals.values.deal_type`). " + DEAL_FIX,
    ),
    "C1": SectionHelp(
        INVOICE_NEEDS, INVOICE_OPTIONAL, INVOICE_OPTIONS, INVOICE_MISSING, INVOICE_FIX
    ),
    "C2": SectionHelp(
        INVOICE_NEEDS,
        INVOICE_OPTIONAL,
        INVOICE_OPTIONS,
        (*INVOICE_MISSING, "zero_denominator"),
        INVOICE_FIX + " The previous period (or the year before) needs invoices too.",
    ),
    "C3": SectionHelp(
        INVOICE_NEEDS,
        INVOICE_OPTIONAL,
        INVOICE_OPTIONS,
        (*INVOICE_MISSING, "zero_denominator"),
        INVOICE_FIX,
    ),
    "C4": SectionHelp(
        (*INVOICE_NEEDS, *EXPENSE_NEEDS),
        INVOICE_OPTIONAL,
        (*INVOICE_OPTIONS, "expenses.granularity"),
        (
            *INVOICE_MISSING,
            "missing_table:expenses",
            "missing_input:expenses.cogs",
            "zero_denominator",
        ),
        "Map the cost of delivering the service (hosting, support, third-party fees) to the "
        "`cogs` category; without a cogs row in the period the margin is unavailable, never "
        "100 %. " + INVOICE_FIX,
    ),
    "D1": SectionHelp(
        EXPENSE_NEEDS,
        ("expenses.channel", "leads.created_at", *INVOICE_NEEDS),
        ("timezone", "expenses.granularity"),
        (
            "missing_table:expenses",
            "missing_column:expenses.<column>",
            "missing_table:leads (cost_per_lead)",
            "missing_table:invoices (marketing_spend_ratio)",
            "zero_denominator",
        ),
        EXPENSE_FIX + " Map `channel` for the spend by channel.",
    ),
    "D2": SectionHelp(
        EXPENSE_NEEDS,
        (*MRR_NEEDS, "deals.account_id", "deals.deal_type"),
        (
            "unit_economics.new_customers_source",
            "unit_economics.cac_include_reactivations",
            "unit_economics.cac_lag_months",
            "expenses.granularity",
            *MRR_OPTIONS,
        ),
        (
            "missing_table:expenses",
            "missing_table:subscriptions (or deals, with new_customers_source: crm)",
            "zero_denominator",
        ),
        "New customers come from subscriptions (or, with "
        "`unit_economics.new_customers_source: crm`, from accounts whose first won new-business "
        "deal closes in P). " + EXPENSE_FIX,
    ),
    "D3": SectionHelp(
        MRR_NEEDS,
        (*MRR_OPTIONAL, *INVOICE_NEEDS, "expenses.category"),
        ("churn.ltv_lookback_months", "unit_economics.gross_margin", *MRR_OPTIONS),
        (*MRR_MISSING, "zero_denominator", "insufficient_history"),
        "LTV needs months of subscription history before P (`metrics.churn.ltv_lookback_months`) "
        "and churn above 0; ltv_gm uses the measured gross margin (invoices and cogs expenses), "
        "else `metrics.unit_economics.gross_margin`. " + MRR_FIX,
    ),
    "D4": SectionHelp(
        (*MRR_NEEDS, *EXPENSE_NEEDS),
        (*INVOICE_NEEDS,),
        (
            "churn.ltv_lookback_months",
            "unit_economics.gross_margin",
            "unit_economics.new_customers_source",
            "unit_economics.cac_lag_months",
        ),
        (*MRR_MISSING, "missing_table:expenses", "zero_denominator", "insufficient_history"),
        "Both LTV (subscriptions) and CAC (expenses and new customers) must be computable; see "
        "`revops explain ltv_gm` and `revops explain cac`.",
    ),
    "D5": SectionHelp(
        (*MRR_NEEDS, *EXPENSE_NEEDS),
        (*INVOICE_NEEDS,),
        (
            "unit_economics.gross_margin",
            "unit_economics.new_customers_source",
            "unit_economics.cac_lag_months",
        ),
        (*MRR_MISSING, "missing_table:expenses", "zero_denominator", "period_incomplete"),
        "Needs a complete period, S&M expenses and new-customer MRR; see `revops explain cac`.",
    ),
    "D6": SectionHelp(
        (*MRR_NEEDS, *EXPENSE_NEEDS),
        (),
        ("expenses.granularity", *MRR_OPTIONS),
        (*MRR_MISSING, "missing_table:expenses", "zero_denominator", "period_incomplete"),
        "Needs a complete period and the S&M expenses of the period before it. " + EXPENSE_FIX,
    ),
    "E1": SectionHelp(
        ("deals.close_date",),  # the amounts need the amount (KEY_NEEDS), bookings_count not
        ("deals.status", "deals.currency", "deals.deal_type", "deal_stage_history.entered_at"),
        tuple(o for o in DEAL_OPTIONS if o != "sales.deal_types"),  # bookings: every type
        DEAL_MISSING,
        DEAL_FIX,
    ),
    "E2": SectionHelp(
        ("deals.close_date",),  # win_rate_amount needs the amount too (KEY_NEEDS)
        DEAL_OPTIONAL,
        DEAL_OPTIONS,
        (*DEAL_MISSING, "zero_denominator"),
        SALES_FIX,
    ),
    "E3": SectionHelp(
        DEAL_NEEDS, DEAL_OPTIONAL, DEAL_OPTIONS, (*DEAL_MISSING, "zero_denominator"), SALES_FIX
    ),
    "E4": SectionHelp(
        ("deals.close_date", "deals.created_at"),
        tuple(c for c in DEAL_OPTIONAL if c != "deals.created_at"),
        (*DEAL_OPTIONS, "sales_cycle.include_lost"),
        (*DEAL_MISSING, "zero_denominator"),
        "Map `created_at` of deals; a close date before the creation date is left out (rule "
        "T002 lists them). " + SALES_FIX,
    ),
    "E5": SectionHelp(
        ("deals.created_at",),  # pipeline_created_amount needs the amount too (KEY_NEEDS)
        ("deals.status", "deals.currency", "deals.deal_type"),
        ("timezone", "deals.default_deal_type", "sales.deal_types"),
        DEAL_MISSING,
        SALES_FIX,
    ),
    "E6": SectionHelp(
        (*DEAL_NEEDS, "deals.created_at"),
        tuple(c for c in DEAL_OPTIONAL if c != "deals.created_at"),
        (*DEAL_OPTIONS, "pipeline_velocity.opportunities", "sales_cycle.include_lost"),
        (*DEAL_MISSING, "zero_denominator"),
        "Every component (count, win rate, deal size, cycle) must have a value; see `revops "
        "explain win_rate`. " + SALES_FIX,
    ),
    "E7": SectionHelp(
        (*DEAL_NEEDS, "forecasts.period", "forecasts.amount"),
        ("deals.status", "deals.currency", "deals.deal_type", "deals.probability"),
        (*DEAL_OPTIONS, "deals.probability_scale", "forecast.snapshot"),
        (*DEAL_MISSING, "missing_input:forecasts", "period_closed", "target_met"),
        "A point-in-time view at --as-of: run it for a period that has not ended. The target is "
        "the company forecast of P (a forecasts row without owner or team). Map `probability` "
        "for the weighted figures. " + DEAL_FIX,
    ),
    "E8": SectionHelp(
        (*DEAL_NEEDS, "forecasts.period", "forecasts.amount", "forecasts.submitted_at"),
        ("forecasts.owner_id", "forecasts.team", "deals.owner_id", "owners.team"),
        (*DEAL_OPTIONS, "forecast.snapshot", "forecast.actual_deal_types"),
        (*DEAL_MISSING, "missing_table:forecasts", "missing_input:forecasts", "zero_denominator"),
        "Map the forecasts export with period, amount and submission time (the snapshot taken "
        "is `metrics.forecast.snapshot`); owner or team rows give the WAPE. `revops audit "
        "--select F` lists forecast problems. " + DEAL_FIX,
    ),
    "E9": SectionHelp(
        ("leads.created_at",),
        ("leads.status", "leads.converted_at", "leads.converted_deal_id", "deals.status"),
        ("timezone",),
        (
            "missing_table:leads",
            "missing_column:leads.<column>",
            "missing_table:deals (lead_to_customer_rate)",
            "zero_denominator",
        ),
        "Map leads with created_at and status (raw statuses to `converted` under "
        "`sources.leads.values.status`), and `converted_at` / `converted_deal_id` so a "
        "conversion is dated and tied to its deal. `revops audit --select L` lists lead problems.",
    ),
    "E10": SectionHelp(
        ("deals.close_date", "deal_stage_history.deal_id", "deal_stage_history.stage"),
        ("deals.status", "deals.deal_type", "deal_stage_history.entered_at"),
        (*DEAL_OPTIONS, "sales.stages"),
        (
            *DEAL_MISSING,
            "missing_table:deal_stage_history",
            "missing_input:sales.stages",
            "zero_denominator",
        ),
        "Export the deal stage history and list the open stages in order under "
        "`metrics.sales.stages`; stages outside that list are ignored. " + DEAL_FIX,
    ),
}

EXAMPLES: dict[str, str] = {
    "mrr": "MRR on 09-30 {A 100, B 200, D 200, E 150, F 80} = 730.00",
    "mrr_start": "MRR on 06-30 {A 100, B 100, C 110, D 300} = 610.00",
    "arr": "12 x 730 = 8,760.00",
    "arr_start": "12 x 610 = 7,320.00",
    "new_mrr": "E starts paying 150 in September: 150.00",
    "expansion_mrr": "B goes from 100 to 200 in August: 100.00",
    "contraction_mrr": "D goes from 300 to 200 in July: 100.00",
    "churned_mrr": "C (110) stops paying in August: 110.00",
    "reactivation_mrr": "F, who last paid in May, pays 80 again in July: 80.00",
    "net_new_mrr": "150 + 100 + 80 - 100 - 110 = 120.00 (= 730 - 610)",
    "customers_start": "A, B, C and D pay on 06-30: 4",
    "customers": "A, B, D, E and F pay on 09-30: 5",
    "new_customers": "E: 1",
    "reactivated_customers": "F: 1",
    "churned_customers": "C: 1",
    "mrr_growth_rate": "120 / 610 = 19.67 %",
    "arr_growth_rate": "(8,760 - 7,320) / 7,320 = 19.67 %",
    "arpa": "730 / 5 = 146.00",
    "asp_new_mrr": "150 / 1 = 150.00",
    "customer_churn_rate": "start cohort {A, B, C, D}, C churns: 1/4 = 25.00 %",
    "customer_churn_rate_monthly": "Jul 0/4, Aug 1/5, Sep 0/4: mean 6.67 %",
    "gross_mrr_churn_rate": "(110 + 100) / 610 = 34.43 %",
    "net_mrr_churn_rate": "(110 + 100 - 100 - 80) / 610 = 4.92 %",
    "nrr": "cohort {A 100, B 100, C 110, D 300} = 610 is worth 500 on 09-30: 81.97 %",
    "grr": "(100 + 100 + 0 + 200) / 610 = 65.57 % (B's expansion is capped at its 100)",
    "nrr_ttm": "nobody paid on 2023-09-30: null, zero_denominator",
    "grr_ttm": "nobody paid on 2023-09-30: null, zero_denominator",
    "expansion_rate": "100 / 610 = 16.39 %",
    "quick_ratio": "(150 + 100 + 80) / (110 + 100) = 1.57x",
    "renewal_rate": "renewal D6 won, D7 lost: 1/2 = 50.00 %",
    "renewal_rate_amount": "6,000 / (6,000 + 3,000) = 66.67 %",
    "revenue": "Q3 invoices recognise 2,000.00 (1,800 subscription + 200 setup fee)",
    "revenue_recurring": "the subscription-linked invoices: 1,800.00",
    "revenue_non_recurring": "the one-time setup fee: 200.00",
    "revenue_growth_rate": "(2,000 - 1,800 in Q2) / 1,800 = 11.11 %",
    "revenue_growth_rate_yoy": "no revenue in 2023-Q3: null, zero_denominator",
    "revenue_predictability": "1,800 / 2,000 = 90.00 %",
    "gross_margin": "(2,000 - 500 cogs) / 2,000 = 75.00 %",
    "gross_profit": "2,000 - 500 cogs = 1,500.00",
    "marketing_spend": "marketing expenses in Q3: 3,000.00",
    "sales_spend": "sales expenses in Q3: 1,500.00",
    "sm_spend": "3,000 + 1,500 = 4,500.00",
    "marketing_spend_by_channel": (
        "marketing rows of channel ads 2,000 and events 1,000: {ads: 2000.0, events: 1000.0}; "
        "rows without a channel go under (none)"
    ),
    "cost_per_lead": "3,000 / 200 leads = 15.00",
    "marketing_spend_ratio": "3,000 / 2,000 revenue = 1.50x",
    "cac": "4,500 S&M / 1 new customer (E) = 4,500.00",
    "cac_marketing": "3,000 / 1 = 3,000.00",
    "ltv": "monthly churn (0 + 0.2 + 0 + 0 + 0.2 + 0) / 6 = 6.67 %; 146 / 0.0667 = 2,190.00",
    "ltv_gm": "2,190 x 0.75 gross margin = 1,642.50",
    "customer_lifetime_months": "1 / 0.0667 = 15.0 months",
    "ltv_to_cac": "1,642.50 / 4,500 = 0.37x",
    "cac_payback_months": "4,500 / (150 x 0.75) = 40.0 months",
    "magic_number": "(8,760 - 7,320) / 4,000 S&M of Q2 = 0.36x",
    "bookings": "won D1 12,000 + D2 8,000 + D4 4,000 + D6 6,000 = 30,000.00",
    "bookings_new_business": "D1 + D2 = 20,000.00",
    "bookings_expansion": "D4 = 4,000.00",
    "bookings_renewal": "D6 = 6,000.00",
    "bookings_count": "D1, D2, D4, D6: 4",
    "win_rate": "D1, D2, D4 won; D3, D5 lost: 3/5 = 60.00 %",
    "win_rate_amount": "24,000 / (24,000 + 10,000) = 70.59 % (D5 has no amount)",
    "avg_deal_size": "(12,000 + 8,000 + 4,000) / 3 = 8,000.00",
    "sales_cycle_days": "D1 80, D2 60, D4 71 days: mean 70.3 d",
    "sales_cycle_days_median": "D1 80, D2 60, D4 71 days: median 71.0 d",
    "pipeline_created_amount": "D4, D5, D8, D9 created in Q3: 39,000.00 (D5 has no amount)",
    "pipeline_created_count": "D4, D5, D8, D9: 4",
    "pipeline_velocity": "4 x 0.60 x 8,000 / 70.33 = 272.99 per day",
    "pipeline_velocity_period": "272.99 x 92 days = 25,114.69",
    "open_pipeline_amount": (
        "2024-Q4 at 2024-10-05: D8 20,000 + D10 9,000 = 29,000.00 (D9 is stale; "
        "for the closed Q3: null, period_closed)"
    ),
    "weighted_pipeline_amount": "2024-Q4: 20,000 x 40 % + 9,000 x 20 % = 9,800.00",
    "pipeline_coverage": "2024-Q4: 29,000 / (12,000 forecast - 0 booked) = 2.42x",
    "weighted_pipeline_coverage": "2024-Q4: 9,800 / 12,000 = 0.82x",
    "forecast_accuracy": "forecast 28,000 (submitted 06-28), actual 24,000: 83.33 %",
    "forecast_bias": "(28,000 - 24,000) / 24,000 = +16.67 % (over-forecast)",
    "forecast_accuracy_wape": (
        "O1 forecast 10,000 actual 16,000; O2 18,000 and 8,000: 1 - 16,000 / 24,000 = 33.33 %"
    ),
    "leads_created": "200",
    "lead_conversion_rate": "24 of the 200 converted: 12.00 %",
    "lead_to_customer_rate": "6 of the 200 reached a won deal: 3.00 %",
    "stage_conversion": (
        "10 closed deals reach qualification 10, demo 7, proposal 4, negotiation 3, won 2: "
        "70.0 %, 57.1 %, 75.0 %, 66.7 %"
    ),
    "revenue_uncollectible": (
        "an uncollectible invoice of 300 for July: 300.00, left out of revenue"
    ),
}


# Columns one key of a section needs where the others only use them (D10: what it cannot do
# without); they move from the section's optional list to the key's needs.
KEY_NEEDS: dict[str, tuple[str, ...]] = {
    "bookings": ("deals.amount",),
    "bookings_new_business": ("deals.amount",),
    "bookings_expansion": ("deals.amount",),
    "bookings_renewal": ("deals.amount",),
    "renewal_rate_amount": ("deals.amount",),
    "forecast_accuracy_wape": ("deals.owner_id",),
    "marketing_spend_by_channel": ("expenses.channel",),
    "cost_per_lead": ("leads.created_at",),
    "marketing_spend_ratio": INVOICE_NEEDS,
    "win_rate_amount": ("deals.amount",),
    "pipeline_created_amount": ("deals.amount",),
    "weighted_pipeline_amount": ("deals.probability",),
    "weighted_pipeline_coverage": ("deals.probability",),
    "lead_conversion_rate": ("leads.converted_at or leads.status or leads.converted_deal_id",),
    "lead_to_customer_rate": ("leads.converted_deal_id",),
}


def option_default(path: str) -> Any:
    """The default of `metrics.<path>`, read from the config model."""
    value: Any = MetricsConfig()
    for part in path.split("."):
        value = getattr(value, part)
    return list(value) if isinstance(value, tuple) else value


def metric_help(metric: Metric) -> dict[str, Any]:
    """Everything `explain` says about a metric key, as plain data."""
    section = SECTIONS[metric.section]
    own = KEY_NEEDS.get(metric.key, ())
    moved = {column for needed in own for column in needed.split(" or ")}
    return {
        "key": metric.key,
        "unit": metric.unit.value,
        "family": metric.family,
        "section": metric.section,
        "formula": " ".join(inspect.cleandoc(metric.doc).split()) or metric.key,
        "example": EXAMPLES[metric.key],
        "needs": [*section.needs, *own],
        "optional": [c for c in section.optional if c not in moved],
        "options": {f"metrics.{p}": option_default(p) for p in section.options},
        "reasons": list(section.reasons),
        "fix": section.fix,
    }


def render_metric_explain(
    metric: Metric, fmt: OutputFormat, envelope: dict[str, Any] | None = None
) -> RenderableType | str:
    """A metric key in full: formula, example, inputs, options with defaults, reasons, fix;
    the JSON document starts with `envelope`, the common fields (CLI.md)."""
    entry = metric_help(metric)
    if fmt is OutputFormat.JSON:
        return to_json({**(envelope or {}), **entry})
    if fmt is OutputFormat.CSV:
        return fields_csv(entry)
    head = f"{metric.key} ({entry['unit']}, {entry['family']}, METRICS.md §4 {metric.section})"
    lines = [
        f"Formula: {entry['formula']}",
        f"Example: {entry['example']}",
        f"Needs: {', '.join(entry['needs'])}"
        + (f"; uses when mapped: {', '.join(entry['optional'])}" if entry["optional"] else ""),
        f"Null or unavailable: {', '.join(entry['reasons']) or 'never'}",
        f"Fix: {entry['fix']}",
    ]
    options = [(name, json.dumps(value)) for name, value in entry["options"].items()]
    if fmt is OutputFormat.MD:
        text = f"# {head}\n\n" + "\n\n".join(lines) + "\n\n"
        if options:
            text += md_table(("option", "default"), options)
            text += "\nChange them under `metrics:` in the config.\n"
        return text
    blocks: list[RenderableType] = [Text(head, style="bold"), Text("\n" + "\n\n".join(lines))]
    if options:
        grid = Table("option", "default")
        for name, value in options:
            grid.add_row(name, Text(value))
        blocks.append(grid)
        blocks.append(Text("Change them under `metrics:` in the config."))
    return Group(*blocks)
