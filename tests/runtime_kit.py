"""Shared helpers for the runtime tests: a workspace on disk, its data, and runs."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import duckdb

from seqdsl.check import check_workspace
from seqdsl.checked import CheckedWorkspace
from seqdsl.compile import compile_workspace
from seqdsl.data import load_data
from seqdsl.runtime import RunResult, run
from seqdsl.runtime.run import runtime_columns
from seqdsl.workspace import load_workspace

SCHEMA = """
object contact {
  email: string
  lifecyclestage: enum [subscriber, lead, marketingqualifiedlead,
                        salesqualifiedlead, opportunity, customer] ordered
  hs_lead_status: enum [NEW, OPEN, IN_PROGRESS, UNQUALIFIED, ATTEMPTED]
  country: string
  score: number
  renewal_date: date
  hubspot_owner_id: owner
  hs_timezone: timezone
  hs_email_optout: bool
}
object company { name: string  numberofemployees: number }
event page_view { url: string }
event form_submission { form: string }
"""

CONTACT_COLUMNS = (
    "id",
    "email",
    "lifecyclestage",
    "hs_lead_status",
    "country",
    "score",
    "renewal_date",
    "hubspot_owner_id",
    "hs_timezone",
    "hs_email_optout",
)
EVENT_COLUMNS = ("record_id", "type", "occurred_at", "url", "form", "task")
HISTORY_COLUMNS = ("object_type", "record_id", "property", "value", "changed_at")


def at(text: str) -> dt.datetime:
    """An instant from ISO text; without an offset it is UTC."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@attrs.define
class Workspace:
    """A workspace folder with rules and data, checked, and a data connection."""

    root: Path
    checked: CheckedWorkspace
    con: duckdb.DuckDBPyConnection

    def run(self, when: str) -> RunResult:
        return run(self.checked, self.con, at(when))

    def actions(self, when: str) -> list[tuple[str, ...]]:
        """(due_at, record, source, kind, step, detail) of a run's actions."""
        return [a.row()[1:7] for a in self.run(when).actions]

    @property
    def state(self) -> Path:
        return self.checked.settings.state_path


def make(
    root: Path,
    rules: str,
    contacts: Sequence[Mapping[str, object]],
    *,
    events: Sequence[Mapping[str, object]] = (),
    history: Sequence[Mapping[str, object]] = (),
    companies: Sequence[Mapping[str, object]] = (),
    associations: Sequence[Mapping[str, object]] = (),
    memberships: Sequence[Mapping[str, object]] = (),
    timezone: str = "UTC",
    holidays: Sequence[str] = (),
    schema: str = SCHEMA,
) -> Workspace:
    """Write a workspace (rules after the test schema) and check it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    files = {
        "contacts": ("contacts.csv", CONTACT_COLUMNS, contacts),
        "events": ("events.csv", EVENT_COLUMNS, events),
        "property_history": ("history.csv", HISTORY_COLUMNS, history),
        "companies": ("companies.csv", ("id", "name", "numberofemployees"), companies),
        "associations": (
            "associations.csv",
            ("from_type", "from_id", "to_type", "to_id", "primary"),
            associations,
        ),
        "list_memberships": ("memberships.csv", ("list", "record_id"), memberships),
    }
    lines = ["[workspace]", f'timezone = "{timezone}"']
    if holidays:
        lines.append("holidays = [" + ", ".join(f'"{d}"' for d in holidays) + "]")
    lines.append("[data]")
    for key, (name, columns, rows) in files.items():
        if not rows and key != "contacts":
            continue
        _write_csv(root / "data" / name, columns, rows)
        lines.append(f'{key} = "data/{name}"')
    (root / "seqdsl.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "rules.seq").write_text(schema + rules, encoding="utf-8")

    result = check_workspace(load_workspace(root))
    problems = [f"{d.code} {d.message}" for d in result.errors]
    assert result.workspace is not None and not problems, problems
    checked = result.workspace
    con = duckdb.connect()
    plan = compile_workspace(checked)
    needed = {k: set(v) for k, v in plan.needed_columns().items()}
    for object, names in runtime_columns(checked).items():
        needed.setdefault(object, set()).update(names)
    load_data(
        con,
        checked.settings,
        checked.schema,
        {k: frozenset(v) for k, v in needed.items()},
    )
    return Workspace(root, checked, con)


def _write_csv(
    path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, object]]
) -> None:
    # only columns with a value somewhere: the loader fills the others in
    used = {c for row in rows for c, v in row.items() if v not in (None, "")}
    columns = [c for i, c in enumerate(columns) if i == 0 or c in used]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])


def contact(record_id: str, **values: object) -> dict[str, object]:
    """A contact row with a working email and an owner unless told otherwise."""
    row: dict[str, object] = {
        "id": record_id,
        "email": f"{record_id}@example.com",
        "hubspot_owner_id": "owner-1",
    }
    row.update(values)
    return row
