"""Reading calibration YAML files with errors that name the file."""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

import yaml

from calibration.errors import CalibrationError

MAX_YAML_BYTES = 1 << 20  # a camera_info or transform file is a few hundred bytes
_quote = reprlib.Repr()
_quote.maxstring = _quote.maxother = 60
_quote.maxlevel = 2


def quote(value: Any) -> str:
    """A short repr of a value read from a file, for messages (never huge, even for a YAML alias bomb)."""
    return _quote.repr(value)


def load_yaml(path: str | Path, what: str) -> Any:
    """The parsed YAML document at ``path``; a `CalibrationError` names the file when it cannot be read or parsed."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    if len(data) > MAX_YAML_BYTES:
        raise CalibrationError(f"{path}: larger than {MAX_YAML_BYTES} bytes; not a {what} file")
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CalibrationError(f"{path}: not a UTF-8 text file (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise CalibrationError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more digits than Python converts
        raise CalibrationError(f"{path}: cannot read {what}: {str(exc)[:200]}") from None
