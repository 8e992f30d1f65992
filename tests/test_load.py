"""Loading exports into canonical frames: reading, mapping, types, vocabularies, derived columns."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from revops_cli.config import load_config
from revops_cli.errors import ConfigError, InputError
from revops_cli.load.dataset import Dataset, _repeated, load_dataset
from revops_cli.load.reader import read_headers, read_raw

Write = Callable[[str, str | bytes], Path]
AS_OF = date(2024, 10, 1)


def load(write: Write, config: str, **files: str | bytes) -> Dataset:
    for name, content in files.items():
        write(name.replace("__", "."), content)
    return load_dataset(load_config(write("revops.yaml", config)), AS_OF)


def column_names(ds: Dataset, table: str) -> list[str]:
    frame = ds.table(table)
    assert frame is not None
    return frame.columns


def column(ds: Dataset, table: str, name: str) -> list[object]:
    frame = ds.table(table)
    assert frame is not None
    return frame[name].to_list()


DEALS_CONFIG = """
currency: {base: USD, rates: {EUR: 1.10}}
sources:
  deals:
    path: deals.csv
    date_format: "%d/%m/%Y"
    columns: {deal_id: Record ID, stage: Deal Stage, amount: Amount, currency: Currency,
              close_date: Close Date, created_at: Created, deal_type: Type, probability: Prob}
    values:
      status: {won: [Closed Won], lost: [Closed Lost], open: [Contract Sent]}
      deal_type: {new_business: [newbusiness], expansion: [existingbusiness]}
"""

DEALS = """\
Record ID,Deal Stage,Amount,Currency,Close Date,Created,Type,Prob
007,Closed Won,"$1,200.00",usd,2024-07-01,2024-05-01T10:00:00+02:00,newbusiness,100
008,Contract Sent,abc,EUR,01/07/2024,2024-05-01,,50
009,Weird Stage,500,CHF,2024-13-01,garbage,renewal,
010,closed lost,(120.00),,2024-08-01,2024-06-01,zzz,0
"""


@pytest.fixture
def deals(write: Write) -> Dataset:
    return load(write, DEALS_CONFIG, deals__csv=DEALS)


def test_ids_keep_leading_zeros(deals: Dataset) -> None:
    assert column(deals, "deals", "deal_id") == ["007", "008", "009", "010"]


def test_stage_maps_to_status_case_insensitively(deals: Dataset) -> None:
    assert column(deals, "deals", "status") == ["won", "open", "open", "lost"]
    assert column(deals, "deals", "_unmapped_stage") == [None, None, "Weird Stage", None]
    assert deals.loads["deals"].unmapped_values["stage"].samples == ("Weird Stage",)


def test_deal_type_defaults_and_unknown_words(deals: Dataset) -> None:
    assert column(deals, "deals", "deal_type") == [
        "new_business",
        "new_business",
        "renewal",
        "new_business",
    ]
    assert column(deals, "deals", "_unmapped_deal_type") == [None, None, None, "zzz"]


def test_a_vocabulary_without_unknown_values_has_no_unmapped_column(write: Write) -> None:
    # every deal type is a word: no column of nulls is kept for S005 (16 bytes a row)
    ds = load(write, DEALS_CONFIG, deals__csv=DEALS.replace("zzz", "Renewal"))
    assert column(ds, "deals", "deal_type")[3] == "renewal"
    assert "_unmapped_deal_type" not in ds.tables["deals"].columns
    assert "_unmapped_stage" in ds.tables["deals"].columns  # 'Weird Stage' is still unknown


def test_counts_read_the_sources_decimal_mark(write: Write) -> None:
    # D27: with decimal ',' the dot groups thousands, in quantities too (not 1 seat but 1000)
    ds = load(
        write,
        'sources: {subscriptions: {path: s.csv, delimiter: ";", decimal: ","}}',
        s__csv="subscription_id;customer_id;start_date;amount;interval;quantity\n"
        "S1;C1;2024-01-01;1,5;month;1.000\nS2;C1;2024-01-01;2;month;3\n",
    )
    assert column(ds, "subscriptions", "quantity") == [1000, 3]
    assert column(ds, "subscriptions", "mrr") == [1500.0, 6.0]


def test_money_is_parsed_and_converted(deals: Dataset) -> None:
    # 1,200 USD; abc is null; CHF has no rate so the converted amount is null; (120.00) is -120
    assert column(deals, "deals", "amount") == [1200.0, None, None, -120.0]
    assert column(deals, "deals", "_amount_native") == [1200.0, None, 500.0, -120.0]
    assert column(deals, "deals", "currency") == ["USD", "EUR", "CHF", "USD"]
    assert column(deals, "deals", "_fx_rate") == [1.0, 1.1, None, 1.0]


FORECASTS = "period,amount\n2024-Q3,2000\n2024-Q4,\n"


def test_forecasts_are_in_their_sources_default_currency(write: Write) -> None:
    # forecasts have no currency column: every amount is in default_currency (METRICS §1.4),
    # 2,000 EUR at 1.5 is 3,000 USD
    config = """
currency: {base: USD, rates: {EUR: 1.5}}
sources:
  forecasts: {path: forecasts.csv, default_currency: eur}
