"""The YAML config: read safely, validated as a whole, every problem reported with its key path.

pydantic checks the shape (types, enums, unknown keys); the checks that need the canonical schema
(table and column names, vocabulary words, files that exist) run on the raw mapping beside it, so
that one run lists every problem at once.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from revops_cli.errors import ConfigError
from revops_cli.periods import FiscalCalendar
from revops_cli.presets import preset_name, presets
from revops_cli.schema import TABLES, VOCABULARIES

MAX_CONFIG_BYTES = 1024 * 1024
FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_YAML_NODES = 100_000  # values after expanding aliases: a real config has a few hundred
CONFIG_CANDIDATES = ("revops.yaml", "config.example.yaml")
DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}


MAX_MONTHS = 1200  # month offsets of 100 years at most: more takes dates out of range


def _no_bool(value: Any) -> Any:
    """A number key given true or false: pydantic would read true as 1 (January, 1 month)."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


NUMBER = BeforeValidator(_no_bool)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """A section left empty (`metrics:` with every line under it commented out) is YAML's
        null: it reads as the section's defaults, not as an error."""
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if value is not None or not _is_section(cls.model_fields.get(str(key)))
        }


class SourceConfig(_Model):
    """One export file and how its headers and values map onto a canonical table."""

    path: Path
    preset: str | None = None
    delimiter: str | None = None
    encoding: str = "utf-8"
    decimal: Literal[".", ","] = "."
    date_format: tuple[str, ...] = ()
    amount_divisor: Annotated[float, NUMBER, Field(ge=1e-9, le=1e9)] = 1.0
    default_currency: str | None = None
    multi_value: Literal["first"] | None = None
    empty_bool: bool | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, tuple[str, ...]]] = Field(default_factory=dict)

    @field_validator("date_format", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("preset")
    @classmethod
    def _shipped_name(cls, value: str | None) -> str | None:
        """A preset named in any case, its object singular or plural (`hubspot-deal`)."""
        return preset_name(value) if value is not None else None

    @field_validator("values", mode="before")
    @classmethod
    def _raw_values_as_text(cls, value: Any) -> Any:
        # YAML reads 1, yes and 3.5 as numbers or booleans; raw values are compared as text.
        if not isinstance(value, dict):
            return value
        return {
            column: {
                word: [t for r in (raws if isinstance(raws, list) else [raws]) for t in _texts(r)]
                for word, raws in mapping.items()
            }
            if isinstance(mapping, dict)
            else mapping
            for column, mapping in value.items()
        }

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = DELIMITER_NAMES.get(value.lower(), value)
        if len(value.encode()) != 1:  # the CSV parser splits on one byte
            raise ValueError("must be one ASCII character, or comma, semicolon, tab or pipe")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codec = codecs.lookup(value)
        except LookupError:
            codec = None
        # hex, base64, rot13, zip and the like are codecs, but not encodings of text files;
        # punycode and idna encode domain names
        if codec is None or not codec._is_text_encoding or codec.name in NOT_FILE_ENCODINGS:
            raise ValueError(
                f"unknown encoding '{value}' (for example utf-8, cp1252, latin-1)"
            ) from None
        return codec.name

    @field_validator("default_currency")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return _currency_code(value) if value is not None else None


NOT_FILE_ENCODINGS = frozenset({"punycode", "idna", "raw-unicode-escape", "unicode-escape"})


def _texts(raw: Any) -> list[Any]:
    """The raw text(s) a YAML scalar of a `values:` list stands for. An unquoted Yes, On or True
    reaches us as the same boolean, the spelling lost: it stands for each of them."""
    if isinstance(raw, bool):
        return ["true", "yes", "on"] if raw else ["false", "no", "off"]
    return [str(raw) if isinstance(raw, int | float) else raw]


class CurrencyConfig(_Model):
    base: str = "USD"
    # between 1e-9 and 1e9: any real exchange rate, and no product of money that overflows
    rates: dict[str, Annotated[float, NUMBER, Field(ge=1e-9, le=1e9)]] = Field(default_factory=dict)

    @field_validator("base")
    @classmethod
    def _upper_base(cls, value: str) -> str:
        return _currency_code(value)

    @field_validator("rates", mode="before")
    @classmethod
    def _upper_rates(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value  # pydantic names the type it wants
        rates: dict[str, Any] = {}
        for code, rate in value.items():
            upper = _currency_code(code)
            if upper in rates:  # EUR and eur: which rate was meant cannot be told
                raise ValueError(f"the rate of {upper} is given twice")
            rates[upper] = rate
        return rates


def _currency_code(value: Any) -> str:
    """A currency code trimmed and upper-cased; ValueError for an empty one, one with spaces
    and a number (a YAML key such as 123)."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if not code or any(c.isspace() for c in code):
        raise ValueError(f"must be a currency code such as USD or EUR (got {value!r})")
    return code


class RulesConfig(_Model):
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    settings: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("select", "ignore", mode="before")
    @classmethod
    def _upper_tokens(cls, value: Any) -> Any:
        """Codes and prefixes in any case and trimmed, as the config check reads them."""
        if isinstance(value, list | tuple):
            return tuple(t.strip().upper() if isinstance(t, str) else t for t in value)
        return value

    @field_validator("settings", mode="before")
    @classmethod
    def _upper_codes(cls, value: Any) -> Any:
        """Rule codes in any case, as on the command line (`l001` is L001)."""
        if isinstance(value, dict):
            return {str(code).strip().upper(): values for code, values in value.items()}
        return value


class PredicatesConfig(_Model):
    """The shared predicate lists the config may override (DECISIONS D24)."""

    open_lead_statuses: tuple[str, ...] = ("new", "working", "qualified")
    customer_stages: tuple[str, ...] = ("customer", "evangelist")
    live_subscription_statuses: tuple[str, ...] = ("active", "trialing", "past_due")
    # exactly the domains CHECKS.md names; a config adds others (googlemail.com, aol.com, ...)
    free_mail_domains: tuple[str, ...] = (
        "gmail.com",
        "outlook.com",
        "yahoo.com",
        "hotmail.com",
        "icloud.com",
    )

    @field_validator(
        "open_lead_statuses", "customer_stages", "live_subscription_statuses", "free_mail_domains"
    )
    @classmethod
    def _folded(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Canonical words and domains are lower-case: `[New]` means the status `new`."""
        return tuple(word.strip().lower() for word in value)

    @field_validator("open_lead_statuses", "live_subscription_statuses")
    @classmethod
    def _canonical(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        """The lists of statuses hold canonical statuses (a raw word is mapped under
        `sources.<table>.values.status`): `nurture` would match no row."""
        table = "leads" if info.field_name == "open_lead_statuses" else "subscriptions"
        words = VOCABULARIES[(table, "status")].words
        value = tuple(re.sub(r"[\s-]+", "_", word) for word in value)  # "past due" is past_due
        unknown = [word for word in value if word not in words]
        if unknown:
            raise ValueError(
                f"{', '.join(map(repr, unknown))} is not a canonical {table[:-1]} status; use "
                f"{', '.join(words)} (map raw statuses under sources.{table}.values.status)"
            )
        return value


class MrrOptions(_Model):
    source: Literal["auto", "column", "derived"] = "auto"
    customer_grain: Literal["customer", "account"] = "customer"
    movement_epsilon: Annotated[float, NUMBER, Field(ge=0, le=1e9)] = 0.005
    churn_recognition: Literal["end_date", "canceled_at"] = "end_date"


class SubscriptionOptions(_Model):
    end_date_inclusive: bool = False
    amount_includes_quantity: bool = False


class ChurnOptions(_Model):
    ltv_lookback_months: Annotated[int, NUMBER, Field(ge=1, le=MAX_MONTHS)] = 6


class RevenueOptions(_Model):
    invoice_statuses: tuple[Literal["draft", "open", "paid", "void", "uncollectible"], ...] = (
        "paid",
        "open",
    )
    recognition: Literal["ratable", "issued"] = "ratable"


class InvoiceOptions(_Model):
    period_end_inclusive: bool = False


class ExpenseOptions(_Model):
    granularity: Literal["day", "month"] = "day"


class UnitEconomicsOptions(_Model):
    gross_margin: Annotated[float, NUMBER, Field(ge=-1e9, le=1)] | None = None
    new_customers_source: Literal["auto", "billing", "crm"] = "auto"
    cac_include_reactivations: bool = False
    cac_lag_months: Annotated[int, NUMBER, Field(ge=0, le=MAX_MONTHS)] = 0


DealType = Literal["new_business", "expansion", "renewal"]


class DealOptions(_Model):
    default_deal_type: DealType = "new_business"
    probability_scale: Literal["auto", "fraction", "percent"] = "auto"
    close_date_source: Literal["close_date", "stage_history"] = "close_date"


class SalesOptions(_Model):
    deal_types: tuple[DealType, ...] = ("new_business", "expansion")
    stages: tuple[str, ...] = ()


class SalesCycleOptions(_Model):
    include_lost: bool = False


class PipelineVelocityOptions(_Model):
    opportunities: Literal["created_in_period", "open_at_as_of"] = "created_in_period"


class ForecastOptions(_Model):
    snapshot: Literal["period_start", "period_end", "latest"] = "period_start"
    actual_deal_types: tuple[DealType, ...] | None = None


class MetricsConfig(_Model):
    """Metric options of METRICS.md §8 (with DECISIONS D1 and D11)."""

    timezone: str = "UTC"
    fiscal_year_naming: Literal["end", "start"] = "end"
    # a fiscal year's quarters fall in the years periods support (periods.FIRST_YEAR to 9999)
    default_fiscal_year: Annotated[int, NUMBER, Field(ge=1801, le=9998)] | None = None
    mrr: MrrOptions = MrrOptions()
    subscriptions: SubscriptionOptions = SubscriptionOptions()
    churn: ChurnOptions = ChurnOptions()
    revenue: RevenueOptions = RevenueOptions()
    invoices: InvoiceOptions = InvoiceOptions()
    expenses: ExpenseOptions = ExpenseOptions()
    unit_economics: UnitEconomicsOptions = UnitEconomicsOptions()
    deals: DealOptions = DealOptions()
    sales: SalesOptions = SalesOptions()
    sales_cycle: SalesCycleOptions = SalesCycleOptions()
    pipeline_velocity: PipelineVelocityOptions = PipelineVelocityOptions()
    forecast: ForecastOptions = ForecastOptions()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        unknown = f"unknown time zone '{value}' (an IANA name such as UTC or Europe/Berlin)"
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(unknown) from None
        if value != "UTC":
            # the system's zone files also hold names polars does not know (posix/..., right/...,
            # Factory, localtime): they would fail at the first date
            import polars as pl

            try:
                pl.select(pl.lit(None, pl.Datetime("us")).dt.replace_time_zone(value))
            except pl.exceptions.PolarsError:
                raise ValueError(unknown) from None
        return value


class Config(_Model):
    """A validated config; `path` is the file as given, source paths are relative to its folder."""

    version: Literal[1] = 1
    currency: CurrencyConfig = CurrencyConfig()
    fiscal_year_start_month: Annotated[int, NUMBER, Field(ge=1, le=12)] = 1
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    rules: RulesConfig = RulesConfig()
    predicates: PredicatesConfig = PredicatesConfig()
    link_by_domain: bool = True
    metrics: MetricsConfig = MetricsConfig()
    history: Path | None = None  # the SQLite run history; --history wins
    path: Path = Path("revops.yaml")
    # set by load_config, never by the file (LOADER_KEYS)
    digest: str = ""  # sha256 of the config's bytes as read (a pipe cannot be read twice)
    folder: Path = Path(".")  # where relative paths lead from (`_folder`)

    def source_path(self, table: str) -> Path:
        """Where the export of `table` lives: relative paths are taken from the config's folder."""
        path = self.sources[table].path
        return path if path.is_absolute() else self.folder / path

    def inputs(self) -> dict[str, Path]:
        """The files a run reads, by the key naming them: the config and every source."""
        sources = {f"sources.{table}.path": self.source_path(table) for table in self.sources}
        return {"the config": self.path, **sources}

    def fiscal_calendar(self) -> FiscalCalendar:
        """The fiscal-year settings periods are resolved with (D1): start month, naming, year."""
        options = self.metrics
        return FiscalCalendar(
            self.fiscal_year_start_month, options.fiscal_year_naming, options.default_fiscal_year
        )

    def history_path(self) -> Path | None:
        """The run history file, relative to the config's folder like the sources; None if unset."""
        if self.history is None:
            return None
        return self.history if self.history.is_absolute() else self.folder / self.history


def find_config(explicit: str | None, from_env: str | None, cwd: Path) -> Path:
    """--config, else $REVOPS_CONFIG, else ./revops.yaml, else ./config.example.yaml."""
    if explicit is not None:
        if not explicit.strip():
            raise ConfigError("--config: the path is empty", "pass the config file's path")
        return Path(explicit)
    if from_env:
        if not Path(from_env).exists():
            raise ConfigError(
                f"{from_env}: config file not found", "check $REVOPS_CONFIG, or pass --config"
            )
        return Path(from_env)
    for name in CONFIG_CANDIDATES:
        if (cwd / name).is_file():
            return cwd / name
    raise ConfigError(
        "no config found",
        "pass --config PATH, set REVOPS_CONFIG, or run `revops init` to write ./revops.yaml",
    )


RuleCatalog = Mapping[str, Mapping[str, Any]]  # rule code -> its parameters with their defaults


LOADER_KEYS = ("path", "digest", "folder")  # Config fields the loader sets, not the file


def load_config(path: Path, rules: RuleCatalog | None = None) -> Config:
    """Read, parse and validate the config at `path`; raise ConfigError listing every problem.

    With `rules` (the audit's rule codes and parameters) the `rules:` section is checked against it.
    """
    raw, digest = _read_yaml(path)
    problems = list(_shape_problems(raw))
    problems.extend(f"{key}: unknown key" for key in LOADER_KEYS if key in raw)
    if rules is not None:
        problems.extend(_rule_problems(raw.get("rules"), rules))
    folder = _folder(path)
    problems.extend(_missing_files(raw, path))
    try:
        config = Config.model_validate({**raw, "path": path, "digest": digest, "folder": folder})
        problems.extend(_uncurrenced_rate_problems(config))
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, raw, rules_checked=rules is not None))
        if not problems:  # every problem pydantic found is listed, by a check or in its words
            problems.extend(f"{_dotted(e['loc'])}: {_plain(e['msg'])}" for e in exc.errors())
    if problems:
        raise config_error(path, sorted(problems, key=_file_order(raw)))
    return config


def _uncurrenced_rate_problems(config: Config) -> Iterator[str]:
    """A `default_currency` without a rate on a table whose money has no currency column
    (forecasts): every amount of it is in that currency, and none could be converted."""
    rated = {config.currency.base, *config.currency.rates}
    for table, source in config.sources.items():
        if table not in TABLES:
            continue  # an unknown table is a problem of its own
        code, kinds = source.default_currency, TABLES[table].columns
        if "currency" in kinds or "money" not in kinds.values() or code is None or code in rated:
            continue
        yield (
            f"sources.{table}.default_currency: {code} has no rate, and {table} has no currency "
            f"column, so none of its amounts could be converted (add `{code}: <rate>` under "
            "currency.rates)"
        )


def _dotted(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def config_error(path: Path, problems: Sequence[str]) -> ConfigError:
    """One ConfigError whose lines each name the config file and one problem."""
    unique = tuple(dict.fromkeys(problems))
    lines = tuple(f"{path}: {problem}" for problem in unique)
    return ConfigError(lines[0], None, lines)


def suggest(word: str, candidates: Sequence[str]) -> str:
    """' (did you mean 'x'?)' for the closest candidate, or '' when none is close."""
    match = closest(word, candidates)
    return f" (did you mean '{match}'?)" if match is not None else ""


def closest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate closest to `word` in any case, or None when none is close."""
    by_folded = {c.lower(): c for c in reversed(candidates)}  # the first of equal foldings
    match = difflib.get_close_matches(word.lower(), list(by_folded), n=1, cutoff=0.6)
    return by_folded[match[0]] if match else None


# a letter typed for a digit in a rule code: D0O1 is D001, S00l is S001
_DIGIT_LOOKALIKES = str.maketrans("OIL", "011")


def suggest_rule(word: str, codes: Sequence[str], families: bool = True) -> str:
    """' (did you mean 'D001'?)' for a code typed with a letter for a digit or a close code;
    for a family prefix that matches nothing, the families there are (with `families`)."""
    upper = word.strip().upper()
    lookalike = upper[:1] + upper[1:].translate(_DIGIT_LOOKALIKES)
    if lookalike != upper and lookalike in codes:
        return f" (did you mean '{lookalike}'?)"
    guess = suggest(upper, codes)
    if guess or not families or not upper.isalpha():
        return guess
    letters = ", ".join(dict.fromkeys(code[0] for code in codes))
    return f" (the families are {letters})"


def _folder(config: Path) -> Path:
    """Where relative paths in the config lead from: its own folder, or the working folder for a
    config that is a pipe (`-c <(make-config)`, whose folder is /dev/fd)."""
    return config.parent if config.is_file() else Path(".")


def _read_yaml(path: Path) -> tuple[dict[str, Any], str]:
    """The config's YAML as a mapping, and the sha256 of its bytes."""
    try:
        if path.is_dir():
            raise ConfigError(f"{path}: is a folder, not a config file", "pass the YAML file")
        if not path.exists():
            raise ConfigError(f"{path}: config file not found", "check --config")
        with path.open("rb") as handle:  # also a pipe: `-c <(make-config)`
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path}: config is larger than 1 MiB", "a config is a few KB of YAML"
            )
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the config: {exc.strerror}", "check the file's permissions"
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config is not UTF-8", "save the config as UTF-8") from None
    try:
        root = _compose(text)
        if _expanded_size(root) > MAX_YAML_NODES:
            raise ConfigError(
                f"{path}: config's YAML aliases expand to more than {MAX_YAML_NODES:,} values",
                "write the values out instead of using anchors and aliases",
            )
        repeated = _repeated_key(root)
        if repeated is not None:
            key, at = repeated
            raise ConfigError(
                f"{path}:{at.line + 1}:{at.column + 1}: key '{key}' appears twice in the "
                "same mapping",
                "keep one: YAML would use the last and drop the first without a word",
            )
        impossible = _impossible_date(root)
        if impossible is not None:
            at = impossible.start_mark
            raise ConfigError(
                f"{path}:{at.line + 1}:{at.column + 1}: '{impossible.value}' is not a date "
                "of the calendar",
                "write a real day as YYYY-MM-DD",
            )
        raw = yaml.load(text, Loader=FAST_LOADER)  # the safe loader, in C when libyaml is there
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise ConfigError(
            f"{path}{where}: YAML syntax error: {exc.problem}", "fix the YAML at that line"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML syntax error: {exc}", "fix the YAML") from None
    except RecursionError:
        raise ConfigError(
            f"{path}: config is nested too deeply", "a config is a few levels deep"
        ) from None
    if raw is None:
        raise ConfigError(f"{path}: config is empty", "see config.example.yaml for the format")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: config must be a mapping of keys (version, sources, ...)",
            "see config.example.yaml for the format",
        )
    return raw, hashlib.sha256(data).hexdigest()


