"""CompiledLookup: a lone lookup learned from the ORM, then run without building the query again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from channels_warden.compiled import CompiledLookup, lookup_for

pytestmark = pytest.mark.django_db


def tokens_by_key(values: list[Any]) -> Any:
    return Token.objects.select_related("user").filter(key__in=values)


@pytest.fixture
def tokens(make_user: Any) -> list[Token]:
    return [Token.objects.create(user=make_user(f"user{n}")) for n in range(4)]


def test_two_lone_lookups_teach_the_statement(tokens: list[Token]) -> None:
    """After two different values the statement is learned; the same value twice teaches nothing."""
    lookup = CompiledLookup(Token, "key", tokens_by_key)
    lookup.fetch([tokens[0].key])
    lookup.fetch([tokens[0].key])
    assert lookup._statements == {}
    lookup.fetch([tokens[1].key])
    assert lookup._statements["default"] is not None


def test_the_learned_statement_returns_what_the_orm_returns(
    tokens: list[Token], django_assert_num_queries: Any
) -> None:
    """Same row, converted fields, the related user populated: one query and no more."""
    lookup = CompiledLookup(Token, "key", tokens_by_key)
    lookup.fetch([tokens[0].key])
    lookup.fetch([tokens[1].key])
    with django_assert_num_queries(1):
        (found,) = lookup.fetch([tokens[2].key])
        assert found.user.username == "user2"
    expected = Token.objects.select_related("user").get(key=tokens[2].key)
    assert (found.pk, found.user_id, found.created) == (expected.pk, expected.user_id, expected.created)
    assert isinstance(found.created, datetime)
    assert found._state.db == "default"
    assert found._state.adding is False


def test_an_unknown_value_finds_nothing(tokens: list[Token]) -> None:
    """The learned statement finds no row for a key that does not exist."""
    lookup = CompiledLookup(Token, "key", tokens_by_key)
    lookup.fetch([tokens[0].key])
    lookup.fetch([tokens[1].key])
    assert lookup.fetch(["0" * 40]) == []


def test_a_query_that_uses_the_value_twice_is_never_compiled(tokens: list[Token]) -> None:
    """Two parameters change with the value: the slot is ambiguous, so the ORM keeps the lookup."""
    lookup = CompiledLookup(
        Token, "key", lambda values: Token.objects.filter(key__in=values).exclude(user__username__in=values)
    )
    lookup.fetch([tokens[0].key])
    lookup.fetch([tokens[1].key])
    assert lookup._statements == {"default": None}
    assert [token.pk for token in lookup.fetch([tokens[2].key])] == [tokens[2].pk]


def test_several_values_use_the_orm(tokens: list[Token], django_assert_num_queries: Any) -> None:
    """A batch is one ORM query for every value."""
    lookup = CompiledLookup(Token, "key", tokens_by_key)
    with django_assert_num_queries(1):
        found = lookup.fetch([token.key for token in tokens])
    assert sorted(token.pk for token in found) == sorted(token.pk for token in tokens)


def test_lookup_for_keeps_one_lookup_per_owner_model_and_field() -> None:
    """The lookup is not an attribute of its owner."""

    class Owner:
        pass

    owner = Owner()
    first = lookup_for(owner, Token, "key", tokens_by_key)
    assert lookup_for(owner, Token, "key", tokens_by_key) is first
    assert vars(owner) == {}


class ReadFromPostgres:
    """Routes every read to the ``postgres`` alias."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "postgres"


@pytest.mark.django_db(databases=["default", "postgres"])
def test_the_learned_statement_runs_on_postgresql(settings: Any, django_user_model: Any) -> None:
    """On PostgreSQL (psycopg's parameters, its own converters) the learned statement finds the same rows."""
    settings.DATABASE_ROUTERS = [f"{__name__}.ReadFromPostgres"]
    users = [django_user_model.objects.db_manager("postgres").create_user(f"pg{n}") for n in range(3)]
    tokens = [Token.objects.using("postgres").create(user=user) for user in users]
    lookup = CompiledLookup(Token, "key", tokens_by_key)
    lookup.fetch([tokens[0].key])
    lookup.fetch([tokens[1].key])
    assert lookup._statements["postgres"] is not None
    (found,) = lookup.fetch([tokens[2].key])
    assert (found.pk, found.user.username, found._state.db) == (tokens[2].pk, "pg2", "postgres")
    assert found.created == tokens[2].created
    assert lookup.fetch(["f" * 40]) == []
