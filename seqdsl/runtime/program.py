"""Runtime stage, workflow programs: a workflow body as a flat list of instructions.

A record enrolled in a workflow is a program counter into its :class:`Program`. The
body's nested `if`, `branch on` and `split` statements become jumps, so stepping a
record is a loop over one list. Every instruction carries a *label*, the path of its
statement in the body (`2`, `1.a0.0`, `1.else.3`), and the state stores the label,
not the index: when a workflow is edited, a record waiting at a statement that still
exists continues there.

Branch arms read the plan's rules, numbered as the compiler numbers them
(:func:`seqdsl.compile.branching_statements`): arm `k` of the `n`-th `if` or
`branch on` is the rule `workflow:NAME:branch:n:k`. `split` arms need no rule: the
arm is chosen from a hash of the workflow name and the record id
(:func:`split_point`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TypeAlias

import attrs

from seqdsl import ast
from seqdsl.compile import branching_statements
from seqdsl.plan import branch_key

__all__ = [
    "Do",
    "End",
    "Instruction",
    "Jump",
    "Program",
    "Split",
    "Test",
    "Wait",
    "compile_program",
    "split_point",
]


@attrs.frozen
class Do:
    """Run one action."""

    action: ast.Action


@attrs.frozen
class Wait:
    """Wait; the record continues at the next instruction when the wait ends."""

    wait: ast.Wait


@attrs.frozen
class Test:
    """Jump to the target of the first arm whose rule holds, else to `otherwise`."""

    arms: tuple[tuple[str, int], ...]
    otherwise: int


@attrs.frozen
class Split:
    """Jump to the arm whose share holds the record's split point."""

    arms: tuple[tuple[float, int], ...]


@attrs.frozen
class Jump:
    target: int


@attrs.frozen
class End:
    """The end of the body: the record has completed the workflow."""


Op: TypeAlias = Do | Wait | Test | Split | Jump | End

_WAITS = (ast.WaitFor, ast.WaitUntilDate, ast.WaitUntilWeekday, ast.WaitUntilEvent)


@attrs.frozen
class Instruction:
    label: str
    op: Op


@attrs.frozen
class Program:
    workflow: str
    instructions: tuple[Instruction, ...]
    labels: Mapping[str, int]

    def at(self, label: str) -> int | None:
        """The index of the instruction with `label`, if the body still has it."""
        return self.labels.get(label)

    @property
    def actions(self) -> Iterator[ast.Action]:
        for instruction in self.instructions:
            if isinstance(instruction.op, Do):
                yield instruction.op.action


def compile_program(workflow: ast.WorkflowDecl) -> Program:
    """Flatten a workflow body into instructions."""
    numbers = {
        id(statement): number
        for number, statement in enumerate(branching_statements(workflow.body), 1)
    }
    builder = _Builder(workflow.name, numbers)
    builder.block(workflow.body, "")
    builder.emit("end", End())
    instructions = tuple(builder.code)
    labels = {ins.label: i for i, ins in enumerate(instructions)}
    return Program(workflow.name, instructions, labels)


def split_point(workflow: str, record_id: str) -> float:
    """A record's fixed place in [0, 100) for `split`: from an md5 of both names.

    The same digest is `md5(workflow || chr(31) || record_id)` in SQL, so an engine
    can compute it too; it never depends on a random generator.
    """
    digest = hashlib.md5(f"{workflow}\x1f{record_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 2**32 * 100


class _Builder:
    """Emits instructions; jump targets are patched once a block's end is known."""

    def __init__(self, workflow: str, numbers: Mapping[int, int]) -> None:
        self.workflow = workflow
        self.numbers = numbers
        self.code: list[Instruction] = []

    def emit(self, label: str, op: Op) -> int:
        self.code.append(Instruction(label, op))
        return len(self.code) - 1

    def patch(self, index: int, op: Op) -> None:
        self.code[index] = attrs.evolve(self.code[index], op=op)

    def block(self, body: Sequence[ast.Statement], prefix: str) -> None:
        for number, statement in enumerate(body):
            self.statement(statement, f"{prefix}{number}")

    def statement(self, statement: ast.Statement, label: str) -> None:
        if isinstance(statement, ast.If | ast.BranchOn):
            bodies = [arm.body for arm in statement.arms]
            number = self.numbers[id(statement)]
            self.branch(label, number, bodies, statement.otherwise)
        elif isinstance(statement, ast.Split):
            self.split(label, statement)
        elif isinstance(statement, _WAITS):
            self.emit(label, Wait(statement))
        else:
            self.emit(label, Do(statement))

    def branch(
        self,
        label: str,
        number: int,
        bodies: Sequence[tuple[ast.Statement, ...]],
        otherwise: tuple[ast.Statement, ...] | None,
    ) -> None:
        """`if` and `branch on`: a test, each arm's body and a jump past the rest."""
        test = self.emit(label, End())
        starts: list[int] = []
        exits: list[int] = []
        for arm, body in enumerate(bodies):
            starts.append(len(self.code))
            self.block(body, f"{label}.a{arm}.")
            exits.append(self.emit(f"{label}.a{arm}.end", End()))
        else_start = len(self.code)
        self.block(otherwise or (), f"{label}.else.")
        after = len(self.code)

        keys = [
            branch_key(self.workflow, number, arm + 1) for arm in range(len(starts))
        ]
        self.patch(test, Test(tuple(zip(keys, starts, strict=True)), else_start))
        for index in exits:
            self.patch(index, Jump(after))

    def split(self, label: str, statement: ast.Split) -> None:
        test = self.emit(label, End())
        arms: list[tuple[float, int]] = []
        exits: list[int] = []
        for number, arm in enumerate(statement.arms):
            arms.append((arm.share, len(self.code)))
            self.block(arm.body, f"{label}.a{number}.")
            exits.append(self.emit(f"{label}.a{number}.end", End()))
        self.patch(test, Split(tuple(arms)))
        for index in exits:
            self.patch(index, Jump(len(self.code)))
