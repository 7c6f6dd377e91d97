"""Reading small YAML files from outside: bounded in size, safe loading, and errors that name the file.

Shared by the config loader (`foundation.config_files`) and the calibration readers
(`calibration.yaml_files`); each passes its own project exception type.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

MAX_YAML_BYTES = 1 << 20  # configs, camera_info and transforms are a page at most; a larger file is a mistake

_quote = reprlib.Repr()
_quote.maxstring = _quote.maxother = 60
_quote.maxlevel = 2


def quote(value: Any) -> str:
    """A short repr of a value read from a file, for messages (never huge, even for a YAML alias bomb)."""
    return _quote.repr(value)


def read_yaml(path: str | Path, what: str, error: type[Exception]) -> Any:
    """The parsed YAML document at ``path`` (plain values only); ``error(message)`` naming the file otherwise.

    Raised for an unreadable file, one over `MAX_YAML_BYTES`, text that is not UTF-8,
    invalid YAML, and values YAML cannot convert (e.g. an integer of too many digits).
    """
    import yaml

    try:
        with open(path, "rb") as file:
            data = file.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    if len(data) > MAX_YAML_BYTES:
        raise error(f"{path}: larger than {MAX_YAML_BYTES} bytes; not a {what} file")
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not a UTF-8 text file (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    except (ValueError, RecursionError) as exc:
        raise error(f"{path}: cannot read {what}: {quote(str(exc))}") from None
