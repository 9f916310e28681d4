"""Test stage, reader: `*.seqtest.toml` files to checked test cases.

A test file has `[[test]]` tables, one per case, and optionally a `[defaults]`
table whose keys every case takes unless it sets them itself. A case gives its
records (see :mod:`seqdsl.testing.tables`), when it runs (`now`, or `runs` for
several runs), and what it expects (`expect`). Every name in a case is checked
against the workspace before anything runs; a problem is a :class:`SpecError`
that names the file, the line and the offending key.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import itertools
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from seqdsl.calendar import Calendar, CalendarError, parse_instant
from seqdsl.checked import CheckedWorkspace
from seqdsl.testing.lines import Lines, Region
from seqdsl.testing.tables import Problem, Table, build_table, data_key

__all__ = [
    "REASONS",
    "SUFFIX",
    "Case",
    "Expectation",
    "SpecError",
    "SuiteFile",
    "Verb",
    "When",
    "find_test_files",
    "read_test_file",
    "read_test_text",
]

#: The file name ending of test files.
SUFFIX = ".seqtest.toml"

_CASE_KEYS = ("name", "now", "runs", "expect")
_WHEN = frozenset({"now", "runs"})
_MODIFIERS = ("record", "at", "sequence", "reason")


class SpecError(Exception):
    """A test file that cannot be run: bad TOML, an unknown key or name."""

    def __init__(
        self,
        path: str,
        message: str,
        *,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line
        self.key = key
        self.hint = hint

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        text = f"{where}: {self.message}"
        return f"{text}; {self.hint}" if self.hint else text


class Verb(enum.Enum):
    """What an expectation claims about a record."""

    IN_LIST = "in_list"
    NOT_IN_LIST = "not_in_list"
    ENROLLS_IN = "enrolls_in"
    NOT_ENROLLS_IN = "not_enrolls_in"
    STEP = "step"
    NO_STEP = "no_step"
    UNENROLLED_FROM = "unenrolled_from"
    REFUSED = "refused"

    @property
    def negative(self) -> bool:
        return self in (Verb.NOT_IN_LIST, Verb.NOT_ENROLLS_IN, Verb.NO_STEP)


#: The words a test may give as `reason`, and how the runtime's reason starts.
REASONS: Mapping[Verb, Mapping[str, str]] = {
    Verb.UNENROLLED_FROM: {
        "goal": "met the goal",
        "suppression": "met `suppress when`",
        "unenroll": "met `unenroll when`",
        "replied": "replied",
        "booked meeting": "booked meeting",
        "bounced": "bounced",
        "unsubscribed": "unsubscribed",
        "company replied": "company replied",
        "workflow": "unenrolled by ",
    },
    Verb.REFUSED: {
        "suppression": "suppressed",
        "goal": "already meets the goal",
        "already enrolled": "ALREADY_ENROLLED",
        "missing email": "MISSING_EMAIL",
        "bounced": "BOUNCED",
        "unsubscribed": "UNSUBSCRIBED",
        "no sender": "NO_SENDER",
    },
}
_TIMED = frozenset({Verb.ENROLLS_IN, Verb.STEP, Verb.UNENROLLED_FROM, Verb.REFUSED})


@attrs.frozen
class When:
    """An expected time: an exact instant, or any time on a workspace day."""

    instant: dt.datetime | None = None
    day: dt.date | None = None

    def matches(self, at: dt.datetime, calendar: Calendar) -> bool:
        if self.day is not None:
            return calendar.local_date(at) == self.day
        return at == self.instant

    def text(self) -> str:
        if self.day is not None:
            return f"on {self.day.isoformat()}"
        assert self.instant is not None
        return f"at {_stamp(self.instant)}"


@attrs.frozen
class Expectation:
    """One claim about one record; `target` is a list, workflow, sequence or step."""

    verb: Verb
    record: str
    target: str
    at: When | None = None
    sequence: str | None = None
    reason: str | None = None
    line: int | None = None

    def text(self) -> str:
        """The claim in words, as failures show it."""
        target = f'"{self.target}"'
        words = {
            Verb.IN_LIST: f"is in list {target}",
            Verb.NOT_IN_LIST: f"is not in list {target}",
            Verb.ENROLLS_IN: f"enrolls in {target}",
            Verb.NOT_ENROLLS_IN: f"does not enroll in {target}",
            Verb.STEP: f"gets step {target}",
            Verb.NO_STEP: f"does not get step {target}",
            Verb.UNENROLLED_FROM: f"is unenrolled from {target}",
            Verb.REFUSED: f"is refused by {target}",
        }
        parts = [f"record `{self.record}` {words[self.verb]}"]
        if self.sequence:
            parts.append(f'of sequence "{self.sequence}"')
        if self.reason:
            parts.append(f"({self.reason})")
        if self.at:
            parts.append(self.at.text())
        return " ".join(parts)


@attrs.frozen
class Case:
    """One test: records, run times and expectations."""

    path: str
    name: str
    runs: tuple[dt.datetime, ...]
    tables: tuple[Table, ...]
    expectations: tuple[Expectation, ...]
    line: int | None = None

    @property
    def now(self) -> dt.datetime:
        """The time of the last run, which list expectations are checked at."""
        return self.runs[-1]


@attrs.frozen
class SuiteFile:
    """The cases of one test file, or the problems that keep it from running."""

    path: str
    cases: tuple[Case, ...]
    errors: tuple[SpecError, ...] = ()


def find_test_files(root: Path) -> list[Path]:
    """Every test file under `root`, skipping hidden folders, in a stable order."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        found.extend(Path(folder) / name for name in files if name.endswith(SUFFIX))
    return sorted(found)


