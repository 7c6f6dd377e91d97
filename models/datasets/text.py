"""Reading numeric text tables with errors that name the file and line.

The dataset readers share these pieces: `read_lines` reads a file as UTF-8 text
(a leading byte-order mark dropped; a ``.xz`` file decompressed first) and
rejects binary, broken and empty files;
`parse_float_rows` turns rows of whitespace-separated numbers into a float64
array with numpy's C parser and, only when that fails, re-parses row by row so
the `DataFormatError` names the first bad line; `read_float_table` does both
for a file that is one table, skipping blank lines. `sorted_files` lists a
dataset folder's files, naming the folder when there are none.
"""

from __future__ import annotations

import lzma
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from foundation.errors import DataFormatError


COUNT_ERROR = "expected {columns} values, found {found}"
"""Default message for a row with the wrong number of fields (``columns`` expected, ``found`` there)."""
VALUE_ERROR = "non-numeric value {field!r}"
"""Default message for a field ``float`` rejects (``field``, at 1-based ``column``)."""
TRUNCATED_HINT = " (truncated last line?)"
"""Appended to the message when the file's last row is short."""
FLOAT32_MAX = float(np.finfo(np.float32).max)


def read_bytes(path: Path) -> bytes:
    """The bytes of a file, decompressed when its name ends in ``.xz`` (xz/lzma, as MSRC-12 and Kinder-Gator
    are stored); raises `DataFormatError` for a broken or cut-off ``.xz`` file."""
    data = Path(path).read_bytes()
    if Path(path).suffix != ".xz":
        return data
    try:
        return lzma.decompress(data)
    except lzma.LZMAError as error:
        raise DataFormatError(path, f"not a readable .xz file ({error})") from None


def read_lines(path: Path, allow_empty: bool = False) -> list[str]:
    """All lines of a UTF-8 text file (``.xz`` decompressed, see `read_bytes`), without line ends; raises
    `DataFormatError` if it is not text, or empty (unless ``allow_empty``)."""
    try:
        lines = read_bytes(path).decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise DataFormatError(path, f"not a text file (not UTF-8: {error.reason} at byte {error.start})") from None
    if not allow_empty and not any(line.strip() for line in lines):
        raise DataFormatError(path, "empty file", line=1)
    return lines


def data_lines(lines: Sequence[str], first: int = 1) -> tuple[list[str], np.ndarray]:
    """The lines that hold text and their line numbers (int64), ``lines[0]`` being line ``first``."""
    kept = [(number, line) for number, line in enumerate(lines, start=first) if line.strip()]
    return [line for _, line in kept], np.array([number for number, _ in kept], dtype=np.int64)


def beyond_float32_as_inf(values: np.ndarray) -> np.ndarray:
    """``values`` (float64, changed in place) with magnitudes no float32 holds set to ±inf.

    Joints are stored as float32: a finiteness check on the float64 values must see
    what storage will, so a reader masks (or rejects) 1e39 as it does inf.
    """
    with np.errstate(invalid="ignore"):
        big = np.abs(values) > FLOAT32_MAX
    values[big] = np.copysign(np.inf, values[big])
    return values


def is_float(text: str) -> bool:
    """Whether ``float(text)`` accepts ``text`` (NaN and inf included)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_float_rows(
    lines: Sequence[str],
    line_numbers: Sequence[int] | np.ndarray,
    columns: int,
    path: Path,
    *,
    finite: bool = False,
    count_error: str = COUNT_ERROR,
    value_error: str = VALUE_ERROR,
) -> np.ndarray:
    """Parse whitespace-separated rows of exactly ``columns`` floats into a (len(lines), columns) float64 array.

    ``line_numbers`` gives each row's 1-based line in ``path`` for error messages.
    NaN and inf are accepted unless ``finite``; magnitudes beyond float32's range
    read as ±inf (`beyond_float32_as_inf`). The fast path is numpy's C parser;
    a failure is re-parsed row by row to name the first offending line: a wrong
    field count (``count_error``, formatted with ``columns`` and ``found``; a
    short last row adds `TRUNCATED_HINT`), a field ``float`` rejects
    (``value_error``, formatted with the 1-based ``column`` and the ``field``
    text) or, with ``finite``, a NaN or inf.
    """
    if not lines:
        return np.zeros((0, columns), dtype=np.float64)
    try:
        values = np.loadtxt(lines, dtype=np.float64, comments=None, ndmin=2)
    except ValueError:
        values = None
    if values is not None and values.shape == (len(lines), columns):
        beyond_float32_as_inf(values)
        if finite and not np.isfinite(values).all():
            row, column = np.argwhere(~np.isfinite(values))[0]
            raise _nonfinite(path, lines[row].split()[column], int(line_numbers[row]))
        return values
    rows = []  # the slow way, raising at the first bad row
    for k, line in enumerate(lines):
        number = int(line_numbers[k])
        fields = line.split()
        if len(fields) != columns:
            hint = TRUNCATED_HINT if k == len(lines) - 1 and len(fields) < columns else ""
            raise DataFormatError(path, count_error.format(columns=columns, found=len(fields)) + hint, line=number)
        try:
            row_values = list(beyond_float32_as_inf(np.array([float(field) for field in fields])))
        except ValueError:
            column, field = next((c, field) for c, field in enumerate(fields, start=1) if not is_float(field))
            raise DataFormatError(path, value_error.format(column=column, field=field), line=number) from None
        if finite and not np.isfinite(row_values).all():
            raise _nonfinite(path, fields[int(np.argmin(np.isfinite(row_values)))], number)
        rows.append(row_values)
    return np.array(rows, dtype=np.float64).reshape(len(lines), columns)


def read_float_table(
    path: Path,
    columns: int,
    *,
    finite: bool = False,
    count_error: str = COUNT_ERROR,
    value_error: str = VALUE_ERROR,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a file that is one table of ``columns`` floats a line (blank lines skipped).

    Returns the (rows, columns) float64 table and each row's 1-based line number
    (int64); errors as in `read_lines` and `parse_float_rows`.
    """
    lines, numbers = data_lines(read_lines(path))
    table = parse_float_rows(
        lines, numbers, columns, path, finite=finite, count_error=count_error, value_error=value_error
    )
    return table, numbers


def sorted_files(root: str | Path, pattern: str, missing: str) -> list[Path]:
    """The files in ``root`` matching ``pattern``, sorted by name; raises `DataFormatError` (``missing``) if none."""
    paths = sorted(Path(root).glob(pattern))
    if not paths:
        raise DataFormatError(root, missing)
    return paths


def _nonfinite(path: Path, field: str, line: int) -> DataFormatError:
    return DataFormatError(path, f"non-finite value {field!r} (NaN, inf and magnitudes beyond float32's "
                                 f"{FLOAT32_MAX:.1e} are not allowed)", line=line)  # fmt: skip
