"""Defer modules that the libraries import at start-up and the plugin's commands never use.

- ``asyncio``: structlog, pydantic-settings and sh import it for their async APIs (``await
  log.ainfo``, ``CliApp.run`` of a coroutine, ``async for`` over a command), which the plugin never
  calls; it brings ``ssl``, ``socket`` and ``concurrent.futures`` (about 13 ms of every start).
- ``importlib.metadata``: pydantic's plugin loader (``from importlib.metadata import entry_points``),
  imported when the first model is built, and called only when pydantic plugins are enabled (the
  entrypoint disables them); it brings ``email``, ``zipfile`` and ``csv`` (about 10 ms).
- ``secrets``: ``pydantic.types`` imports it for ``SecretStr.__eq__`` (``compare_digest``); it brings
  ``hmac`` and ``hashlib`` (about 3 ms).

:func:`defer` puts a stand-in module in ``sys.modules`` before they are imported. The first time
anything reads an attribute of it (``asyncio.get_running_loop``, ``from asyncio import Queue``,
``secrets.compare_digest``, ``import asyncio.coroutines``, which reads ``__path__``), the stand-in
imports the real module, which replaces it in ``sys.modules`` (and as its parent package's attribute),
and answers from it: a program that does use one works, only later. A name in ``FORWARDED`` is a
function of the stand-in that loads the real module when *called*, so that ``from importlib.metadata
import entry_points`` alone loads nothing; for that, such a stand-in also has no ``__path__`` (a
``from`` import reads it): while it stands in, ``import importlib.metadata.<submodule>`` fails (no
library the plugin uses does that; ``from importlib.metadata import <name>`` works). Called by the
entrypoint only (``python -m plugin``), never on import of the package.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
from collections.abc import Callable
from typing import Any

DEFERRED = ("asyncio", "importlib.metadata", "secrets")
# Functions a library takes with `from X import f` at import time and calls only on a path the plugin
# never takes (pydantic's plugin loader, with PYDANTIC_DISABLE_PLUGINS set).
FORWARDED: dict[str, tuple[str, ...]] = {"importlib.metadata": ("entry_points",)}


class _Deferred(types.ModuleType):
    """Stands in for a module until the first attribute is read, then forwards to the real module."""

    def __getattr__(self, attr: str) -> Any:
        if attr == "__path__" and self.__name__ in FORWARDED:
            raise AttributeError(attr)  # a `from` import of a forwarded name must not load the module
        return getattr(_load(self), attr)

    def __dir__(self) -> list[str]:
        return dir(_load(self))


def _load(stand_in: types.ModuleType) -> types.ModuleType:
    if sys.modules.get(stand_in.__name__) is stand_in:
        del sys.modules[stand_in.__name__]
    return importlib.import_module(stand_in.__name__)  # sets the parent package's attribute too


def _forwarder(stand_in: types.ModuleType, attr: str) -> Callable[..., Any]:
    def forward(*args: Any, **kwargs: Any) -> Any:
        return getattr(_load(stand_in), attr)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = attr
    return forward


def defer(name: str) -> None:
    """Put the stand-in for ``name`` in place, unless it is already imported (nothing to save then)."""
    if name in sys.modules:
        return
    stand_in = _Deferred(name)
    # The import system reads __spec__ of a module found in sys.modules (is it still initialising?);
    # a plain spec answers without loading. __path__ is left unset on purpose: a submodule import reads
    # it, which loads the real package first.
    stand_in.__spec__ = importlib.machinery.ModuleSpec(name, None)
    for attr in FORWARDED.get(name, ()):
        setattr(stand_in, attr, _forwarder(stand_in, attr))
    parent, _, child = name.rpartition(".")
    if parent:  # `import importlib.metadata; importlib.metadata.version(...)` reads the parent's attribute
        setattr(sys.modules[parent], child, stand_in)
    sys.modules[name] = stand_in


def defer_all() -> None:
    """Every module of ``DEFERRED`` (the entrypoint, before structlog and pydantic are imported)."""
    for name in DEFERRED:
        defer(name)


def is_deferred(name: str) -> bool:
    """Whether ``name`` is still the stand-in (nothing has used it)."""
    return isinstance(sys.modules.get(name), _Deferred)
