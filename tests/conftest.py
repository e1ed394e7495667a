"""Shared fixtures: users and credentials minted the way the libraries mint them."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def make_user(django_user_model: Any) -> Any:
    """Create a user; keyword arguments become model fields (``is_active``, ``is_staff``...)."""

    def make(username: str = "alice", password: str = "correct horse battery", **fields: Any) -> Any:
        return django_user_model.objects.create_user(username=username, password=password, **fields)

    return make
