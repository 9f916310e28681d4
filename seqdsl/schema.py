"""The checked schema: objects, their typed properties, and event types.

The checker builds a :class:`Schema` from the `object` and `event` declarations of a
workspace; every later stage (compile, engines, data loading) reads types from here and
never from the AST.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs


class Kind(enum.Enum):
    """The value kinds a property or event field can have."""

    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"
    SET = "set"
    OWNER = "owner"
    TIMEZONE = "timezone"

    @property
    def is_textual(self) -> bool:
        return self in _TEXTUAL


_TEXTUAL = frozenset({Kind.STRING, Kind.OWNER, Kind.TIMEZONE})


@attrs.frozen
class Option:
    """One option of an enum or set property: its stored value and display label."""

    value: str
    label: str | None = None


@attrs.frozen
class Type:
    """A property type; `options` is only set for enums and sets."""

    kind: Kind
    options: tuple[Option, ...] = ()
    ordered: bool = False

    def option(self, text: str) -> Option | None:
        """Find an option by value or label, ignoring case."""
        folded = text.casefold()
        for option in self.options:
            if option.value.casefold() == folded:
                return option
        for option in self.options:
            if option.label is not None and option.label.casefold() == folded:
                return option
        return None

    def position(self, value: str) -> int:
        """The 0-based position of an option value, for ordered comparisons."""
        folded = value.casefold()
        for index, option in enumerate(self.options):
            if option.value.casefold() == folded:
                return index
        raise KeyError(value)

    def describe(self) -> str:
        if self.kind is Kind.ENUM:
            return "ordered enum" if self.ordered else "enum"
        return str(self.kind.value)


@attrs.frozen
class Property:
    name: str
    type: Type
    label: str | None = None
    deprecated: bool = False


@attrs.frozen
class ObjectSchema:
    """A CRM object type (contact, company, deal, ...) and its properties."""

    name: str
    properties: Mapping[str, Property]

    def property(self, name: str) -> Property | None:
        return self.properties.get(name)


@attrs.frozen
class EventSchema:
    """An event type and its fields; `builtin` marks the fixed sequence events."""

    name: str
    fields: Mapping[str, Property]
    builtin: bool = False


#: Event types with a fixed meaning for sequences; they need no declaration.
BUILTIN_EVENTS: Mapping[str, EventSchema] = {
    "email_reply": EventSchema("email_reply", {}, builtin=True),
    "meeting_booked": EventSchema("meeting_booked", {}, builtin=True),
    "email_bounce": EventSchema("email_bounce", {}, builtin=True),
    "unsubscribe": EventSchema("unsubscribe", {}, builtin=True),
    "task_completed": EventSchema(
        "task_completed",
        {"task": Property("task", Type(Kind.STRING))},
        builtin=True,
    ),
}

#: Properties the runtime maintains on contacts; rules may read them.
SEQUENCE_PROPERTIES: Mapping[str, Property] = {
    "currently_in_sequence": Property("currently_in_sequence", Type(Kind.BOOL)),
    "last_sequence_enrolled": Property("last_sequence_enrolled", Type(Kind.STRING)),
    "last_sequence_enrolled_date": Property(
        "last_sequence_enrolled_date", Type(Kind.DATETIME)
    ),
    "last_sequence_ended_date": Property(
        "last_sequence_ended_date", Type(Kind.DATETIME)
    ),
}


@attrs.frozen
class Schema:
    objects: Mapping[str, ObjectSchema]
    events: Mapping[str, EventSchema]

    def object(self, name: str) -> ObjectSchema | None:
        """An object by name; plurals (`deals`, `companies`) read as the singular."""
        found = self.objects.get(name)
        if found is None and name.endswith("ies"):
            found = self.objects.get(name[:-3] + "y")
        if found is None and name.endswith("s"):
            found = self.objects.get(name[:-1])
        return found

    def event(self, name: str) -> EventSchema | None:
        return self.events.get(name) or BUILTIN_EVENTS.get(name)
