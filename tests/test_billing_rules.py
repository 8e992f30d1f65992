"""Billing-side rules on exports that lack a link column, an MRR input or a currency rate, and
trials in the `arr` basis (CHECKS.md conventions; SCHEMA.md: an unrated currency is V003's)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from revops_cli.checks import select_and_run
from revops_cli.config import load_config
from revops_cli.load.dataset import load_dataset
from revops_cli.results import AuditReport, RuleOutcome

Write = Callable[[str, str | bytes], Path]
AS_OF = date(2024, 6, 1)


def audit(
    write: Write, config: str, files: dict[str, str], *codes: str, as_of: date = AS_OF
) -> AuditReport:
    for name, text in files.items():
        write(name, text)
    dataset = load_dataset(load_config(write("revops.yaml", config)), as_of)
    return select_and_run(dataset, list(codes), [], 5)


def flagged(report: AuditReport, code: str) -> list[tuple[str, str, float]]:
    rows = report.records.filter(pl.col("code") == code)
    return sorted(rows.select("record_id", "detail", "revenue_at_risk").rows())


def outcome(report: AuditReport, code: str) -> RuleOutcome:
    return next(r for r in report.rules if r.code == code)


ACCOUNTS = "account_id,domain,lifecycle_stage\nA1,one.com,customer\nA2,two.com,customer\n"

CRM_AND_BILLING = """
sources:
  accounts: {path: accounts.csv}
  customers: {path: customers.csv}
  subscriptions: {path: subscriptions.csv}
  deals: {path: deals.csv}
