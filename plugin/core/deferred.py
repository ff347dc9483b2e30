"""Defer ``asyncio``: imported at the top of structlog, pydantic-settings and sh, used by none of them here.

The three libraries import ``asyncio`` for their async APIs (``await log.ainfo``, ``CliApp.run`` of a
coroutine, ``async for`` over a command), which the plugin never calls; loading it costs about 13 ms
of every start (``asyncio`` brings ``ssl``, ``socket`` and ``concurrent.futures``), 8 % of ``plan``.
:func:`defer_asyncio` puts a stand-in module in ``sys.modules`` before they are imported. The first
time anything reads an attribute of it (``asyncio.get_running_loop``, ``from asyncio import Queue``,
``import asyncio.coroutines``, which reads ``__path__``), the stand-in imports the real ``asyncio``,
which replaces it in ``sys.modules``, and answers from it: a program that does use asyncio works, only
later. Called by the entrypoint only (``python -m plugin``), never on import of the package.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
from typing import Any

NAME = "asyncio"


class _Deferred(types.ModuleType):
    """Stands in for a module until the first attribute is read, then forwards to the real module."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(_load(self), attr)

    def __dir__(self) -> list[str]:
        return dir(_load(self))


def _load(stand_in: types.ModuleType) -> types.ModuleType:
    if sys.modules.get(stand_in.__name__) is stand_in:
        del sys.modules[stand_in.__name__]
    return importlib.import_module(stand_in.__name__)


def defer_asyncio() -> None:
    """Put the stand-in in place, unless ``asyncio`` is already imported (then there is nothing to save)."""
    if NAME in sys.modules:
        return
    stand_in = _Deferred(NAME)
    # The import system reads __spec__ of a module found in sys.modules (is it still initialising?);
    # a plain spec answers without loading. __path__ is left unset on purpose: a submodule import reads
    # it, which loads the real package first.
    stand_in.__spec__ = importlib.machinery.ModuleSpec(NAME, None)
    sys.modules[NAME] = stand_in


def is_deferred() -> bool:
    """Whether ``asyncio`` is still the stand-in (nothing has used it)."""
    return isinstance(sys.modules.get(NAME), _Deferred)
