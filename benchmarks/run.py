"""Run the benchmark suite: `python benchmarks/run.py [--quick] [--json PATH]`.

Every list case (a property rule, an OR of groups, an event-window rule, 50 mixed
lists) goes through seqdsl, hand-written DuckDB SQL, Polars, per-record Python and
zen-engine; the runtime cases (the demo's daily run, and the daily and hourly runs of
20 workflows and 10 sequences) through seqdsl alone. The Markdown tables are printed
and written next to the JSON records.

--quick   20,000 contacts, 3 runs each: a few minutes on 2 cores, most of it the
          runtime cases (`--cases` without them: about one minute).
(default) 100,000 and 1,000,000 contacts, up to 5 runs each: 30 minutes and more on
          2 cores, depending on the runtime cases, plus about a minute to generate
          the 1,000,000-contact data once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import os
import platform
import sys
import time
from pathlib import Path

# run as a script from the repository root: make `benchmarks` and `seqdsl` importable
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cases import CASE_NAMES, case_named
from benchmarks.engines import ENGINES
from benchmarks.report import markdown, write_json
from benchmarks.suite import FULL, QUICK, RESULTS, run_all, scan_floor

_PACKAGES = ("duckdb", "polars", "pyarrow", "zen-engine", "numpy")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark seqdsl against hand-written alternatives."
    )
    parser.add_argument("--quick", action="store_true", help="small, fast run")
    parser.add_argument("--json", type=Path, help="write the JSON records here")
    parser.add_argument("--markdown", type=Path, help="write the Markdown here")
    parser.add_argument("--cases", nargs="+", choices=CASE_NAMES, default=CASE_NAMES)
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=ENGINES)
    return parser.parse_args(argv)


def _versions() -> str:
    found = []
    for package in _PACKAGES:
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} missing")
    return ", ".join(found)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    mode = QUICK if args.quick else FULL
    started = time.perf_counter()
    load = os.getloadavg()[0]
    environment = {
        "mode": mode.name,
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "software": f"Python {platform.python_version()}, {_versions()}",
        "runs": f"median of up to {mode.repeats} evaluations, each engine in a "
        "fresh process",
    }

    cases = [case_named(name) for name in args.cases]
    records, problems = run_all(mode, cases, args.engines)
    floors = {size: scan_floor(size) for size in mode.sizes}
    environment["load average (1 min) at start, end"] = (
        f"{load:.1f}, {os.getloadavg()[0]:.1f}"
    )
    environment["duration"] = f"{time.perf_counter() - started:.0f} s"

    text = markdown(records, environment, floors)
    print(text)
    write_json(records, args.json or RESULTS / f"{mode.name}.json")
    (args.markdown or RESULTS / f"{mode.name}.md").parent.mkdir(exist_ok=True)
    (args.markdown or RESULTS / f"{mode.name}.md").write_text(text, encoding="utf-8")
    for problem in problems:
        print(f"DISAGREEMENT {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