"""
    ds = load(write, config, forecasts__csv=FORECASTS)
    assert column(ds, "forecasts", "amount") == [3000.0, None]
    base = load(write, "sources:\n  forecasts: {path: forecasts.csv}\n", forecasts__csv=FORECASTS)
    assert column(base, "forecasts", "amount") == [2000.0, None]


def test_a_default_currency_without_a_rate_on_forecasts_is_a_config_error(write: Write) -> None:
    config = "sources:\n  forecasts: {path: forecasts.csv, default_currency: CHF}\n"
    with pytest.raises(ConfigError) as caught:
        load(write, config, forecasts__csv=FORECASTS)
    assert str(caught.value).endswith(
        "sources.forecasts.default_currency: CHF has no rate, and forecasts has no currency "
        "column, so none of its amounts could be converted (add `CHF: <rate>` under "
        "currency.rates)"
    )
    # on a table with a currency column, rows in it are V003 findings, not a config error
    write("deals.csv", "deal_id,amount\nD1,5\n")
    load(write, "sources:\n  deals: {path: deals.csv, default_currency: CHF}\n")


def test_dates_and_datetimes(deals: Dataset) -> None:
    assert column(deals, "deals", "close_date") == [
        date(2024, 7, 1),
        date(2024, 7, 1),
        None,
        date(2024, 8, 1),
    ]
    assert column(deals, "deals", "created_at")[:2] == [
        datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
        datetime(2024, 5, 1, 0, 0, tzinfo=UTC),
    ]


def test_parse_failures_are_counted_with_samples(deals: Dataset) -> None:
    failures = deals.loads["deals"].parse_failures
    assert {c: (i.count, i.samples) for c, i in failures.items()} == {
        "amount": (1, ("abc",)),
        "created_at": (1, ("garbage",)),
        "close_date": (1, ("2024-13-01",)),
    }


def test_probability_in_percent_is_scaled(deals: Dataset) -> None:
    assert column(deals, "deals", "probability") == [1.0, 0.5, None, 0.0]


def test_unlisted_stage_is_not_reported_without_open_stages(write: Write) -> None:
    config = DEALS_CONFIG.replace(", open: [Contract Sent]", "")
    ds = load(write, config, deals__csv=DEALS)
    assert column(ds, "deals", "status") == ["won", "open", "open", "lost"]
    assert "_unmapped_stage" not in ds.tables["deals"].columns
    assert "stage" not in ds.loads["deals"].unmapped_values


def test_duplicate_keys_keep_the_last_row(write: Write) -> None:
    ds = load(
        write,
        "sources: {accounts: {path: a.csv}}",
        a__csv="account_id,name\nA1,first\nA2,other\nA1,second\n,x\n,y\n",
    )
    assert column(ds, "accounts", "account_id") == ["A2", "A1", None, None]
    assert column(ds, "accounts", "name") == ["other", "second", "x", "y"]
    dropped = ds.loads["accounts"].duplicate_rows
    assert dropped is not None
    assert dropped["name"].to_list() == ["first"]


def test_values_are_read_only_from_the_rows_kept(write: Write) -> None:
    # D1's first row is dropped (a later row has its key) before anything reads the table, so its
    # bad amount, unmapped stage and 0-100 probability count for nothing: S002 reports only D2's
    # amount, and the probabilities left are read on [0, 1] (`auto`)
    ds = load(
        write,
        "sources: {deals: {path: d.csv, values: {status: {won: [Won], open: [Open]}}}}",
        d__csv=(
            "deal_id,stage,amount,probability,close_date\n"
            "D1,Limbo,lots,80,2024-07-01\nD2,Won,soon,1,2024-07-02\nD1,Won,$1,200,0.5,2024-07-03\n"
        ).replace("$1,200", '"$1,200"'),
    )
    load_info = ds.loads["deals"]
    assert {c: (v.count, v.samples) for c, v in load_info.parse_failures.items()} == {
        "amount": (1, ("soon",))
    }
    assert load_info.unmapped_values == {}
    assert column(ds, "deals", "amount") == [None, 1200.0]
    assert column(ds, "deals", "probability") == [1.0, 0.5]
    dropped = load_info.duplicate_rows
    assert dropped is not None
    assert (dropped["deal_id"].to_list(), dropped["amount"].to_list()) == (["D1"], [None])


@pytest.mark.parametrize(
    ("content", "delimiter"),
    [
        (b"\xef\xbb\xbfaccount_id;name\n001;Acme\n", ";"),
        (b"account_id\tname\r\n001\tAcme\r\n", "\t"),
        (b"account_id|name\n001|Acme\n", "|"),
        ("account_id,name\n001,Acme\n".encode("utf-16"), ","),
        # a UTF-32 BOM starts like UTF-16's (FF FE): it was read as UTF-16, its header lost
        ("account_id,name\n001,Acme\n".encode("utf-32"), ","),
        (b"\x00\x00\xfe\xff" + "account_id,name\n001,Acme\n".encode("utf-32-be"), ","),
        (gzip.compress(b"account_id,name\n001,Acme\n"), ","),
    ],
    ids=["bom-semicolon", "tab-crlf", "pipe", "utf16", "utf32", "utf32-be", "gzip"],
)
def test_file_shapes_are_read(write: Write, content: bytes, delimiter: str) -> None:
    ds = load(write, "sources: {accounts: {path: a.csv}}", a__csv=content)
    assert column(ds, "accounts", "account_id") == ["001"]
    assert column(ds, "accounts", "name") == ["Acme"]
    assert ds.loads["accounts"].delimiter == delimiter


def test_quoted_newlines_and_ragged_rows(write: Write) -> None:
    content = 'account_id,name\nA1,"two\nlines"\nA2,b,extra\nA3\n\nA4,"x, y"\nA5,c,d\n'
    ds = load(write, "sources: {accounts: {path: a.csv}}", a__csv=content)
    # data rows: a record over two lines is one row, and a blank line is no row; the ragged
    # ones are reported and not loaded (SCHEMA.md: "the rest of the file loads")
    assert ds.loads["accounts"].ragged_rows == (2, 3, 5)
    assert ds.loads["accounts"].rows == 5
    assert column(ds, "accounts", "account_id") == ["A1", "A4"]
    assert column(ds, "accounts", "name") == ["two\nlines", "x, y"]
    assert column(ds, "accounts", "_row") == [1, 4]


@pytest.mark.parametrize(
    ("content", "ids", "rows", "ragged"),
    [
        # every record whole, quoted delimiters and line ends included: no ragged row
        ('account_id,name\nA1,"x, y"\nA2,"two\nlines"\n', ["A1", "A2"], [1, 2], ()),
        ("account_id,name\nA1,x\nA2,", ["A1", "A2"], [1, 2], ()),  # no last line end
        ("account_id,name\r\nA1,x\r\nA2,y\r\n", ["A1", "A2"], [1, 2], ()),
        # old Mac line ends (Excel's "CSV (Macintosh)"), with an LF inside a quoted cell
        ("account_id,name\rA1,x\rA2,y\r", ["A1", "A2"], [1, 2], ()),
        ('account_id,name\rA1,"Al\nice"\rA2,y\r', ["A1", "A2"], [1, 2], ()),
        # a blank line is no row, and only it breaks the count of delimiters
        ("account_id,name\nA1,x\n\nA2,y\n", ["A1", "A2"], [1, 2], ()),
        # short records only: polars parses the file, the ragged-row pass finds them
        ("account_id,name\nA1\nA2,y\nA3\n", ["A2"], [2], (1, 3)),
        # a record one field long (its extra field empty) and one a field short have the
        # delimiters of two whole records: the strict parse still finds the long one
        ("account_id,name\nA1,x,\nA2\nA3,y\n", ["A3"], [3], (1, 2)),
    ],
    ids=[
        "quoted",
        "no-last-eol",
        "crlf",
        "cr",
        "cr-lf-in-cell",
        "blank",
        "short",
        "long-and-short",
    ],
)
def test_records_are_whole_or_ragged(
    write: Write, content: str, ids: list[str], rows: list[int], ragged: tuple[int, ...]
) -> None:
    ds = load(write, "sources: {accounts: {path: a.csv}}", a__csv=content)
    assert column(ds, "accounts", "account_id") == ids
    assert column(ds, "accounts", "_row") == rows
    assert ds.loads["accounts"].ragged_rows == ragged


def test_a_long_record_is_ragged_when_its_column_is_not_read(write: Write) -> None:
    # the metrics leave columns unread: the field count is still checked on every record
    path = write("a.csv", "account_id,name,domain\nA1,x,a.example\nA2,y\nA3,z,c.example,\n")
    raw = read_raw(path, None, "utf-8", lambda headers: ["account_id"])
    assert raw is not None
    assert raw.ragged_rows == (2, 3)
    assert raw.frame.columns == ["_row", "account_id"]
    assert raw.frame["account_id"].to_list() == ["A1"]


@pytest.mark.parametrize("keys", [99_999, 90_000])
def test_a_big_table_is_contiguous_without_its_repeated_rows(write: Write, keys: int) -> None:
    # 100,000 rows parse in several chunks; the rules need one (polars 2.1 can panic on
    # string views split differently per column). The keys A0.. repeat once 100,000 - `keys`
    # times: the kept rows are cut out as slices when few repeat (1), else filtered (10,000)
    rows = "".join(f"A{i % keys},name {i},2024-01-{i % 28 + 1:02d}\n" for i in range(100_000))
    ds = load(
        write, "sources: {accounts: {path: a.csv}}", a__csv="account_id,name,created_at\n" + rows
    )
    frame = ds.table("accounts")
    assert frame is not None
    assert {c: frame[c].n_chunks() for c in frame.columns} == dict.fromkeys(frame.columns, 1)
    assert frame.height == keys  # a repeated key's first row is dropped, its last one kept
    assert frame.filter(pl.col("account_id") == "A0")["name"].to_list() == [f"name {keys}"]
    assert frame["_row"].to_list() == list(range(100_001 - keys, 100_001))
    duplicates = ds.loads["accounts"].duplicate_rows
    assert duplicates is not None
    assert duplicates["_row"].to_list() == list(range(1, 100_001 - keys))
    assert {c: duplicates[c].n_chunks() for c in frame.columns} == dict.fromkeys(frame.columns, 1)


@pytest.mark.parametrize("name", ["deals[1].csv", "deals*.csv", "deals?.csv"])
def test_a_file_name_with_glob_characters_is_that_file(write: Write, name: str) -> None:
    # plain files are read by polars from their path: it must not expand a pattern
    write("deals1.csv", "account_id,name\nWRONG,other file\n")
    ds = load(
        write,
        f"sources: {{accounts: {{path: '{name}'}}}}",
        **{name: "account_id,name\nA1,x,y\nA2,b\n"},
    )
    assert column(ds, "accounts", "account_id") == ["A2"]
    assert ds.loads["accounts"].ragged_rows == (1,)


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
@pytest.mark.parametrize("end", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_an_excel_sep_line_names_the_delimiter_and_is_no_header(
    write: Write, prefix: bytes, end: bytes
) -> None:
    # a European Excel writes `sep=;` first: the header is the line after it
    rows = [b"sep=;", b"account_id;name", b"A1;Acme, Inc", b"A2;Beta"]
    ds = load(write, "sources: {accounts: {path: a.csv}}", a__csv=prefix + end.join(rows) + end)
    assert column(ds, "accounts", "name") == ["Acme, Inc", "Beta"]
    assert column(ds, "accounts", "_row") == [1, 2]
    assert ds.loads["accounts"].delimiter == ";"


def test_utf32_without_a_bom_is_not_taken_for_utf16(write: Write) -> None:
    # its NULs sit on both sides of each ASCII character: no UTF-16 hint, a binary file
    path = write("a.csv", "account_id,name\nA1,x\n".encode("utf-32-le"))
    with pytest.raises(InputError) as caught:
        load(write, "sources: {accounts: {path: a.csv}}")
    assert caught.value.one_line().startswith(f"{path}: is a binary file, not CSV text")


def test_a_one_column_file_is_read_by_polars_not_line_by_line(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the strict parse is not tried on one column, so its not failing says nothing: the file
    # must not go to the csv module's row-by-row reading (slow on a big export)
    def refuse(*args: object) -> None:
        raise AssertionError("read line by line")

    monkeypatch.setattr("revops_cli.load.reader._parse_leniently", refuse)
    ds = load(write, "sources: {owners: {path: o.csv}}", o__csv="owner_id\nO1\nO2\n")
    assert column(ds, "owners", "owner_id") == ["O1", "O2"]


def test_ragged_rows_are_found_in_a_text_holding_every_line_cell_separator(write: Write) -> None:
    # the ragged-row pass reads each line as one cell, split on a control character the text
    # lacks; with all of them in the text it cannot run, so the csv module reads the file
    odd = "\x1f\x1e\x1d\x1c\x01\x02\x03"
    content = f"owner_id,name,team\nO1,a{odd}b,East\nO2,b,West,extra\nO3,c\nO4,d,North\n"
    ds = load(write, "sources: {owners: {path: o.csv}}", o__csv=content)
    assert ds.loads["owners"].ragged_rows == (2, 3)
    assert column(ds, "owners", "owner_id") == ["O1", "O4"]


@pytest.mark.parametrize("name", [' "Acme, Inc"', 'Acme "Best, Inc" Ltd'])
@pytest.mark.parametrize("longer", ["", "D3,Gamma,300,won,extra\n"], ids=["alone", "with-longer"])
def test_a_quote_inside_a_field_is_text_and_its_delimiter_counts(
    write: Write, name: str, longer: str
) -> None:
    # polars and the csv module read five fields: the record is ragged (S002), never loaded
    # with its values shifted (the stage read from the amount, the amount from ' Inc"'), also
    # when another record of the file is longer indeed
    content = f"deal_id,name,amount,stage\nD1,{name},100,won\nD2,Beta,200,won\n{longer}"
    ds = load(write, "sources: {deals: {path: d.csv}}", d__csv=content)
    assert column(ds, "deals", "deal_id") == ["D2"]
    assert ds.loads["deals"].ragged_rows == ((1, 3) if longer else (1,))


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf", b"\n\n"], ids=["plain", "bom", "blank"])
def test_plain_and_converted_files_load_alike(write: Write, prefix: bytes) -> None:
    # a plain file is read from its path, one with a BOM or leading blank lines from its bytes
    content = prefix + b'account_id,name\nA1,"two\nlines"\nA2,b,extra\n\nA4,"x, y"\n'
    ds = load(write, "sources: {accounts: {path: a.csv}}", a__csv=content)
    assert column(ds, "accounts", "account_id") == ["A1", "A4"]
    assert column(ds, "accounts", "name") == ["two\nlines", "x, y"]
    assert column(ds, "accounts", "_row") == [1, 3]
    assert ds.loads["accounts"].ragged_rows == (2,)


def test_cp1252_with_the_encoding_option(write: Write) -> None:
    content = "account_id,name\n1,Müller €\n".encode("cp1252")
    config = "sources: {accounts: {path: a.csv, encoding: cp1252}}"
    assert column(load(write, config, a__csv=content), "accounts", "name") == ["Müller €"]


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"account_id,n\xfcme\n1,ok\n", "the header"),
        (b'account_id,name\n1,"two\nlines\nhere"\n2,M\xfcller\n', "row 2"),  # quoted breaks
        (b"account_id,name\n1,ok\n\n\n2,M\xfcller\n", "row 2"),  # blank lines are no rows
        (b"\n\naccount_id,name\n1,ok\n2,M\xfcller\n", "row 2"),  # nor before the header
        (b"account_id,name\n1,ok\n\xfc2,x\n", "row 2"),  # the bad byte opens its row
        (b'account_id,name\n1,ok\n2,"Ann\n\xfcSmith"\n', "row 2"),  # opens a quoted line
    ],
    ids=["header", "quoted-breaks", "blank-between", "blank-before", "row-start", "quoted-line"],
)
def test_a_decode_error_names_the_data_row(write: Write, content: bytes, where: str) -> None:
    path = write("a.csv", content)
    with pytest.raises(InputError) as caught:
        load(write, "sources: {accounts: {path: a.csv}}")
    assert caught.value.one_line().startswith(f"{path}: {where} is not valid utf-8 (byte 0xfc)")


def test_a_decode_error_after_an_excel_sep_line_counts_data_rows(write: Write) -> None:
    path = write("a.csv", b"sep=;\naccount_id;name\n1;ok\n2;M\xe9ller\n")
    with pytest.raises(InputError) as caught:
        load(write, "sources: {accounts: {path: a.csv, encoding: ascii}}")
    assert caught.value.one_line().startswith(f"{path}: row 2 is not valid ascii (byte 0xe9)")


def test_undecodable_file_names_the_line_and_the_option(write: Write) -> None:
    path = write("a.csv", "account_id,name\n1,ok\n2,Müller\n".encode("latin-1"))
    with pytest.raises(InputError) as caught:
        load(write, "sources: {accounts: {path: a.csv}}")
    assert caught.value.one_line() == (
        f"{path}: row 2 is not valid utf-8 (byte 0xfc) (set `encoding:` for this "
        "source in the config (for example cp1252 or latin-1))"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04\x14\x00", "is an Excel workbook or zip archive, not CSV"),
        (b"\x00\x01\x02binary", "is a binary file, not CSV text"),
    ],
)
def test_files_that_are_not_csv(write: Write, content: bytes, message: str) -> None:
    path = write("a.csv", content)
    with pytest.raises(InputError) as caught:
        load(write, "sources: {accounts: {path: a.csv}}")
    assert caught.value.one_line() == (
        f"{path}: {message} (export the data as CSV (File > Save as > CSV UTF-8))"
    )


@pytest.mark.parametrize("order", ["le", "be"])
def test_utf16_without_a_byte_order_mark_names_the_encoding_to_set(
    write: Write, order: str
) -> None:
    # text, not a binary file: `encoding: utf-16-le` (or -be) reads it
    # the header is ASCII, the names Cyrillic and Japanese: few of their bytes are NUL
    text = "account_id,name\nA1,Müller\n" + "".join(f"A{i},Мюллер 日本\n" for i in range(2, 60))
    path = write("a.csv", text.encode(f"utf-16-{order}"))
    with pytest.raises(InputError) as caught:
        load(write, "sources: {accounts: {path: a.csv}}")
    assert caught.value.one_line() == (
        f"{path}: looks like UTF-16 text without a byte order mark (set `encoding: "
        f"utf-16-{order}` for this source in the config)"
    )
    config = f"sources: {{accounts: {{path: a.csv, encoding: utf-16-{order}}}}}"
    assert column(load(write, config), "accounts", "name")[:2] == ["Müller", "Мюллер 日本"]


@pytest.mark.parametrize("content", [b"", b"account_id,name\n", b"\n\n"])
def test_empty_files_are_not_loaded(write: Write, content: bytes) -> None:
    ds = load(write, "sources: {accounts: {path: a.csv}}", a__csv=content)
    assert ds.table("accounts") is None
    assert (ds.loads["accounts"].loaded, ds.loads["accounts"].rows) == (False, 0)


def test_a_quoted_empty_record_is_a_row_also_where_python_reads_the_file(write: Write) -> None:
    # the record longer than the header sends the file to the csv module, which took the '""'
    # record for a blank line and numbered the rows after it one lower
    ds = load(write, "sources: {leads: {path: l.csv}}", l__csv='lead_id,email\nL1,a\n""\nL4,z,x\n')
    assert ds.loads["leads"].ragged_rows == (2, 3)


def test_a_header_cell_may_hold_a_quoted_line_break(write: Write) -> None:
    # the header was read to its first line end: every row was ragged and none loaded
    text = '"deal_id","Deal\nName",amount\r\nD1,x,100\r\nD2,"y, z",200\r\n'
    ds = load(write, "sources: {deals: {path: d.csv}}", d__csv=text)
    assert ds.loads["deals"].ragged_rows == ()
    assert ds.loads["deals"].unmapped_headers == ("Deal\nName",)
    assert column(ds, "deals", "amount") == [100.0, 200.0]
    assert read_headers(write("d.csv", text), None, "utf-8") == ("deal_id", "Deal\nName", "amount")
    # the delimiter is sniffed on the whole header record ("Deal has none outside quotes)
    semi = '"Deal\nID";deal_id;amount\nX;D1;100\nX;D2\n'
    ds = load(write, "sources: {deals: {path: s.csv}}", s__csv=semi)
    assert (ds.loads["deals"].delimiter, ds.loads["deals"].ragged_rows) == (";", (2,))
    assert read_headers(write("s.csv", semi), None, "utf-8") == ("Deal\nID", "deal_id", "amount")
    # a header-only file without a final line end
    assert read_headers(write("h.csv", '"Deal\nName",deal_id'), None, "utf-8") == (
        "Deal\nName",
        "deal_id",
    )
    # a quote inside a header cell opens nothing
    assert read_headers(write("e.csv", 'id,5" size,name\n1,a,b\n'), None, "utf-8") == (
        "id",
        '5" size',
        "name",
    )


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_headers_keep_characters_that_hold_a_cr_byte(write: Write, codec: str) -> None:
    # č is U+010D and 不 U+4E0D: a 0x0D byte in UTF-16 was taken for a bare CR line end before
    # the header was decoded, and `init` and the config hints showed 'PoĊet' and '上含税金额'
    for end in ("\r\n", "\r"):
        text = f"\ufeffdeal_id,Počet,不含税金额{end}D1,2,3{end}"
        assert read_headers(write("d.csv", text.encode(codec)), None, "utf-8") == (
            "deal_id",
            "Počet",
            "不含税金额",
        )


def test_duplicate_headers_use_the_first(write: Write) -> None:
    ds = load(write, "sources: {accounts: {path: a.csv}}", a__csv="account_id,name,name\n1,a,b\n")
    assert column(ds, "accounts", "name") == ["a"]
    assert ds.loads["accounts"].duplicate_headers == ("name",)


def test_mapped_header_missing_from_file(write: Write) -> None:
    config = "sources: {accounts: {path: a.csv, columns: {domain: Website}}}"
    ds = load(write, config, a__csv="account_id,Name,Extra\n1,a,b\n")
    load_ = ds.loads["accounts"]
    assert load_.missing_headers == ("domain",)
    assert load_.columns == {"account_id": "account_id", "name": "Name"}
    assert load_.unmapped_headers == ("Extra",)
    assert "domain" not in ds.tables["accounts"].columns


PIPEDRIVE_DEALS_WITHOUT_ID = (
    "Deal - Title,Deal - Status,Deal - Stage,Deal - Value,Organization - ID,Person - ID\n"
    "Big,Won,Closed,100,11,7\n"
    "Small,Open,Demo,50,11,8\n"
)


def test_another_objects_prefixed_header_is_never_the_tables_own(write: Write) -> None:
    # "Deal - ID" and "Organization - ID" both normalise to "id"; the organization's id keyed
    # the deals (two deals of one organization became one)
    explicit = "sources: {deals: {path: d.csv, columns: {deal_id: Deal - ID}}}"
    ds = load(write, explicit, d__csv=PIPEDRIVE_DEALS_WITHOUT_ID)
    assert ds.table("deals") is None
    assert ds.loads["deals"].missing_headers == ("deal_id",)
    ds = load(write, "sources: {deals: {path: d.csv, preset: pipedrive-deals}}")
    assert ds.table("deals") is None
    assert ds.loads["deals"].missing_headers == ("deal_id",)
    assert "account_id" not in ds.loads["deals"].columns  # "Deal - Organization ID" is not it


def test_a_table_of_no_pipedrive_object_takes_any_prefix(write: Write) -> None:
    config = """
    sources:
      deal_stage_history:
        path: h.csv
        columns: {deal_id: ID, stage: Stage, entered_at: Last stage change}
      customers: {path: c.csv, columns: {customer_id: ID, name: Name}}
      accounts: {path: a.csv, columns: {account_id: Org - ID}}
    """
    ds = load(
        write,
        config,
        h__csv="Deal - ID,Deal - Stage,Deal - Last stage change\nD1,Demo,2024-01-01\n",
        c__csv="Organization - ID,Organization - Name\n7,Acme\n",
        a__csv="Organization - ID,Organization - Name\n7,Acme\n",
    )
    assert ds.loads["deal_stage_history"].columns["deal_id"] == "Deal - ID"
    assert ds.loads["customers"].columns == {
        "customer_id": "Organization - ID",
        "name": "Organization - Name",
    }
    assert ds.loads["accounts"].columns["account_id"] == "Organization - ID"  # Org is Organization


def test_a_prefixed_header_matches_its_bare_spelling_in_its_own_table(write: Write) -> None:
    config = "sources: {deals: {path: d.csv, columns: {deal_id: Deal - ID, amount: Value}}}"
    ds = load(write, config, d__csv="ID,Deal - Value,Person - Name\n5,100,Ann\n")
    assert ds.loads["deals"].columns == {"deal_id": "ID", "amount": "Deal - Value"}
    assert ds.loads["deals"].unmapped_headers == ("Person - Name",)  # not the deal's name


def test_an_amount_mapped_by_the_config_is_read_with_its_own_pairs_currency(write: Write) -> None:
    # HubSpot exports the deal's amount and currency, and the company-currency pair; the config
    # picks the company-currency amount, which took the deal's currency and was converted again
    header = "Record ID,Deal Stage,Amount,Currency,Amount in company currency"
    config = """
