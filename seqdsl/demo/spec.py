"""Demo data, first step: the spec of a demo workspace and what generating it reports.

A :class:`DemoSpec` is checked when it is made, so every later step may trust its
values.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import attrs

DEFAULT_AS_OF = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)

#: The file that marks a folder as a demo workspace, safe to regenerate.
MARKER = ".seqdsl-demo"


class DemoError(Exception):
    """A demo workspace cannot be written as asked; the message says why."""


def _check_spec(spec: DemoSpec) -> None:
    if spec.contacts < 1:
        raise DemoError(f"`contacts` must be at least 1, got {spec.contacts}")
    if min(spec.n_companies, spec.n_deals) < 0:
        raise DemoError("`companies` and `deals` must not be negative")
    if not 0 <= spec.events_per_contact <= 10_000:
        raise DemoError("`events_per_contact` must be between 0 and 10000")
    if not 0 <= spec.seed < 2**63:
        raise DemoError(f"`seed` must be in [0, 2**63), got {spec.seed}")
    if spec.as_of.utcoffset() is None:
        raise DemoError("`as_of` needs a time zone, e.g. 2026-12-01T12:00Z")
    if spec.format not in ("parquet", "csv"):
        raise DemoError(f"`format` must be parquet or csv, got {spec.format!r}")
    try:
        zoneinfo.ZoneInfo(spec.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DemoError(f"unknown time zone `{spec.timezone}`") from None


@attrs.frozen
class DemoSpec:
    """How big the demo workspace is, its seed and its "now"."""

    contacts: int = 10_000
    companies: int | None = None
    deals: int | None = None
    events_per_contact: float = 10.0
    seed: int = 7
    as_of: dt.datetime = DEFAULT_AS_OF
    format: Literal["parquet", "csv"] = "parquet"
    timezone: str = "America/New_York"

    def __attrs_post_init__(self) -> None:
        _check_spec(self)

    @property
    def n_companies(self) -> int:
        return self.contacts // 10 if self.companies is None else self.companies

    @property
    def n_deals(self) -> int:
        return self.contacts // 5 if self.deals is None else self.deals


@attrs.frozen
class GenerateReport:
    """What `generate` wrote: rows per data file (relative path), seconds taken."""

    out_dir: Path
    rows: Mapping[str, int]
    seconds: float
