"""Config parsing and validation: every problem reported at once, word for word."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from revops_cli.config import find_config, load_config
from revops_cli.errors import ConfigError

Write = Callable[[str, str | bytes], Path]


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return list(caught.value.problems or (caught.value.one_line(),))


def rule_problems(path: Path) -> list[str]:
    """The problems of a config checked with the rule catalogue, as the CLI checks it."""
    from revops_cli.checks import rule_catalog

    with pytest.raises(ConfigError) as caught:
        load_config(path, rule_catalog())
    return list(caught.value.problems)


def test_a_valid_config_is_read_with_defaults(write: Write) -> None:
    write("deals.csv", "deal_id\n1\n")
    path = write(
        "revops.yaml",
        """
        version: 1
        currency: {base: usd, rates: {eur: 1.08}}
        sources:
          deals:
            path: deals.csv
            delimiter: semicolon
            date_format: "%d/%m/%Y"
            amount_divisor: 100
        """,
    )
    config = load_config(path)
    deals = config.sources["deals"]
    assert config.currency.base == "USD"
    assert config.currency.rates == {"EUR": 1.08}
    assert deals.delimiter == ";"
    assert deals.date_format == ("%d/%m/%Y",)
    assert deals.amount_divisor == 100
    assert deals.encoding == "utf-8"
    assert config.source_path("deals") == path.parent / "deals.csv"
    assert config.metrics.timezone == "UTC"
    assert config.rules.select == ("ALL",)
    assert config.link_by_domain is True


def test_three_mistakes_are_reported_together(write: Write) -> None:
    write("deals.csv", "deal_id\n1\n")
    path = write(
        "bad.yaml",
        """
        version: 1
        sources:
          dealz: {path: deals.csv}
          leads:
            path: missing.csv
            columns: {lead_idd: "Lead ID"}
        """,
    )
    assert problems(path) == [
        f"{path}: sources.dealz: unknown table 'dealz' (did you mean 'deals'?)",
        f"{path}: sources.leads.path: file not found: {path.parent / 'missing.csv'} "
        "(paths are relative to the config file)",
        f"{path}: sources.leads.columns.lead_idd: unknown column 'lead_idd' of table leads "
        "(did you mean 'lead_id'?)",
    ]


def test_an_empty_source_path_names_the_key(write: Write) -> None:
    # '' is the current folder to pathlib: it was read as "'.': is a folder" without the key
    path = write("revops.yaml", 'version: 1\nsources:\n  deals: {path: " "}\n')
    assert problems(path) == [
        f"{path}: sources.deals.path: is empty (give the path of the export file)"
    ]


def test_wrong_shapes_are_named_in_the_config_words_once(write: Write) -> None:
    write("owners.csv", "owner_id\nO1\n")
    path = write(
        "revops.yaml",
        "version: 1\nsources:\n  owners: owners.csv\nrules:\n  select: D001\n  settings: [1]\n",
    )
    assert problems(path) == [
        f"{path}: sources.owners: must be a mapping with at least `path`",
        f"{path}: rules.select: must be a list such as [A, B] (got 'D001')",
        f"{path}: rules.settings: must be a mapping of keys to values (got [1])",
    ]


def test_rates_and_divisors_are_bounded(write: Write) -> None:
    # a rate of 1e308 or a divisor of 1e-300 made money overflow to inf in every sum
    write("deals.csv", "deal_id\nD1\n")
    path = write(
        "revops.yaml",
        "currency: {rates: {EUR: 1e308}}\n"
        "sources:\n  deals: {path: deals.csv, amount_divisor: 1e-300}\n",
    )
    assert problems(path) == [
        f"{path}: currency.rates.EUR: must be less than or equal to 1000000000 (got '1e308')",
        f"{path}: sources.deals.amount_divisor: must be greater than or equal to 0.000000001"
        " (got '1e-300')",
    ]


def test_true_or_false_is_no_number(write: Write) -> None:
    # pydantic reads true as 1: a fiscal year starting in January, a lookback of one month
    write("deals.csv", "deal_id\nD1\n")
    path = write(
        "revops.yaml",
        "fiscal_year_start_month: true\ncurrency: {rates: {EUR: false}}\n"
        "metrics: {churn: {ltv_lookback_months: true}}\nsources:\n  deals: {path: deals.csv}\n",
    )
    assert problems(path) == [
        f"{path}: fiscal_year_start_month: must be a number, not true",
        f"{path}: currency.rates.EUR: must be a number, not false",
        f"{path}: metrics.churn.ltv_lookback_months: must be a number, not true",
    ]


def test_a_section_left_empty_reads_as_its_defaults(write: Write) -> None:
    # every line under `metrics:` and `rules:` commented out: YAML reads null there
    write("owners.csv", "owner_id\nO1\n")
    text = "version: 1\nsources:\n  owners:\n    path: owners.csv\n    columns:\nrules:\n"
    text += "metrics:\n  mrr:\n  # timezone: UTC\n"
    config = load_config(write("revops.yaml", text))
    assert config.rules.select == ("ALL",)
    assert config.metrics.timezone == "UTC"
    assert config.sources["owners"].columns == {}


def test_misspelt_keys_get_a_suggestion(write: Write) -> None:
    write("deals.csv", "deal_id\n1\n")
    path = write(
        "c.yaml",
        """
        version: 1
        sourcs: {}
        fiscal_year_start_month: 13
        sources:
          deals: {path: deals.csv, colums: {deal_id: Id}, decimal: ";"}
        metrics:
          mrr: {sorce: auto}
          timezone: Mars/Olympus
        """,
    )
    assert problems(path) == [
        f"{path}: sourcs: unknown key (did you mean 'sources'?)",
        f"{path}: fiscal_year_start_month: must be less than or equal to 12 (got 13)",
        f"{path}: sources.deals.colums: unknown key (did you mean 'columns'?)",
        f"{path}: sources.deals.decimal: must be '.' or ',' (got ';')",
        f"{path}: metrics.mrr.sorce: unknown key (did you mean 'source'?)",
        f"{path}: metrics.timezone: unknown time zone 'Mars/Olympus' (an IANA name such as UTC"
        " or Europe/Berlin)",
    ]


def test_a_key_in_the_wrong_place_says_where_it_belongs(write: Write) -> None:
    # a close sibling was suggested instead ('churn' for metrics.currency), or nothing at all
    write("deals.csv", "deal_id\n1\n")
    path = write(
        "c.yaml",
        """
        timezone: UTC
        sources:
          deals: {path: deals.csv, rates: {EUR: 1.1}}
        metrics:
          currency: {base: USD}
          deals: {deal_types: [new_business]}
          sources: {}
        """,
    )
    assert problems(path) == [
        f"{path}: timezone: unknown key here (it belongs at metrics.timezone)",
        f"{path}: sources.deals.rates: unknown key here (it belongs at currency.rates)",
        f"{path}: metrics.currency: unknown key here (it belongs at currency)",
        f"{path}: metrics.deals.deal_types: unknown key here (it belongs at"
        " metrics.sales.deal_types)",
        f"{path}: metrics.sources: unknown key here (it belongs at sources)",
    ]


def test_a_table_or_rule_in_the_wrong_place_says_where_it_belongs(write: Write) -> None:
    # 'did you mean sales' for metrics.leads, nothing for rules.L001, 'unknown table' alone for
    # sources.churn; and a list for sources was reported twice, in pydantic's words too
    write("deals.csv", "deal_id\n1\n")
    path = write(
        "c.yaml",
        """
        sources:
          deals: {path: deals.csv}
          churn: {ltv_lookback_months: 3}
        metrics:
          leads: {path: leads.csv}
        rules:
          L001: {stale_days: 10}
        """,
    )
    assert problems(path) == [
        f"{path}: sources.churn: unknown table 'churn' (it belongs at metrics.churn)",
        f"{path}: metrics.leads: unknown key here (it belongs at sources.leads)",
        f"{path}: rules.L001: unknown key here (it belongs at rules.settings.L001)",
    ]
    # a mistyped table is still a mistyped table, though `forecast` is a metrics section too
    typo = write("typo.yaml", "sources: {forecast: {path: deals.csv}}\n")
    assert problems(typo) == [
        f"{typo}: sources.forecast: unknown table 'forecast' (did you mean 'forecasts'?)"
    ]
    listed = write("list.yaml", "sources: [deals.csv]\n")
    assert problems(listed) == [f"{listed}: sources: must be a mapping of table name to source"]


def test_month_offsets_are_bounded(write: Write) -> None:
    # 100000 months took the LTV lookback and the CAC lag to year -6309: exit 3
    write("deals.csv", "deal_id\nD1\n")
    path = write(
        "revops.yaml",
        "sources: {deals: {path: deals.csv}}\n"
        "metrics: {churn: {ltv_lookback_months: 100000}, unit_economics: {cac_lag_months: 1201}}\n",
    )
    assert problems(path) == [
        f"{path}: metrics.churn.ltv_lookback_months: must be less than or equal to 1200"
        " (got 100000)",
        f"{path}: metrics.unit_economics.cac_lag_months: must be less than or equal to 1200"
        " (got 1201)",
    ]


def test_unbounded_numbers_are_config_errors(write: Write) -> None:
    # a gross margin of -inf made ltv_gm null with status ok; an epsilon of inf hid every MRR
    # movement; a default fiscal year of 0 passed `validate`, and `--period Q3` then blamed the
    # period ("outside the supported dates") instead of the key
    write("deals.csv", "deal_id\nD1\n")
    path = write(
        "revops.yaml",
        "sources: {deals: {path: deals.csv}}\n"
        "metrics:\n"
        "  default_fiscal_year: 0\n"
        "  mrr: {movement_epsilon: .inf}\n"
        "  unit_economics: {gross_margin: -.inf}\n",
    )
    assert problems(path) == [
        f"{path}: metrics.default_fiscal_year: must be greater than or equal to 1801 (got 0)",
        f"{path}: metrics.mrr.movement_epsilon: must be less than or equal to 1000000000 (got inf)",
        f"{path}: metrics.unit_economics.gross_margin: must be greater than or equal to"
        " -1000000000 (got -inf)",
    ]


@pytest.mark.parametrize("zone", ["posix/Europe/Berlin", "right/UTC", "Factory"])
def test_a_system_zone_file_polars_cannot_use_is_a_config_error(write: Write, zone: str) -> None:
    # the system's zoneinfo reads these names, polars does not: every command crashed (exit 3)
    write("deals.csv", "deal_id\nD1\n")
    path = write(
        "revops.yaml", f"sources: {{deals: {{path: deals.csv}}}}\nmetrics: {{timezone: {zone}}}\n"
    )
    assert problems(path) == [
        f"{path}: metrics.timezone: unknown time zone '{zone}' (an IANA name such as UTC or"
        " Europe/Berlin)"
    ]


def test_vocabulary_words_and_columns_are_checked(write: Write) -> None:
    write("deals.csv", "deal_id\n1\n")
    path = write(
        "c.yaml",
        """
        sources:
          deals:
            path: deals.csv
            values:
              status: {wonn: [Closed Won]}
              stage: {open: [New]}
        """,
    )
    assert problems(path) == [
        f"{path}: sources.deals.values.status.wonn: 'wonn' is not a deals.status value "
        "(did you mean 'won'?); use one of open, won, lost",
        f"{path}: sources.deals.values.stage: 'stage' is not a vocabulary column of deals"
        "; vocabulary columns: status, deal_type",
    ]


def test_raw_values_read_by_yaml_as_numbers_are_text(write: Write) -> None:
    write("leads.csv", "lead_id\n1\n")
    path = write(
        "c.yaml",
        """
        sources:
          leads:
            path: leads.csv
            values: {status: {converted: [1, yes], new: "Open", disqualified: [Off]}}
        """,
    )
    # an unquoted yes, on or true is one boolean to YAML: it stands for each spelling
    assert load_config(path).sources["leads"].values == {
        "status": {
            "converted": ("1", "true", "yes", "on"),
            "new": ("Open",),
            "disqualified": ("false", "no", "off"),
        }
    }


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "sources: [a\n",
            "{path}:2:1: YAML syntax error: expected ',' or ']', but got '<stream end>'"
            " (fix the YAML at that line)",
        ),
        ("", "{path}: config is empty (see config.example.yaml for the format)"),
        (
            "- a\n- b\n",
            "{path}: config must be a mapping of keys (version, sources, ...) "
            "(see config.example.yaml for the format)",
        ),
        ("version: 2\nsources: {deals: {path: c.yaml}}\n", "{path}: version: must be 1 (got 2)"),
        (
            "sources: {}\n",
            "{path}: sources: no source is configured (map at least one export file)",
        ),
    ],
)
def test_malformed_files(write: Write, content: str, expected: str) -> None:
    path = write("c.yaml", content)
    assert problems(path) == [expected.format(path=path)]


def test_a_config_that_is_no_regular_file_is_read(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `-c /dev/null` said "config file not found", and `-c <(make-config)` could not be used.
    # A piped config's relative paths lead from the working folder (its own is /dev/fd), and
    # its hash is that of the bytes read (reading the pipe again for the run history gave the
    # hash of nothing)
    assert problems(Path("/dev/null")) == [
        "/dev/null: config is empty (see config.example.yaml for the format)"
    ]
    csv = write("d.csv", "deal_id\nD1\n")
    monkeypatch.chdir(csv.parent)
    text = "sources: {deals: {path: d.csv}}\n"
    read, written = os.pipe()
    with os.fdopen(written, "w") as pipe:
        pipe.write(text)
    try:
        config = load_config(Path(f"/dev/fd/{read}"))
    finally:
        os.close(read)
    assert config.source_path("deals") == Path("d.csv")
    assert config.digest == hashlib.sha256(text.encode()).hexdigest()
    read, written = os.pipe()
    with os.fdopen(written, "w") as pipe:
        pipe.write("sources: {deals: {path: nope.csv}}\n")
    try:
        assert problems(Path(f"/dev/fd/{read}")) == [
            f"/dev/fd/{read}: sources.deals.path: file not found: nope.csv (paths are relative "
            "to the working folder, the config being a pipe)"
        ]
    finally:
        os.close(read)


def test_a_default_currency_is_a_currency_code(write: Write) -> None:
    # ' ' became no default, and 'E U R' was taken as a code no rate could ever name
    write("d.csv", "deal_id\nD1\n")
    path = write("c.yaml", "sources: {deals: {path: d.csv, default_currency: 'E U R'}}\n")
    assert problems(path) == [
        f"{path}: sources.deals.default_currency: must be a currency code such as USD or EUR"
        " (got 'E U R')"
    ]


def test_keys_the_loader_sets_are_not_config_keys(write: Write) -> None:
    write("d.csv", "deal_id\nD1\n")
    path = write("c.yaml", "sources: {deals: {path: d.csv}}\npath: x.yaml\ndigest: abc\n")
    assert problems(path) == [f"{path}: path: unknown key", f"{path}: digest: unknown key"]
    # nor suggested for a typo ("did you mean 'folder'?" and then refused)
    path = write("c.yaml", "sources: {deals: {path: d.csv}}\nfoldr: x\n")
    assert problems(path) == [f"{path}: foldr: unknown key"]


@pytest.mark.parametrize(
    ("currency", "expected"),
    [
        # an empty base and a number as a code were accepted; EUR and eur kept the last rate
        ("{base: ''}", "currency.base: must be a currency code such as USD or EUR (got '')"),
        (
            "{rates: {123: 1.1}}",
            "currency.rates: must be a currency code such as USD or EUR (got 123)",
        ),
        ("{rates: {EUR: 1.1, eur: 1.2}}", "currency.rates: the rate of EUR is given twice"),
    ],
)
def test_currency_codes_are_checked(write: Write, currency: str, expected: str) -> None:
    write("d.csv", "deal_id\nD1\n")
    path = write("c.yaml", f"sources: {{deals: {{path: d.csv}}}}\ncurrency: {currency}\n")
    assert problems(path) == [f"{path}: {expected}"]


def test_non_utf8_config_is_refused(write: Write) -> None:
    path = write("c.yaml", "sources:\n  deals: {path: d\xe9als.csv}\n".encode("latin-1"))
    assert problems(path) == [f"{path}: config is not UTF-8 (save the config as UTF-8)"]


@pytest.mark.parametrize(
    ("content", "where", "key"),
    [
        # a second `sources:` block silently dropped the first one's tables
        ("sources:\n  deals: {path: d.csv}\nsources:\n  leads: {path: l.csv}\n", "3:1", "sources"),
        (
            "sources: {deals: {path: d.csv}}\nrules:\n  settings:\n"
            "    D003: {stale_days: 20}\n    D003: {severity: error}\n",
            "5:5",
            "D003",
        ),
    ],
)
def test_a_key_given_twice_is_refused(write: Write, content: str, where: str, key: str) -> None:
    path = write("c.yaml", content)
    assert problems(path) == [
        f"{path}:{where}: key '{key}' appears twice in the same mapping "
        "(keep one: YAML would use the last and drop the first without a word)"
    ]


def test_one_rule_spelt_in_two_cases_is_refused(write: Write) -> None:
    # `l001` is L001: the second silently replaced the first's stale_days before
    write("l.csv", "lead_id\n1\n")
    path = write(
        "c.yaml",
        "sources: {leads: {path: l.csv}}\nrules:\n  settings:\n"
        "    L001: {stale_days: 30}\n    l001: {stale_days: 40}\n",
    )
    assert rule_problems(path) == [
        f"{path}: rules.settings.l001: the same rule as rules.settings.L001 (codes are read in "
        "any case); keep one",
    ]


@pytest.mark.parametrize(
    ("content", "where", "value"),
    [
        ("rules: {settings: {T003: {min_date: 2024-02-30}}}\n", "2:37", "2024-02-30"),
        ("metrics:\n  timezone: 1990-13-01\n", "3:13", "1990-13-01"),
    ],
)
def test_a_day_that_is_not_in_the_calendar_is_a_config_error(
    write: Write, content: str, where: str, value: str
) -> None:
    # YAML builds unquoted YYYY-MM-DD values as dates: these raised ValueError (exit 3)
    path = write("c.yaml", "sources: {leads: {path: l.csv}}\n" + content)
    assert problems(path) == [
        f"{path}:{where}: '{value}' is not a date of the calendar (write a real day as YYYY-MM-DD)"
    ]


def test_merge_keys_and_aliases_are_not_repeats(write: Write) -> None:
    write("d.csv", "deal_id\n1\n")
    path = write(
        "c.yaml",
        "base: &b {path: d.csv}\nsources:\n  deals:\n    <<: *b\n    delimiter: comma\n",
    )
    # the merged mapping is no repeat: only the unknown top-level key is a problem
    assert problems(path) == [f"{path}: base: unknown key here (it belongs at currency.base)"]


def test_alias_bomb_is_refused_before_expansion(write: Write) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join(["*" + chr(97 + i)] * 10) + "]"
        for i in range(12)
    ]
    path = write("c.yaml", "\n".join(lines) + "\n")
    assert problems(path) == [
        f"{path}: config's YAML aliases expand to more than 100,000 values "
        "(write the values out instead of using anchors and aliases)"
    ]


@pytest.mark.parametrize("content", ["metrics: &m\n  sales: *m\n", "a: &a [1, *a]\n"])
def test_an_alias_inside_itself_is_refused(write: Write, content: str) -> None:
    # it expands without end: a RecursionError (exit 3) before
    path = write("c.yaml", content)
    assert problems(path) == [
        f"{path}: config's YAML aliases expand to more than 100,000 values "
        "(write the values out instead of using anchors and aliases)"
    ]


def test_config_over_one_mebibyte_is_refused(write: Write) -> None:
    path = write("c.yaml", "# " + "x" * (1024 * 1024) + "\n")
    assert problems(path) == [f"{path}: config is larger than 1 MiB (a config is a few KB of YAML)"]


def test_missing_config_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert problems(path) == [f"{path}: config file not found (check --config)"]


def test_lookup_order(tmp_path: Path) -> None:
    (tmp_path / "config.example.yaml").write_text("sources: {}\n")
    assert find_config(None, None, tmp_path) == tmp_path / "config.example.yaml"
    (tmp_path / "revops.yaml").write_text("sources: {}\n")
    assert find_config(None, None, tmp_path) == tmp_path / "revops.yaml"
    from_env = tmp_path / "from-env.yaml"
    from_env.write_text("sources: {}\n")
    assert find_config(None, str(from_env), tmp_path) == from_env
    assert find_config("given.yaml", str(from_env), tmp_path) == Path("given.yaml")


@pytest.mark.parametrize(
    ("explicit", "from_env", "message"),
    [
        ("", None, "--config: the path is empty (pass the config file's path)"),
        (" ", "x.yaml", "--config: the path is empty (pass the config file's path)"),
        (
            None,
            "nope.yaml",
            "nope.yaml: config file not found (check $REVOPS_CONFIG, or pass --config)",
        ),
    ],
)
def test_an_empty_config_option_or_a_missing_env_config_is_named(
    tmp_path: Path, explicit: str | None, from_env: str | None, message: str
) -> None:
    (tmp_path / "revops.yaml").write_text("sources: {}\n")  # never taken in their place
    with pytest.raises(ConfigError) as caught:
        find_config(explicit, from_env, tmp_path)
    assert caught.value.one_line() == message


def test_no_config_anywhere(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        find_config(None, None, tmp_path)
    assert caught.value.one_line() == (
        "no config found (pass --config PATH, set REVOPS_CONFIG, "
        "or run `revops init` to write ./revops.yaml)"
    )


def test_rule_parameter_values_are_checked_beyond_their_kind(write: Write) -> None:
    from revops_cli.checks import rule_catalog

    write("deals.csv", "deal_id\n1\n")
    path = write(
        "revops.yaml",
        """
        version: 1
        sources: {deals: {path: deals.csv}}
        rules:
          settings:
            T003: {min_date: "not a date"}
            R003:
              deal_amount_basis: bogus
              tolerance_pct: -0.1
              tolerance_abs: 99999999999999999999
            D003: {per_stage: {Negotiation: soon}}
            S003: {min_fill: 1.5, columns: {deals: [amount, closedate], lead: [email]}}
            D004: {max_days_in_stage: 99999999999999999999}
            T001: {tolerance_days: 36501}
            D011: {max_pushes: 2.5}
            R001: {grace_days: 1.5, lookback_days: 90.0}
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, rule_catalog())
    assert [p.removeprefix(f"{path}: ") for p in caught.value.problems] == [
        "rules.settings.T003.min_date: must be a date as YYYY-MM-DD (got 'not a date')",
        "rules.settings.R003.deal_amount_basis: must be arr or mrr (got 'bogus')",
        "rules.settings.R003.tolerance_pct: must be 0 or more (got -0.1)",
        "rules.settings.R003.tolerance_abs: must be at most 9007199254740992"
        " (got 99999999999999999999)",
        "rules.settings.D003.per_stage: must map stage names to whole numbers of days, 0 to 36500"
        " (got {'Negotiation': 'soon'})",
        "rules.settings.S003.min_fill: must be a fraction between 0 and 1 (got 1.5)",
        "rules.settings.S003.columns: deals: unknown column 'closedate' (did you mean"
        " 'close_date'?)",
        # a rule with these crashed (a date out of range, an integer too wide for polars)
        "rules.settings.D004.max_days_in_stage: must be at most 36500 days, 100 years"
        " (got 99999999999999999999)",
        "rules.settings.T001.tolerance_days: must be at most 36500 days, 100 years (got 36501)",
        # "at least 2.5 pushes" was read as 2
        "rules.settings.D011.max_pushes: must be a whole number of pushes, 1 or more (got 2.5)",
        # days are whole, as per_stage's are (90.0 is 90)
        "rules.settings.R001.grace_days: must be a whole number of days, as per_stage's are"
        " (got 1.5)",
    ]


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        # every comparison with .nan is false: S003 then flagged nothing, R003 dropped the side
        ("S003: {min_fill: .nan}", "S003.min_fill: must be a number (got nan)"),
        ("R003: {tolerance_pct: .nan}", "R003.tolerance_pct: must be a number (got nan)"),
        # YAML reads a time into a datetime, and T003 then flagged a record dated on min_date
        (
            "T003: {min_date: 2000-01-01 12:00:00}",
            "T003.min_date: must be a date as YYYY-MM-DD, without a time"
            " (got '2000-01-01 12:00:00')",
        ),
        (
            "T003: {min_date: '20000101'}",
            "T003.min_date: must be a date as YYYY-MM-DD (got '20000101')",
        ),
        # an integer too big for a float was an internal error (OverflowError)
        (
            "R001: {grace_days: " + "9" * 400 + "}",
            "R001.grace_days: must be at most 36500 days, 100 years (got " + "9" * 400 + ")",
        ),
        (
            "R003: {tolerance_abs: " + "9" * 400 + "}",
            "R003.tolerance_abs: must be at most 9007199254740992 (got " + "9" * 400 + ")",
        ),
        (
            "D003: {per_stage: {Demo: " + "9" * 400 + "}}",
            "D003.per_stage: must map stage names to whole numbers of days, 0 to 36500 (got "
            "{'Demo': " + "9" * 400 + "})",
        ),
        # an empty list skipped S003 with the reason missing_column:deals.
        (
            "S003: {columns: {deals: []}}",
            "S003.columns: deals: list at least one column (or leave the table out)",
        ),
    ],
)
def test_rule_parameters_that_slipped_past_the_checks(
    write: Write, settings: str, problem: str
) -> None:
    from revops_cli.checks import rule_catalog

    write("deals.csv", "deal_id\n1\n")
    text = "version: 1\nsources: {deals: {path: deals.csv}}\n"
    text += f"rules: {{settings: {{{settings}}}}}\n"
    path = write("revops.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, rule_catalog())
    assert [p.removeprefix(f"{path}: ") for p in caught.value.problems] == [
        f"rules.settings.{problem}"
    ]


def test_predicate_statuses_are_canonical_words(write: Write) -> None:
    # a raw word matched no row, silently: the lists hold canonical statuses (D24)
    write("deals.csv", "deal_id\n1\n")
    path = write(
        "revops.yaml",
        """
        version: 1
        sources: {deals: {path: deals.csv}}
        predicates:
          open_lead_statuses: [New, nurture]
          live_subscription_statuses: [active, past_due]
          customer_stages: [Customer, Partner]
        """,
    )
    assert rule_problems(path) == [
        f"{path}: predicates.open_lead_statuses: 'nurture' is not a canonical lead status; use "
        "new, working, qualified, converted, disqualified (map raw statuses under "
        "sources.leads.values.status)"
    ]


def test_valid_rule_parameter_values_pass(write: Write) -> None:
    from revops_cli.checks import rule_catalog

    write("deals.csv", "deal_id\n1\n")
    path = write(
        "revops.yaml",
        """
        version: 1
        sources: {deals: {path: deals.csv}}
        rules:
          settings:
            T003: {min_date: 1985-06-01}
            R003: {deal_amount_basis: mrr, tolerance_pct: 0}
            D003: {per_stage: {Negotiation: 30, Demo: 14.0}}
            S003: {min_fill: 1, columns: {leads: [email]}}
        """,
    )
    config = load_config(path, rule_catalog())
    assert config.rules.settings["R003"]["deal_amount_basis"] == "mrr"


@pytest.mark.parametrize("encoding", ["hex", "base64", "rot13", "zip", "punycode", "utf-9"])
def test_an_encoding_that_is_not_a_text_file_encoding_is_a_config_error(
    write: Write, encoding: str
) -> None:
    write("deals.csv", "deal_id\n1\n")
    path = write(
        "revops.yaml",
        f"version: 1\nsources: {{deals: {{path: deals.csv, encoding: {encoding}}}}}\n",
    )
    assert problems(path) == [
        f"{path}: sources.deals.encoding: unknown encoding '{encoding}' (for example utf-8,"
        " cp1252, latin-1)"
    ]


def test_a_text_encoding_is_accepted_under_its_canonical_name(write: Write) -> None:
    write("deals.csv", "deal_id\n1\n")
    path = write(
        "revops.yaml", "version: 1\nsources: {deals: {path: deals.csv, encoding: latin-1}}\n"
    )
    assert load_config(path).sources["deals"].encoding == "iso8859-1"


def test_rule_codes_in_settings_are_read_in_any_case(write: Write) -> None:
    from revops_cli.checks import rule_catalog

    write("deals.csv", "deal_id\n1\n")
    path = write(
        "revops.yaml",
        "version: 1\nsources: {deals: {path: deals.csv}}\n"
        "rules: {settings: {l001: {stale_days: 45}, ' d003 ': {severity: error}}}\n",
    )
    config = load_config(path, rule_catalog())
    assert config.rules.settings == {"L001": {"stale_days": 45}, "D003": {"severity": "error"}}


def test_predicate_words_are_read_in_any_case(write: Write) -> None:
    write("deals.csv", "deal_id\n1\n")
    path = write(
        "revops.yaml",
        "version: 1\nsources: {deals: {path: deals.csv}}\n"
        "predicates: {open_lead_statuses: [New, ' Working'],\n"
        "             live_subscription_statuses: [Active, past due, Past-Due]}\n",
    )
    predicates = load_config(path).predicates
    assert predicates.open_lead_statuses == ("new", "working")
    assert predicates.live_subscription_statuses == ("active", "past_due", "past_due")


def test_max_pushes_of_zero_is_refused(write: Write) -> None:
    # every deal has moved at least 0 times: D011 would flag deals that never moved
    write("deals.csv", "deal_id\n1\n")
    path = write(
        "revops.yaml",
        "sources: {deals: {path: deals.csv}}\nrules: {settings: {D011: {max_pushes: 0}}}",
    )
    assert rule_problems(path) == [
        f"{path}: rules.settings.D011.max_pushes: must be 1 or more: every deal has moved at "
        "least 0 times (got 0)",
    ]


def test_each_problem_is_one_plain_line(write: Write) -> None:
    from revops_cli.checks import rule_catalog

    # a rule's settings and the codes of select are reported once, by the rule check; no
    # pydantic type names; a did-you-mean whatever the case
    write("d.csv", "deal_id\n1\n")
    path = write(
        "c.yaml", "sources:\n  deals: {path: d.csv, columns: {Deal_ID: x}}\n  leads: {path: null}\n"
    )
    assert [p.removeprefix(f"{path}: ") for p in problems(path)] == [
        "sources.deals.columns.Deal_ID: unknown column 'Deal_ID' of table deals "
        "(did you mean 'deal_id'?)",
        "sources.leads.path: must be a file path (got None)",
    ]
    path = write(
        "c.yaml", "sources: {deals: {path: d.csv}}\nrules: {settings: {L001: 5}, select: [1]}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, rule_catalog())
    assert [p.removeprefix(f"{path}: ") for p in caught.value.problems] == [
        "rules.settings.L001: must be a mapping of parameter to value",
        "rules.select: unknown rule or family '1'",
    ]

    # without the rule catalog (the config read alone) pydantic's own words say it
    assert problems(path) == [
        f"{path}: rules.settings.L001: must be a mapping of keys to values (got 5)",
        f"{path}: rules.select.0: must be a valid string (got 1)",
    ]
