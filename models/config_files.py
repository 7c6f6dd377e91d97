"""Config dataclasses from YAML files and flags: unknown keys and wrong types are errors naming the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

from models.errors import SkelstreamError

T = TypeVar("T")


class ConfigError(SkelstreamError):
    """A config file or flag has an unknown key or a value of the wrong type."""


def _coerce(name: str, value: Any, annotation: str) -> Any:
    """Check a value against a field's annotation (as a string); ints are accepted for floats."""
    expected = {"str": str, "int": int, "float": (int, float), "bool": bool}
    if value is None and "None" in annotation:
        return None
    base = annotation.replace(" | None", "")
    if base.startswith(("list", "tuple")):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key {name!r} must be a list, got {type(value).__name__}")
        return list(value) if base.startswith("list") else tuple(value)
    if base.startswith("dict"):
        if not isinstance(value, dict):
            raise ConfigError(f"config key {name!r} must be a mapping, got {type(value).__name__}")
        return value
    if base not in expected:
        return value
    if (isinstance(value, bool) and base != "bool") or not isinstance(value, expected[base]):
        raise ConfigError(f"config key {name!r} must be {base}, got {type(value).__name__} {value!r}")
    return float(value) if base == "float" else value


def load_config(cls: type[T], path: str | Path | None = None, **overrides: Any) -> T:
    """``cls`` from its defaults ← the YAML file at ``path`` ← ``overrides`` (flags; None means not given)."""
    import yaml

    values: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"{path}: cannot read config: {error}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of config keys")
        values.update(loaded)
    values.update({k: v for k, v in overrides.items() if v is not None})
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown config key(s) {unknown}; known: {', '.join(fields)}")
    try:
        return cls(**{k: _coerce(k, v, str(fields[k].type)) for k, v in values.items()})
    except ValueError as error:
        raise ConfigError(str(error)) from None
