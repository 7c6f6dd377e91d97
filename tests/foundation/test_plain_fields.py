"""`PlainFields`: a dataclass of plain values round-trips through a mapping; unknown keys are named."""

from dataclasses import dataclass

import pytest

from foundation.plain_fields import PlainFields


@dataclass(frozen=True)
class _Rules(PlainFields):
    level: float = 0.5
    frames: int = 3


def test_a_mapping_round_trips_and_fills_defaults():
    rules = _Rules(0.7, 4)
    assert rules.to_dict() == {"level": 0.7, "frames": 4}
    assert _Rules.from_dict(rules.to_dict()) == rules
    assert _Rules.from_dict({"frames": 2}) == _Rules(0.5, 2)


def test_unknown_keys_are_named_sorted():
    with pytest.raises(ValueError, match="unknown keys leve, zeta"):
        _Rules.from_dict({"zeta": 1, "leve": 0.5, "frames": 2})