def _file_order(raw: Mapping[str, Any]) -> Callable[[str], int]:
    """Sort key putting problems in the order their keys appear in the file."""
    order: dict[str, int] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                key = f"{prefix}{name}"
                order.setdefault(key, len(order))
                walk(child, key + ".")

    walk(raw, "")

    def position(problem: str) -> int:
        parts = problem.split(": ", 1)[0].split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in order:
                return order[".".join(parts[:end])]
        return len(order)

    return position


def _compose(text: str) -> yaml.Node | None:
    """The node graph of `text`; a syntax error is raised by the Python loader for its message."""
    try:
        return yaml.compose(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=yaml.SafeLoader)  # raises with line, column and problem


def _nodes(root: yaml.Node | None) -> Iterator[yaml.Node]:
    """Every node of the graph once (an alias is visited where it was defined), in document
    order, a mapping before what it holds."""
    seen: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                children.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        stack.extend(reversed(children))


def _repeated_key(root: yaml.Node | None) -> tuple[str, yaml.Mark] | None:
    """A key that a mapping holds twice (two `sources:` blocks, a rule listed twice), with where
    its second occurrence starts, outer mappings first; None when there is none."""
    for node in _nodes(root):
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    if key.value in keys:
                        return key.value, key.start_mark
                    keys.add(key.value)
    return None


