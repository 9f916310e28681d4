"""Load stage: find a workspace folder, read `seqdsl.toml` and list its rule files.

Everything the later stages need that is not logic comes from here: the time zone,
the business calendar, where the data files are (always inside the workspace) and where
the state lives.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

log = logging.getLogger("seqdsl.workspace")

CONFIG_NAME = "seqdsl.toml"

#: The data keys of `[data]` that are not object files.
DATA_KEYS = (
    "contacts",
    "companies",
    "deals",
    "associations",
    "events",
    "property_history",
    "list_memberships",
)

ENGINES = ("duckdb", "reference")
_FULL_DAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
WEEKDAYS = tuple(day[:3] for day in _FULL_DAYS)
_WORKSPACE_KEYS = ("timezone", "business_days", "holidays", "holiday_country", "engine")
_TABLES = ("workspace", "data", "state", "lint")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_END = re.compile(r"\s*\(at end of document\)$")
_TOML_HEADER = re.compile(r"\s*\[+\s*([^\]]*?)\s*\]")
_DAY_NAMES = {name: name[:3] for name in (*_FULL_DAYS, *WEEKDAYS)}


class WorkspaceError(Exception):
    """A workspace that cannot be loaded: a missing or invalid `seqdsl.toml`."""

    def __init__(
        self,
        path: Path,
        message: str,
        *,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line
        self.col = col
        self.hint = hint

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        text = f"{where}: {self.message}"
        return f"{text}; {self.hint}" if self.hint else text


def _default_state(settings: Settings) -> Path:
    return settings.root / ".seqdsl" / "state.duckdb"


def _absolute(path: Path) -> Path:
    return Path(path).resolve()


def _check_inside(settings: Settings, _: attrs.Attribute[Any], value: Any) -> None:
    """Keep the promise that no path of the settings leaves the workspace."""
    paths = dict(value) if isinstance(value, Mapping) else {"state": value}
    for key, path in paths.items():
        if not path.is_absolute() or not path.resolve().is_relative_to(settings.root):
            raise WorkspaceError(
                settings.root / CONFIG_NAME,
                f"`{key}` path `{path}` is outside the workspace",
            )


@attrs.frozen(kw_only=True)
class Settings:
    """What `seqdsl.toml` says, checked and with every default filled in."""

    root: Path = attrs.field(converter=_absolute)
    timezone: str = "UTC"
    business_days: tuple[str, ...] = WEEKDAYS[:5]
    holidays: tuple[date, ...] = ()
    holiday_country: str | None = None
    data: Mapping[str, Path] = attrs.field(
        factory=lambda: MappingProxyType({}), validator=_check_inside
    )
    state_path: Path = attrs.field(
        default=attrs.Factory(_default_state, takes_self=True),
        validator=_check_inside,
    )
    engine: str = "duckdb"
    lint: Mapping[str, Any] = attrs.field(factory=lambda: MappingProxyType({}))
    raw: Mapping[str, Any] = attrs.field(factory=lambda: MappingProxyType({}))


@attrs.frozen
class Workspace:
    """The settings and the rule files of one workspace."""

    settings: Settings
    sources: tuple[Path, ...]


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds a `seqdsl.toml`."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    raise WorkspaceError(
        start,
        f"no `{CONFIG_NAME}` here or in any folder above",
        hint=f"create `{CONFIG_NAME}` in the workspace folder",
    )


def load_workspace(path: Path) -> Workspace:
    """Read the workspace at `path`, a folder or its `seqdsl.toml`."""
    path = path.resolve()
    config = path if path.is_file() else path / CONFIG_NAME
    if not config.is_file():
        raise WorkspaceError(
            config,
            f"no `{CONFIG_NAME}` in `{config.parent}`",
            hint=f"create `{CONFIG_NAME}` there, or check single files instead",
        )

    try:
        text = config.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise WorkspaceError(config, f"not UTF-8 text: {error.reason}") from None
    settings = _SettingsReader(config, text).read()
    log.debug("workspace %s: %d data files", settings.root, len(settings.data))
    return Workspace(settings, tuple(_find_sources(settings.root)))


def load_sources_only(paths: Sequence[Path]) -> Workspace:
    """A workspace with default settings for rule files checked without a toml."""
    if not paths:
        raise WorkspaceError(Path(), "no rule files or folders given")

    sources: set[Path] = set()
    folders: list[Path] = []
    for given in paths:
        path = given.resolve()
        if path.is_dir():
            sources.update(_find_sources(path))
            folders.append(path)
        elif path.is_file():
            sources.add(path)
            folders.append(path.parent)
        else:
            raise WorkspaceError(given, "no such file or folder")

    root = Path(os.path.commonpath(folders))
    return Workspace(Settings(root=root), tuple(sorted(sources)))


def _find_sources(root: Path) -> Iterable[Path]:
    """Every `*.seq` file under `root`, skipping hidden files and folders."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in files:
            if name.endswith(".seq") and not name.startswith("."):
                found.append(Path(folder) / name)

    for path in found:
        if not path.resolve().is_relative_to(root):
            raise WorkspaceError(
                path, "rule file links to a place outside the workspace"
            )
    return sorted(found)


