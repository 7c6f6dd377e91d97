"""Reading calibration YAML files with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from calibration.errors import CalibrationError


def load_yaml(path: str | Path, what: str) -> Any:
    """The parsed YAML document at ``path``; a `CalibrationError` names the file when it cannot be read or parsed."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise CalibrationError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
