"""Reading MATLAB ``.mat`` files (v5, as UTD-MHAD and Penn Action store them) with errors that name the file.

`read_mat` returns a file's variables; whatever scipy raises on a damaged,
truncated, empty or non-MATLAB file becomes one `DataFormatError` naming it.
`mat_array` takes one variable and checks its shape and that it is numeric
(real, finite in float32); `mat_string` and `mat_scalar` take the 1-element variables that
MATLAB writes for a string or a number.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from models.datasets.text import beyond_float32_as_inf
from models.errors import DataFormatError


def read_mat(path: str | Path) -> dict[str, np.ndarray]:
    """The variables of a MATLAB v4-v7.2 file by name (scipy's ``__header__`` and friends dropped)."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise DataFormatError(path, "empty file")
    try:
        variables = scipy.io.loadmat(path)
    except Exception as error:  # noqa: BLE001 -- scipy's parser fails on damaged bytes with many exception types
        raise DataFormatError(path, f"not a readable MATLAB file ({type(error).__name__}: {error})") from None
    return {name: value for name, value in variables.items() if not name.startswith("__")}


def _variable(path: Path, variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    if name not in variables:
        raise DataFormatError(path, f"no variable {name!r} (found: {', '.join(sorted(variables)) or 'none'})")
    return np.asarray(variables[name])


def mat_array(path: str | Path, variables: dict[str, np.ndarray], name: str, ndim: int) -> np.ndarray:
    """Variable ``name`` as a float64 array of ``ndim`` dimensions, every value finite and within float32's range."""
    path = Path(path)
    value = _variable(path, variables, name)
    if value.dtype.kind not in "biuf":
        raise DataFormatError(path, f"variable {name!r} is not a real numeric array (dtype {value.dtype})")
    if value.ndim != ndim:
        raise DataFormatError(path, f"variable {name!r} has shape {value.shape}, expected {ndim} dimensions")
    value = beyond_float32_as_inf(value.astype(np.float64))
    if not np.isfinite(value).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
        raise DataFormatError(path, f"variable {name!r} holds a non-finite value at index {where}")
    return value


def mat_string(path: str | Path, variables: dict[str, np.ndarray], name: str) -> str:
    """Variable ``name`` as text (MATLAB char arrays load as a 1-element array of str)."""
    path = Path(path)
    value = _variable(path, variables, name)
    if value.dtype.kind != "U" or value.size != 1:
        raise DataFormatError(path, f"variable {name!r} is not a string (dtype {value.dtype}, shape {value.shape})")
    return str(value.reshape(-1)[0])


def mat_scalar(path: str | Path, variables: dict[str, np.ndarray], name: str) -> float:
    """Variable ``name`` as one finite number."""
    value = mat_array(path, variables, name, ndim=2)
    if value.size != 1:
        raise DataFormatError(path, f"variable {name!r} has shape {value.shape}, expected one number")
    return float(value[0, 0])