class _SettingsReader:
    """Checks the parsed toml table by table; errors point at the offending key."""

    def __init__(self, config: Path, text: str) -> None:
        self.config = config
        self.root = config.parent
        self.lines = text.splitlines()
        self.doc = self._parse(text)

    def read(self) -> Settings:
        for key, value in self.doc.items():
            if key not in _TABLES:
                raise self.unknown(key, None, _TABLES)
            if not isinstance(value, dict):
                raise self.error(f"`{key}` must be a table (`[{key}]`)", None, key)

        workspace = self.doc.get("workspace", {})
        for key in workspace:
            if key not in _WORKSPACE_KEYS:
                raise self.unknown(key, "workspace", _WORKSPACE_KEYS)
        state = self.doc.get("state", {})
        for key in state:
            if key != "path":
                raise self.unknown(key, "state", ("path",))

        defaults = Settings(root=self.root)
        state_path = defaults.state_path
        if "path" in state:
            state_path = self.inside(state["path"], "state", "path")
        return Settings(
            root=self.root,
            timezone=self.timezone(workspace.get("timezone", defaults.timezone)),
            business_days=self.business_days(workspace),
            holidays=self.holidays(workspace.get("holidays", [])),
            holiday_country=self.holiday_country(workspace.get("holiday_country")),
            data=MappingProxyType(self.data(self.doc.get("data", {}))),
            state_path=state_path,
            engine=self.engine(workspace.get("engine", defaults.engine)),
            lint=MappingProxyType(self.doc.get("lint", {})),
            raw=MappingProxyType(self.doc),
        )

    def _parse(self, text: str) -> dict[str, Any]:
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            message = str(error)
            line: int | None = None
            col: int | None = None
            if match := _TOML_POSITION.search(message):
                line, col = int(match[1]), int(match[2])
                message = message[: match.start()]
            elif match := _TOML_END.search(message):
                line = max(len(text.splitlines()), 1)
                message = message[: match.start()] + " at the end of the file"
            raise WorkspaceError(
                self.config,
                f"invalid toml: {message[:1].lower()}{message[1:]}",
                line=line,
                col=col,
            ) from None

    def error(
        self, message: str, table: str | None, key: str, hint: str | None = None
    ) -> WorkspaceError:
        line, col = self.locate(table, key)
        return WorkspaceError(self.config, message, line=line, col=col, hint=hint)

    def unknown(
        self, key: str, table: str | None, known: Iterable[str]
    ) -> WorkspaceError:
        where = f"in [{table}]" if table else "at the top level"
        close = difflib.get_close_matches(key, list(known), n=1)
        hint = f"did you mean `{close[0]}`?" if close else None
        return self.error(f"unknown key `{key}` {where}", table, key, hint)

    def locate(self, table: str | None, key: str) -> tuple[int | None, int | None]:
        """Best-effort 1-based line and column of `key` in `[table]`."""
        assignment = re.compile(rf"""\s*(["']?){re.escape(key)}\1\s*[=.]""")
        current: str | None = None
        for number, text in enumerate(self.lines, 1):
            if header := _TOML_HEADER.match(text):
                current = header[1]
                if table is None and current == key:
                    return number, header.start(1)
            elif current == table and assignment.match(text):
                return number, len(text) - len(text.lstrip()) + 1
        return None, None

    def expect(
        self, value: Any, kind: type | tuple[type, ...], table: str, key: str
    ) -> None:
        """Reject a value of the wrong toml type, naming both types."""
        if isinstance(value, kind):
            return
        wanted = kind if isinstance(kind, tuple) else (kind,)
        names = " or ".join(_toml_type(python) for python in wanted)
        got = _toml_type(type(value))
        raise self.error(f"`{key}` in [{table}] must be {names}, not {got}", table, key)

    def timezone(self, value: Any) -> str:
        self.expect(value, str, "workspace", "timezone")
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            close = difflib.get_close_matches(value, zoneinfo.available_timezones(), 1)
            hint = f"did you mean `{close[0]}`?" if close else "use a name like `UTC`"
            raise self.error(
                f"unknown time zone `{value}`", "workspace", "timezone", hint
            ) from None
        return str(value)

    def business_days(self, workspace: Mapping[str, Any]) -> tuple[str, ...]:
        value = workspace.get("business_days", list(WEEKDAYS[:5]))
        self.expect(value, list, "workspace", "business_days")
        days: list[str] = []
        for item in value:
            self.expect(item, str, "workspace", "business_days")
            day = _DAY_NAMES.get(item.lower())
            if day is None:
                raise self.error(
                    f"`{item}` is not a day of the week",
                    "workspace",
                    "business_days",
                    "use mon, tue, wed, thu, fri, sat or sun",
                )
            if day in days:
                raise self.error(
                    f"`{item}` is listed twice", "workspace", "business_days"
                )
            days.append(day)

        if not days:
            raise self.error(
                "`business_days` must name at least one day",
                "workspace",
                "business_days",
            )
        return tuple(sorted(days, key=WEEKDAYS.index))

    def holidays(self, value: Any) -> tuple[date, ...]:
        self.expect(value, list, "workspace", "holidays")
        days: set[date] = set()
        for item in value:
            if isinstance(item, date) and not isinstance(item, datetime):
                days.add(item)
                continue
            self.expect(item, (str, date), "workspace", "holidays")
            try:
                days.add(date.fromisoformat(str(item)))
            except ValueError:
                raise self.error(
                    f"holiday `{item}` is not a date",
                    "workspace",
                    "holidays",
                    "write dates as YYYY-MM-DD",
                ) from None
        return tuple(sorted(days))

    def holiday_country(self, value: Any) -> str | None:
        if value is None:
            return None
        self.expect(value, str, "workspace", "holiday_country")
        import holidays

        if value.upper() not in holidays.list_supported_countries():
            raise self.error(
                f"`{value}` is not a country the holiday calendar knows",
                "workspace",
                "holiday_country",
                "use a two-letter country code such as `US` or `DE`",
            )
        return str(value).upper()

    def engine(self, value: Any) -> str:
        self.expect(value, str, "workspace", "engine")
        if value not in ENGINES:
            close = difflib.get_close_matches(value, ENGINES, n=1)
            hint = f"did you mean `{close[0]}`?" if close else None
            names = ", ".join(f"`{name}`" for name in ENGINES)
            raise self.error(
                f"unknown engine `{value}`; expected one of {names}",
                "workspace",
                "engine",
                hint,
            )
        return str(value)

    def data(self, table: Mapping[str, Any]) -> dict[str, Path]:
        paths = {}
        for key, value in table.items():
            if not _IDENTIFIER.fullmatch(key):
                raise self.unknown(key, "data", DATA_KEYS)
            paths[key] = self.inside(value, "data", key)
        return paths

    def inside(self, value: Any, table: str, key: str) -> Path:
        """Resolve a path from the toml, refusing anything outside the workspace."""
        self.expect(value, str, table, key)
        if not value:
            raise self.error(f"`{key}` in [{table}] is an empty path", table, key)
        relative = Path(value)
        if ".." in relative.parts:
            raise self.error(
                f"`{key}` path `{value}` uses `..`",
                table,
                key,
                "paths are relative to the workspace folder and stay inside it",
            )
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise self.error(
                f"`{key}` path `{value}` is outside the workspace",
                table,
                key,
                "move the file into the workspace folder",
            )
        return path


def _toml_type(python: type) -> str:
    names = {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        list: "an array",
        dict: "a table",
        datetime: "a date-time",
        date: "a date",
    }
    return names.get(python, f"a {python.__name__}")
