"""Reading MATLAB level-5 ``.mat`` files (as UTD-MHAD and Penn Action store them) with errors that name the file.

`read_mat` returns a file's numeric, logical and character variables by name;
`mat_array` takes one variable and checks its shape and that it is numeric
(real, finite in float32); `mat_string` and `mat_scalar` take the variables that
MATLAB writes for a string or a number.

The parser is this module's own, in Python: ``scipy.io.loadmat`` parses in C
and crashes the process (segmentation fault) on some damaged files -- one
flipped byte in the type field of a small data element is enough, measured with
scipy 1.17 -- where a reader must raise one clear error. scipy stays the
reference the tests compare this parser with on every real file.

Format (MathWorks, "MAT-File Format", level 5): a 128-byte header ending in the
version (0x0100) and the endian marker ``IM`` (little) or ``MI`` (big), then one
data element per variable, each an 8-byte tag (type, byte count; or a
"small" 4-byte tag with at most 4 bytes of data) and its data padded to 8 bytes;
a variable is a ``miMATRIX`` element (array flags, dimensions, name, real part),
optionally zlib-compressed inside a ``miCOMPRESSED`` element. Arrays are stored
column-major. Cells, structs, objects, sparse and complex arrays are skipped
(no reader here needs them).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from foundation.errors import DataFormatError
from models.datasets.text import beyond_float32_as_inf


MAX_BYTES = 64 * 1024 * 1024
"""The largest file, and the largest decompressed variable, read (the real files are below 50 kB)."""
_MI_DTYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8",
              16: "u1", 17: "u2", 18: "u4"}  # fmt: skip
"""Data element types (miINT8 ... miUTF32) and the numpy type of their values."""
_MI_MATRIX, _MI_COMPRESSED = 14, 15
_NUMERIC_CLASSES = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8", 15: "u8"}
"""Array classes (mxDOUBLE ... mxUINT64) and the numpy type they hold."""
_CHAR_CLASS = 4
_LOGICAL_FLAG, _COMPLEX_FLAG = 0x0200, 0x0800


def read_mat(path: str | Path) -> dict[str, np.ndarray]:
    """The numeric (and logical) arrays and strings of a level-5 MATLAB file by variable name.

    Numeric variables keep their MATLAB class's type (doubles stored as small
    integers come back as float64); a char matrix comes back as a 1-D array of its
    rows as str. Anything damaged raises `DataFormatError` naming the file.
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise DataFormatError(path, "empty file")
    if size > MAX_BYTES:
        raise DataFormatError(path, f"{size} bytes is more than a MATLAB file read here may hold ({MAX_BYTES})")
    data = path.read_bytes()
    if len(data) < 128:
        raise DataFormatError(path, f"{len(data)} bytes is shorter than the 128-byte MATLAB 5 header (truncated?)")
    endian = {b"IM": "<", b"MI": ">"}.get(data[126:128])
    if endian is None:
        raise DataFormatError(path, "not a MATLAB 5 file (no IM/MI endian marker at bytes 126-127)")
    (version,) = struct.unpack_from(endian + "H", data, 124)
    if version != 0x0100:
        raise DataFormatError(path, f"MATLAB file version {version:#06x} is not level 5 (0x0100)")
    variables = {}
    offset = 128
    while offset < len(data):
        kind, payload, offset = _element(path, data, offset, endian, "file")
        if kind == _MI_COMPRESSED:
            inner = _inflate(path, payload)
            kind, payload, _ = _element(path, inner, 0, endian, "compressed variable")
        if kind != _MI_MATRIX:
            raise DataFormatError(path, f"data element of type {kind} where a variable (miMATRIX) belongs")
        name, value = _matrix(path, payload, endian)
        if value is not None:
            variables[name] = value
    return variables


def _element(path: Path, buffer: bytes, offset: int, endian: str, where: str) -> tuple[int, bytes, int]:
    """(type, data, offset of the next element) of the data element at ``offset`` of ``buffer``."""
    if offset + 8 > len(buffer):
        raise DataFormatError(path, f"{where}: data element at byte {offset} is cut short (truncated file?)")
    word, count = struct.unpack_from(endian + "II", buffer, offset)
    if word >> 16:  # small data element: byte count in the upper half, type in the lower, data in the next 4 bytes
        kind, count = word & 0xFFFF, word >> 16
        if count > 4:
            raise DataFormatError(path, f"{where}: small data element at byte {offset} claims {count} bytes")
        return kind, buffer[offset + 4 : offset + 4 + count], offset + 8
    end = offset + 8 + count
    if end > len(buffer):
        raise DataFormatError(path, f"{where}: data element at byte {offset} needs {count} bytes, "
                                    f"{len(buffer) - offset - 8} left (truncated file?)")  # fmt: skip
    padded = end if word == _MI_COMPRESSED else offset + 8 + (count + 7) // 8 * 8
    return word, buffer[offset + 8 : end], min(padded, len(buffer))