def _impossible_date(root: yaml.Node | None) -> yaml.ScalarNode | None:
    """The first unquoted value shaped like a date that is no day (2024-02-30, 1990-13-01):
    YAML makes such values dates, and building one fails; None when there is none."""
    constructor = yaml.SafeLoader("")
    for node in _nodes(root):
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:timestamp":
            try:
                constructor.construct_yaml_timestamp(node)
            except (ValueError, OverflowError):
                return node
    return None


def _expanded_size(root: yaml.Node | None) -> int:
    """How many values the document holds once aliases are expanded, without expanding them.

    Aliases are shared nodes in the composed graph, so each node's size is computed once; the
    count stops growing past the limit, whatever the nesting (a "billion laughs" is refused).
    An alias inside the node it refers to expands without end: past the limit too.
    """
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key not in sizes:
            sizes[key] = MAX_YAML_NODES + 1  # what a node reached again inside itself counts
            children: list[yaml.Node] = []
            if isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            elif isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            total = 1
            for child in children:
                total = min(total + size(child), MAX_YAML_NODES + 1)
            sizes[key] = total
        return sizes[key]

    return size(root) if root is not None else 0


def _pydantic_problems(
    exc: ValidationError, raw: Mapping[str, Any], rules_checked: bool = False
) -> Iterator[str]:
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if _is_schema_checked(loc) or (rules_checked and _is_rule_checked(loc)):
            continue  # reported by _shape_problems or _rule_problems with a better message
        key = ".".join(loc)
        if error["type"] == "extra_forbidden":
            homes = [h for h in _key_homes(loc[-1]) if h.split(".") != loc]
            hint = (
                f" here (it belongs at {' or '.join(homes)})"
                if homes
                else suggest(loc[-1], _known_keys(loc[:-1]))
            )
            yield f"{key}: unknown key{hint}"
        elif error["type"] == "missing":
            yield f"{key}: required key is missing"
        elif error["type"] == "path_type":
            yield f"{key}: must be a file path (got {_lookup(raw, loc)!r})"
        else:
            got = _lookup(raw, loc)
            plain = got is not _MISSING and not isinstance(got, dict)
            text = repr(got) if len(repr(got)) <= 60 else repr(got)[:57] + "..."
            shown = f" (got {text})" if plain and error["type"] != "value_error" else ""
            yield f"{key}: {_plain(error['msg'])}{shown}"


