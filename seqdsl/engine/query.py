"""Engine stage, SQL query: the rules of one object as a single sqlglot SELECT.

The query reads each input once for all rules, in one common table expression per
input: event counts (`ev`, and `ev_enrolled_<n>` per workflow enrollment relation),
associations (`links_<target>`, `primary_<target>`, `assoc_<target>`), property
history (`hist_<n>`, `changes_<n>`) and stored memberships. The `atoms` expression
joins them to the object's records and computes every atom once, as a column; one
`level_<n>` expression per list dependency level then adds the rule columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

import attrs
from sqlglot import exp

from seqdsl import plan as p
from seqdsl.engine import Run, SplitEvents, rule_expr
from seqdsl.engine.sql import (
    Sql,
    col,
    expr_sql,
    false_if_null,
    held_sql,
    history_value_sql,
    ident,
    is_null,
    named,
    negate,
    number,
    param,
    parameters_of,
    select,
    table,
    test_sql,
    text,
    value_sql,
)

__all__ = ["ObjectQuery", "counted_events"]

A = TypeVar("A", bound=p.Atom)
Part = tuple[str, exp.Query]


@attrs.frozen
class _Needs:
    """What one query reads: the rules it computes and every atom they use."""

    rules: tuple[p.Rule, ...]
    atoms: tuple[str, ...]


class ObjectQuery:
    """The query that computes `outputs` (named expressions) for records of `object`.

    Outputs may refer to rules, which the query computes too. `run` gives the
    inputs that vary per run (enrollment relations, stored static members);
    without one (for plan dumps) conditions on them are false.
    """

    def __init__(
        self,
        plan: p.Plan,
        object: str,
        outputs: Mapping[str, p.Expr],
        run: Run | None = None,
    ) -> None:
        self.plan = plan
        self.object = object
        self.outputs = outputs
        self.run = run
        self.parts: list[Part] = []
        self.joins: list[tuple[Sql, Sql, str]] = []
        self.columns: dict[str, Sql] = {}  # atom id -> its SQL, when not a value test
        self.needs = self._needs()
        # rule columns get plain names: DuckDB compares quoted names without case
        self.rule_columns = {r.key: f"r{i}" for i, r in enumerate(self.needs.rules)}

    def rule_expr(self, rule: p.Rule) -> p.Expr:
        return rule_expr(rule, self.run) if self.run is not None else rule.expr

    def _needs(self) -> _Needs:
        rules: dict[str, p.Rule] = {}
        atoms: set[str] = set()
        pending = list(self.outputs.values())
        while pending:
            for node in p.walk(pending.pop()):
                if isinstance(node, p.AtomRef):
                    atoms.add(node.id)
                elif isinstance(node, p.RuleRef) and node.key not in rules:
                    rules[node.key] = self.plan.rules[node.key]
                    pending.append(self.rule_expr(rules[node.key]))
        ordered = sorted(rules.values(), key=lambda rule: rule.level)
        return _Needs(tuple(ordered), tuple(sorted(atoms, key=_number)))

    def atoms_of(self, kind: type[A]) -> list[tuple[str, A]]:
        found = ((i, self.plan.atoms[i]) for i in self.needs.atoms)
        return [(i, atom) for i, atom in found if isinstance(atom, kind)]

    # -- the query

    def build(self) -> exp.Select:
        self._primaries()
        self._event_counts()
        self._enrolled_counts()
        self._assoc_counts()
        self._history()
        self._changes()
        self._stored()

        atoms = [named(self.atom_sql(i), i) for i in self.needs.atoms]
        source = table(f"obj_{self.object}", "o")
        self.parts.append(
            ("atoms", select([col("id", "o"), *atoms], source, joins=self.joins))
        )
        last = self._levels()
        outputs = [named(self.rule_sql(e), n) for n, e in self.outputs.items()]
        final = select([col("id"), *outputs], table(last))
        for name, query in self.parts:
            final = final.with_(ident(name), as_=query, copy=False)
        return final

    def _levels(self) -> str:
        """One SELECT per dependency level, adding that level's rule columns."""
        previous = "atoms"
        for level in sorted({rule.level for rule in self.needs.rules}):
            rules = [r for r in self.needs.rules if r.level == level]
            values = [
                named(self.rule_sql(self.rule_expr(r)), self.rule_columns[r.key])
                for r in rules
            ]
            name = f"level_{level}"
            self.parts.append((name, select([exp.Star(), *values], table(previous))))
            previous = name
        return previous

    def rule_sql(self, expr: p.Expr) -> Sql:
        def column_of(node: p.AtomRef | p.RuleRef) -> Sql:
            if isinstance(node, p.AtomRef):
                return col(node.id)
            return col(self.rule_columns[node.key])

        return expr_sql(expr, column_of)

    def add_part(self, name: str, query: exp.Query, on: Sql) -> None:
        """A CTE, LEFT JOINed to the records where its `id` equals `on`."""
        self.parts.append((name, query))
        self.joins.append((table(name), col("id", name).eq(on), "left"))

    def atom_sql(self, ident_: str) -> Sql:
        atom = self.plan.atoms[ident_]
        if isinstance(atom, p.ValueAtom):
            column = self.column(atom.field)
            return test_sql(atom.test, atom.field, value_sql(atom.field, column))
        if ident_ not in self.columns:
            raise ValueError(f"internal error: atom {ident_} has no column")
        return self.columns[ident_]

    def column(self, field: p.Field) -> Sql:
        if isinstance(field.source, p.Primary):
            return col(field.name, f"p_{field.source.target}")
        return col(field.name, "o")

    # -- associations

    def _primaries(self) -> None:
        """The primary associated record of each target any atom reads."""
        targets = set()
        for ident_ in self.needs.atoms:
            source = _source(self.plan.atoms[ident_])
            if isinstance(source, p.Primary):
                targets.add(source.target)
        for target in sorted(targets):
            marked = exp.Filter(
                this=exp.Min(this=col("other")),
                expression=exp.Where(this=col("is_primary")),
            )
            # one distinct associated record: its least and greatest id agree
            single = exp.EQ(
                this=exp.Min(this=col("other")), expression=exp.Max(this=col("other"))
            )
            only = exp.Case().when(single, exp.Min(this=col("other")), copy=False)
            pick = named(exp.func("coalesce", marked, only), "other")
            links = table(self._links(target))
            name = f"primary_{target}"
            self.add_part(
                name,
                select([col("id"), pick], links, group_by=[col("id")]),
                col("id", "o"),
            )
            alias = f"p_{target}"
            on = col("id", alias).eq(col("other", name))
            self.joins.append((table(f"obj_{target}", alias), on, "left"))

    def _links(self, target: str) -> str:
        """`links_<target>` (id, other, is_primary), in either direction."""
        name = f"links_{target}"
        if any(part == name for part, _ in self.parts):
            return name

        def side(mine: str, theirs: str) -> exp.Select:
            flag = exp.func("coalesce", col("primary"), exp.false())
            columns = [
                named(col(f"{mine}_id"), "id"),
                named(col(f"{theirs}_id"), "other"),
                named(flag, "is_primary"),
            ]
            where = [
                col(f"{mine}_type").eq(text(self.object)),
                col(f"{theirs}_type").eq(text(target)),
            ]
            return select(columns, table("associations"), where=where)

        both = exp.union(side("from", "to"), side("to", "from"), distinct=False)
        self.parts.append((name, both))
        return name

    def _assoc_counts(self) -> None:
        by_target: dict[str, dict[str, p.AssocCount]] = {}
        for _, atom in self.atoms_of(p.QuantTest):
            for ident_ in (atom.matches, atom.total):
                count = self.plan.assoc_counts[ident_]
                by_target.setdefault(count.target, {})[ident_] = count
        for target, counts in sorted(by_target.items()):
            self._assoc_count(target, counts)
        for ident_, atom in self.atoms_of(p.QuantTest):
            part = f"assoc_{self.plan.assoc_counts[atom.matches].target}"
            self.columns[ident_] = _quant_test(atom, part)

    def _assoc_count(self, target: str, counts: Mapping[str, p.AssocCount]) -> None:
        """Per record, how many distinct associated records match each filter."""
        pairs = select([col("id"), col("other")], table(self._links(target)))
        columns: list[Sql] = [col("id", "l")]
        for ident_, count in sorted(counts.items(), key=lambda item: _number(item[0])):
            counted: Sql = exp.Count(this=exp.Star())
            if count.filter is not None:
                where = self.filter_sql(count.filter, "d")
                counted = exp.Filter(this=counted, expression=exp.Where(this=where))
            columns.append(named(counted, ident_))
        joined = (
            table(f"obj_{target}", "d"),
            col("id", "d").eq(col("other", "l")),
            "inner",
        )
        source = pairs.distinct(copy=False).subquery("l", copy=False)
        query = select(columns, source, joins=[joined], group_by=[col("id", "l")])
        self.add_part(f"assoc_{target}", query, col("id", "o"))

    def filter_sql(self, expr: p.Expr, alias: str) -> Sql:
        """An aggregate's filter inline, over the row aliased `alias`."""

        def column_of(node: p.AtomRef | p.RuleRef) -> Sql:
            atom = self.plan.atoms[node.id] if isinstance(node, p.AtomRef) else None
            if not isinstance(atom, p.ValueAtom):
                raise ValueError(f"internal error: {node!r} inside a filter")
            value = value_sql(atom.field, col(atom.field.name, alias))
            return test_sql(atom.test, atom.field, value)

        return expr_sql(expr, column_of)

    # -- events

    def _counts(self, enrolled_in: str | None) -> list[tuple[str, p.EventCount]]:
        found: dict[str, p.EventCount] = {}
        for _, atom in self.atoms_of(p.CountTest):
            count = self.plan.event_counts[atom.count]
            if count.window.enrolled_in == enrolled_in:
                found[atom.count] = count
        return sorted(found.items(), key=lambda item: _number(item[0]))

    def _count_tests(self, enrolled_in: str | None) -> list[tuple[str, p.CountTest]]:
        return [
            (i, a)
            for i, a in self.atoms_of(p.CountTest)
            if self.plan.event_counts[a.count].window.enrolled_in == enrolled_in
        ]

    def _event_counts(self) -> None:
        counts = self._counts(None)
        if not counts:
            return
        split = self.run.split if self.run else None
        if split is None:
            query = self._counted("events", counts)
        else:
            query = self._split_counts(split, counts)
        self.add_part("ev", query, col("id", "o"))
        for ident_, atom in self._count_tests(None):
            count = exp.func("coalesce", col(atom.count, "ev"), number(0))
            self.columns[ident_] = _count_test(atom, count)

    def _counted(
        self, relation: str, counts: list[tuple[str, p.EventCount]]
    ) -> exp.Select:
        """Per record of `relation`'s events, one column per count."""
        columns: list[Sql] = [named(col("record_id", "e"), "id")]
        columns += [self._count_sql(ident_, count) for ident_, count in counts]
        starts = [count.window.since for _, count in counts]
        windows = None if None in starts else [s for s in starts if s is not None]
        types = {count.event for _, count in counts}
        events = self._events(types, windows, relation)
        return select(columns, events, group_by=[col("record_id", "e")])

    def _split_counts(
        self, split: SplitEvents, counts: list[tuple[str, p.EventCount]]
    ) -> exp.Select:
        """Per copy, its record's shared counts plus its own."""
        base = self._counted(split.base, counts).subquery("b", copy=False)
        delta = self._counted(split.delta, counts).subquery("d", copy=False)
        zero = number(0)
        columns: list[Sql] = [named(col("sid", "m"), "id")]
        columns += [
            named(
                exp.Add(
                    this=exp.func("coalesce", col(ident_, "b"), zero.copy()),
                    expression=exp.func("coalesce", col(ident_, "d"), zero.copy()),
                ),
                ident_,
            )
            for ident_, _ in counts
        ]
        joins = [
            (base, col("id", "b").eq(col("record_id", "m")), "left"),
            (delta, col("id", "d").eq(col("sid", "m")), "left"),
        ]
        return select(columns, table(split.copies, "m"), joins=joins)

    def _events(
        self,
        types: Iterable[str],
        windows: list[p.Param] | None = None,
        relation: str = "events",
    ) -> Sql:
        """Events up to now of the types counted, with the fields filters read;
        with `windows`, only events since the earliest of them."""
        fields = {
            field.name
            for _, atom in self.atoms_of(p.CountTest)
            for field in self._filter_fields(self.plan.event_counts[atom.count].filter)
        }
        columns = [
            col(name) for name in ("record_id", "type", "occurred_at", *sorted(fields))
        ]
        where = [
            exp.LTE(this=col("occurred_at"), expression=param(p.NOW)),
            col("type").isin(*map(text, sorted(types)), copy=False),
        ]
        if windows is not None:
            starts = sorted(set(windows), key=lambda start: start.name)
            earliest = (
                exp.func("least", *map(param, starts))
                if len(starts) > 1
                else param(starts[0])
            )
            where.append(exp.GTE(this=col("occurred_at"), expression=earliest))
        return select(columns, table(relation), where=where).subquery("e", copy=False)

    def _filter_fields(self, expr: p.Expr | None) -> list[p.Field]:
        if expr is None:
            return []
        found = []
        for node in p.walk(expr):
            atom = self.plan.atoms[node.id] if isinstance(node, p.AtomRef) else None
            if isinstance(atom, p.ValueAtom):
                found.append(atom.field)
        return found

    def _count_sql(
        self, ident_: str, count: p.EventCount, since: Sql | None = None
    ) -> Sql:
        when = col("occurred_at", "e")
        conditions: list[Sql] = [col("type", "e").eq(text(count.event))]
        if count.window.since is not None:
            conditions.append(exp.GTE(this=when, expression=param(count.window.since)))
        if since is not None:
            conditions.append(exp.GTE(this=when.copy(), expression=since))
        if count.filter is not None:
            conditions.append(self.filter_sql(count.filter, "e"))
        counted = exp.Count(this=col("record_id", "e"))
        where = exp.Where(this=exp.and_(*conditions, copy=False))
        return named(exp.Filter(this=counted, expression=where), ident_)

    def _enrolled_counts(self) -> None:
        windows = {c.window.enrolled_in for _, c in self._all_counts()}
        for number_, workflow in enumerate(sorted(w for w in windows if w), 1):
            relation = self.run.enrolled.get(workflow) if self.run else None
            if relation is None:
                for ident_, _ in self._count_tests(workflow):
                    self.columns[ident_] = exp.false()
            else:
                self._enrolled_count(number_, workflow, relation)

    def _all_counts(self) -> list[tuple[str, p.EventCount]]:
        return [
            (a.count, self.plan.event_counts[a.count])
            for _, a in self.atoms_of(p.CountTest)
        ]

    def _enrolled_count(self, number_: int, workflow: str, relation: str) -> None:
        """Counts since each record's latest enrollment; no row without one."""
        enrolled = f"enrolled_{number_}"
        latest = named(exp.Max(this=col("enrolled_at")), "enrolled_at")
        known = [negate(is_null(col("enrolled_at")))]
        query = select(
            [col("record_id"), latest],
            table(relation),
            where=known,
            group_by=[col("record_id")],
        )
        self.parts.append((enrolled, query))

        counts = self._counts(workflow)
        since = col("enrolled_at", "w")
        columns = [named(col("record_id", "w"), "id")]
        columns += [self._count_sql(i, c, since.copy()) for i, c in counts]
        events = self._events({count.event for _, count in counts})
        joined = (events, col("record_id", "e").eq(col("record_id", "w")), "left")
        group = [col("record_id", "w")]
        name = f"ev_enrolled_{number_}"
        query = select(columns, table(enrolled, "w"), joins=[joined], group_by=group)
        self.add_part(name, query, col("id", "o"))
        for ident_, atom in self._count_tests(workflow):
            self.columns[ident_] = false_if_null(
                _count_test(atom, col(atom.count, name))
            )

    # -- history

    def _by_source(
        self, kinds: tuple[type[p.Atom], ...]
    ) -> dict[p.Source, list[tuple[str, p.Atom]]]:
        found: dict[p.Source, list[tuple[str, p.Atom]]] = {}
        for ident_ in self.needs.atoms:
            atom = self.plan.atoms[ident_]
            source = _source(atom)
            if isinstance(atom, kinds) and source is not None:
                found.setdefault(source, []).append((ident_, atom))
        return found

    def _record_id(self, source: p.Source) -> Sql:
        """Whose history a source reads: the record's, or its primary's."""
        if isinstance(source, p.Primary):
            return col("other", f"primary_{source.target}")
        return col("id", "o")

    def _history_rows(self, source: p.Source, properties: Iterable[str]) -> exp.Select:
        object_type = source.target if isinstance(source, p.Primary) else self.object
        names = sorted(set(properties))
        where = [
            col("object_type").eq(text(object_type)),
            exp.LTE(this=col("changed_at"), expression=param(p.NOW)),
            col("property").isin(*map(text, names), copy=False),
        ]
        return select([exp.Star()], table("property_history"), where=where)

    def _history(self) -> None:
        sources = self._by_source((p.EverBeen, p.UpdatedSince))
        for number_, (source, atoms) in enumerate(sources.items(), 1):
            name = f"hist_{number_}"
            columns = [named(col("record_id", "h"), "id")]
            columns += [named(self._history_column(atom), i) for i, atom in atoms]
            fields = (_field(atom).name for _, atom in atoms)
            rows = self._history_rows(source, fields).subquery("h", copy=False)
            query = select(columns, rows, group_by=[col("record_id", "h")])
            self.add_part(name, query, self._record_id(source))
            for ident_, atom in atoms:
                self.columns[ident_] = self._history_atom(ident_, atom, name)

    def _history_column(self, atom: p.Atom) -> Sql:
        field = _field(atom)
        same = col("property", "h").eq(text(field.name))
        if isinstance(atom, p.UpdatedSince):
            latest = exp.Max(this=col("changed_at", "h"))
            return exp.Filter(this=latest, expression=exp.Where(this=same))
        values = atom.values if isinstance(atom, p.EverBeen) else ()
        value = history_value_sql(
            col("value", "h"), field.type, self.plan.calendar.zone
        )
        held = exp.and_(same, held_sql(field.kind, value, values), copy=False)
        return exp.func("bool_or", held)

    def _history_atom(self, ident_: str, atom: p.Atom, part: str) -> Sql:
        if isinstance(atom, p.UpdatedSince):
            since = param(atom.since)
            return false_if_null(exp.GTE(this=col(ident_, part), expression=since))
        field = _field(atom)
        values = atom.values if isinstance(atom, p.EverBeen) else ()
        current = value_sql(field, self.column(field))
        now = false_if_null(held_sql(field.kind, current, values))
        ever = exp.paren(exp.or_(false_if_null(col(ident_, part)), now, copy=False))
        return negate(ever) if isinstance(atom, p.EverBeen) and atom.negate else ever

    def _changes(self) -> None:
        sources = self._by_source((p.Changed,))
        for number_, (source, atoms) in enumerate(sources.items(), 1):
            self._change_part(number_, source, atoms)

    def _change_part(
        self, number_: int, source: p.Source, atoms: Sequence[tuple[str, p.Atom]]
    ) -> None:
        """Per record, whether each `changed` atom saw its change since the
        previous run: history rows decoded per property, with the value before."""
        fields = {f.name: f for f in (_field(a) for _, a in atoms)}
        index = {name: i for i, name in enumerate(sorted(fields))}
        columns: list[Sql] = [col("record_id"), col("property"), col("changed_at")]
        for name, field in sorted(fields.items()):
            columns += self._decoded(name, field, index[name])
        rows = self._history_rows(source, fields).select(
            *columns, append=False, copy=False
        )

        previous = param(p.PREVIOUS_RUN)
        after = exp.GT(this=col("changed_at", "c"), expression=previous.copy())
        where = [exp.paren(exp.or_(is_null(previous), after, copy=False))]
        found = [named(col("record_id", "c"), "id")]
        for ident_, atom in atoms:
            change = self._change_sql(atom, index[_field(atom).name])
            found.append(named(exp.func("bool_or", change), ident_))
        query = select(
            found,
            rows.subquery("c", copy=False),
            where=where,
            group_by=[col("record_id", "c")],
        )
        name = f"changes_{number_}"
        self.add_part(name, query, self._record_id(source))
        for ident_, _ in atoms:
            self.columns[ident_] = false_if_null(col(ident_, name))

    def _decoded(self, name: str, field: p.Field, index: int) -> list[Sql]:
        """`d<i>`, the row's value of property `name`, and `b<i>`, the one before."""
        zone = self.plan.calendar.zone
        value = history_value_sql(col("value"), field.type, zone)
        mine = exp.Case().when(col("property").eq(text(name)), value, copy=False)
        order = exp.Order(
            expressions=[
                exp.Ordered(this=col("changed_at")),
                exp.Ordered(this=col("value"), nulls_first=False),
            ]
        )
        before = exp.Window(
            this=exp.func("lag", mine.copy()),
            partition_by=[col("record_id"), col("property")],
            order=order,
        )
        return [named(mine, f"d{index}"), named(before, f"b{index}")]

    def _change_sql(self, atom: p.Atom, index: int) -> Sql:
        field = _field(atom)
        now, before = col(f"d{index}", "c"), col(f"b{index}", "c")
        parts: list[Sql] = [
            col("property", "c").eq(text(field.name)),
            exp.NullSafeNEQ(this=now, expression=before),
        ]
        if isinstance(atom, p.Changed) and atom.to is not None:
            parts.append(held_sql(field.kind, now.copy(), [atom.to]))
        if isinstance(atom, p.Changed) and atom.before is not None:
            parts.append(held_sql(field.kind, before.copy(), [atom.before]))
        return exp.and_(*parts, copy=False)

    # -- stored memberships

    def _stored(self) -> None:
        stored = self.atoms_of(p.Stored)
        manual = [(i, a) for i, a in stored if a.kind is p.StoredKind.MANUAL]
        static = [(i, a) for i, a in stored if a.kind is p.StoredKind.STATIC]
        self._memberships("manual", "list_memberships", manual)
        kept = self.run.stored if self.run is not None else None
        if kept is not None:
            self._memberships(
                "static",
                kept.relation,
                [(i, a) for i, a in static if a.list in kept.lists],
            )
        for ident_, _ in static:
            self.columns.setdefault(ident_, exp.false())

    def _memberships(
        self, name: str, relation: str, atoms: Sequence[tuple[str, p.Stored]]
    ) -> None:
        if not atoms:
            return
        columns = [named(col("record_id"), "id")]
        for ident_, atom in atoms:
            member = exp.func("bool_or", col("list").eq(text(atom.list)))
            columns.append(named(member, ident_))
        names = sorted({atom.list for _, atom in atoms})
        where = [col("list").isin(*map(text, names), copy=False)]
        query = select(
            columns, table(relation), where=where, group_by=[col("record_id")]
        )
        self.add_part(name, query, col("id", "o"))
        for ident_, _ in atoms:
            self.columns[ident_] = false_if_null(col(ident_, name))


