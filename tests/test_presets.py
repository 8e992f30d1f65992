"""Presets: well-formed, detected from their header rows alone, overridden key by key."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from revops_cli.checks import RULES, run_rules
from revops_cli.config import load_config
from revops_cli.errors import ConfigError
from revops_cli.load.dataset import Dataset, load_dataset
from revops_cli.metrics import compute_metrics
from revops_cli.presets import detect, normalise_header, presets
from revops_cli.results import RuleState
from revops_cli.schema import TABLES, VOCABULARIES

Write = Callable[[str, str | bytes], Path]
EXPORTS = Path(__file__).parent / "fixtures" / "exports"
REALDATA = Path(__file__).parent / "fixtures" / "realdata" / "salesforce"
EXPECTED_PRESETS = {
    "hubspot-deals",
    "hubspot-companies",
    "hubspot-contacts",
    "hubspot-owners",
    "salesforce-opportunity",
    "salesforce-account",
    "salesforce-lead",
    "salesforce-user",
    "salesforce-opportunity-history",
    "pipedrive-deals",
    "pipedrive-organizations",
    "pipedrive-persons",
    "stripe-customers",
    "stripe-subscriptions",
    "stripe-invoices",
    "chargebee-customers",
    "chargebee-subscriptions",
    "chargebee-invoices",
}


def preset_dataset(write: Write, path: Path, table: str, preset: str, as_of: date) -> Dataset:
    """The dataset of one export read with `preset` as its table's source."""
    config = write("revops.yaml", f"sources: {{{table}: {{path: {path}, preset: {preset}}}}}")
    return load_dataset(load_config(config), as_of)


def headers_of(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle))


def test_every_issue_preset_ships() -> None:
    assert set(presets()) == EXPECTED_PRESETS


@pytest.mark.parametrize("name", sorted(EXPECTED_PRESETS))
def test_preset_is_well_formed(name: str) -> None:
    preset = presets()[name]
    assert re.fullmatch(r"[a-z]+-[a-z-]+", name)  # D17: <vendor>-<object>
    table = TABLES[preset.table]
    assert set(preset.columns) <= set(table.columns)
    key = table.record_id or table.required[0]
    assert key in preset.columns, f"{name} does not map the key {key}"
    for column, mapping in preset.values.items():
        vocabulary = VOCABULARIES[(preset.table, column)]
        assert set(mapping) <= set(vocabulary.words), f"{name}.values.{column}"
    assert preset.required, f"{name} has no detection signature"


def _fixtures() -> list[tuple[str, Path]]:
    cases = []
    for path in sorted(EXPORTS.glob("*.csv")):
        name = path.stem.removesuffix("-report").removesuffix("-dataloader")
        cases.append((name, path))
    return cases


@pytest.mark.parametrize(("name", "path"), _fixtures(), ids=lambda v: getattr(v, "name", v))
def test_detection_picks_the_preset_unambiguously(name: str, path: Path) -> None:
    matches = detect(headers_of(path))
    assert [m.preset.name for m in matches[:1]] == [name]
    assert len(matches) == 1 or matches[1].confidence < matches[0].confidence


def test_every_preset_has_a_header_fixture() -> None:
    assert {name for name, _ in _fixtures()} == EXPECTED_PRESETS


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("Opportunity.csv", "salesforce-opportunity"),
        ("Account.csv", "salesforce-account"),
        ("Lead.csv", "salesforce-lead"),
    ],
)
def test_real_salesforce_exports_are_detected(file: str, name: str) -> None:
    matches = detect(headers_of(REALDATA / file))
    assert matches[0].preset.name == name
    assert len(matches) == 1 or matches[1].confidence < matches[0].confidence


@pytest.mark.parametrize(
    ("header", "normalised"),
    [
        ("\ufeffRecord ID", "record id"),
        ("  Deal   Stage ", "deal stage"),
        ("STAGENAME", "stagename"),
        ("Deal - Title", "title"),
        ("Amount*", "amount"),
    ],
)
def test_header_normalisation(header: str, normalised: str) -> None:
    assert normalise_header(header) == normalised


