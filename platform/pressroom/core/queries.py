"""Query helpers for hot paths."""
from __future__ import annotations

from django.db import connections
from django.db.models import Model, QuerySet


def counts_in_one_statement(*querysets: QuerySet) -> list[int]:
    """Each queryset's row count (its slice respected), all in one statement: one round
    trip where `.count()` on each costs one each. The querysets share a database."""
    database = querysets[0].db
    selects, params = [], []
    for index, queryset in enumerate(querysets):
        sql, query_params = queryset.values_list("pk").query.sql_with_params()
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted_{index})")
        params.extend(query_params)
    with connections[database].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selects)}", params)
        return list(cursor.fetchone())


def related_objects_known(instance: Model, related_name: str, objects: list[Model]) -> None:
    """Tell `instance.<related_name>.all()` what it holds without a query: the objects this
    request has just written (as prefetch_related would; same cache, same ordering)."""
    related = getattr(instance, related_name).all()  # lazy: no query
    objects = list(objects)
    for name in reversed(related.model._meta.ordering):  # stable sorts, last key first
        objects.sort(key=lambda obj: getattr(obj, name.lstrip("-")), reverse=name.startswith("-"))
    related._result_cache = objects
    related._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[related_name] = related
