"""Ordered hooks (after Wagtail's `hooks`): plugins register callables under a name;
the platform calls them in order. `register_temporarily` is for tests.

Hook names the platform calls:
- "safety_checks": returns a list of SafetyCheck instances to run after the core checks.
- "dashboard_widgets": called with `workspace=<slug>`, returns a list of (title, template
  name, context dict); rendered on the dashboard's catalogue page.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

KNOWN_HOOKS = ("safety_checks", "dashboard_widgets")

_hooks: dict[str, list[tuple[int, Callable[..., Any]]]] = {}


def register(name: str, fn: Callable[..., Any] | None = None, *, order: int = 0):
    """Use as `register("safety_checks", fn)` or as a decorator `@register("safety_checks")`."""
    if name not in KNOWN_HOOKS:
        raise ValueError(f"Unknown hook {name!r}; known hooks: {', '.join(KNOWN_HOOKS)}")
    if fn is None:
        return lambda f: register(name, f, order=order)
    if not callable(fn):
        raise TypeError(f"Hook {name!r} needs a callable, got {fn!r}")
    _hooks.setdefault(name, []).append((order, fn))
    _hooks[name].sort(key=lambda pair: pair[0])
    return fn


def get_hooks(name: str) -> list[Callable[..., Any]]:
    return [fn for _, fn in _hooks.get(name, [])]


def unregister(name: str, fn: Callable[..., Any]) -> None:
    _hooks[name] = [(order, f) for order, f in _hooks.get(name, []) if f is not fn]


@contextlib.contextmanager
def register_temporarily(name: str, fn: Callable[..., Any], *, order: int = 0) -> Iterator[None]:
    register(name, fn, order=order)
    try:
        yield
    finally:
        unregister(name, fn)
