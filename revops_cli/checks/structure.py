"""Audit rules of family S: structure and parsing of the exports (CHECKS.md).

These rules read what the loader recorded (missing headers, parse failures, duplicate keys, unknown
vocabulary values, empty files) rather than the canonical rows alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from revops_cli.checks.context import Collector, Context, Skip, as_written
from revops_cli.checks.registry import Params, rule
from revops_cli.load.columns import UNMAPPED
from revops_cli.presets import presets
from revops_cli.results import Severity
from revops_cli.schema import TABLES, TYPED

WATCHED = {
    "deals": ["amount", "close_date", "owner_id", "account_id"],
    "leads": ["email", "owner_id", "source"],
    "accounts": ["domain", "owner_id"],
    "customers": ["email"],
}


def _rows(records: Sequence[tuple[str, str | None, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        records,
        schema={"record_id": pl.String, "detail": pl.String, "amount": pl.Float64},
        orient="row",
    )


@rule(
    "S001",
    "required-column-missing",
    Severity.ERROR,
    (),
    "{n} mapped columns of {table} are missing from the file's header",
)
def required_column_missing(ctx: Context, params: Params, out: Collector) -> None:
    """A column mapped in the config is absent from the file's header.

    Why: the rules and metrics that need the column cannot run; without its key the table is not
    loaded at all. Fix the header name under `sources.<table>.columns`.

    Example: the deals source maps `forecast_category: "Forecast category"`, but the HubSpot deals
    export has no such column, so `deals.forecast_category` is flagged with "header 'Forecast
    category' not in file".

    Fix: Correct the header under `sources.deals.columns` to the exact column name of the export, or
    add the property to the export view in HubSpot or Salesforce and export again. If your system
    has no such field, delete the mapping.
    """
    for table, load in ctx.ds.loads.items():  # a file of a header alone (S006) too
        flagged = [
            (f"{table}.{column}", _missing_header(ctx, table, column), 0.0)
            for column in load.missing_headers
        ]
        if flagged:
            out.add(table, len(load.columns) + len(load.missing_headers), _rows(flagged))


def _missing_header(ctx: Context, table: str, column: str) -> str:
    """S001's detail: the header the config names, else those the source's preset tries."""
    source = ctx.config.sources[table]
    if column in source.columns or source.preset is None:
        return f"header '{source.columns.get(column)}' not in file"
    tried = presets()[source.preset].columns.get(column, ())
    return (
        f"none of the headers {', '.join(repr(h) for h in tried)} (preset {source.preset}) in file"
    )


@rule(
    "S002",
    "unparseable-value",
    Severity.WARNING,
    (),
    "{n} columns or rows of {table} hold values that do not parse",
)
def unparseable_value(ctx: Context, params: Params, out: Collector) -> None:
    """A non-empty cell of a typed column (date, number, bool) does not parse.

    Why: the value is read as empty, so every rule and metric that needs it silently skips the row.
    One record per column (`table.column`) plus one per ragged row (`table:row N`).

    Example: Deal probability holds 'TBD' on one deal, so `deals.probability` is flagged with "1
    unparseable: 'TBD'"; a line of expenses.csv with an unquoted `;` in its text is flagged as
    `expenses:row 90` with "wrong number of fields".

    Fix: Correct or clear the cells in the source system (a number, a real date) and export again.
    When a whole column fails, describe the export in the config: `date_format`, `decimal` or
    `delimiter` under `sources.<table>`; forecast periods must be tokens such as 2026-Q3.
    """
    for table, load in ctx.ds.loads.items():
        with out.part():  # a part per configured table; one not loaded is skipped (D30)
            if not load.loaded:
                # an empty file (S006), or one without its key header: S001 says its table is
                # skipped, as every rule on a table not loaded is (CHECKS "Conventions");
                # `validate` still lists what its cells hold
                raise Skip(f"missing_table:{table}")
            flagged = [
                (
                    f"{table}.{column}",
                    f"{issues.count} unparseable: " + ", ".join(repr(s) for s in issues.samples),
                    0.0,
                )
                for column, issues in load.parse_failures.items()
            ]
            flagged += [
                (f"{table}:row {row}", "wrong number of fields", 0.0) for row in load.ragged_rows
            ]
            typed = sum(TABLES[table].columns[c] in TYPED for c in load.columns)
            out.add(table, typed + load.rows, _rows(flagged))


@rule(
    "S003",
    "low-fill-rate",
    Severity.WARNING,
    tuple(WATCHED),  # the tables of its default `columns`
    "{n} watched columns of {table} are too often empty",
    min_fill=0.95,
    error_below=0.50,
    columns=WATCHED,
)
def low_fill_rate(ctx: Context, params: Params, out: Collector) -> None:
    """A watched column is filled in fewer than `min_fill` of the rows (error below `error_below`).

    Why: a mostly empty owner, amount or e-mail column makes every rule and metric built on it
    unreliable. The population is every row of the table.

    Example: Original Source is empty on the contacts of a list import, so `leads.source` is flagged
    with "fill rate 90.7% (min 95%)"; below 50 % the finding is an error.

    Fix: Backfill the field in the CRM (e.g. a bulk edit of Original Source on the imported contacts
    in HubSpot) and make it required on forms and imports. If the column is sparse on purpose, lower
    `min_fill` or leave it out of `columns` under `rules: settings: S003:`.
    """
    for table, columns in params["columns"].items():
        with out.part():
            frame = ctx.need(table)
            present = list(dict.fromkeys(c for c in columns if c in frame.columns))
            if not present:
                raise Skip(f"missing_column:{table}.{'/'.join(columns)}")
            # a money cell in a currency without a rate is filled (V003 reports the rate)
            filled = (as_written(frame, c).is_not_null().mean().alias(c) for c in present)
            fills = frame.select(filled).row(0, named=True)
            rows = [
                (
                    f"{table}.{c}",
                    f"fill rate {fills[c]:.1%} (min {params['min_fill'] * 100:g}%)",
                    0.0,
                    "error" if fills[c] < params["error_below"] else "warning",
                )
                for c in present
                if frame.height and fills[c] < params["min_fill"]
            ]
            # added when nothing is flagged too: the part ran, so the rule passes (D30)
            flagged = pl.DataFrame(
                rows,
                schema={
                    "record_id": pl.String,
                    "detail": pl.String,
                    "amount": pl.Float64,
                    "severity": pl.String,
                },
                orient="row",
            )
            out.add(table, len(present), flagged)


@rule(
    "S004",
    "duplicate-primary-key",
    Severity.ERROR,
    (),
    "{n} {table} keys occur on more than one row",
    basis="pipeline of the extra rows",  # D14: not on subscriptions
)
def duplicate_primary_key(ctx: Context, params: Params, out: Collector) -> None:
    """A key value occurs on more than one row; the last row is kept.

    Why: duplicate ids double-count money in every total. Revenue at risk is that of the extra
    (dropped) rows: their deal or invoice amounts, and for an account its open pipeline per
    extra row (D29). S004's basis is pipeline only (D14 drops `arr`), so other records, a
    repeated billing customer among them, put nothing at risk.

    Example: deal 8840405189 appears on two rows of hubspot_deals.csv (an older copy earlier in the
    file), so it is flagged with "2 rows with this key" and its extra row's amount is at risk.

    Fix: Export again from one report or view instead of appending or concatenating exports, and
    merge real duplicates in the CRM (HubSpot or Salesforce merge). Until then only the last row of
    each key is used, so make sure it is the current one.
    """
    for table, spec in TABLES.items():
        if spec.key is not None:
            with out.part():  # a part per keyed table (D30)
                _duplicate_keys(ctx, table, spec.key, out)


def _duplicate_keys(ctx: Context, table: str, key: str, out: Collector) -> None:
    """S004 on one keyed table: its keys with extra rows, and their revenue at risk."""
    ctx.need(table)
    load = ctx.ds.loads[table]
    if load.duplicate_rows is None:
        out.add(table, load.rows, _rows([]))
        return
    extra = load.duplicate_rows
    money = (
        pl.col("amount").fill_null(0.0)
        if (table in ("deals", "invoices") and "amount" in extra.columns)
        else pl.lit(0.0)
    )
    per_key = extra.group_by(key, maintain_order=True).agg(
        pl.len().alias("extra"), money.sum().alias("amount")
    )
    if table == "accounts":  # D29: an account's basis is the sum of its open deals
        per_key = ctx.with_account_basis(per_key.drop("amount"), "pipeline").with_columns(
            pl.col("amount") * pl.col("extra")
        )
    flagged = per_key.select(
        pl.col(key).alias("record_id"),
        pl.format("{} rows with this key", pl.col("extra") + 1).alias("detail"),
        "amount",
    )
    out.add(table, load.rows, flagged)


@rule(
    "S005",
    "unmapped-value",
    Severity.WARNING,
    (),
    "{n} {table} records have a value that is not in the `values:` map",
    basis="pipeline",
    severity_note="error for deals.stage",
)
def unmapped_value(ctx: Context, params: Params, out: Collector) -> None:
    """A raw value of a vocabulary column is not in its `values:` map.

    Why: the value falls back to the column's default (an unknown stage counts as open), so
    statuses and MRR are wrong. Error for deal stages, warning for the other columns.

    Example: deal 8846965482 is in the HubSpot stage 'Legal Review', which the deals
    `values: status:` map does not list; it is flagged with "stage 'Legal Review'" (an error) and
    counted as open.

    Fix: Add the raw value to its map in the config, e.g. `"Legal Review"` under
    `sources.deals.values.status.open`, or a lead status 'Nurture' under
    `sources.leads.values.status.working`. If the value is a typo, correct it in the source system
    instead.
    """
    for table, spec in TABLES.items():
        if spec.vocabularies:
            with out.part():  # a part per table with a vocabulary column (D30)
                _unmapped_values(ctx, table, list(spec.vocabularies), out)


def _unmapped_values(ctx: Context, table: str, vocabularies: list[str], out: Collector) -> None:
    """S005 on one table: a record per row and vocabulary column holding an unknown value. The
    loader keeps the raw text of those cells in an UNMAPPED column (none when all are known)."""
    frame, _ = ctx.need_any(table, *vocabularies)
    checked = ctx.record_count(table, frame)
    out.add(table, checked, _rows([]))
    for column in [c for c in frame.columns if c.startswith(UNMAPPED)]:
        name = column.removeprefix(UNMAPPED)
        severity = "error" if (table, name) == ("deals", "stage") else "warning"
        bad = frame.filter(pl.col(column).is_not_null())
        flagged = bad.select(
            ctx.record_id(table).alias("record_id"),
            pl.format("{} '{}'", pl.lit(name), pl.col(column).str.slice(0, 80)).alias("detail"),
            ctx.record_basis(table).alias("amount"),
            pl.lit(severity).alias("severity"),
        )
        out.add(table, checked, flagged)


@rule("S006", "empty-table", Severity.ERROR, (), "{n} configured files have no data rows")
def empty_table(ctx: Context, params: Params, out: Collector) -> None:
    """A configured file has no data rows.

    Why: an empty export usually means a failed or filtered export job; the table is not loaded.

    Example: for example, if `sources.invoices` pointed at a stripe_invoices.csv that held only its
    header line (an export filtered to a period without invoices), `invoices` would be flagged with
    "no data rows".

    Fix: Run the export again in the source system with the right filters (date range, pipeline,
    archived records) and check that the job finished. If you do not use the table, remove it from
    `sources`.
    """
    empty = [(table, "no data rows", 0.0) for table, load in ctx.ds.loads.items() if load.rows == 0]
    for record in empty:
        out.add(record[0], 1, _rows([record]))