currency: {base: USD, rates: {EUR: 1.1, GBP: 1.25}}
sources:
  deals:
    path: d.csv
    preset: hubspot-deals
    columns: {amount: "Amount in company currency"}
"""
    rows = "1,Closed Won,1000,EUR,1100,USD\n2,Closed Won,1000,GBP,1250,USD\n"
    ds = load(write, config, d__csv=f"{header},Currency in company currency\n{rows}")
    assert ds.loads["deals"].columns["currency"] == "Currency in company currency"
    assert column(ds, "deals", "amount") == [1100.0, 1250.0]
    # without the company currency's column, the amount is in the base currency
    ds = load(write, config, d__csv=header + "\n" + rows.replace(",USD", ""))
    assert "currency" not in ds.loads["deals"].columns
    assert column(ds, "deals", "amount") == [1100.0, 1250.0]
    # the config naming the deal's own amount keeps the deal's currency
    ds = load(write, config.replace(" in company currency", ""))
    assert ds.loads["deals"].columns["currency"] == "Currency"
    assert column(ds, "deals", "amount") == [1100.0, 1250.0]
    # the pair whose partner is present wins: "amount" folds onto the first pair's "Amount",
    # whose "Currency" an export of internal names lacks
    internal = "hs_object_id,dealstage,amount,deal_currency_code\n1,closedwon,1000,EUR\n"
    ds = load(write, config.replace(" in company currency", ""), d__csv=internal)
    assert ds.loads["deals"].columns["currency"] == "deal_currency_code"
    assert column(ds, "deals", "amount") == [1100.0]


def test_missing_key_header_leaves_the_table_unloaded(write: Write) -> None:
    config = "sources: {accounts: {path: a.csv, columns: {account_id: Id}}}"
    ds = load(write, config, a__csv="name\nAcme\n")
    assert ds.table("accounts") is None
    assert ds.loads["accounts"].missing_headers == ("account_id",)
    assert ds.loads["accounts"].rows == 1


def test_required_column_unmapped_is_a_config_error(write: Write) -> None:
    write("s.csv", "id,customer\n1,c\n")
    path = write("revops.yaml", "sources: {subscriptions: {path: s.csv}}")
    with pytest.raises(ConfigError) as caught:
        load_dataset(load_config(path), AS_OF)
    assert caught.value.problems == tuple(
        f"{path}: sources.subscriptions.columns.{c}: required column is not mapped and the file "
        f"has no '{c}' header (add `{c}: <header>` under sources.subscriptions.columns{hint})"
        for c, hint in (
            ("subscription_id", ""),
            ("customer_id", "; did you mean 'customer'?"),
            ("start_date", ""),
        )
    )


@pytest.mark.parametrize(
    ("header", "delimiter", "hint"),
    [
        # a wrong delimiter (or encoding) reads the header row as one column: the message had
        # blamed the column mapping alone
        (
            "deal_id;amount",
            ",",
            "; the header row was read as one column, 'deal_id;amount': set `delimiter:` or "
            "`encoding:` for this source if it has more",
        ),
        ("dealid,amount", None, "; did you mean 'dealid'?"),
        ("dealid", None, "; did you mean 'dealid'?"),  # a near miss, not a delimiter
        (
            "deal_id amount",  # separated by spaces: close to deal_id, but not a near miss
            None,
            "; the header row was read as one column, 'deal_id amount': set `delimiter:` or "
            "`encoding:` for this source if it has more",
        ),
        ("id,amount", None, ""),
    ],
)
def test_a_required_column_error_says_what_the_header_row_suggests(
    write: Write, header: str, delimiter: str | None, hint: str
) -> None:
    write("d.csv", f"{header}\nD1,5\n")
    option = f", delimiter: '{delimiter}'" if delimiter else ""
    path = write("revops.yaml", f"sources: {{deals: {{path: d.csv{option}}}}}")
    with pytest.raises(ConfigError) as caught:
        load_dataset(load_config(path), AS_OF)
    assert caught.value.problems == (
        f"{path}: sources.deals.columns.deal_id: required column is not mapped and the file has "
        f"no 'deal_id' header (add `deal_id: <header>` under sources.deals.columns{hint})",
    )


SUBSCRIPTIONS = """\
subscription_id,customer_id,amount,currency,interval,interval_count,quantity,start_date,end_date
annual,c1,1200,USD,year,,1,2024-01-01,2024-12-31
eur,c2,50,eur,month,1,2,2024-01-01,
weekly,c3,25,,week,,,2024-01-01,
quarterly,c4,270,USD,quarter,,,2024-01-01,
six-months,c5,600,USD,month,6,,2024-01-01,
metered,c6,10,USD,fortnight,1,1,2024-01-01,
negative,c7,10,USD,month,1,-1,2024-01-01,
"""


def test_mrr_is_normalised_to_a_month(write: Write) -> None:
    # METRICS §1.5.3 examples: annual 1,200 -> 100; 50 EUR x 2 at 1.10 -> 110; weekly 25 x 52/12 ->
    # 108.33; quarterly 270 -> 90; every 6 months 600 -> 100; unknown interval and negative
    # quantity -> excluded.
    config = """
    currency: {base: USD, rates: {EUR: 1.10}}
    sources: {subscriptions: {path: s.csv}}
    metrics: {subscriptions: {end_date_inclusive: true}}
    """
    ds = load(write, config, s__csv=SUBSCRIPTIONS)
    mrr = column(ds, "subscriptions", "mrr")
    assert mrr[:5] == pytest.approx([100.0, 110.0, 25 * 52 / 12, 90.0, 100.0])
    assert mrr[5:] == [None, None]
    assert column(ds, "subscriptions", "interval")[5] is None
    assert ds.loads["subscriptions"].unmapped_values["interval"].samples == ("fortnight",)
    assert column(ds, "subscriptions", "end_date")[0] == date(2025, 1, 1)
    assert column(ds, "subscriptions", "status") == ["active"] * 7


def test_the_base_currency_converts_at_1_whatever_the_rates_say(write: Write) -> None:
    # METRICS §1.4: "Reporting currency = 1"; a rate the config gives the base is not used
    config = """
    currency: {base: USD, rates: {usd: 2, EUR: 1.10}}
    sources: {deals: {path: d.csv}}
    """
    content = "deal_id,amount,currency\nd1,100,USD\nd2,100,EUR\nd3,100,\n"
    ds = load(write, config, d__csv=content)
    assert column(ds, "deals", "amount") == pytest.approx([100.0, 110.0, 100.0])


def test_mrr_column_wins_under_auto_and_divisor_applies(write: Write) -> None:
    config = """
    sources:
      subscriptions: {path: s.csv, amount_divisor: 100}
    """
    content = "subscription_id,customer_id,amount,interval,mrr,start_date\n"
    content += "s1,c1,120000,year,5000,2024-01-01\ns2,c2,120000,year,,2024-01-01\n"
    ds = load(write, config, s__csv=content)
    assert column(ds, "subscriptions", "mrr") == [50.0, 100.0]
    assert column(ds, "subscriptions", "amount") == [1200.0, 1200.0]


def test_multi_value_ids_and_empty_booleans(write: Write) -> None:
    config = """
    sources:
      owners: {path: o.csv, empty_bool: false}
      leads: {path: l.csv, multi_value: first}
    """
    ds = load(
        write,
        config,
        o__csv="owner_id,is_active\n1,1\n2,\n3,no\n",
        l__csv="lead_id,account_id\nL1,123;456\nL2,789\nL3,;456\nL4, ; 12 ;3\nL5,;\nL6,\n",
    )
    assert column(ds, "owners", "is_active") == [True, False, False]
    # the first id that is there: an empty first piece is skipped
    assert column(ds, "leads", "account_id") == ["123", "789", "456", "12", None, None]


def test_datetimes_follow_the_configured_time_zone(write: Write) -> None:
    config = "sources: {leads: {path: l.csv}}\nmetrics: {timezone: Europe/Berlin}"
    ds = load(write, config, l__csv="lead_id,created_at\nL1,2024-07-01 10:00:00\n")
    assert column(ds, "leads", "created_at") == [datetime(2024, 7, 1, 8, 0, tzinfo=UTC)]


def test_a_day_whose_midnight_the_clock_skips_still_loads(write: Write) -> None:
    # Santiago springs forward at midnight on 2024-09-08: the fast path leaves that day, and the
    # general parser reads it with the offset before the gap (-04:00), not as an S002 failure
    config = "sources: {leads: {path: l.csv}}\nmetrics: {timezone: America/Santiago}"
    rows = "lead_id,created_at\nL1,2024-09-07\nL2,2024-09-08\nL3,2024-09-09\n"
    ds = load(write, config, l__csv=rows)
    assert column(ds, "leads", "created_at") == [
        datetime(2024, 9, 7, 4, 0, tzinfo=UTC),
        datetime(2024, 9, 8, 4, 0, tzinfo=UTC),
        datetime(2024, 9, 9, 3, 0, tzinfo=UTC),
    ]
    assert ds.loads["leads"].parse_failures == {}


@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "0a", " a"])), max_size=30))
def test_repeated_marks_every_row_but_the_last_of_each_key_and_no_null(
    keys: list[str | None],
) -> None:
    frame = pl.DataFrame(
        {"_row": range(1, len(keys) + 1), "id": keys}, schema_overrides={"id": pl.String}
    )
    marked = _repeated(frame, "id")
    last = {key: i for i, key in enumerate(keys, start=1) if key is not None}
    expected = [i for i, key in enumerate(keys, start=1) if key is not None and last[key] != i]
    assert (frame.filter(marked)["_row"].to_list() if marked is not None else []) == expected
    assert marked is None or marked.any()  # None, not an all-false mask, when nothing repeats


def test_small_files_loaded_two_at_a_time_give_the_same_dataset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = load_config(Path(__file__).parent.parent / "config.example.yaml")
    together = load_dataset(config, AS_OF)
    monkeypatch.setattr("revops_cli.load.dataset.SMALL_BYTES", 0)  # one table at a time
    alone = load_dataset(config, AS_OF)
    assert list(together.tables) == list(alone.tables)
    for name, frame in alone.tables.items():
        assert together.tables[name].equals(frame), name
    for name, load in alone.loads.items():
        other = together.loads[name]
        assert replace(other, duplicate_rows=None) == replace(load, duplicate_rows=None), name
        if load.duplicate_rows is not None:
            assert other.duplicate_rows is not None
            assert other.duplicate_rows.equals(load.duplicate_rows), name


def test_with_two_unreadable_files_the_first_configured_one_is_reported(write: Write) -> None:
    write("b.csv", b"PK\x03\x04 not a csv")
    write("a.csv", b"\x00\x01\x02 binary")
    config = "sources: {accounts: {path: a.csv}, deals: {path: b.csv}}"
    with pytest.raises(InputError) as caught:
        load(write, config)
    assert "a.csv: is a binary file, not CSV" in caught.value.one_line()


def test_a_key_missing_from_the_header_leaves_the_table_unloaded(write: Write) -> None:
    # SCHEMA.md: "without its key the table counts as not loaded"
    config = "sources:\n  accounts: {path: a.csv, columns: {account_id: aid}}\n"
    ds = load(write, config, a__csv="name,segment\nAcme,smb\n")
    assert "accounts" not in ds.tables
    assert ds.loads["accounts"].missing_headers == ("account_id",)


def test_subscriptions_without_their_record_id_header_still_load(write: Write) -> None:
    # D14: subscriptions have no key (SCHEMA marks none with `*`); subscription_id is only their
    # record id. Its header missing is S001, the rules that read it are skipped, and the MRR,
    # which does not read it, is computed: C1 pays 100 from January, C2 50 from 15 August, so
    # 2024-Q3 opens at 100 (30 June) and closes at 150 (30 September), 50 of it new.
    # It had left the whole table unloaded, and every MRR metric missing_table:subscriptions.
    from revops_cli.checks import RULES, run_rules
    from revops_cli.metrics import compute_metrics

    config = "sources:\n  subscriptions: {path: t.csv, columns: {subscription_id: sid}}\n"
    subs = "customer_id,plan,amount,interval,start_date,end_date,status\n"
    subs += "C1,Pro,100,month,2024-01-01,,active\nC2,Pro,50,month,2024-08-15,,on hold\n"
    ds = load(write, config, t__csv=subs)
    assert ds.loads["subscriptions"].missing_headers == ("subscription_id",)
    assert "subscription_id" not in column_names(ds, "subscriptions")
    report = run_rules(ds, list(RULES.values()))
    # each row is a record of its own, named by its row (CHECKS.md `table:row N`): S005 still
    # flags C2's unknown status ('on hold' counts as the default, active)
    assert report.records.select("code", "record_id").rows() == [
        ("S001", "subscriptions.subscription_id"),
        ("S005", "subscriptions:row 2"),
    ]
    reasons = {r.code: (r.status.value, r.reason) for r in report.rules}
    # they read no subscription_id: each row is a record (B004 pairs C1's and C2's: no overlap)
    assert (reasons["B001"], reasons["B004"]) == (("pass", None), ("pass", None))
    values = {m.key: m.current.value for m in compute_metrics(ds, "2024-Q3").metrics}
    assert (values["mrr_start"], values["mrr"], values["new_mrr"]) == (100.0, 150.0, 50.0)


@pytest.mark.parametrize(
    ("table", "mapped", "header", "skipped"),
    [
        # the stage history has no key: it loads, and D004 goes by the deal's age, as without
        # a history (it had crashed, then was skipped)
        (
            "deal_stage_history",
            "deal_id: Opp",
            "stage,entered_at\nProposal,2024-07-01\n",
            {"D004": "skipped parts: missing_column:deal_stage_history.deal_id"},
        ),
        # invoice_id is there: the invoices load, I006 and I007 cannot link them to customers
        (
            "invoices",
            "customer_id: cust",
            "invoice_id,amount,status,paid_at\nI1,100,paid,\n",
            {"I006": "missing_column:invoices.customer_id"},
        ),
        # a vocabulary column: its default ('new') stood in for the export's values, and L001
        # flagged every lead as an untouched open one
        (
            "leads",
            "status: Lead Status",
            "lead_id,created_at,last_activity_at\nL1,2020-01-01,\n",
            {
                "L001": "missing_column:leads.status",
                "L002": "missing_column:leads.status",
            },
        ),
        # the status comes from the stage: without the stage, no deal is open, won or lost
        (
            "deals",
            "stage: Deal Stage",
            "deal_id,created_at,close_date,last_activity_at\nD9,2020-01-01,2020-02-01,\n",
            {
                "D002": "missing_column:deals.stage",
                "D003": "missing_column:deals.stage",
            },
        ),
    ],
)
def test_another_column_missing_from_the_header_skips_what_reads_it(
    write: Write, table: str, mapped: str, header: str, skipped: dict[str, str]
) -> None:
    # CHECKS.md S001: "the table (if it is the key) or the rules needing that column are
    # skipped"; the table was left unloaded before, and every rule on it skipped
    from revops_cli.checks import RULES, run_rules
    from revops_cli.results import RuleState

    config = f"sources:\n  {table}: {{path: t.csv, columns: {{{mapped}}}}}\n"
    config += "  deals: {path: d.csv}\n" if table != "deals" else ""
    deals = "deal_id,stage,status,created_at\nD1,Proposal,open,2024-01-01\n"
    ds = load(write, config, t__csv=header, d__csv=deals)
    assert table in ds.tables
    assert ds.loads[table].missing_headers == (mapped.split(":")[0],)
    report = run_rules(ds, list(RULES.values()))
    assert [r.code for r in report.rules if r.status is RuleState.ERROR] == []
    reasons = {r.code: r.reason for r in report.rules if r.code in skipped}
    assert reasons == skipped
    flagged = report.records.select("code", "record_id").rows()
    assert ("S001", f"{table}.{mapped.split(':')[0]}") in flagged
    if table == "invoices":  # B003 still runs on the invoices: paid without paid_at
        assert ("B003", "I1") in flagged
    if table == "deal_stage_history":
        assert ("D004", "D1") in flagged


def test_headers_polars_would_read_as_patterns_are_read_literally(write: Write) -> None:
    # a header named `_row` collided with the row number, and `*` and `^...$` were polars'
    # wildcard and regex: exit 3, or `name` read from the amount column
    config = """
    sources:
      deals:
        path: deals.csv
        columns: {deal_id: _row, name: "^amount$", forecast_category: "*", owner_id: "^$"}
    """
    text = "_row,^amount$,*,^$,amount\nD1,Acme,commit,U1,100\nD2,Beta,best_case,U2,200\n"
    ds = load(write, config, **{"deals.csv": text})
    assert column(ds, "deals", "deal_id") == ["D1", "D2"]
    assert column(ds, "deals", "name") == ["Acme", "Beta"]
    assert column(ds, "deals", "forecast_category") == ["commit", "best_case"]
    assert column(ds, "deals", "owner_id") == ["U1", "U2"]
    assert column(ds, "deals", "amount") == [100.0, 200.0]
