"""Typed reads of one JSON object of ``config.json``: every failure is an
:class:`~edge_attn.runtime.errors.ArtifactError` naming the field (``where.key``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ArtifactError


class Fields:
    """Typed reads of one JSON object; every failure names ``where.key``."""

    def __init__(self, raw: Any, where: str, origin: str) -> None:
        self.where, self.origin = where, origin
        if not isinstance(raw, Mapping):
            raise self.fail(where or "config", f"must be an object, got {type(raw).__name__}")
        self.raw = raw

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, name: str, message: str) -> ArtifactError:
        return ArtifactError(f"{self.origin}: config field {name!r} {message}")

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def get(self, key: str, default: Any = ...) -> Any:
        if key not in self.raw or self.raw[key] is None:
            if default is ...:
                raise self.fail(self.name(key), "is missing")
            return default
        return self.raw[key]

    def int(self, key: str, low: int = 1, default: Any = ...) -> Any:
        value = self.get(key, default)
        if value is default and default is not ...:
            return value
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise self.fail(self.name(key), f"must be an integer >= {low}, got {value!r}")
        return value

    def bool(self, key: str, default: Any = ...) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(self.name(key), f"must be true or false, got {value!r}")
        return value

    def str(self, key: str, choices: tuple[str, ...] | None = None, default: Any = ...) -> Any:
        value = self.get(key, default)
        if value is default and default is not ...:
            return value
        if not isinstance(value, str) or not value:
            raise self.fail(self.name(key), f"must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(self.name(key), f"must be one of {', '.join(choices)}, "
                                            f"got {value!r}")
        return value

    def names(self, key: str, default: Any = ...) -> Any:
        """A non-empty list of unique non-empty strings."""
        value = self.get(key, default)
        if value is default and default is not ...:
            return value
        if (not isinstance(value, list) or not value
                or not all(isinstance(v, str) and v.strip() for v in value)):
            raise self.fail(self.name(key), f"must be a non-empty list of non-empty strings, "
                                            f"got {value!r}")
        if len(set(value)) != len(value):
            dupes = sorted({v for v in value if value.count(v) > 1})
            raise self.fail(self.name(key), f"has duplicate entries {dupes}")
        return tuple(value)

    def obj(self, key: str, default: Any = ...) -> Any:
        value = self.get(key, default)
        if not isinstance(value, Mapping):
            raise self.fail(self.name(key), f"must be an object, got {type(value).__name__}")
        return value

    def sub(self, key: str) -> Fields:
        return Fields(self.get(key), self.name(key), self.origin)
