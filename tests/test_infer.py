"""`seqdsl schema infer`: the proposed schema fits the file's values."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqdsl.infer import InferError, infer_schema
from seqdsl.parse import parse_text


def _write(tmp_path: Path, text: str, name: str = "contacts.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_infers_each_kind_from_values(tmp_path: Path) -> None:
    """Numbers, booleans, dates, instants, enums, sets and zones are told apart."""
    rows = ["Record ID,Amount,Active,Renewal,Created,Stage,Tags,Zone,Note"]
    for i in range(12):
        rows.append(
            f"{i},{i * 1.5},{'true' if i % 2 else 'false'},2026-12-{i + 1:02d},"
            f"2026-11-01T10:{i:02d}:00Z,{'lead' if i % 3 else 'customer'},"
            f"{'crm;ops' if i % 2 else 'cms'},Europe/Berlin,note {i}"
        )
    text = infer_schema(_write(tmp_path, "\n".join(rows) + "\n"))

    assert text.startswith("object contact {")
    assert "amount: number" in text
    assert "active: bool" in text
    assert "renewal: date" in text
    assert "created: datetime" in text
    assert "stage: enum [customer, lead]" in text
    assert "tags: set [cms, crm, ops]" in text
    assert "zone: timezone" in text
    assert "note: string" in text
    assert "record_id" not in text


def test_labels_keep_export_headers_and_output_parses(tmp_path: Path) -> None:
    """Headers that are labels become snake_case names with the header as label."""
    rows = "".join(f"{i},{'Lead' if i % 2 else 'Customer'}\n" for i in range(6))
    path = _write(tmp_path, "Record ID,Lifecycle Stage\n" + rows)
    text = infer_schema(path)

    assert 'lifecycle_stage: enum [Customer, Lead] label "Lifecycle Stage"' in text
    assert parse_text(text).diagnostics == ()


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    """A path that does not exist raises InferError naming it."""
    with pytest.raises(InferError, match="no such file"):
        infer_schema(tmp_path / "nope.csv")
