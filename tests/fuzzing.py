"""Shared hypothesis strategies for the bad-input tests: hostile values, mutated bytes and documents.

The bad-input tests feed every reader and decoder random bytes, valid inputs with
bytes flipped or cut, and valid documents with one value somewhere replaced by
anything (`replace_somewhere`); only the project's own exception types may come out.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("SKELSTREAM_FUZZ_EXAMPLES", "150"))
"""Examples per bad-input test; ``SKELSTREAM_FUZZ_EXAMPLES=5000 pytest ...`` for a longer hunt."""

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=10),  # a liveness bound (never a hang), far above any real example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
"""Settings of the bad-input tests: quick enough for every CI run by default (seconds per test)."""

SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(max_size=20)
"""Any scalar msgpack can carry (its integers are 64-bit)."""
PLAIN = st.recursive(SCALARS | st.integers(min_value=10**30, max_value=10**40),
                     lambda inner: st.lists(inner, max_size=5)
                     | st.dictionaries(st.text(max_size=10), inner, max_size=5), max_leaves=20)  # fmt: skip
"""Any value YAML or JSON could hold (big integers too; no bytes)."""

WITH_BYTES = st.recursive(SCALARS | st.binary(max_size=40), lambda inner: st.lists(inner, max_size=5)
                          | st.dictionaries(st.text(max_size=10) | st.binary(max_size=4), inner, max_size=5),
                          max_leaves=20)  # fmt: skip
"""Any msgpack value, bin included and bin map keys."""


def mutated(data: st.DataObject, valid: bytes, alphabet: bytes | None = None) -> bytes:
    """``valid`` with up to 8 bytes replaced (from ``alphabet`` if given) and cut at a random point."""
    buffer = bytearray(valid)
    for _ in range(data.draw(st.integers(1, 8), label="flips")):
        at = data.draw(st.integers(0, len(buffer) - 1), label="at")
        buffer[at] = data.draw(st.sampled_from(list(alphabet)) if alphabet else st.integers(0, 255), label="byte")
    return bytes(buffer[: data.draw(st.integers(0, len(buffer)), label="cut")])


def replace_somewhere(data: st.DataObject, document: Any, values: st.SearchStrategy = PLAIN) -> Any:
    """``document`` (nested dicts and lists, changed in place) with one value, at any depth, replaced."""
    node = document
    for _ in range(data.draw(st.integers(0, 4), label="depth")):
        keys = sorted(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys:
            break
        key = data.draw(st.sampled_from(keys), label="descend")
        if not isinstance(node[key], (dict, list)) or not node[key]:
            break
        node = node[key]
    if isinstance(node, dict):
        node[data.draw(st.sampled_from([*sorted(node), "unknown"]), label="key")] = data.draw(values, label="value")
    elif isinstance(node, list) and node:
        node[data.draw(st.integers(0, len(node) - 1), label="index")] = data.draw(values, label="value")
    return document