def _is_schema_checked(loc: list[str]) -> bool:
    """`sources` itself, and the locations under sources.<table> whose names _shape_problems
    checks against the schema."""
    if loc == ["sources"]:
        return True  # missing, or not a mapping
    if len(loc) >= 2 and loc[0] == "sources" and (loc[1] not in TABLES or len(loc) == 2):
        return True  # an unknown table, or a source that is not a mapping
    return len(loc) >= 3 and loc[0] == "sources" and loc[2] in ("columns", "values")


def _is_rule_checked(loc: list[str]) -> bool:
    """Locations that _rule_problems checks: a rule's settings, a code of select or ignore."""
    return len(loc) >= 3 and loc[0] == "rules" and loc[1] in ("settings", "select", "ignore")


_MISSING = object()


def _lookup(raw: Any, loc: Sequence[str]) -> Any:
    for part in loc:
        if isinstance(raw, dict) and part in raw:
            raw = raw[part]
        elif isinstance(raw, list) and part.isdigit() and int(part) < len(raw):
            raw = raw[int(part)]
        else:
            return _MISSING
    return raw


def _plain(message: str) -> str:
    """pydantic's message in the config's words: no leading 'Value error, ', no capital, no
    Python type names."""
    message = message.removeprefix("Value error, ").replace("Input should be ", "must be ")
    for pattern, words in _TYPE_WORDS:
        message = pattern.sub(words, message)
    return message[:1].lower() + message[1:]