def _inflate(path: Path, payload: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        inner = inflater.decompress(payload, MAX_BYTES)
    except zlib.error as error:
        raise DataFormatError(path, f"compressed variable is damaged ({error})") from None
    if inflater.unconsumed_tail:
        raise DataFormatError(path, f"compressed variable inflates beyond {MAX_BYTES} bytes")
    return inner  # complete or not: MATLAB leaves some streams unterminated; the element inside must be whole


def _matrix(path: Path, payload: bytes, endian: str) -> tuple[str, np.ndarray | None]:
    """Name and value of a miMATRIX element (value None for the classes not read here)."""
    parts, offset = [], 0
    while offset < len(payload) and len(parts) < 4:  # array flags, dimensions, name, real part
        kind, data, offset = _element(path, payload, offset, endian, "variable")
        parts.append((kind, data))
    if len(parts) < 3 or parts[0][0] != 6 or len(parts[0][1]) != 8 or parts[1][0] != 5 or len(parts[1][1]) % 4:
        raise DataFormatError(path, "variable lacks its array flags, dimensions or name")
    flags = struct.unpack_from(endian + "I", parts[0][1])[0]
    dims = [int(d) for d in np.frombuffer(parts[1][1], dtype=endian + "i4")]
    if parts[2][0] not in (1, 2):
        raise DataFormatError(path, "variable name is not stored as text")
    try:
        name = parts[2][1].decode("ascii")
    except UnicodeDecodeError:
        raise DataFormatError(path, f"variable name {parts[2][1]!r} is not ASCII") from None
    array_class = flags & 0xFF
    if array_class not in _NUMERIC_CLASSES and array_class != _CHAR_CLASS or flags & _COMPLEX_FLAG:
        return name, None
    if len(dims) < 2 or min(dims) < 0:
        raise DataFormatError(path, f"variable {name!r} has dimensions {dims}")
    count = int(np.prod(dims, dtype=object))
    if len(parts) < 4:
        if count:
            raise DataFormatError(path, f"variable {name!r} has no values for its dimensions {dims}")
        return name, np.zeros(dims, dtype=_NUMERIC_CLASSES.get(array_class, "f8"))
    kind, data = parts[3]
    if kind not in _MI_DTYPES or len(data) % np.dtype(_MI_DTYPES[kind]).itemsize:
        raise DataFormatError(path, f"variable {name!r} stores its values as data type {kind} in {len(data)} bytes")
    values = np.frombuffer(data, dtype=endian + _MI_DTYPES[kind])
    if array_class == _CHAR_CLASS:
        return name, _text(path, name, values, kind, dims)
    if values.size != count:
        raise DataFormatError(path, f"variable {name!r} holds {values.size} values for dimensions {dims}")
    array = values.reshape(dims, order="F").astype(_NUMERIC_CLASSES[array_class])
    return name, array.astype(bool) if flags & _LOGICAL_FLAG else array


def _text(path: Path, name: str, values: np.ndarray, kind: int, dims: list[int]) -> np.ndarray:
    """A char matrix as a 1-D array of its rows."""
    if kind == 16:  # UTF-8: the character count is only known once decoded
        try:
            characters = list(values.tobytes().decode("utf-8"))
        except UnicodeDecodeError:
            raise DataFormatError(path, f"variable {name!r} is not valid UTF-8 text") from None
    else:
        try:
            characters = [chr(int(code)) for code in values]
        except (ValueError, OverflowError):
            raise DataFormatError(path, f"variable {name!r} holds a character code beyond Unicode") from None
    if len(dims) != 2 or dims[0] * dims[1] != len(characters):
        raise DataFormatError(path, f"variable {name!r} holds {len(characters)} characters for dimensions {dims}")
    rows, columns = dims
    return np.array(["".join(characters[r + rows * c] for c in range(columns)) for r in range(rows)], dtype=str)


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
    """Variable ``name`` as text (a one-row char matrix)."""
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