@pytest.mark.parametrize(("name", "path"), _fixtures(), ids=lambda v: getattr(v, "name", v))
def test_fixture_loads_with_its_preset(name: str, path: Path, write: Write) -> None:
    table = presets()[name].table
    config = write("revops.yaml", f"sources:\n  {table}:\n    path: {path}\n    preset: {name}\n")
    dataset = load_dataset(load_config(config), date(2026, 10, 1))
    load = dataset.loads[table]
    assert load.loaded and load.rows == 3
    assert load.missing_headers == ()  # preset headers a file lacks are not S001
    frame = dataset.tables[table]
    key = TABLES[table].record_id or TABLES[table].required[0]
    assert frame[key].null_count() == 0
    assert load.parse_failures == {}, f"{name}: {load.parse_failures}"


def test_real_opportunities_load_with_the_preset(write: Write) -> None:
    config = write(
        "revops.yaml",
        f"sources:\n  deals:\n    path: {REALDATA / 'Opportunity.csv'}\n"
        "    preset: salesforce-opportunity\n",
    )
    dataset = load_dataset(load_config(config), date(2026, 10, 1))
    deals = dataset.tables["deals"]
    assert deals.height == 50
    assert deals["deal_id"][0] == "006Ec00000AieKFIAZ"
    assert deals["stage"][0] == "Qualification" and deals["status"][0] == "open"
    assert set(deals["status"].unique()) <= {"open", "won", "lost"}
    assert dataset.loads["deals"].parse_failures == {}
    assert deals["probability"][0] == pytest.approx(0.10)  # 10 (percent) on the [0, 1] scale


def test_salesforce_report_dates_in_icu_and_older_locale_formats(write: Write) -> None:
    path = write(
        "history.csv",
        'Opportunity ID,To Stage,Edit Date\n006A,Prospecting,"3/5/2024, 2:22 PM"\n'
        '006A,Negotiation,3/9/2024 2:22 PM\n006A,Closed Won,"05.03.2024, 14:22"\n',
    )
    ds = preset_dataset(
        write, path, "deal_stage_history", "salesforce-opportunity-history", date(2024, 10, 1)
    )
    assert ds.loads["deal_stage_history"].parse_failures == {}
    assert [str(t) for t in ds.tables["deal_stage_history"]["entered_at"]] == [
        "2024-03-05 14:22:00+00:00",
        "2024-03-09 14:22:00+00:00",
        "2024-03-05 14:22:00+00:00",
    ]


def test_explicit_columns_and_values_override_the_preset(write: Write) -> None:
    write(
        "deals.csv",
        "Record ID,Deal Name,Deal Stage,Amount,My Close\n1,A,Signed,100,2024-07-01\n"
        "2,B,closedwon,5,2024-07-02\n3,C,Closed Lost,7,2024-07-03\n",
    )
    config = write(
        "revops.yaml",
        """
        sources:
          deals:
            path: deals.csv
            preset: hubspot-deals
            columns: {close_date: My Close}
            values: {status: {won: [Signed]}}
        """,
    )
    deals = load_dataset(load_config(config), date(2024, 10, 1)).tables["deals"]
    assert deals["close_date"].to_list() == [date(2024, 7, 1), date(2024, 7, 2), date(2024, 7, 3)]
    # `won: [Signed]` replaces the preset's won list; its lost list stays
    assert deals["status"].to_list() == ["won", "open", "lost"]


def test_a_raw_value_the_config_maps_leaves_the_presets_other_words(write: Write) -> None:
    # the preset files "Closed Lost" under lost and "Existing Business" under expansion; the
    # config's own words for them win (SCHEMA.md: the source's `values:` map), in any case
    write(
        "deals.csv",
        "Record ID,Deal Name,Deal Stage,Deal Type,Amount\n1,A,Closed Lost,Existing Business,5\n"
        "2,B,closedwon,New Business,7\n",
    )
    config = write(
        "revops.yaml",
        """
        sources:
          deals:
            path: deals.csv
            preset: hubspot-deals
            values:
              status: {open: [" closed lost"]}
              deal_type: {new_business: [existing business]}
        """,
    )
    deals = load_dataset(load_config(config), date(2024, 10, 1)).tables["deals"]
    assert deals["status"].to_list() == ["open", "won"]
    assert deals["deal_type"].to_list() == ["new_business", "new_business"]


