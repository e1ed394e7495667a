"""A one-value lookup compiled once and run again with other values: no ORM build per handshake.

Building and compiling ``Token.objects.select_related("user").filter(key__in=[key])`` costs several
times the CPU of running it on the database (about 240 µs against 30 µs on SQLite, on the bench
machine). A cold handshake pays it every time. :class:`CompiledLookup` learns the statement from
the ORM itself and then only swaps the value:

* the first two lone lookups with different values go through the ORM, and their compiled
  statements are compared: if they differ in exactly one parameter, and that parameter is what the
  field prepares from the value, that slot is the value's;
* later lone lookups execute the learned statement with the new value and build the instances with
  the compiler's own machinery (converters, ``from_db``, ``select_related`` populators), as
  ``ModelIterable`` does;
* batches of several values, and any query the learning cannot pin down (a manager that filters on
  the same value, a field whose database value is not simply prepared), always use the ORM.

The statement is learned per database alias (``router.db_for_read``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

QuerysetFor = Callable[[list[Any]], "QuerySet[Any]"]


class _Statement:
    __slots__ = ("compiler", "db", "init_list", "klass_info", "params", "populators", "slot", "span", "sql")

    def __init__(self, queryset: QuerySet[Any], sql: str, params: tuple[Any, ...], slot: int) -> None:
        self.db = queryset.db
        self.compiler = queryset.query.get_compiler(using=self.db)
        self.compiler.as_sql()  # fills select, klass_info and col_count, as execute_sql would
        self.sql, self.params, self.slot = sql, list(params), slot
        select, self.klass_info = self.compiler.select, self.compiler.klass_info
        fields = self.klass_info["select_fields"]
        self.span = (fields[0], fields[-1] + 1)
        self.init_list = [column[0].target.attname for column in select[self.span[0] : self.span[1]]]
        self.populators = get_related_populators(self.klass_info, select, self.db)  # type: ignore[call-arg]

    def run(self, prepared: Any) -> list[Any]:
        params = list(self.params)
        params[self.slot] = prepared
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        model = self.klass_info["model"]
        found = []
        for row in self.compiler.results_iter([rows]):
            instance = model.from_db(self.db, self.init_list, row[self.span[0] : self.span[1]])
            for populator in self.populators:
                populator.populate(row, instance)
            found.append(instance)
        return found


class CompiledLookup:
    """``queryset_for([value])`` for one value, compiled once; the ORM for anything else.

    Args:
        model: the model the querysets return.
        field: the name of the field the value is matched against.
        queryset_for: builds the ORM queryset for a list of values.
    """

    def __init__(self, model: type[Model], field: str, queryset_for: QuerysetFor) -> None:
        self.model = model
        self.field: Any = model._meta.get_field(field)
        self.queryset_for = queryset_for
        self._statements: dict[str, _Statement | None] = {}
        self._seen: dict[str, tuple[Any, str, tuple[Any, ...]]] = {}
        self._lock = threading.Lock()

    def fetch(self, values: Sequence[Any]) -> list[Any]:
        """The instances matching ``values`` (in the database's order)."""
        if len(values) != 1:
            return list(self.queryset_for(list(values)))
        value = values[0]
        db = router.db_for_read(self.model)
        statement = self._statements.get(db)
        if statement is not None:
            return statement.run(self.field.get_db_prep_value(value, connections[db], prepared=False))
        queryset = self.queryset_for([value])
        if db not in self._statements and queryset.db == db:
            self._learn(db, value, queryset)
        return list(queryset)

    def _learn(self, db: str, value: Any, queryset: QuerySet[Any]) -> None:
        sql, params = queryset.query.sql_with_params()
        with self._lock:
            seen = self._seen.get(db)
            if seen is None or seen[0] == value:
                self._seen[db] = (value, sql, tuple(params))
                return
            first_value, first_sql, first_params = seen
            slots = [i for i, (a, b) in enumerate(zip(first_params, params, strict=False)) if a != b]
            connection = connections[db]
            usable = (
                first_sql == sql
                and len(first_params) == len(params)
                and len(slots) == 1
                and params[slots[0]] == self.field.get_db_prep_value(value, connection, prepared=False)
                and first_params[slots[0]]
                == self.field.get_db_prep_value(first_value, connection, prepared=False)
            )
            statement = None
            if usable:
                try:
                    statement = _Statement(queryset, sql, tuple(params), slots[0])
                except Exception:  # noqa: BLE001 - another Django's internals: keep using the ORM
                    statement = None
            self._statements[db] = statement


_LOOKUPS: weakref.WeakKeyDictionary[object, dict[Any, CompiledLookup]] = weakref.WeakKeyDictionary()


def lookup_for(owner: object, model: type[Model], field: str, queryset_for: QuerysetFor) -> CompiledLookup:
    """The lookup of ``owner`` (an authenticator) for ``model.field``, made on first use.

    Kept outside the instance, like the batch loaders: an authenticator's attributes are its options.
    """
    lookups = _LOOKUPS.setdefault(owner, {})
    found = lookups.get((model, field))
    if found is None:
        found = lookups[(model, field)] = CompiledLookup(model, field, queryset_for)
    return found
