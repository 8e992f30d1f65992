"""Presets: the column and value maps of known exports (HubSpot, Salesforce, Stripe, ...).

Each preset is a YAML file beside this module (DECISIONS D17). A source names one with `preset:`;
its explicit `columns:` and `values:` override the preset key by key. `detect` scores the presets
against a file's header row for `revops init`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

# Pipedrive prefixes every header with its object ("Deal - Title"); a deals export also carries
# the deal's organization and person ("Organization - ID").
_PREFIX = re.compile(r"^(deal|organization|org|person|lead|activity) - ")
# The objects whose headers are a table's own: "Deal - ID" is the deals' "ID", never "Person - ID".
# In another table any prefix is its own.
OWN_PREFIXES = {
    "deals": frozenset({"deal"}),
    "deal_stage_history": frozenset({"deal"}),
    "accounts": frozenset({"organization", "org"}),
    "leads": frozenset({"person", "lead"}),
}
OPTION_KEYS = ("date_format", "decimal", "amount_divisor", "multi_value", "empty_bool")


def normalise_header(header: str) -> str:
    """BOM stripped, trimmed, lower-cased, spaces collapsed, no trailing `*` or `Deal - ` prefix."""
    return split_header(header)[1]


def split_header(header: str) -> tuple[str | None, str]:
    """A header's object prefix (`deal` of "Deal - Title"; None without one) and the header
    normalised without it."""
    text = header.replace("\ufeff", "").strip().lower()
    text = re.sub(r"\s+", " ", text).rstrip("*").strip()
    prefix = _PREFIX.match(text)
    return (prefix.group(1), text[prefix.end() :]) if prefix else (None, text)


@dataclass(frozen=True)
class Preset:
    """The maps of one known export kind."""

    name: str
    table: str
    vendor: str
    description: str
    required: tuple[tuple[str, ...], ...]  # groups of alternative headers; every group must match
    optional: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]  # canonical -> alternative headers, the first present wins
    values: dict[str, dict[str, tuple[str, ...]]]
    options: dict[str, Any] = field(default_factory=dict)  # date_format, decimal, ...
    # canonical -> headers read, cell by cell, where the column's own header is empty (Pipedrive:
    # an open deal has no "Deal closed on", only an "Expected close date")
    fallbacks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # headers read together (HubSpot's amount and its currency): canonical -> header per pair; the
    # first pair whose headers are all present wins over the columns' own alternatives
    pairs: tuple[dict[str, str], ...] = ()


def _as_tuple(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(str(item) for item in items)


def _preset(data: Mapping[str, Any]) -> Preset:
    detect = data.get("detect") or {}
    values = {
        column: {word: _as_tuple(raws) for word, raws in mapping.items()}
        for column, mapping in (data.get("values") or {}).items()
    }
    options = {key: data[key] for key in OPTION_KEYS if key in data}
    if isinstance(options.get("date_format"), str):
        options["date_format"] = [options["date_format"]]
    return Preset(
        name=str(data["name"]),
        table=str(data["table"]),
        vendor=str(data.get("vendor", "")),
        description=str(data.get("description", "")),
        required=tuple(_as_tuple(group) for group in detect.get("required", [])),
        optional=_as_tuple(detect.get("optional", [])),
        columns={column: _as_tuple(headers) for column, headers in data["columns"].items()},
        values=values,
        options=options,
        fallbacks={
            column: _as_tuple(headers) for column, headers in (data.get("fallback") or {}).items()
        },
        pairs=tuple(
            {str(column): str(header) for column, header in pair.items()}
            for pair in data.get("pairs") or []
        ),
    )


@cache
def presets() -> dict[str, Preset]:
    """Every shipped preset by name."""
    found: dict[str, Preset] = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            preset = _preset(yaml.safe_load(entry.read_text(encoding="utf-8")))
            found[preset.name] = preset
    return found


def preset_name(name: str) -> str:
    """The shipped preset `name` stands for: any case, and the object singular or plural
    (`salesforce-opportunities`, `HubSpot-Deal`); `name` itself when none matches."""
    wanted = name.strip().lower()
    known = presets()
    for candidate in (wanted, *_number_forms(wanted)):
        if candidate in known:
            return candidate
    return name


def _number_forms(name: str) -> tuple[str, ...]:
    """The other grammatical number of a name's last word (deal/deals, company/companies)."""
    if name.endswith("ies"):
        return (name[:-3] + "y",)
    if name.endswith("y"):
        return (name[:-1] + "ies",)
    if name.endswith("s"):
        return (name[:-1],)
    return (name + "s",)


@dataclass(frozen=True)
class Match:
    """A preset that fits a header row, with the share of its known headers present."""

    preset: Preset
    confidence: float


def detect(headers: Sequence[str]) -> list[Match]:
    """The presets whose required headers all occur in `headers`, best first."""
    present = {normalise_header(h) for h in headers}
    matches = []
    for preset in presets().values():
        if not preset.required or not all(present & set(group) for group in preset.required):
            continue
        known = len(preset.required) + len(preset.optional)
        hits = len(preset.required) + sum(h in present for h in preset.optional)
        matches.append(Match(preset, hits / known if known else 1.0))
    return sorted(matches, key=lambda m: (-m.confidence, m.preset.name))