def _number(ident_: str) -> int:
    return int(ident_[1:])


def _field(atom: p.Atom) -> p.Field:
    field = getattr(atom, "field", None)
    if not isinstance(field, p.Field):
        raise ValueError(f"internal error: {atom!r} reads no field")
    return field


def _source(atom: p.Atom) -> p.Source | None:
    field = getattr(atom, "field", None)
    return field.source if isinstance(field, p.Field) else None


_COMPARE: Mapping[p.CountOp, Callable[..., Sql]] = {
    p.CountOp.AT_LEAST: exp.GTE,
    p.CountOp.AT_MOST: exp.LTE,
    p.CountOp.EXACTLY: exp.EQ,
    p.CountOp.FEWER: exp.LT,
    p.CountOp.MORE: exp.GT,
    p.CountOp.NOT_EXACTLY: exp.NEQ,
}


def _count_test(atom: p.CountTest, count: Sql) -> Sql:
    return _COMPARE[atom.op](this=count, expression=number(atom.times))


def _quant_test(atom: p.QuantTest, part: str) -> Sql:
    """`any`, `no`, `all` (of at least one) and `at least N` on the counts."""

    def counted(ident_: str) -> Sql:
        return exp.func("coalesce", col(ident_, part), number(0))

    matches = counted(atom.matches)
    if atom.quantifier.value == "no":
        return exp.EQ(this=matches, expression=number(0))
    if atom.quantifier.value == "all":
        some = exp.GTE(this=counted(atom.total), expression=number(1))
        every = exp.EQ(this=matches, expression=counted(atom.total))
        return exp.and_(some, every, copy=False)
    return exp.GTE(this=matches, expression=number(atom.times))


def counted_events(plan: p.Plan, object: str) -> str | None:
    """SQL for the events (rows aliased `e`) that some event count of `object`
    may count: of a counted type and meeting that count's `where` filter. A
    filter that reads the clock (a parameter) counts every event of its type.
    None when `object`'s rules count no events."""
    query = ObjectQuery(plan, object, {})
    parts: list[Sql] = []
    for count in plan.event_counts.values():
        if count.object != object:
            continue
        part: Sql = col("type", "e").eq(text(count.event))
        if count.filter is not None:
            where = query.filter_sql(count.filter, "e")
            if not parameters_of(where):
                part = exp.and_(part, where, copy=False)
        parts.append(part)
    if not parts:
        return None
    return exp.or_(*parts, copy=False).sql(dialect="duckdb")
