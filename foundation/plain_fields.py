"""Frozen dataclasses of plain values kept as JSON mappings (e.g. the event rules in a checkpoint's config.json)."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T", bound="PlainFields")


class PlainFields:
    """``to_dict`` and ``from_dict`` for a dataclass whose fields are plain values; ``from_dict`` refuses unknown
    keys with a `ValueError` naming them (the dataclass's own checks name bad values)."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        unknown = sorted(set(data) - {field.name for field in dataclasses.fields(cls)})  # type: ignore[arg-type]
        if unknown:
            raise ValueError(f"unknown keys {', '.join(map(str, unknown))}")
        return cls(**data)
