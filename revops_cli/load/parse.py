"""Vectorised polars expressions that turn raw CSV text into canonical types.

Every builder takes an expression over a String column holding raw cell text (untrimmed, possibly
null) and returns an expression of the canonical dtype, named after its input column. A value that
does not parse becomes null: these functions never raise on data, so rule S002 can count the
failures with `parse_failed`. See SCHEMA.md "Types and normalisation" and DECISIONS.md D16, D25
and D27.

Performance: `DataFrame.select` (eager) runs without common-subexpression elimination, and lazy
queries do not share `when/then` subexpressions either, so an intermediate used twice would be
computed twice. `_staged` materialises intermediates once as struct fields instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Literal

import polars as pl

_F = pl.field

__all__ = [
    "clean_text",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_failed",
    "parse_integer",
    "parse_money",
    "parse_number",
]

# Unicode White_Space plus the zero-width space and a stray BOM: exports leave them in cells, and
# they are invisible in a spreadsheet, so nobody would understand why '00123' != ' 00123'.
_STRIP = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def _strip(raw: pl.Expr) -> pl.Expr:
    """Trimmed text; an empty cell stays '' (no when/then: see the module docstring)."""
    return raw.cast(pl.String).str.strip_chars(_STRIP)


def _staged(raw: pl.Expr, stages: Sequence[dict[str, pl.Expr]]) -> pl.Expr:
    """Evaluate `stages` of struct fields in turn over the stripped `text`; return the last field.

    Each stage reads the fields of the previous ones with `pl.field`, so every intermediate is
    computed once. The result keeps the name of the input column.
    """
    struct = pl.struct(_strip(raw).alias("text"))
    for stage in stages:
        struct = struct.struct.with_fields(**stage)
    return struct.struct.field(list(stages[-1])[-1]).name.keep()


def clean_text(raw: pl.Expr) -> pl.Expr:
    """Trim whitespace (also non-breaking spaces); empty string -> null.

    Used for ids and text columns: ids stay strings, so '00123' stays '00123'. A column of the Null
    dtype (every cell empty) is accepted and gives a null String column.
    """
    return _strip(raw).replace("", None)


def parse_failed(raw: pl.Expr, parsed: pl.Expr) -> pl.Expr:
    """True where the raw cell is non-empty after trimming but the parsed value is null.

    Rule S002 counts these. Never null: an empty cell is missing, not a failure.
    """
    return (_strip(raw).str.len_bytes().fill_null(0) > 0) & parsed.is_null()


def parse_bool(raw: pl.Expr) -> pl.Expr:
    """Parse true/false, yes/no, 1/0 and t/f (any case, trimmed) into Boolean; else null (SCHEMA.md
    lists exactly these words: a 'y' or 'n' is an S002 finding)."""
    word = _strip(raw).str.to_lowercase()
    return word.replace_strict(_BOOL_WORDS, default=None, return_dtype=pl.Boolean)


_BOOL_WORDS = {
    **dict.fromkeys(("true", "t", "yes", "1"), True),
    **dict.fromkeys(("false", "f", "no", "0"), False),
}

# --- numbers -------------------------------------------------------------------------------------

_SPACES = " \u00a0\u202f"  # plain, non-breaking and narrow non-breaking space (fr-FR exports)
_APOSTROPHES = "'\u2019"  # de-CH writes 1'234.50, sometimes with the typographic apostrophe
# Unicode's currency signs in use (category Sc, without the historic ones); `R$`, `US$`, `kr`
# and codes in any case are matched by the grammar
_SYMBOLS = "$€£¥₹₩₽₺₪₫₱₦₴₸₼₾₵₡₲₭₮฿৳"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INT64_BOUND = 2.0**63


@lru_cache
def _number_grammar(decimal: str, percent: bool) -> tuple[str, dict[str, str]]:
    """Whole-cell regex of a number, and the replacements that reduce a match to float text."""
    if decimal not in (".", ","):
        raise ValueError(f"decimal must be '.' or ',', not {decimal!r}")
    other = "," if decimal == "." else "."
    # One alternative per separator, so a value cannot mix them ('1,234 567'), and groups after
    # the first are exactly three digits (D27): '12,34' with decimal '.' is not a number.
    grouped = "|".join(
        rf"[0-9]{{1,3}}(?:{sep}[0-9]{{3}})+"
        for sep in (re.escape(other), f"[{_SPACES}]", f"[{_APOSTROPHES}]")
    )
    mark = re.escape(decimal)
    # '5.' is accepted as 5.0: spreadsheets write it for integral values with a forced mark.
    num = rf"(?:(?:{grouped}|[0-9]+)(?:{mark}[0-9]*)?|{mark}[0-9]+)"
    ws = f"[{_SPACES}]*"
    cur = rf"(?:[{_SYMBOLS}]|[A-Za-z]{{3}}|[A-Z]{{1,2}}\$|kr)"
    body = rf"(?:{cur}{ws})?{num}(?:{ws}{cur})?"
    forms = [
        rf"[+-]?{ws}{body}",  # -$5.00, +5, 5 USD
        rf"{cur}{ws}[+-]{ws}{num}(?:{ws}{cur})?",  # $-5.00
        rf"{body}{ws}-",  # 120.00- (SAP and other ERPs)
        rf"\({ws}{body}{ws}\)",  # (120.00), accounting style
    ]
    suffix = f"(?:{ws}%)?" if percent else ""
    regex = rf"^(?:{'|'.join(forms)}){suffix}$"
    # A valid match holds one sign at most, so dropping every non-digit but the decimal mark
    # (and turning ',' into '.') leaves text that a float cast reads exactly.
    drop = _SPACES + _APOSTROPHES + _SYMBOLS + other + "()+-%" + _LETTERS
    replacements = dict.fromkeys(drop, "") | {decimal: "."}
    return regex, replacements


MAX_MAGNITUDE = 1e100  # a number at or beyond it "overflows" (D27): null and S002


def _number(raw: pl.Expr, decimal: str, percent: bool, integer: bool) -> pl.Expr:
    """Signed value of raw text as Float64 (Int64 with `integer`); null when invalid."""
    regex, replacements = _number_grammar(decimal, percent)
    text, mag = _F("text"), _F("mag")
    # Exponents, inf and NaN fail the grammar; a 400-digit string casts to inf and is rejected
    # too, and so is any magnitude from MAX_MAGNITUDE on: sums of such values overflow to inf.
    ok = _F("valid") & (mag < MAX_MAGNITUDE)
    if integer:
        ok = ok & (mag == mag.floor()) & (mag < _INT64_BOUND)
    # Negating only non-zero values makes '-0' and '(0.00)' +0.0 (D27), never -0.0.
    value = pl.when(ok & _F("negative") & (mag != 0)).then(-mag).when(ok).then(mag)
    stages = {
        # Casting every row and masking afterwards is cheaper than masking first.
        "mag": text.str.replace_many(replacements).cast(pl.Float64, strict=False),
        "valid": text.str.contains(regex),
        "negative": text.str.contains("-", literal=True) | text.str.starts_with("("),
    }
    return _staged(raw, [stages, {"value": value.cast(pl.Int64) if integer else value}])


def parse_money(raw: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Parse money text such as '$1,234.50', '1 234,50 €' or '(120.00)' into Float64.

    `decimal` ('.' or ',') alone decides the decimal mark (D27). The other mark, spaces and
    apostrophes are thousands separators and must split groups of exactly three digits. One
    currency sign ($ € £ ¥ ₹ ₩ and the other signs in use, R$ or US$, kr) or three-letter code
    (any case) before and/or after the number is ignored. Negative: a leading or trailing '-',
    or parentheses; a leading '+' is allowed. Exponents, inf, NaN and overflowing values (1e100
    or more) are null; '-0' is +0.0. Another `decimal` raises ValueError when the expression is
    built.
    """
    return _number(raw, decimal, percent=False, integer=False)


