"""Patterns over group names: ``"chat.{room}"``, ``"user.{id:int}"``, ``"doc.{key:uuid}.edits"``.

A pattern is literal text with named parts in braces. Each part has a type that says which characters
it matches and what the policy receives: a policy declared on ``"user.{id:int}"`` is called with
``id=42`` for the group ``user.42`` and never sees ``user.abc``. Parts never match a period unless
their type is ``path``, so ``chat.{room}`` does not match ``chat.a.b``.

Matching is a pure function of the name (no I/O), so it is tested without a socket. When several
patterns match a name, the most specific wins: the one with the most literal characters, then the
one with the fewest parts (see :attr:`GroupPattern.specificity`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

#: Channels refuses group names of 100 characters or more, or with other characters than these.
MAX_GROUP_NAME_LENGTH = 99
GROUP_NAME = re.compile(r"[A-Za-z0-9\-_.]{1,99}")


@dataclass(frozen=True)
class PartType:
    """What one typed part matches (a regular expression) and how its text becomes a value."""

    regex: str
    convert: Callable[[str], Any]


PART_TYPES: Mapping[str, PartType] = {
    "str": PartType(r"[A-Za-z0-9_\-]+", str),
    "slug": PartType(r"[A-Za-z0-9_\-]+", str),
    "int": PartType(r"[0-9]{1,18}", int),
    "uuid": PartType(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", uuid.UUID),
    "hex": PartType(r"[0-9a-fA-F]+", str),
    "path": PartType(r"[A-Za-z0-9_\-.]+", str),
}

_PART = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_valid_group_name(name: object) -> bool:
    """Whether ``name`` is a group name Channels accepts (checked before any policy runs)."""
    return isinstance(name, str) and GROUP_NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class GroupPattern:
    """One compiled pattern. Build it with :meth:`parse`; match names with :meth:`match`.

    Attributes:
        text: the pattern as written.
        parts: the part names, in order.
        specificity: the sort key that ranks overlapping patterns (higher wins).
    """

    text: str
    regex: re.Pattern[str] = field(repr=False, compare=False)
    parts: tuple[str, ...] = ()
    converters: tuple[Callable[[str], Any], ...] = field(default=(), repr=False, compare=False)
    specificity: tuple[int, int] = (0, 0)

    @classmethod
    def parse(cls, text: str) -> GroupPattern:
        """Compile ``text``; raise ``ImproperlyConfigured`` saying what is wrong with it."""
        if not isinstance(text, str) or not text:
            raise ImproperlyConfigured(f"A group pattern must be a non-empty string, not {text!r}.")
        regex, names, converters, literal = [], [], [], 0
        position = 0
        for found in _PART.finditer(text):
            regex.append(cls._literal(text, text[position : found.start()]))
            literal += found.start() - position
            name, _, kind = found.group(1).partition(":")
            kind = kind or "str"
            if not _NAME.fullmatch(name):
                raise ImproperlyConfigured(f"Group pattern {text!r}: {{{found.group(1)}}} needs a part name.")
            if name in names:
                raise ImproperlyConfigured(f"Group pattern {text!r} names the part {name!r} twice.")
            if kind not in PART_TYPES:
                raise ImproperlyConfigured(
                    f"Group pattern {text!r}: unknown part type {kind!r}; use one of {', '.join(PART_TYPES)}."
                )
            regex.append(f"(?P<{name}>{PART_TYPES[kind].regex})")
            names.append(name)
            converters.append(PART_TYPES[kind].convert)
            position = found.end()
        regex.append(cls._literal(text, text[position:]))
        literal += len(text) - position
        return cls(
            text=text,
            regex=re.compile("".join(regex)),
            parts=tuple(names),
            converters=tuple(converters),
            specificity=(literal, -len(names)),
        )

    @staticmethod
    def _literal(pattern: str, chunk: str) -> str:
        if "{" in chunk or "}" in chunk or (chunk and not GROUP_NAME.fullmatch(chunk)):
            raise ImproperlyConfigured(
                f"Group pattern {pattern!r}: {chunk!r} is not valid in a group name (ASCII letters, "
                "digits, '-', '_' and '.' only; parts are written {name} or {name:type})."
            )
        return re.escape(chunk)

    def match(self, name: str) -> dict[str, Any] | None:
        """The typed parts of ``name`` if this pattern matches all of it, else ``None``."""
        found = self.regex.fullmatch(name)
        if found is None:
            return None
        try:
            return {
                part: convert(found.group(part))
                for part, convert in zip(self.parts, self.converters, strict=True)
            }
        except ValueError:  # e.g. a uuid in the right shape that still does not parse
            return None

    def format(self, **parts: Any) -> str:
        """The group name for ``parts``: ``GroupPattern.parse("chat.{room}").format(room="lobby")``."""
        missing = set(self.parts) - set(parts)
        if missing:
            raise ValueError(f"{self.text!r} needs {', '.join(sorted(missing))}")
        name = _PART.sub(lambda found: str(parts[found.group(1).partition(":")[0]]), self.text)
        if self.match(name) is None:
            raise ValueError(f"{parts!r} do not make a name that {self.text!r} matches")
        return name
