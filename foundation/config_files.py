"""Config dataclasses from YAML files and flags: unknown keys and wrong types are errors naming the key.

Files are read as UTF-8 YAML (safe loading: plain values only) whose top level
is a mapping of field names; every value is checked against its field's type
annotation (``list[str]`` item by item) before the dataclass's own checks run.
Whatever is wrong raises `ConfigError` naming the file and the key; values are
quoted with `reprlib`, so even a YAML alias bomb cannot make a message huge.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

from foundation.errors import SkelstreamError
from foundation.yaml_files import quote, read_yaml


T = TypeVar("T")

_SCALARS = {"str": str, "int": int, "float": (int, float), "bool": bool}


class ConfigError(SkelstreamError):
    """A config file or flag has an unknown key or a value of the wrong type."""


def _scalar(name: str, value: Any, base: str) -> Any:
    if (isinstance(value, bool) and base != "bool") or not isinstance(value, _SCALARS[base]):
        raise ConfigError(f"config key {name!r} must be {base}, got {type(value).__name__} {quote(value)}")
    return float(value) if base == "float" else value


def annotation_base(annotation: str) -> str:
    """A field's annotation (as a string) without its ``| None``: ``"float | None"`` → ``"float"``."""
    return annotation.replace(" | None", "")


def _coerce(name: str, value: Any, annotation: str) -> Any:
    """Check a value against a field's annotation (as a string); ints are accepted for floats."""
    if value is None and "None" in annotation:
        return None
    base = annotation_base(annotation)
    if base.startswith(("list", "tuple")):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key {name!r} must be a list, got {type(value).__name__} {quote(value)}")
        item = base[base.find("[") + 1 : -1] if "[" in base else ""
        items = [_scalar(f"{name}[{i}]", v, item) if item in _SCALARS else v for i, v in enumerate(value)]
        return items if base.startswith("list") else tuple(items)
    if base.startswith("dict"):
        if not isinstance(value, dict):
            raise ConfigError(f"config key {name!r} must be a mapping, got {type(value).__name__} {quote(value)}")
        return value
    if base not in _SCALARS:
        return value
    return _scalar(name, value, base)


def coerce_fields(cls: type, values: dict[Any, Any], prefix: str = "") -> dict[str, Any]:
    """``values`` checked against the fields of dataclass ``cls``: unknown keys and wrong types raise `ConfigError`."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(quote(k) if not isinstance(k, str) else prefix + k for k in values if k not in fields)
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    return {k: _coerce(prefix + k, v, str(fields[k].type)) for k, v in values.items()}


def read_yaml_mapping(path: str | Path) -> dict[Any, Any]:
    """The top-level mapping of a YAML config file (empty for an empty file); `ConfigError` names the file."""
    loaded = read_yaml(path, "config", ConfigError)
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping of config keys, got {type(loaded).__name__}")
    return loaded


def load_config(cls: type[T], path: str | Path | None = None, **overrides: Any) -> T:
    """``cls`` from its defaults ← the YAML file at ``path`` ← ``overrides`` (flags; None means not given)."""
    values: dict[Any, Any] = {}
    if path is not None:
        values.update(read_yaml_mapping(path))
    values.update({k: v for k, v in overrides.items() if v is not None})
    where = f"{path}: " if path is not None else ""
    try:
        return cls(**coerce_fields(cls, values))
    except ConfigError as error:
        raise ConfigError(f"{where}{error}") from None
    except ValueError as error:
        raise ConfigError(f"{where}{error}") from None