def parse_number(raw: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Parse a plain number (e.g. a probability) into Float64 with the money grammar.

    A trailing '%' is also accepted and the value kept as written: '75%' -> 75.0 (scaling is the
    loader's `probability_scale` business, D15).
    """
    return _number(raw, decimal, percent=True, integer=False)


def parse_integer(raw: pl.Expr, decimal: str = ".") -> pl.Expr:
    """Parse an integer count (quantity, interval_count) into Int64.

    Uses the money grammar with the source's decimal mark (D27), so '1,000' -> 1000 and '3.0' -> 3
    with '.', and '1.000' -> 1000 with ','. A fractional value ('3.5') or one outside the Int64
    range is null. Values go through Float64, so beyond 2**53 they may lose precision, which does
    not matter for counts.
    """
    return _number(raw, decimal, percent=False, integer=True)


# --- dates and datetimes -------------------------------------------------------------------------

_Kind = Literal["date", "naive", "aware"]
_TIME_DIRECTIVES = re.compile(r"%[-_0^#]?[HIklMSTRXcrpPf]|%\.?[0-9]?f")
# Epoch seconds (%s) are UTC instants, like a value with an offset.
_OFFSET_DIRECTIVES = re.compile(r"%[:#]*z|%\+|%s")
_ISO_S = "%Y-%m-%dT%H:%M:%S%.f"  # '%.f' also matches no fraction at all
_ISO_M = "%Y-%m-%dT%H:%M"
_BASIC = "%Y%m%dT%H%M%S"
_DTYPES: dict[_Kind, pl.Date | pl.Datetime] = {
    "date": pl.Date(),
    "naive": pl.Datetime("us"),
    "aware": pl.Datetime("us", "UTC"),
}


def _format_kind(fmt: str) -> _Kind:
    """Whether a strftime format yields a date, a naive datetime or an offset-aware datetime."""
    if _OFFSET_DIRECTIVES.search(fmt):
        return "aware"
    return "naive" if _TIME_DIRECTIVES.search(fmt) else "date"


def _strptime(text: pl.Expr, kind: _Kind, fmt: str) -> pl.Expr:
    # exact=True (the default, spelled out because it matters): a non-exact match would take the
    # '2024-07-01' prefix of '2024-07-01garbage'. strict=False turns failures into null; an
    # invalid user format also just gives null.
    return text.str.strptime(_DTYPES[kind], fmt, strict=False, exact=True)


def _user_strptime(text: pl.Expr, kind: _Kind, fmt: str) -> pl.Expr:
    """`_strptime` with a format from the config. '%Y' is a four-digit year there, as in
    Python's strptime, but polars reads '25' as the year 25: a year below 1000 is taken as not
    matching, so that '12/25/25' falls through to a later '%m/%d/%y' (or is an S002 failure).
    '%y' follows Python's pivot: 69-99 are 1969-1999, 00-68 are 2000-2068."""
    parsed = _strptime(text, kind, fmt)
    if "%y" in fmt:
        # Python's and POSIX's '%y' make 69-99 the 1900s; polars makes 69 the year 2069
        parsed = (
            pl.when(parsed.dt.year() == 2069).then(parsed.dt.offset_by("-100y")).otherwise(parsed)
        )
    return pl.when(parsed.dt.year() >= 1000).then(parsed) if "%Y" in fmt else parsed


def _parsed(
    raw: pl.Expr, formats: Sequence[str], convert: dict[_Kind, Callable[[pl.Expr], pl.Expr]]
) -> pl.Expr:
    """Coalesce parse attempts, each turned into the target dtype by `convert` of its kind.

    Attempts in priority order: ISO 8601, then each user format in turn. Generic format inference
    is slow, so ISO 8601 is nine exact formats, each guarded by cheap length and character tests:
    a cell reaches at most one of them, and strptime skips the nulls.
    """
    text, size, tail = _F("text"), _F("size"), _F("tail")
    shape = {
        "size": text.str.len_bytes(),
        # An offset can only start after the minutes ('YYYY-MM-DDTHH:MM' is 16 bytes); before
        # that, '-' is the date separator.
        "tail": text.str.slice(16),
        "is_dt": text.str.slice(10, 1).is_in(["T", " "]),
        # Only the first space becomes 'T': '2024-07-01 10:00:00 +02:00' works ('%#z' skips the
        # space), but 'T' with a space before the offset does not; that shape is rare in exports.
        "iso": text.str.replace(" ", "T", literal=True),
        # ISO 8601's basic format: '20240701', '20240701T103000' (+ 'Z' or an offset)
        "basic": text.str.slice(8, 1) == "T",
    }
    flags = {"aware": tail.str.contains("[Z+-]"), "seconds": tail.str.starts_with(":")}
    is_dt, iso, aware, seconds = _F("is_dt"), _F("iso"), _F("aware"), _F("seconds")
    basic = _F("basic")
    iso_attempts: list[tuple[_Kind, pl.Expr]] = [
        ("date", _strptime(pl.when(size == 10).then(text), "date", "%Y-%m-%d")),
        ("naive", _strptime(pl.when(is_dt & seconds & ~aware).then(iso), "naive", _ISO_S)),
        ("naive", _strptime(pl.when(is_dt & (size == 16)).then(iso), "naive", _ISO_M)),
        # '%#z' takes 'Z', '+02', '+0200' and '+02:00' (Salesforce writes '.000+0000').
        ("aware", _strptime(pl.when(is_dt & seconds & aware).then(iso), "aware", _ISO_S + "%#z")),
        ("aware", _strptime(pl.when(is_dt & ~seconds & aware).then(iso), "aware", _ISO_M + "%#z")),
        # the hour alone ('2024-07-01T10'), and the basic format, as Python's fromisoformat
        ("naive", _strptime(pl.when(is_dt & (size == 13)).then(iso + ":00"), "naive", _ISO_M)),
        ("date", _strptime(pl.when(size == 8).then(text), "date", "%Y%m%d")),
        ("naive", _strptime(pl.when(basic & (size == 15)).then(text), "naive", _BASIC)),
        ("aware", _strptime(pl.when(basic & (size > 15)).then(text), "aware", _BASIC + "%#z")),
    ]
    # A str is a Sequence[str] too; config's `date_format` may be one format rather than a list.
    user = [
        (_format_kind(fmt), fmt) for fmt in ([formats] if isinstance(formats, str) else formats)
    ]
    kinds = [kind for kind, _ in iso_attempts] + [kind for kind, _ in user]
    stages = [shape, flags, {f"a{i}": expr for i, (_, expr) in enumerate(iso_attempts)}]
    if user:
        # User formats only see the cells that ISO 8601 did not take.
        hit = pl.any_horizontal([_F(f"a{i}").is_not_null() for i in range(len(iso_attempts))])
        stages.append({"rest": pl.when(~hit).then(text)})
        first = len(iso_attempts)
        stages.append(
            {
                f"a{first + i}": _user_strptime(_F("rest"), kind, fmt)
                for i, (kind, fmt) in enumerate(user)
            }
        )
    result = pl.coalesce([convert[kind](_F(f"a{i}")) for i, kind in enumerate(kinds)])
    return _staged(raw, [*stages, {"result": result}])


def parse_datetime(raw: pl.Expr, formats: Sequence[str] = (), timezone: str = "UTC") -> pl.Expr:
    """Parse ISO 8601, then each strftime format of `formats`, into Datetime('us', 'UTC').

    A value with an offset (or 'Z') is converted to UTC. A naive value, or a date-only one (at
    midnight), is a local time in the IANA zone `timezone` (D16): a time repeated by a DST
    fall-back takes the earlier instant, and one in a spring-forward gap is read with the offset
    before the gap, as Python's zoneinfo reads it (02:30 on a New York spring-forward day is
    07:30 UTC; a date on Santiago's, where midnight is skipped, is 04:00 UTC): an export's
    dates are valid, even where the clock skipped them. Garbage and impossible dates
    ('2024-02-30') are null.
    """

    def localise(naive: pl.Expr) -> pl.Expr:
        local = naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        if timezone == "UTC":
            return local  # no gaps
        # in a gap, an hour earlier is before it: that instant, an hour later (gaps are shorter)
        hour = pl.duration(hours=1)
        before = (naive - hour).dt.replace_time_zone(
            timezone, ambiguous="earliest", non_existent="null"
        )
        return pl.coalesce(local, before + hour).dt.convert_time_zone("UTC")

    return _parsed(
        raw,
        formats,
        {
            "date": lambda e: localise(e.cast(pl.Datetime("us"))),
            "naive": localise,
            "aware": lambda e: e,
        },
    )


def parse_date(raw: pl.Expr, formats: Sequence[str] = (), timezone: str = "UTC") -> pl.Expr:
    """Parse ISO 8601, then each strftime format of `formats`, into Date.

    A date-only value is taken as is, and so is the date of a naive datetime (it already is a
    local time in `timezone`). A value with an offset is converted to `timezone` first and then
    truncated: '2024-07-01T23:30:00-05:00' with timezone UTC is 2024-07-02 (D16).
    """
    return _parsed(
        raw,
        formats,
        {
            "date": lambda e: e,
            "naive": lambda e: e.dt.date(),
            "aware": lambda e: e.dt.convert_time_zone(timezone).dt.date(),
        },
    )
