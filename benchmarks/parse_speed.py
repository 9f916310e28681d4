"""Parse speed: CPU seconds to parse large rule files, and a cold `seqdsl check`.

    python benchmarks/parse_speed.py [--lines 20000 100000] [--repeat 3]

The files are the webinar example's schema, then its lists, workflows and sequences
over and over with numbered names. Each size is parsed as three files:

valid      the file as generated
one error  the same file with a misspelt unit near its start, so the parser
           reports it and then parses every later declaration on its own
and chain  one list whose condition is an `and` chain of one term per line

The valid file is then also checked (parse and every check pass) and formatted
(the formatter alone, on the parsed module).

Times are CPU seconds (`time.process_time`), the least of `--repeat` runs, so that
other work on a shared machine counts as little as it can. The cold check runs
`seqdsl check examples/webinar` in a fresh interpreter and reports the child
process's CPU time: imports, the grammar cache, parsing and checking.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

# run as a script from the repository root: make `seqdsl` importable
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seqdsl.check import check_text
from seqdsl.format import format_module
from seqdsl.parse import parse_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "webinar"
_RULE_FILES = ("lists.seq", "workflows.seq", "sequences.seq")
_QUOTED = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
T = TypeVar("T")


def rules_file(lines: int) -> str:
    """The example's schema, then numbered copies of its rules: `lines` lines."""
    schema = (EXAMPLE / "schema.seq").read_text(encoding="utf-8")
    rules = "\n".join(
        (EXAMPLE / name).read_text(encoding="utf-8") for name in _RULE_FILES
    )
    parts = [schema]
    count = schema.count("\n")
    copy = 0
    while count < lines:
        # every quoted name gets the copy's number, so declarations stay unique
        block = _QUOTED.sub(rf'"\1 {copy}"', rules) + "\n"
        parts.append(block)
        count += block.count("\n")
        copy += 1
    return "".join(parts)


def with_one_error(text: str) -> str:
    """The text with its first `days` misspelt, so one declaration fails."""
    return text.replace(" days", " dayz", 1)


def and_chain(lines: int) -> str:
    """One list whose condition is `lines` property tests joined by `and`."""
    terms = "\n  and ".join(f"numberofemployees > {n}" for n in range(lines))
    return f'list "Long" active {{\n  {terms}\n}}\n'


def cpu_seconds(run: Callable[[], T], repeat: int) -> tuple[float, T]:
    """The least CPU time of `repeat` runs, and what the last run gave."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        result = run()
        times.append(time.process_time() - started)
    return min(times), result


def cold_check(repeat: int) -> list[float]:
    """CPU seconds of `seqdsl check` on the example, each in a fresh process."""
    command = [sys.executable, "-m", "seqdsl.cli", "check", str(EXAMPLE)]
    times = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        times.append(used)
    return times


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time the seqdsl parser.")
    parser.add_argument("--lines", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args(argv)


def row(lines: int, repeat: int) -> str:
    """One table row: the three files of `lines` lines."""
    text = rules_file(lines)
    files = {
        "valid": text,
        "one error": with_one_error(text),
        "and chain": and_chain(lines),
    }
    cells = []
    for name, source in files.items():
        seconds, result = cpu_seconds(partial(parse_text, source), repeat)
        errors = sum(problem.is_error for problem in result.diagnostics)
        if errors != (name == "one error"):
            raise SystemExit(f"the {name} file of {lines} lines has {errors} errors")
        cells.append(f"{seconds:.2f} s")

    checking, checked = cpu_seconds(partial(check_text, text), repeat)
    if checked.errors:
        raise SystemExit(f"the valid file of {lines} lines does not check clean")
    parsed = parse_text(text)
    formatting, _ = cpu_seconds(
        partial(format_module, parsed.module, parsed.comments, source=text), repeat
    )
    cells += [f"{checking:.2f} s", f"{formatting:.2f} s"]
    return f"| {lines:,} | {' | '.join(cells)} |"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    parse_text("")  # load the grammar tables outside the timings
    print("| lines | valid | one error | and chain | check (valid) | format (valid) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for lines in args.lines:
        print(row(lines, args.repeat))
    checks = cold_check(args.repeat)
    print(
        f"\ncold `seqdsl check examples/webinar`: {min(checks):.2f} s CPU "
        f"(least of {len(checks)}; median {statistics.median(checks):.2f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