def test_unknown_preset_and_wrong_table_are_config_errors(write: Write) -> None:
    write("x.csv", "id\n1\n")
    config = write(
        "revops.yaml",
        "sources:\n  deals: {path: x.csv, preset: hubspot-dels}\n"
        "  leads: {path: x.csv, preset: stripe-customers}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert caught.value.problems == (
        f"{config}: sources.deals.preset: unknown preset 'hubspot-dels' "
        "(did you mean 'hubspot-deals'?)",
        f"{config}: sources.leads.preset: preset 'stripe-customers' is for table customers, "
        "not leads",
    )


@pytest.mark.parametrize(
    ("given", "table", "shipped"),
    [
        ("hubspot-deal", "deals", "hubspot-deals"),
        ("HubSpot-Deals", "deals", "hubspot-deals"),
        ("salesforce-opportunities", "deals", "salesforce-opportunity"),
        ("hubspot-company", "accounts", "hubspot-companies"),
        ("Stripe-Subscription", "subscriptions", "stripe-subscriptions"),
    ],
)
def test_a_preset_is_found_in_any_case_singular_or_plural(
    write: Write, given: str, table: str, shipped: str
) -> None:
    write("x.csv", "id\n1\n")
    config = load_config(
        write("revops.yaml", f"sources: {{{table}: {{path: x.csv, preset: {given}}}}}")
    )
    assert config.sources[table].preset == shipped


def test_a_spanish_hubspot_contacts_export_is_detected_and_read(write: Write) -> None:
    # EXPORTS §1.3: the headers are translated, the association columns stay English
    header = (
        "ID de registro,Nombre,Apellidos,Correo,Propietario del contacto,Fecha de creación,"
        "Estado del lead,Última actividad,País/región,Associated Company IDs (Primary)\n"
    )
    path = write("contactos.csv", header + "7001,Ana,Ruiz,ana@acme.es,Luis,2025-01-10,New,,ES,11\n")
    assert detect(headers_of(path))[0].preset.name == "hubspot-contacts"
    leads = preset_dataset(write, path, "leads", "hubspot-contacts", date(2026, 10, 1)).tables[
        "leads"
    ]
    assert leads.select("lead_id", "email", "last_name", "status", "account_id").row(0) == (
        "7001",
        "ana@acme.es",
        "Ruiz",
        "new",
        "11",
    )


def test_an_opportunity_report_without_ids_is_keyed_by_name(write: Write) -> None:
    header = "Opportunity Owner,Account Name,Opportunity Name,Stage,Amount,Close Date\n"
    path = write("report.csv", header + "Ann,Acme,Acme - Renewal,Closed Won,1200,2024-07-01\n")
    assert detect(headers_of(path))[0].preset.name == "salesforce-opportunity"
    config = write(
        "revops.yaml", f"sources: {{deals: {{path: {path}, preset: salesforce-opportunity}}}}"
    )
    deals = load_dataset(load_config(config), date(2026, 10, 1)).tables["deals"]
    assert deals.select("deal_id", "account_id", "status").row(0) == (
        "Acme - Renewal",
        "Acme",
        "won",
    )


def test_hubspot_company_currency_amounts_come_with_the_company_currency(write: Write) -> None:
    # a multi-currency portal: Amount is in the deal's currency, which this file does not export
    header = (
        "Record ID,Deal Name,Deal Stage,Amount,Amount in company currency,"
        "Currency in company currency\n"
    )
    path = write("deals.csv", header + "1,Big,closedwon,1000,1100,USD\n")
    deals = preset_dataset(write, path, "deals", "hubspot-deals", date(2026, 10, 1)).tables["deals"]
    assert deals.select("amount", "currency").row(0) == (1100.0, "USD")


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        # the deal's Amount goes with its Currency, even beside the company-currency amount
        ("Amount,Currency,Amount in company currency", "100,EUR,108", (100.0 * 1.08, "EUR")),
        # internal names: amount with deal_currency_code
        ("amount,deal_currency_code", "100,EUR", (100.0 * 1.08, "EUR")),
        # no currency column at all: the amount is in the base currency
        ("Amount", "100", (100.0, "USD")),
    ],
)
def test_a_hubspot_amount_is_read_with_its_own_currency(
    write: Write, header: str, row: str, expected: tuple[float, str]
) -> None:
    path = write("deals.csv", f"Record ID,Deal Stage,{header}\n1,closedwon,{row}\n")
    config = write(
        "revops.yaml",
        f"currency: {{base: USD, rates: {{EUR: 1.08}}}}\n"
        f"sources: {{deals: {{path: {path}, preset: hubspot-deals}}}}",
    )
    deals = load_dataset(load_config(config), date(2026, 10, 1)).tables["deals"]
    amount, currency = deals.select("amount", "currency").row(0)
    assert (amount, currency) == (pytest.approx(expected[0]), expected[1])


