"""Field types and the ``env()`` helper shared by every settings group.

An empty variable is unset; booleans accept true/false/1/0/yes/no/on/off in any case and nothing
else; lists are comma-separated and trimmed (``SemiList`` for the anchors' ``;`` variants).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AliasChoices, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic_settings import NoDecode

from plugin.config.flags import ALL
from plugin.core.booleans import parse_bool

# The field groups are mixins of Settings and never validate on their own: their schema is not built
# (Settings builds one schema for all of them, when it is first instantiated; --help never does).
FIELD_GROUP = ConfigDict(defer_build=True)


def _items(parts: Iterable[str]) -> list[str]:
    return [p.strip() for p in parts if p.strip()]


def split_comma(value: Any) -> Any:
    if isinstance(value, str):
        return _items(value.split(","))
    return value


def split_semicolon(value: Any) -> Any:
    if isinstance(value, str):
        return _items(value.split(";"))
    return value


def split_cache_refs(value: Any) -> Any:
    """``;`` separates entries when present; otherwise ``,`` does, unless entries are ``key=value`` specs."""
    if not isinstance(value, str):
        return value
    if ";" in value:
        return split_semicolon(value)
    if "=" in value:
        return _items([value])
    return split_comma(value)


def parse_int(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise ValueError("expected a whole number")
        return int(text)
    return value


def strip_text(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        return text or None
    return value


def lower_text(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Lower = BeforeValidator(lower_text)
Bool = Annotated[bool, BeforeValidator(parse_bool)]
OptBool = Annotated[bool | None, BeforeValidator(parse_bool)]
Str = Annotated[str | None, BeforeValidator(strip_text)]
CommaList = Annotated[list[str], NoDecode, BeforeValidator(split_comma)]
OptCommaList = Annotated[list[str] | None, NoDecode, BeforeValidator(split_comma)]
SemiList = Annotated[list[str], NoDecode, BeforeValidator(split_semicolon)]
CacheList = Annotated[list[str], NoDecode, BeforeValidator(split_cache_refs)]
Count = Annotated[int, BeforeValidator(parse_int), Field(ge=0)]
OptCount = Annotated[int | None, BeforeValidator(parse_int), Field(ge=0)]
Secret = Annotated[SecretStr | None, BeforeValidator(strip_text)]


def new_list() -> list[Any]:
    """A fresh empty list. pydantic reads a default factory's signature when it builds the schema; for
    the builtin ``list`` that means tokenizing its text signature (several ms at start-up), for a
    Python function it does not."""
    return []


def env(*names: str, default: Any = None, doc: str, factory: Any = None) -> Any:
    """A field read from the given variables, first non-empty one wins, documented by ``doc``."""
    if factory is list:
        factory = new_list
    if factory is not None:
        return Field(default_factory=factory, validation_alias=AliasChoices(*names), description=doc)
    return Field(default, validation_alias=AliasChoices(*names), description=doc)


__all__ = [
    "ALL",
    "Bool",
    "CacheList",
    "CommaList",
    "Count",
    "Lower",
    "OptBool",
    "OptCommaList",
    "OptCount",
    "Secret",
    "SemiList",
    "Str",
    "env",
]