"""


def test_customers_without_an_account_id_column_link_by_e_mail_domain(write: Write) -> None:
    # C1 links to A1 by its domain; C3's three.com is no account's, so C3 is unknown to the CRM
    # (R002, at 12 x 100) and A2 has no billing customer (R005)
    config = """
    sources:
      accounts: {path: accounts.csv}
      customers: {path: customers.csv}
      subscriptions: {path: subscriptions.csv}
    """
    files = {
        "accounts.csv": ACCOUNTS,
        "customers.csv": "customer_id,email\nC1,ap@one.com\nC3,ap@three.com\n",
        "subscriptions.csv": (
            "subscription_id,customer_id,status,mrr,start_date\n"
            "S1,C1,active,50,2024-01-01\nS3,C3,active,100,2024-01-01\n"
        ),
    }
    report = audit(write, config, files, "R002", "R005", "A001", "R004")
    assert [r.status.value for r in report.rules] == ["pass", "fail", "pass", "fail"]
    assert flagged(report, "R002") == [("C3", "null", 1200.0)]
    assert flagged(report, "R005") == [("A2", None, 0.0)]


def test_an_empty_domain_links_no_customer(write: Write) -> None:
    # A1's domain 'https://www.' normalises to nothing, and so does C1's e-mail 'bob@': nothing
    # equals nothing, so C1 is unknown to the CRM (R002 at 12 x 10) and A1 has no customer (R005)
    config = """
    sources:
      accounts: {path: accounts.csv}
      customers: {path: customers.csv}
      subscriptions: {path: subscriptions.csv}
    """
    files = {
        "accounts.csv": "account_id,domain,lifecycle_stage\nA1,https://www.,customer\n",
        "customers.csv": "customer_id,account_id,email\nC1,,bob@\n",
        "subscriptions.csv": (
            "subscription_id,customer_id,status,mrr,start_date\nS1,C1,active,10,2024-01-01\n"
        ),
    }
    report = audit(write, config, files, "R002", "R005")
    assert flagged(report, "R002") == [("C1", "null", 120.0)]
    assert flagged(report, "R005") == [("A1", None, 0.0)]


def test_a_trial_carries_no_arr(write: Write) -> None:
    # A1 bills 12 x 100 = 1,200 against its 1,200 deal: the 500 trial add-on is no MRR, so R003
    # finds no gap; A2's only subscription is a trial, so A001 flags it at 0
    config = """
    sources:
      accounts: {path: accounts.csv}
      customers: {path: customers.csv}
      subscriptions: {path: subscriptions.csv}
      deals:
        path: deals.csv
        values: {status: {won: [Won]}}
    """
    files = {
        "accounts.csv": "account_id,domain,lifecycle_stage\nA1,one.com,customer\nA2,two.com,lead\n",
        "customers.csv": "customer_id,account_id,email\nC1,A1,ap@one.com\nC2,A2,ap@two.com\n",
        "subscriptions.csv": (
            "subscription_id,customer_id,status,mrr,start_date\n"
            "S1,C1,active,100,2024-01-01\nS2,C1,trialing,500,2024-05-01\n"
            "S3,C2,trialing,300,2024-05-01\n"
        ),
        "deals.csv": (
            "deal_id,account_id,stage,amount,deal_type,close_date\n"
            "D1,A1,Won,1200,new_business,2024-01-01\n"
        ),
    }
    report = audit(write, config, files, "R003", "A001")
    assert outcome(report, "R003").status.value == "pass"
    assert flagged(report, "A001") == [("A2", "live subscription", 0.0)]


def test_b001_is_skipped_when_mrr_cannot_be_derived(write: Write) -> None:
    config = "sources: {subscriptions: {path: subscriptions.csv}}"
    files = {
        "subscriptions.csv": "subscription_id,customer_id,status,amount,start_date\n"
        "S1,C1,active,100,2024-01-01\n"
    }
    report = audit(write, config, files, "B001")
    assert (outcome(report, "B001").status.value, outcome(report, "B001").reason) == (
        "skipped",
        "missing_column:subscriptions.interval",
    )


def test_money_in_a_currency_without_a_rate_is_not_missing(write: Write) -> None:
    # S1 bills 100 CHF a month and D2 was won for 5,000 CHF, without a CHF rate: V003's finding,
    # not B001's (MRR is there), R001 still finds D2 unbilled (its amount is > 0; at risk 0, the
    # amount being out of money sums), and S003 sees every amount filled
    config = """
    currency: {base: USD}
    sources:
      accounts: {path: accounts.csv}
      customers: {path: customers.csv}
      subscriptions: {path: subscriptions.csv}
      deals:
        path: deals.csv
        values: {status: {won: [Won]}}
    rules: {settings: {S003: {columns: {deals: [amount]}}}}
    """
    files = {
        "accounts.csv": ACCOUNTS,
        "customers.csv": "customer_id,account_id,email\nC1,A1,ap@one.com\n",
        "subscriptions.csv": (
            "subscription_id,customer_id,status,amount,currency,interval,start_date\n"
            "S1,C1,active,100,CHF,month,2024-01-01\n"
        ),
        "deals.csv": (
            "deal_id,account_id,stage,amount,currency,deal_type,close_date\n"
            "D1,A1,Won,1200,USD,new_business,2024-01-01\nD2,A2,Won,5000,CHF,new_business,2024-02-01\n"
        ),
    }
    report = audit(write, config, files, "B001", "R001", "S003", "V003")
    assert [r.status.value for r in report.rules] == ["pass", "fail", "pass", "fail"]
    assert flagged(report, "R001") == [("D2", "no linked billing customer", 0.0)]
    assert flagged(report, "V003") == [("D2", "5000 CHF", 0.0), ("S1", "100 CHF", 0.0)]


def test_s005_counts_subscriptions_not_their_rows(write: Write) -> None:
    # D14: S1's two price spans are one record, so S005 looked at 2 subscriptions, not 3 rows
    config = "sources: {subscriptions: {path: subscriptions.csv}}"
    files = {
        "subscriptions.csv": (
            "subscription_id,customer_id,status,mrr,start_date,end_date\n"
            "S1,C1,active,100,2024-01-01,2024-03-01\nS1,C1,active,150,2024-03-01,\n"
            "S2,C2,on hold,50,2024-01-01,\n"
        )
    }
    report = audit(write, config, files, "S005")
    finding = next(f for f in report.findings if f.code == "S005")
    assert (finding.table, finding.count, finding.checked) == ("subscriptions", 1, 2)
    assert flagged(report, "S005") == [("S2", "status 'on hold'", 600.0)]  # 12 x 50, as active


def test_v003_shows_the_mrr_of_a_subscription_export_without_amounts(write: Write) -> None:
    config = "sources: {subscriptions: {path: subscriptions.csv}}"
    files = {
        "subscriptions.csv": "subscription_id,customer_id,status,mrr,currency,start_date\n"
        "S1,C1,active,99.5,CHF,2024-01-01\nS2,C2,active,10,USD,2024-01-01\n"
    }
    report = audit(write, config, files, "V003")
    assert flagged(report, "V003") == [("S1", "99.5 CHF", 0.0)]


def test_v003_skips_a_table_whose_mapped_currency_header_is_missing(write: Write) -> None:
    # CHECKS.md S001: the rules needing a mapped column missing from the header are skipped. The
    # deals' currency is mapped to "Currency", and the file calls it "Currency Code": V003 had
    # read every deal as the base currency (an unmapped column's default) and passed them.
    # The subscriptions' part still runs and flags S1.
    config = """
    currency: {base: USD, rates: {EUR: 1.1}}
    sources:
      deals: {path: deals.csv, columns: {currency: Currency}}
      subscriptions: {path: subscriptions.csv}
    """
    files = {
        "deals.csv": "deal_id,amount,Currency Code\nD1,100,CHF\n",
        "subscriptions.csv": "subscription_id,customer_id,mrr,currency,start_date\n"
        "S1,C1,10,CHF,2024-01-01\n",
    }
    report = audit(write, config, files, "V003")
    assert flagged(report, "V003") == [("S1", "10 CHF", 0.0)]
    reason = "skipped parts: missing_column:deals.currency; missing_table:invoices; "
    assert outcome(report, "V003").reason == reason + "missing_table:expenses"


def test_r001_and_r003_skip_a_mapped_deal_type_missing_from_the_header(write: Write) -> None:
    # CHECKS.md S001. The loader gives the deals the default deal type (new_business) for the
    # metrics (§1.7), and R001 had flagged the won D1 as new business never billed
    config = """
    sources:
      accounts: {path: accounts.csv}
      deals: {path: deals.csv, columns: {deal_type: Type}}
      customers: {path: customers.csv}
      subscriptions: {path: subscriptions.csv}
    """
    files = {
        "accounts.csv": "account_id,lifecycle_stage\nA1,customer\n",
        "deals.csv": "deal_id,account_id,stage,amount,close_date\nD1,A1,won,1200,2024-04-01\n",
        "customers.csv": "customer_id,account_id\nC9,A9\n",
        "subscriptions.csv": "subscription_id,customer_id,status,mrr,start_date,end_date\n"
        "S9,C9,active,10,2024-01-01,\n",
    }
    report = audit(write, config, files, "R001", "R003")
    skipped = ("skipped", "missing_column:deals.deal_type")
    assert [(r.status.value, r.reason) for r in report.rules] == [skipped, skipped]


def test_b004_pairs_the_rows_of_a_file_without_subscription_ids(write: Write) -> None:
    # subscription_id mapped, its header missing (S001): each row is a record of its own, as a
    # row with an empty id is; B004 had been skipped. Both Pro rows of C1 are live on 2024-06-01
    # and overlap; each bills 10 a month, so the larger record name (row 2) counts as the
    # smaller: 120 at risk
    config = "sources: {subscriptions: {path: s.csv, columns: {subscription_id: sid}}}"
    files = {
        "s.csv": "customer_id,plan,status,mrr,start_date,end_date\n"
        "C1,Pro,active,10,2024-01-01,\nC1,Pro,active,10,2024-03-01,\n"
    }
    report = audit(write, config, files, "B004")
    assert flagged(report, "B004") == [
        ("subscriptions:row 1", "overlaps subscriptions:row 2", 0.0),
        ("subscriptions:row 2", "overlaps subscriptions:row 1", 120.0),
    ]
    finding = next(f for f in report.findings if f.code == "B004")
    assert (finding.count, finding.checked) == (2, 2)


def test_owners_without_is_active_are_all_active(write: Write) -> None:
    # SCHEMA.md: is_active defaults to true, so O003 runs (and passes) on an export without it
    config = """
    sources:
      owners: {path: owners.csv}
      deals: {path: deals.csv}
    """
    files = {
        "owners.csv": "owner_id,name\nU1,Ann\n",
        "deals.csv": "deal_id,owner_id,stage,amount\nD1,U1,open,100\n",
    }
    report = audit(write, config, files, "O003")
    assert (outcome(report, "O003").status.value, outcome(report, "O003").reason) == (
        "pass",
        "skipped parts: missing_table:leads; missing_table:accounts",  # D30: deals did run
    )


def test_a_subscription_of_several_rows_is_priced_at_its_latest_span(write: Write) -> None:
    # S1 ran at 500 until 2023-12-13, then at 100 (a history export, one row per price change):
    # one record (D14) whose 12 x MRR is 1,200, not the 6,000 of the ended span; S2 is one row.
    # Its customer CX is unknown: I005 flags both subscriptions, each once.
    config = """
    sources:
      customers: {path: customers.csv}
      subscriptions: {path: subscriptions.csv}
    """
    files = {
        "customers.csv": "customer_id\nC1\n",
        "subscriptions.csv": (
            "subscription_id,customer_id,status,mrr,start_date,end_date\n"
            "S1,CX,canceled,500,2023-01-01,2023-12-13\n"
            "S1,CX,active,100,2023-12-13,\n"
            "S2,CX,active,70,2024-01-01,\n"
        ),
    }
    report = audit(write, config, files, "I005")
    assert flagged(report, "I005") == [
        ("S1", "dangling 'CX'", 1200.0),
        ("S2", "dangling 'CX'", 840.0),
    ]


def test_details_show_an_inclusive_end_date_as_the_file_writes_it(write: Write) -> None:
    # end_date_inclusive loads each end one day later (D15); T002 and B002 showed that day, T003
    # the written one. as of 06-01: S2 ended 05-20 as written (loaded 05-21), still 'active'
    config = """
    sources:
      subscriptions: {path: subscriptions.csv}
    metrics: {subscriptions: {end_date_inclusive: true}}
    """
    files = {
        "subscriptions.csv": (
            "subscription_id,customer_id,status,mrr,start_date,end_date\n"
            "S1,C1,canceled,10,2024-01-10,2024-01-05\n"
            "S2,C2,active,20,2024-01-01,2024-05-20\n"
        ),
    }
    report = audit(write, config, files, "T002", "B002")
    assert flagged(report, "T002") == [("S1", "end_date 2024-01-05 < start_date 2024-01-10", 120.0)]
    assert flagged(report, "B002") == [("S2", "active but ended 2024-05-20", 240.0)]


def test_an_account_reason_that_cannot_be_judged_is_a_skipped_part(write: Write) -> None:
    # D30: O001 judges accounts by their open deals alone when they have no lifecycle stage; its
    # reason said nothing of the customer accounts it could not see
    config = """
    sources:
      accounts: {path: accounts.csv}
      deals: {path: deals.csv}
    """
    files = {
        "accounts.csv": "account_id,owner_id\nA1,\nA2,\n",
        "deals.csv": "deal_id,account_id,owner_id,stage,amount\nD1,A1,U1,open,100\n",
    }
    report = audit(write, config, files, "O001")
    assert flagged(report, "O001") == [("A1", "open deals", 100.0)]
    assert outcome(report, "O001").reason == (
        "skipped parts: missing_table:leads; missing_column:accounts.lifecycle_stage"
    )


def test_a_status_missing_from_the_header_skips_only_what_judges_the_status(
    write: Write,
) -> None:
    # subscriptions map `status: Status`, a header the file lacks (S001). B002 judges statuses:
    # skipped. I005 links customers: it still runs, its 12 x MRR basis without a status; R001
    # still sees S1 running for D1 (by its dates), so D1 is billed
    config = """
    sources:
      accounts: {path: accounts.csv}
      deals: {path: deals.csv}
      customers: {path: customers.csv}
      subscriptions: {path: subscriptions.csv, columns: {status: Status}}
    """
    files = {
        "accounts.csv": "account_id\nA1\n",
        "deals.csv": "deal_id,account_id,stage,amount,close_date\nD1,A1,won,1200,2024-03-01\n",
        "customers.csv": "customer_id,account_id\nC1,A1\n",
        "subscriptions.csv": (
            "subscription_id,customer_id,mrr,start_date,end_date\n"
            "S1,C1,100,2024-02-15,\nS2,C9,50,2024-01-01,\n"
        ),
    }
    report = audit(write, config, files, "B002", "I005", "R001")
    assert (outcome(report, "B002").status.value, outcome(report, "B002").reason) == (
        "skipped",
        "missing_column:subscriptions.status",
    )
    assert flagged(report, "I005") == [("S2", "dangling 'C9'", 600.0)]
    assert flagged(report, "R001") == []


@pytest.mark.parametrize(
    ("table", "column", "rules"),
    [
        # the service end falls back to canceled_at: S5 (active, canceled ahead of its end)
        # would be 'active but ended'
        ("subscriptions", "end_date", {"B002", "R004"}),
        # without the domain or the e-mail, customers linked by domain look unlinked (R002, R005)
        ("accounts", "domain", {"R002", "R005"}),
        ("customers", "email", {"R002", "R005"}),
        # is_active defaults to true: nobody would be inactive
        ("owners", "is_active", {"O003"}),
    ],
)
def test_a_column_whose_default_would_judge_wrongly_is_skipped(
    write: Write, table: str, column: str, rules: set[str]
) -> None:
    config = (CRM_AND_BILLING + "  owners: {path: owners.csv}\n").replace(
        f"{table}: {{path: {table}.csv}}",
        f"{table}: {{path: {table}.csv, columns: {{{column}: Nope}}}}",
    )
    files = {
        "owners.csv": "owner_id,is_active\nU1,true\nU2,false\n",
        "accounts.csv": "account_id,domain,owner_id,lifecycle_stage\nA1,one.com,U2,customer\n",
        "deals.csv": "deal_id,account_id,owner_id,stage,amount\nD1,A1,U2,open,100\n",
        "customers.csv": "customer_id,email\nC1,ap@one.com\n",
        "subscriptions.csv": (
            "subscription_id,customer_id,status,mrr,start_date,end_date,canceled_at\n"
            "S5,C1,active,100,2024-01-01,2024-12-31,2024-03-01T00:00:00Z\n"
        ),
    }
    report = audit(write, config, files, "B002", "R002", "R004", "R005", "O003")
    reason = f"missing_column:{table}.{column}"
    for code in rules:
        assert (outcome(report, code).status.value, outcome(report, code).reason) == (
            "skipped",
            reason,
        ), code


def test_rows_without_an_id_are_records_of_their_own(write: Write) -> None:
    # CHECKS.md: a row whose key cell is empty is `table:row N`. B004 compared null ids and
    # flagged none of them; the records checked counted every null id as one; R001 never
    # flagged a won deal without an id (its null deal_id fell out of every is_in)
    config = CRM_AND_BILLING
    files = {
        "accounts.csv": ACCOUNTS,
        "customers.csv": "customer_id,account_id\nC1,A1\n",
        "subscriptions.csv": (
            "subscription_id,customer_id,status,mrr,plan,start_date\n"
            "S1,C1,active,10,pro,2024-01-01\n"
            ",C1,active,20,pro,2024-02-01\n"
            ",C1,active,30,pro,2024-03-01\n"
            ",C1,active,0,basic,2024-01-01\n"  # B001: a live subscription without MRR
        ),
        # A2 has no billing customer: both deals are won and unbilled
        "deals.csv": (
            "deal_id,account_id,status,deal_type,amount,close_date\n"
            ",A2,won,new_business,1000,2024-04-01\nD2,A2,won,new_business,500,2024-04-01\n"
        ),
    }
    report = audit(write, config, files, "B004", "R001", "B001")
    (b001,) = [f for f in report.findings if f.code == "B001"]
    assert (b001.count, b001.checked) == (1, 4)  # four records, three of them without an id
    # each the smaller of a pair: S1 (120) against both, row 2 (240) against row 3
    assert flagged(report, "B004") == [
        ("S1", "overlaps subscriptions:row 2, subscriptions:row 3", 120.0),
        ("subscriptions:row 2", "overlaps S1, subscriptions:row 3", 240.0),
        ("subscriptions:row 3", "overlaps S1, subscriptions:row 2", 0.0),
    ]
    (b004,) = [f for f in report.findings if f.code == "B004"]
    assert (b004.count, b004.checked, b004.revenue_at_risk) == (3, 4, 360.0)
    assert flagged(report, "R001") == [
        ("D2", "no linked billing customer", 500.0),
        ("deals:row 1", "no linked billing customer", 1000.0),
    ]


def test_customers_without_an_id_each_link_their_account(write: Write) -> None:
    # two id-less customer rows link A1 and A2, whatever their order: both accounts have a
    # billing customer (no R005), and neither bills a subscription against its 1,200 deal (R003
    # underbilled 1,200 each); only the last of them was kept, so one account of the two was R005
    accounts = "account_id,lifecycle_stage\nA1,customer\nA2,customer\nA3,customer\n"
    deals = (
        "deal_id,account_id,status,deal_type,amount,close_date\n"
        "D1,A1,won,new_business,1200,2024-05-01\nD2,A2,won,new_business,1200,2024-05-01\n"
    )
    subscriptions = (
        "subscription_id,customer_id,status,mrr,start_date\nS1,C3,active,10,2024-01-01\n"
    )
    for customers in (",A1\n,A2\nC3,A3\n", ",A2\n,A1\nC3,A3\n"):
        files = {
            "accounts.csv": accounts,
            "customers.csv": "customer_id,account_id\n" + customers,
            "subscriptions.csv": subscriptions,
            "deals.csv": deals,
        }
        report = audit(write, CRM_AND_BILLING, files, "R003", "R005")
        assert flagged(report, "R005") == []
        assert flagged(report, "R003") == [
            ("A1", "underbilled", 1200.0),
            ("A2", "underbilled", 1200.0),
        ]


def test_r003_without_tolerance_flags_a_cent_but_not_float_noise(write: Write) -> None:
    # 12 x 1,700,000.1 and 12 x 2,500,000.3 equal the deals' amounts, but in floats differ from
    # them by about 4e-9; A2's 12 x 100.01 is a cent over its deal of 1,200.11
    config = CRM_AND_BILLING + "rules: {settings: {R003: {tolerance_pct: 0, tolerance_abs: 0}}}\n"
    files = {
        "accounts.csv": ACCOUNTS + "A3,three.com,customer\n",
        "customers.csv": "customer_id,account_id\nC1,A1\nC2,A2\nC3,A3\n",
        "subscriptions.csv": (
            "subscription_id,customer_id,status,mrr,start_date\n"
            "S1,C1,active,1700000.1,2024-01-01\nS2,C2,active,100.01,2024-01-01\n"
            "S3,C3,active,2500000.3,2024-01-01\n"
        ),
        "deals.csv": (
            "deal_id,account_id,status,deal_type,amount,close_date\n"
            "D1,A1,won,new_business,20400001.2,2024-01-01\n"
            "D2,A2,won,new_business,1200.11,2024-01-01\n"
            "D3,A3,won,new_business,30000003.6,2024-01-01\n"
        ),
    }
    report = audit(write, config, files, "R003")
    assert flagged(report, "R003") == [("A2", "overbilled", pytest.approx(0.01))]


def test_r003_is_skipped_when_mrr_cannot_be_derived(write: Write) -> None:
    # SCHEMA.md: the rules needing an unmapped column are skipped. The subscriptions map an
    # amount but no interval, so no MRR: R003 had flagged A1 and A2 'underbilled' at billed 0,
    # while B001 and the metrics said missing_column:subscriptions.interval
    files = {
        "accounts.csv": ACCOUNTS,
        "customers.csv": "customer_id,account_id\nC1,A1\nC2,A2\n",
        "subscriptions.csv": "subscription_id,customer_id,amount,status,start_date\n"
        "S1,C1,110,active,2024-01-01\nS2,C2,90,active,2024-01-01\n",
        "deals.csv": "deal_id,account_id,status,deal_type,amount,close_date\n"
        "D1,A1,won,new_business,1200,2024-01-01\nD2,A2,won,renewal,1200,2024-01-01\n",
    }
    report = audit(write, CRM_AND_BILLING, files, "R003", "B001")
    reason = "missing_column:subscriptions.interval"
    assert [(r.code, r.status.value, r.reason) for r in report.rules] == [
        ("B001", "skipped", reason),
        ("R003", "skipped", reason),
    ]


def test_rules_that_link_customers_are_skipped_when_no_link_can_be_made(write: Write) -> None:
    # customers without an account_id column and no e-mail to match a domain: no customer can
    # be linked, and R001, R002 and R005 had flagged every won deal, live customer and customer
    # account. A001 still runs its part on won deals (D30), at no basis: A1 is a prospect that
    # won D1 (and its ARR cannot be told without the link)
    config = CRM_AND_BILLING + "  invoices: {path: invoices.csv}\n"
    files = {
        "accounts.csv": "account_id,domain,lifecycle_stage\n"
        "A1,one.com,prospect\nA2,two.com,customer\n",
        "customers.csv": "customer_id,name\nC1,One\nC2,Two\n",
        "subscriptions.csv": "subscription_id,customer_id,mrr,status,start_date\n"
        "S1,C1,100,active,2024-01-01\nS2,C2,100,active,2024-01-01\n",
        "invoices.csv": "invoice_id,customer_id,amount,issued_at\nI1,C1,100,2024-01-01\n",
        "deals.csv": "deal_id,account_id,status,deal_type,amount,close_date\n"
        "D1,A1,won,new_business,1200,2024-04-01\n",
    }
    report = audit(write, config, files, "R", "A001")
    reason = "missing_column:customers.account_id"
    assert [(r.code, r.status.value, r.reason) for r in report.rules] == [
        ("A001", "fail", f"skipped parts: {reason}"),
        *((code, "skipped", reason) for code in ("R001", "R002", "R003", "R004", "R005")),
    ]
    assert flagged(report, "A001") == [("A1", "won deal closed 2024-04-01", 0.0)]


def test_r004_shows_an_inclusive_end_date_as_the_file_writes_it(write: Write) -> None:
    # end_date_inclusive loads S1's end 05-30 as 05-31 (D15); R004's detail showed 05-31.
    # as of 07-15: 45 days after the service ended, more than the 30 days of grace
    config = CRM_AND_BILLING + "metrics: {subscriptions: {end_date_inclusive: true}}\n"
    files = {
        "accounts.csv": ACCOUNTS,
        "customers.csv": "customer_id,account_id\nC1,A1\n",
        "subscriptions.csv": "subscription_id,customer_id,mrr,status,start_date,end_date\n"
        "S1,C1,10,canceled,2024-01-01,2024-05-30\n",
        "deals.csv": "deal_id,account_id,status,amount\n",
    }
    report = audit(write, config, files, "R004", as_of=date(2024, 7, 15))
    assert flagged(report, "R004") == [("A1", "last service end 2024-05-30", 120.0)]


def test_r004_shows_the_later_written_end_when_two_rows_end_alike(write: Write) -> None:
    # S1's inclusive end 07-18 loads as 07-19, S2 was canceled 07-19: both end on 07-19, and
    # the detail showed whichever row came first in the file
    config = CRM_AND_BILLING + "metrics: {subscriptions: {end_date_inclusive: true}}\n"
    rows = [
        "S1,C1,10,canceled,2024-01-01,2024-07-18,\n",
        "S2,C1,20,canceled,2024-01-01,,2024-07-19T10:00:00Z\n",
    ]
    header = "subscription_id,customer_id,mrr,status,start_date,end_date,canceled_at\n"
    details = []
    for order in (rows, rows[::-1]):
        files = {
            "accounts.csv": ACCOUNTS,
            "customers.csv": "customer_id,account_id\nC1,A1\n",
            "subscriptions.csv": header + "".join(order),
            "deals.csv": "deal_id,account_id,status,amount\n",
        }
        details += flagged(audit(write, config, files, "R004", as_of=date(2024, 10, 1)), "R004")
    assert details == [("A1", "last service end 2024-07-19", 360.0)] * 2


def test_r004_runs_without_any_end_date_column(write: Write) -> None:
    # neither end_date nor canceled_at: no subscription ever ended, so R004 passes. Its detail
    # (the written end) crashed on an account with two rows (ShapeError, exit 3)
    files = {
        "accounts.csv": ACCOUNTS,
        "customers.csv": "customer_id,account_id\nC1,A1\n",
        "subscriptions.csv": "subscription_id,customer_id,mrr,status,start_date\n"
        "S1,C1,10,active,2024-01-01\nS2,C1,20,canceled,2024-01-01\n",
        "deals.csv": "deal_id,account_id,status,amount\n",
    }
    report = audit(write, CRM_AND_BILLING, files, "R004")
    assert [(r.code, r.status.value, r.reason) for r in report.rules] == [("R004", "pass", None)]


def test_v006_reads_an_unmapped_quantity_as_one(write: Write) -> None:
    # D10: quantity defaults to 1, so no subscription has a quantity below 1; the part was
    # skipped (missing_column:subscriptions.quantity) and V006 with it
    config = "sources: {subscriptions: {path: subscriptions.csv}}"
    files = {
        "subscriptions.csv": "subscription_id,customer_id,mrr,status,start_date\n"
        "S1,C1,10,active,2024-01-01\n"
    }
    report = audit(write, config, files, "V006")
    (v006,) = report.rules
    reason = "skipped parts: missing_table:deals; missing_table:invoices"
    assert (v006.status.value, v006.reason) == ("pass", reason)


def test_l003_names_the_part_it_cannot_check(write: Write) -> None:
    # no converted_at column: the converted_deal_id check still runs (L2 has a deal but is
    # working), and the reason says the converted_at checks did not (D30); it said nothing
    config = "sources: {leads: {path: leads.csv}}"
    files = {"leads.csv": "lead_id,status,converted_deal_id\nL1,converted,D1\nL2,working,D2\n"}
    report = audit(write, config, files, "L003")
    (l003,) = report.rules
    assert (l003.status.value, l003.reason) == (
        "fail",
        "skipped parts: missing_column:leads.converted_at",
    )
    assert [r for r, _, _ in flagged(report, "L003")] == ["L2"]