def read_test_file(path: Path, shown: str, checked: CheckedWorkspace) -> SuiteFile:
    """Read and check one test file; each bad case is reported, the others kept."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return SuiteFile(shown, (), (SpecError(shown, f"cannot read: {error}"),))
    return read_test_text(text, shown, checked)


def read_test_text(text: str, shown: str, checked: CheckedWorkspace) -> SuiteFile:
    """Read and check the text of a test file named `shown` in messages."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return SuiteFile(shown, (), (SpecError(shown, f"invalid toml: {error}"),))
    return _Reader(shown, Lines(text), checked).read(document)


class _Reader:
    """Reads the cases of one parsed file, keeping the first problem of each."""

    def __init__(self, path: str, lines: Lines, checked: CheckedWorkspace) -> None:
        self.path = path
        self.lines = lines
        self.checked = checked
        self.zone = checked.settings.timezone

    def read(self, document: Mapping[str, Any]) -> SuiteFile:
        try:
            defaults, tests = self.tables_of(document)
        except SpecError as error:
            return SuiteFile(self.path, (), (error,))
        cases, errors = [], []
        for index, table in enumerate(tests):
            try:
                cases.append(self.case(index, table, defaults))
            except SpecError as error:
                errors.append(error)
        return SuiteFile(self.path, tuple(cases), tuple(errors))

    def tables_of(
        self, document: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """`[defaults]` and the `[[test]]` tables, refusing anything else."""
        for key in sorted(set(document) - {"defaults", "test"}):
            region = self.lines.region(key)
            line = region.first if region else self.lines.key(None, key)
            hint = _hint(key, ["defaults", "test"])
            raise self.error(f"unknown table `{key}`", line, key, hint)
        defaults = document.get("defaults", {})
        if not isinstance(defaults, dict):
            line = self.lines.key(None, "defaults")
            raise self.error("`defaults` must be a table", line, "defaults")
        tests = document.get("test", [])
        if not isinstance(tests, list) or not tests:
            raise self.error("no `[[test]]` tables in the file", None, "test")
        if not all(isinstance(test, dict) for test in tests):
            line = self.lines.key(None, "test")
            raise self.error("`test` must be `[[test]]` tables", line, "test")
        return defaults, tests

    def error(
        self,
        message: str,
        line: int | None,
        key: str | None,
        hint: str | None = None,
    ) -> SpecError:
        return SpecError(self.path, message, line=line, key=key, hint=hint)

    # -- one case

    def case(
        self, index: int, table: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> Case:
        region = self.lines.region("test", index)
        head = region.first if region else None
        merged = dict(defaults)
        if _WHEN & set(table):  # a case's own times replace the default ones
            merged = {k: v for k, v in merged.items() if k not in _WHEN}
        merged.update(table)
        where = _Where(self, region, self.lines.region("defaults"), set(table))

        name = merged.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.error("a test needs a `name` (a string)", head, "name")
        prefix = f'test "{name}": '
        try:
            tables = self.tables(merged, where)
            runs = self.runs(merged, where)
            expectations = self.expectations(merged, where, tables)
        except SpecError as error:
            error.message = prefix + error.message
            raise
        return Case(self.path, name, runs, tables, expectations, head)

    def tables(self, merged: Mapping[str, Any], where: _Where) -> tuple[Table, ...]:
        found: dict[str, Table] = {}
        for key, value in merged.items():
            if key in _CASE_KEYS:
                continue
            target = data_key(key, self.checked)
            if target is None:
                known = [*_CASE_KEYS, "contacts", "events", "history"]
                known += [
                    "associations",
                    "memberships",
                    *self.checked.schema.objects,
                ]
                raise self.error(
                    f"unknown key `{key}`",
                    where.key(key),
                    key,
                    _hint(key, known),
                )
            if target in found:
                raise self.error(
                    f"`{key}` gives the same input twice", where.key(key), key
                )
            try:
                found[target] = build_table(
                    key, target, value, self.checked, where.rows(key)
                )
            except Problem as problem:
                line = where.row(key, problem.row) if problem.row is not None else None
                line = line or where.key(key)
                raise self.error(
                    self.problem_text(key, problem),
                    line,
                    problem.key,
                    problem.hint,
                ) from None
        return tuple(found.values())

    @staticmethod
    def problem_text(key: str, problem: Problem) -> str:
        record = "" if problem.row is None else f" record {problem.row + 1}"
        return f"`{key}`{record}: {problem.message}"

    def runs(self, merged: Mapping[str, Any], where: _Where) -> tuple[dt.datetime, ...]:
        if ("now" in merged) == ("runs" in merged):
            line = where.key("runs") or where.key("now") or where.head()
            raise self.error(
                "give either `now` or `runs` (a list of times)", line, "now"
            )
        key = "now" if "now" in merged else "runs"
        values = merged[key] if key == "runs" else [merged[key]]
        if not isinstance(values, list) or not values:
            raise self.error("`runs` must be a non-empty array", where.key(key), key)

        runs = [self.instant(value, key, where) for value in values]
        for before, after in itertools.pairwise(runs):
            if after <= before:
                raise self.error(
                    f"run times must increase; {_stamp(after)} is not after "
                    f"{_stamp(before)}",
                    where.key(key),
                    key,
                )
        return tuple(runs)

    def instant(self, value: Any, key: str, where: _Where) -> dt.datetime:
        text = value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
        if not isinstance(text, str):
            raise self.error(f"`{key}` must be a date-time", where.key(key), key)
        try:
            return parse_instant(text, self.zone)
        except CalendarError as error:
            raise self.error(f"`{key}`: {error}", where.key(key), key) from None

    # -- expectations

    def expectations(
        self, merged: Mapping[str, Any], where: _Where, tables: Sequence[Table]
    ) -> tuple[Expectation, ...]:
        items = merged.get("expect")
        if not isinstance(items, list) or not items:
            line = where.key("expect") or where.head()
            hint = 'write `expect = [{ record = "1", in_list = "..." }]`'
            raise self.error(
                "a test needs `expect`, an array of tables",
                line,
                "expect",
                hint,
            )
        ids = {table.key: table.ids for table in tables}
        found = []
        for index, item in enumerate(items):
            line = where.item("expect", index)
            if not isinstance(item, dict):
                raise self.error("each expectation must be a table", line, "expect")
            found.append(_ExpectationReader(self, line, ids).read(item))
        return tuple(found)


class _Where:
    """Line lookups for one case: keys it sets itself are in its own region,
    keys it takes from `[defaults]` in that one."""

    def __init__(
        self,
        reader: _Reader,
        region: Region | None,
        defaults: Region | None,
        own: set[str],
    ) -> None:
        self.lines = reader.lines
        self.region = region
        self.defaults = defaults
        self.own = own

    def head(self) -> int | None:
        return self.region.first if self.region else None

    def of(self, key: str) -> Region | None:
        return self.region if key in self.own else self.defaults

    def key(self, key: str) -> int | None:
        return self.lines.key(self.of(key), key)

    def item(self, key: str, index: int) -> int | None:
        return self.lines.item(self.of(key), key, index) or self.key(key)

    def row(self, key: str, index: int) -> int | None:
        """The line of record `index` of input `key` (inline table or CSV row)."""
        start = self.key(key)
        if start is None:
            return None
        line = self.lines.item(self.of(key), key, index)
        if line is not None:
            return line
        opening = self.lines.lines[start - 1].rstrip()
        header = start + 1 if opening.endswith(('"""', "'''")) else start
        return header + 1 + index

    def rows(self, key: str) -> Callable[[int], int | None]:
        return lambda index: self.row(key, index)


class _ExpectationReader:
    """Checks one `expect` table: one verb, known names, fitting modifiers."""

    def __init__(
        self,
        reader: _Reader,
        line: int | None,
        ids: Mapping[str, frozenset[str]],
    ) -> None:
        self.reader = reader
        self.checked = reader.checked
        self.line = line
        self.ids = ids

    def fail(self, message: str, key: str, hint: str | None = None) -> SpecError:
        return self.reader.error(f"expectation: {message}", self.line, key, hint)

    def read(self, item: Mapping[str, Any]) -> Expectation:
        verbs = [Verb(key) for key in item if key in {v.value for v in Verb}]
        for key in item:
            if key not in _MODIFIERS and key not in {v.value for v in Verb}:
                known = [*_MODIFIERS, *(v.value for v in Verb)]
                raise self.fail(f"unknown key `{key}`", key, _hint(key, known))
        if len(verbs) != 1:
            names = ", ".join(f"`{v.value}`" for v in Verb)
            raise self.fail(f"give exactly one of {names}", "expect")
        verb = verbs[0]

        target = self.text(item, verb.value)
        record = self.text(item, "record")
        sequence = self.sequence(item, verb)
        self.check_target(verb, target, sequence)
        self.check_record(verb, target, record)
        return Expectation(
            verb,
            record,
            target,
            at=self.when(item, verb),
            sequence=sequence,
            reason=self.reason(item, verb),
            line=self.line,
        )

    def text(self, item: Mapping[str, Any], key: str) -> str:
        value = item.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            raise self.fail(f"`{key}` must be a non-empty string", key)
        return value

    def sequence(self, item: Mapping[str, Any], verb: Verb) -> str | None:
        if "sequence" not in item:
            return None
        if verb not in (Verb.STEP, Verb.NO_STEP):
            raise self.fail("`sequence` only goes with `step` or `no_step`", "sequence")
        name = self.text(item, "sequence")
        self.known(name, self.checked.sequences, "sequence", "sequence")
        return name

    def check_target(self, verb: Verb, target: str, sequence: str | None) -> None:
        key = verb.value
        if verb in (Verb.IN_LIST, Verb.NOT_IN_LIST):
            self.known(target, self.checked.lists, "list", key)
        elif verb in (Verb.STEP, Verb.NO_STEP):
            chosen = [sequence] if sequence else list(self.checked.sequences)
            steps = {
                step.name
                for name in chosen
                for step in self.checked.sequences[name].steps
            }
            self.known(target, steps, "sequence step", key)
        else:
            rules = [*self.checked.workflows, *self.checked.sequences]
            self.known(target, rules, "workflow or sequence", key)

    def known(self, name: str, names: Iterable[str], what: str, key: str) -> None:
        names = list(names)
        if name not in names:
            raise self.fail(f'no {what} called "{name}"', key, _hint(name, names))

    def check_record(self, verb: Verb, target: str, record: str) -> None:
        if verb in (Verb.IN_LIST, Verb.NOT_IN_LIST):
            object = self.checked.lists[target].object_type
        elif target in self.checked.workflows and verb not in (
            Verb.STEP,
            Verb.NO_STEP,
        ):
            object = self.checked.workflows[target].object
        else:
            object = "contact"
        if record not in self.ids.get(object, frozenset()):
            raise self.fail(
                f"record `{record}` is not among the test's {object} records",
                "record",
                _hint(record, self.ids.get(object, ())),
            )

    def when(self, item: Mapping[str, Any], verb: Verb) -> When | None:
        if "at" not in item:
            return None
        if verb not in _TIMED:
            raise self.fail(f"`at` does not go with `{verb.value}`", "at")
        value = item["at"]
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return When(day=value)
        text = value.isoformat() if isinstance(value, dt.datetime) else value
        if not isinstance(text, str):
            raise self.fail("`at` must be a date or a date-time", "at")
        if len(text) == 10:
            try:
                return When(day=dt.date.fromisoformat(text))
            except ValueError:
                pass
        try:
            return When(instant=parse_instant(text, self.reader.zone))
        except CalendarError as error:
            raise self.fail(f"`at`: {error}", "at") from None

    def reason(self, item: Mapping[str, Any], verb: Verb) -> str | None:
        if "reason" not in item:
            return None
        words = REASONS.get(verb)
        if words is None:
            raise self.fail(f"`reason` does not go with `{verb.value}`", "reason")
        reason = self.text(item, "reason")
        if reason not in words:
            known = ", ".join(f"`{w}`" for w in words)
            raise self.fail(
                f"unknown reason `{reason}`; expected one of {known}",
                "reason",
                _hint(reason, words),
            )
        return reason


def _hint(word: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"did you mean `{close[0]}`?" if close else None


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
