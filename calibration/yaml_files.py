"""Reading calibration YAML files with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from calibration.errors import CalibrationError
from models.yaml_files import read_yaml


def load_yaml(path: str | Path, what: str) -> Any:
    """The parsed YAML document at ``path``; a `CalibrationError` names the file when it cannot be read or parsed."""
    return read_yaml(path, what, CalibrationError)