_TYPE_WORDS = (
    (re.compile(r"a valid (?:tuple|list|set|frozenset)\b"), "a list such as [A, B]"),
    (re.compile(r"a valid dictionary(?: or instance of \w+)?"), "a mapping of keys to values"),
)


def _is_section(field: Any) -> bool:
    """Whether a model field is a section of the config (a nested model or a mapping)."""
    annotation = getattr(field, "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return getattr(annotation, "__origin__", None) is dict


def _key_homes(name: str) -> list[str]:
    """Every place of the config where a key called `name` belongs (`metrics.timezone` for a
    top-level `timezone`); a source's keys as `sources.<table>.<key>`."""
    homes: list[str] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for field_name, info in model.model_fields.items():
            if model is Config and field_name in LOADER_KEYS:
                continue
            path = f"{prefix}{field_name}"
            if field_name == name:
                homes.append(path)
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{path}.")

    walk(Config, "")
    walk(SourceConfig, "sources.<table>.")
    if name in TABLES:
        homes.append(f"sources.{name}")
    if RULE_CODE.fullmatch(name):
        homes.append(f"rules.settings.{name}")
    return homes


RULE_CODE = re.compile(r"[A-Z]\d{3}")  # a rule's code, such as L001


def _known_keys(loc: Sequence[str]) -> list[str]:
    """The keys allowed at `loc`, for a "did you mean" suggestion."""
    if loc[:1] == ["sources"]:
        if len(loc) == 1:
            return list(TABLES)
        model: type[BaseModel] | None = SourceConfig
        loc = loc[2:]
    else:
        model = Config
    for part in loc:
        if model is None or part not in model.model_fields:
            return []
        annotation = model.model_fields[part].annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_model else None  # type: ignore[assignment]
    if model is None:
        return []
    return [name for name in model.model_fields if model is not Config or name not in LOADER_KEYS]


def _shape_problems(raw: Mapping[str, Any]) -> Iterator[str]:
    """Table names, canonical column names and vocabulary words against the canonical schema."""
    sources = raw.get("sources")
    if sources is None:
        yield "sources: required key is missing (map at least one export file)"
        return
    if not isinstance(sources, dict):
        yield "sources: must be a mapping of table name to source"
        return
    if not sources:
        yield "sources: no source is configured (map at least one export file)"
    for table, source in sources.items():
        key = f"sources.{table}"
        if table not in TABLES:
            # a table name mistyped ('forecast') before a section in the wrong place ('churn')
            hint = suggest(str(table), list(TABLES))
            homes = _key_homes(str(table))
            if not hint and homes:
                hint = f" (it belongs at {' or '.join(homes)})"
            yield f"{key}: unknown table '{table}'{hint}"
            continue
        if not isinstance(source, dict):
            yield f"{key}: must be a mapping with at least `path`"
            continue
        yield from _preset_problems(key, table, source.get("preset"))
        yield from _column_problems(key, table, source.get("columns"))
        yield from _value_problems(key, table, source.get("values"))


def _preset_problems(key: str, table: str, name: Any) -> Iterator[str]:
    if name is None:
        return
    known = presets()
    shipped = preset_name(str(name))
    if shipped not in known:
        yield f"{key}.preset: unknown preset '{name}'{suggest(str(name), sorted(known))}"
    elif known[shipped].table != table:
        yield (f"{key}.preset: preset '{name}' is for table {known[shipped].table}, not {table}")


def _folded(raw: str) -> str:
    return raw.strip().lower()  # as the loader compares raw values


def with_preset(source: SourceConfig) -> SourceConfig:
    """The source with its preset's values and options merged in; explicit settings win.

    `values` merge word by word (an explicit `won:` list replaces the preset's, other words stay,
    without the raw values the config maps).
    Columns are not merged here: the loader falls back to the preset's headers per column, so that
    only explicitly mapped headers that are missing count as rule S001.
    """
    preset = presets().get(source.preset) if source.preset else None
    if preset is None:
        return source
    values: dict[str, dict[str, tuple[str, ...]]] = {}
    for column, mapping in preset.values.items():
        # a raw value the config maps itself leaves the preset's lists (it may file it under
        # another word, which the lookup would otherwise apply last)
        own = {_folded(raw) for raws in source.values.get(column, {}).values() for raw in raws}
        values[column] = {
            word: tuple(raw for raw in raws if _folded(raw) not in own)
            for word, raws in mapping.items()
        }
    for column, mapping in source.values.items():
        values.setdefault(column, {}).update(mapping)
    options = {
        key: value for key, value in preset.options.items() if key not in source.model_fields_set
    }
    if "date_format" in options:
        options["date_format"] = tuple(options["date_format"])
    return source.model_copy(update={"values": values, **options})


def _column_problems(key: str, table: str, columns: Any) -> Iterator[str]:
    if columns is None:
        return
    if not isinstance(columns, dict):
        yield f"{key}.columns: must be a mapping of canonical column to source header"
        return
    known = list(TABLES[table].columns)
    for canonical, header in columns.items():
        if canonical not in TABLES[table].columns:
            yield (
                f"{key}.columns.{canonical}: unknown column '{canonical}' of table {table}"
                f"{suggest(str(canonical), known)}"
            )
        elif not isinstance(header, str) or not header.strip():
            yield f"{key}.columns.{canonical}: must be the header text of the source column"


def _value_problems(key: str, table: str, values: Any) -> Iterator[str]:
    if values is None:
        return
    if not isinstance(values, dict):
        yield f"{key}.values: must be a mapping of column to {{canonical word: [raw values]}}"
        return
    vocabularies = TABLES[table].vocabularies
    for column, mapping in values.items():
        where = f"{key}.values.{column}"
        if column not in vocabularies:
            options = list(vocabularies) or ["(none: this table has no vocabulary column)"]
            yield (
                f"{where}: '{column}' is not a vocabulary column of {table}"
                f"{suggest(str(column), list(vocabularies))}; "
                f"vocabulary columns: {', '.join(options)}"
            )
            continue
        if not isinstance(mapping, dict):
            yield f"{where}: must be a mapping of canonical word to a list of raw values"
            continue
        words = vocabularies[column].words
        for word, raws in mapping.items():
            if word not in words:
                yield (
                    f"{where}.{word}: '{word}' is not a {table}.{column} value"
                    f"{suggest(str(word), words)}; use one of {', '.join(words)}"
                )
            elif not isinstance(raws, list | str) or (
                isinstance(raws, list) and not all(isinstance(r, str | int | float) for r in raws)
            ):
                yield f"{where}.{word}: must be a list of raw values"


def _relative_to(config: Path) -> str:
    return "the config file" if config.is_file() else "the working folder, the config being a pipe"


def _missing_files(raw: Mapping[str, Any], config: Path) -> Iterator[str]:
    folder = _folder(config)
    sources = raw.get("sources")
    if not isinstance(sources, dict):
        return
    for table, source in sources.items():
        if table not in TABLES or not isinstance(source, dict):
            continue
        if not isinstance(source.get("path"), str):
            continue  # pydantic reports a missing or non-text path
        if not source["path"].strip():
            yield f"sources.{table}.path: is empty (give the path of the export file)"
            continue
        path = Path(source["path"])
        path = path if path.is_absolute() else folder / path
        if not path.exists():
            yield (
                f"sources.{table}.path: file not found: {path} "
                f"(paths are relative to {_relative_to(config)})"
            )
        elif path.is_dir():
            yield (
                f"sources.{table}.path: {path} is a folder, not a CSV file "
                "(point the source path at the export file)"
            )


def rule_token_problems(key: str, tokens: Sequence[str], catalog: RuleCatalog) -> list[str]:
    """Codes or prefixes (`D`, `L001`, `ALL`) that match no rule, each with a suggestion."""
    problems = []
    for token in tokens:
        upper = str(token).strip().upper()
        if upper == "ALL" or any(code.startswith(upper) for code in catalog if upper):
            continue
        problems.append(
            f"{key}: unknown rule or family '{token}'{suggest_rule(upper, sorted(catalog))}"
        )
    return problems


def _rule_problems(section: Any, catalog: RuleCatalog) -> Iterator[str]:
    if not isinstance(section, dict):
        return  # absent, or reported by pydantic
    for name in ("select", "ignore"):
        tokens = section.get(name)
        if isinstance(tokens, list):
            yield from rule_token_problems(f"rules.{name}", [str(t) for t in tokens], catalog)
    settings = section.get("settings")
    if not isinstance(settings, dict):
        return
    spelt: dict[str, object] = {}
    for raw_code, values in settings.items():
        key = f"rules.settings.{raw_code}"
        code = str(raw_code).strip().upper()
        if code in spelt:
            yield (
                f"{key}: the same rule as rules.settings.{spelt[code]} (codes are read in "
                "any case); keep one"
            )
            continue
        spelt[code] = raw_code
        if code not in catalog:
            yield f"{key}: unknown rule '{raw_code}'{suggest_rule(code, sorted(catalog), False)}"
            continue
        if not isinstance(values, dict):
            yield f"{key}: must be a mapping of parameter to value"
            continue
        defaults = catalog[code]
        for param, value in values.items():
            where = f"{key}.{param}"
            if param == "severity":
                if value not in ("error", "warning", "info"):
                    yield f"{where}: must be error, warning or info (got {value!r})"
            elif param not in defaults:
                known = [*defaults, "severity"]
                yield (
                    f"{where}: unknown parameter of {code}{suggest(str(param), known)}; "
                    f"parameters: {', '.join(known)}"
                )
            elif not _same_kind(value, defaults[param]):
                yield f"{where}: must be {_kind(defaults[param])} (got {value!r})"
            elif (problem := _param_value_problem(param, value)) is not None:
                yield f"{where}: {problem}"


# Parameters whose values are limited beyond their kind (CHECKS.md, rule table)
PARAM_CHOICES: dict[str, tuple[str, ...]] = {"deal_amount_basis": ("arr", "mrr")}
FRACTION_PARAMS = frozenset({"min_fill", "error_below"})
MAX_DAYS = 36_500  # a day count beyond 100 years would take dates out of range
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")  # min_date: YYYY-MM-DD, nothing else
MAX_NUMBER = 2**53  # beyond it an integer is no longer exact as a float


def _param_value_problem(param: str, value: Any) -> str | None:
    """What is wrong with a rule parameter's value of the right kind, or None."""
    if param in PARAM_CHOICES and value not in PARAM_CHOICES[param]:
        return f"must be {' or '.join(PARAM_CHOICES[param])} (got {value!r})"
    if param == "min_date" and isinstance(value, datetime):  # YAML reads a time into it
        return f"must be a date as YYYY-MM-DD, without a time (got {value.isoformat(' ')!r})"
    if param == "min_date" and isinstance(value, str):
        try:  # fromisoformat alone takes 20000101 and week dates too
            if not ISO_DAY.fullmatch(value.strip()):
                raise ValueError(value)
            date.fromisoformat(value.strip())
        except ValueError:
            return f"must be a date as YYYY-MM-DD (got {value!r})"
    if param == "per_stage":
        days = list(value.values())
        if not all(
            isinstance(d, int | float)
            and not isinstance(d, bool)
            and 0 <= d <= MAX_DAYS  # before float(): an int of 400 digits overflows it
            and float(d).is_integer()
            for d in days
        ):
            return f"must map stage names to whole numbers of days, 0 to {MAX_DAYS} (got {value!r})"
    if param == "columns":
        return _fill_columns_problem(value)
    if param == "max_pushes" and not (isinstance(value, int) and not isinstance(value, bool)):
        return f"must be a whole number of pushes, 1 or more (got {value!r})"
    if param == "max_pushes" and value < 1:
        return f"must be 1 or more: every deal has moved at least 0 times (got {value!r})"
    if isinstance(value, int | float) and not isinstance(value, bool):
        # every comparison with .nan is false: it passed them all (an int is finite, and one
        # too big for a float is caught by the bounds below before any float())
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a number (got {value!r})"
        if value < 0:
            return f"must be 0 or more (got {value!r})"
        if param in FRACTION_PARAMS and value > 1:
            return f"must be a fraction between 0 and 1 (got {value!r})"
        if "days" in param and value > MAX_DAYS:
            return f"must be at most {MAX_DAYS} days, 100 years (got {value!r})"
        if "days" in param and not float(value).is_integer():
            return f"must be a whole number of days, as per_stage's are (got {value!r})"
        if value > MAX_NUMBER:
            return f"must be at most {MAX_NUMBER} (got {value!r})"
    return None


def _fill_columns_problem(value: Mapping[Any, Any]) -> str | None:
    """S003 `columns`: canonical table -> list of its canonical columns."""
    for table, columns in value.items():
        if table not in TABLES:
            return f"unknown table '{table}'{suggest(str(table), list(TABLES))}"
        if not isinstance(columns, list):
            return f"{table}: must be a list of columns"
        if not columns:
            return f"{table}: list at least one column (or leave the table out)"
        for column in columns:
            if column not in TABLES[table].columns:
                known = list(TABLES[table].columns)
                return f"{table}: unknown column '{column}'{suggest(str(column), known)}"
    return None


def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int | float):
        return "a number"
    if isinstance(default, dict):
        return "a mapping"
    if isinstance(default, list | tuple):
        return "a list"
    return "text"


def _same_kind(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, dict):
        return isinstance(value, dict)
    if isinstance(default, list | tuple):
        return isinstance(value, list)
    return isinstance(value, str | date)