def test_a_custom_status_property_does_not_replace_the_hubspot_stage(write: Write) -> None:
    # hubspot-deals derives won/lost from the stage (D26); a custom "Status" column shares the
    # canonical name but is not the deal status
    path = write(
        "deals.csv",
        "Record ID,Deal Stage,Status,Amount\n1,Closed Won,Active,100\n2,Closed Lost,On hold,50\n",
    )
    dataset = preset_dataset(write, path, "deals", "hubspot-deals", date(2026, 10, 1))
    assert dataset.tables["deals"]["status"].to_list() == ["won", "lost"]
    assert "Status" in dataset.loads["deals"].unmapped_headers


def test_a_preset_key_header_missing_from_the_file_is_s001(write: Write) -> None:
    # the preset maps deal_id (Record ID, Deal ID, hs_object_id): a file without any of them is
    # S001 and the table is not loaded (SCHEMA.md), not a config error
    path = write("deals.csv", "Deal Name,Deal Stage,Amount\nA,Closed Won,100\n")
    dataset = preset_dataset(write, path, "deals", "hubspot-deals", date(2026, 10, 1))
    assert "deals" not in dataset.tables
    report = run_rules(dataset, [RULES["S001"]])
    assert report.records.select("record_id", "detail").rows() == [
        (
            "deals.deal_id",
            "none of the headers 'Record ID', 'Deal ID', 'hs_object_id' (preset hubspot-deals) "
            "in file",
        )
    ]


def test_an_open_pipedrive_deal_closes_on_its_expected_close_date(write: Write) -> None:
    # EXPORTS §4: close_date is "Deal closed on" for closed deals, "Expected close date" for open
    header = (
        "Deal - ID,Deal - Status,Deal - Value,Deal - Deal closed on,Deal - Expected close date\n"
    )
    rows = "1,Won,100,2024-07-02,2024-06-30\n2,Open,200,,2024-12-15\n3,Open,300,,\n"
    path = write("deals.csv", header + rows)
    dataset = preset_dataset(write, path, "deals", "pipedrive-deals", date(2024, 10, 5))
    deals = dataset.tables["deals"]
    assert deals["close_date"].to_list() == [date(2024, 7, 2), date(2024, 12, 15), None]
    assert dataset.loads["deals"].unmapped_headers == ()


def test_pipedrive_deals_without_deal_closed_on_close_on_won_or_lost_time(write: Write) -> None:
    # EXPORTS §4: close_date = Won time / Lost time / Deal closed on for closed deals; a view
    # without "Deal closed on" still has a close date, and the open deal its expected one
    header = "Deal - ID,Deal - Status,Deal - Won time,Deal - Lost time,Deal - Expected close date\n"
    rows = (
        "1,Won,2024-07-02 10:00:00,,2024-06-30\n2,Lost,,2024-08-09 11:00:00,\n3,Open,,,2024-12-15\n"
    )
    path = write("deals.csv", header + rows)
    dataset = preset_dataset(write, path, "deals", "pipedrive-deals", date(2024, 10, 5))
    assert dataset.tables["deals"]["close_date"].to_list() == [
        date(2024, 7, 2),
        date(2024, 8, 9),
        date(2024, 12, 15),
    ]
    assert dataset.loads["deals"].missing_headers == ()


def test_hubspot_empty_primary_cells_read_the_other_headers(write: Write) -> None:
    # a contact that went straight to customer has no opportunity date (L003 would call it converted
    # without a date), and an empty primary company reads the first associated one (EXPORTS §9)
    header = (
        '"Record ID","Lifecycle Stage","Became an Opportunity Date","Became a Customer Date",'
        '"Associated Company IDs (Primary)","Associated Company IDs"\n'
    )
    rows = (
        '"1","Customer","","2024-08-15","","9003;9001"\n'
        '"2","Opportunity","2024-07-01","","9002","9002;9005"\n'
    )
    path = write("contacts.csv", header + rows)
    leads = preset_dataset(write, path, "leads", "hubspot-contacts", date(2024, 10, 5)).tables[
        "leads"
    ]
    assert leads["converted_at"].dt.date().to_list() == [date(2024, 8, 15), date(2024, 7, 1)]
    assert leads["account_id"].to_list() == ["9003", "9002"]


