"""Group-name patterns: typed parts, full matches, specificity, and the names Channels accepts."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from channels_warden.groups.patterns import GroupPattern, is_valid_group_name


def test_str_part_matches_one_segment() -> None:
    """``chat.{room}`` gives ``room`` as text for ``chat.lobby``."""
    assert GroupPattern.parse("chat.{room}").match("chat.lobby") == {"room": "lobby"}


def test_str_part_does_not_cross_a_period() -> None:
    """``chat.{room}`` does not match ``chat.a.b``: parts stop at periods."""
    assert GroupPattern.parse("chat.{room}").match("chat.a.b") is None


def test_path_part_crosses_periods() -> None:
    """``files.{rest:path}`` matches ``files.a.b`` with ``rest`` = ``a.b``."""
    assert GroupPattern.parse("files.{rest:path}").match("files.a.b") == {"rest": "a.b"}


def test_int_part_is_converted() -> None:
    """``user.{id:int}`` gives an ``int``."""
    assert GroupPattern.parse("user.{id:int}").match("user.42") == {"id": 42}


def test_int_part_refuses_text() -> None:
    """``user.{id:int}`` does not match ``user.abc``."""
    assert GroupPattern.parse("user.{id:int}").match("user.abc") is None


def test_uuid_part_is_converted() -> None:
    """``doc.{key:uuid}`` gives a ``uuid.UUID``."""
    key = uuid.uuid4()
    assert GroupPattern.parse("doc.{key:uuid}").match(f"doc.{key}") == {"key": key}


def test_match_is_anchored_at_both_ends() -> None:
    """A pattern matches the whole name only, not a prefix or a suffix."""
    pattern = GroupPattern.parse("chat.{room}")
    assert (pattern.match("xchat.lobby"), pattern.match("chat.lobby\n")) == (None, None)


def test_literal_pattern_matches_itself_only() -> None:
    """A pattern without parts matches exactly its text."""
    pattern = GroupPattern.parse("news")
    assert (pattern.match("news"), pattern.match("newsx")) == ({}, None)


def test_specificity_counts_literal_characters_then_fewer_parts() -> None:
    """``chat.staff`` outranks ``chat.{room}``, which outranks ``{app}.{room}``."""
    ranks = [GroupPattern.parse(text).specificity for text in ("chat.staff", "chat.{room}", "{app}.{room}")]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks == [(10, 0), (5, -1), (1, -2)]


def test_format_builds_a_name() -> None:
    """``format`` fills the parts in."""
    assert GroupPattern.parse("user.{id:int}.inbox").format(id=7) == "user.7.inbox"


def test_format_refuses_a_value_the_pattern_would_not_match() -> None:
    """``format`` refuses parts that make a name the pattern does not match."""
    with pytest.raises(ValueError, match="do not make a name"):
        GroupPattern.parse("user.{id:int}").format(id="x")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "non-empty"),
        ("chat.{}", "needs a part name"),
        ("chat.{room:float}", "unknown part type 'float'"),
        ("{a}.{a}", "names the part 'a' twice"),
        ("chat room.{x}", "is not valid in a group name"),
        ("chat.{room", "is not valid in a group name"),
    ],
)
def test_bad_patterns_say_what_is_wrong(text: str, message: str) -> None:
    """A malformed pattern raises ``ImproperlyConfigured`` naming the problem."""
    with pytest.raises(ImproperlyConfigured, match=message):
        GroupPattern.parse(text)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("chat.lobby", True),
        ("a-b_c.9", True),
        ("x" * 99, True),
        ("x" * 100, False),
        ("", False),
        ("chat lobby", False),
        ("chat.é", False),
        ("chat\n", False),
        (None, False),
        (["chat"], False),
    ],
)
def test_valid_group_names_are_those_channels_accepts(name: object, valid: bool) -> None:
    """Names are ASCII letters, digits, ``-_.``, 1 to 99 characters; anything else is refused."""
    assert is_valid_group_name(name) is valid