def test_a_non_renewing_chargebee_subscription_ends_on_its_cancellation(write: Write) -> None:
    # Chargebee's cancelled_at of a Non Renewing subscription is the scheduled end of service: an
    # end date, not a cancellation in the future (T001); a Future one starts on its start_date
    header = (
        "subscriptions.id,customers.id,subscriptions.status,subscriptions.plan_unit_price,"
        "subscriptions.billing_period_unit,subscriptions.started_at,subscriptions.start_date,"
        "subscriptions.cancelled_at\n"
    )
    rows = (
        "S1,C1,Active,100,Month,01-Jan-2024 10:00,,\n"
        "S2,C2,Non Renewing,50,Month,01-Feb-2024 10:00,,01-Feb-2025 00:00\n"
        "S5,C5,Future,70,Month,,01-Nov-2024,\n"
    )
    path = write("subscriptions.csv", header + rows)
    dataset = preset_dataset(
        write, path, "subscriptions", "chargebee-subscriptions", date(2024, 10, 5)
    )
    subs = dataset.tables["subscriptions"]
    assert subs["end_date"].to_list() == [None, date(2025, 2, 1), None]
    assert subs["start_date"].to_list() == [date(2024, 1, 1), date(2024, 2, 1), date(2024, 11, 1)]
    assert "canceled_at" not in subs.columns
    assert run_rules(dataset, [RULES["T001"]]).findings == ()  # nothing in the future
    mrr = next(m for m in compute_metrics(dataset, "2024-Q3").metrics if m.key == "mrr")
    assert mrr.current.value == 150.0  # S1 and S2 pay on 09-30; S5 is incomplete


def test_an_empty_hubspot_lead_status_reads_the_lifecycle_stage(write: Write) -> None:
    # Lead Status is optional in HubSpot: the quoted empty cell falls back to the Lifecycle Stage
    header = '"Record ID","Email","Lead Status","Lifecycle Stage"\n'
    rows = '"1","a@x.com","","Customer"\n"2","b@x.com","In Progress","Lead"\n"3","c@x.com","",""\n'
    path = write("contacts.csv", header + rows)
    leads = preset_dataset(write, path, "leads", "hubspot-contacts", date(2024, 10, 5)).tables[
        "leads"
    ]
    assert leads["status"].to_list() == ["converted", "working", "new"]


def test_a_stripe_subscription_set_to_cancel_at_period_end_is_live_until_then(
    write: Write,
) -> None:
    # CHECKS.md: "a Stripe 'cancel at period end' row with a past canceled_at and a future end_date
    # is live until end_date". Stripe writes that end in Cancel At; Ended At is empty until then.
    header = (
        "id,Customer ID,Status,Amount,Currency,Interval,Start Date (UTC),Canceled At (UTC),"
        "Cancel At (UTC),Ended At (UTC),Cancel At Period End\n"
    )
    rows = (
        "sub_1,cus_1,active,100,usd,month,2024-01-15 10:00,2024-09-01 08:00,2024-10-15 10:00,,"
        "true\n"
        "sub_2,cus_2,active,200,usd,month,2024-02-01 10:00,,,,false\n"
        "sub_3,cus_3,canceled,50,usd,month,2024-01-01 10:00,2024-06-01 08:00,2024-07-01 10:00,"
        "2024-07-01 10:00,true\n"
    )
    path = write("subscriptions.csv", header + rows)
    dataset = preset_dataset(
        write, path, "subscriptions", "stripe-subscriptions", date(2024, 9, 30)
    )
    subs = dataset.tables["subscriptions"]
    assert subs["end_date"].to_list() == [date(2024, 10, 15), None, date(2024, 7, 1)]
    report = run_rules(dataset, [RULES["B002"]])
    assert [r.status for r in report.rules] == [RuleState.PASS]  # sub_1 is live, not "ended"
    mrr = next(m for m in compute_metrics(dataset, "2024-Q3").metrics if m.key == "mrr")
    assert mrr.current.value == 300.0  # sub_1 and sub_2 at 09-30; sub_3 ended in July
