"""The MATLAB level-5 parser against scipy's, on every variable kind the readers meet, and on damaged files.

(The dataset tests compare it with scipy on all 3 187 real UTD-MHAD and Penn Action files.)
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import given
from hypothesis import strategies as st

from foundation.errors import DataFormatError
from models.datasets.matlab import mat_array, mat_scalar, mat_string, read_mat
from tests.fuzzing import FUZZ, mutated


VARIABLES = {
    "doubles": np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7,
    "singles": np.array([[1.5, -2.25]], dtype=np.float32),
    "small_doubles": np.array([[3.0, 250.0, 7.0]]),  # MATLAB stores these as uint8 inside a double array
    "int32": np.array([[-1]], dtype=np.int32),
    "uint16": np.array([[272, 481, 46]], dtype=np.uint16),
    "uint8": np.ones((5, 13), dtype=np.uint8),
    "flags": np.array([[True, False, True]]),
    "word": "tennis_serve",
    "rows": np.array(["ab", "cd"]),
    "empty": np.zeros((0, 3)),
}


@pytest.mark.parametrize("compress", [False, True])
def test_same_values_as_scipy(tmp_path: Path, compress: bool) -> None:
    path = tmp_path / "all.mat"
    scipy.io.savemat(path, VARIABLES, do_compression=compress)
    ours = read_mat(path)
    theirs = {name: value for name, value in scipy.io.loadmat(path).items() if not name.startswith("__")}
    assert set(ours) == set(theirs) == set(VARIABLES)
    for name, value in theirs.items():
        assert ours[name].shape == value.shape, name
        if value.dtype.kind == "U":
            assert ours[name].tolist() == value.tolist(), name
        else:
            np.testing.assert_array_equal(ours[name].astype(np.float64), value.astype(np.float64), err_msg=name)
    assert ours["doubles"].dtype == np.float64 and ours["singles"].dtype == np.float32
    assert ours["word"].tolist() == ["tennis_serve"] and ours["rows"].tolist() == ["ab", "cd"]
    assert ours["flags"].dtype == bool


def test_helpers(tmp_path: Path) -> None:
    path = tmp_path / "all.mat"
    scipy.io.savemat(path, VARIABLES)
    variables = read_mat(path)
    assert mat_string(path, variables, "word") == "tennis_serve"
    assert mat_scalar(path, variables, "int32") == -1.0
    assert mat_array(path, variables, "doubles", ndim=3).shape == (2, 3, 4)
    for call, message in [
        (lambda: mat_string(path, variables, "rows"), "'rows' is not a string"),
        (lambda: mat_scalar(path, variables, "uint16"), "expected one number"),
        (lambda: mat_array(path, variables, "word", ndim=1), "not a real numeric array"),
        (lambda: mat_array(path, variables, "doubles", ndim=2), "expected 2 dimensions"),
        (lambda: mat_array(path, variables, "missing", ndim=2), r"no variable 'missing' \(found: doubles, empty"),
    ]:
        with pytest.raises(DataFormatError, match=message):
            call()


def test_cells_and_structs_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "mixed.mat"
    scipy.io.savemat(path, {"cell": np.array([1, "a"], dtype=object), "info": {"a": 1}, "x": np.ones((1, 2))})
    assert list(read_mat(path)) == ["x"]


def test_a_byte_that_crashes_scipy_gives_an_error(tmp_path: Path) -> None:
    """A small data element with an unknown type code: scipy 1.17's C parser reads out of bounds (segfault)."""
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, {"train": np.array([[1]], dtype=np.int32)})
    data = bytearray(path.read_bytes())
    offset = 128 + 8 + 16 + 16 + 16  # variable tag, array flags, dimensions, name (5 bytes: not small) -> real part
    word = struct.unpack_from("<I", data, offset)[0]
    assert word >> 16 == 4 and word & 0xFFFF == 5  # a small miINT32 element holding the 1
    data[offset] = 244  # type 244 does not exist
    path.write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match="stores its values as data type 244"):
        read_mat(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"MATLAB 5.0" + b" " * 20, "shorter than the 128-byte MATLAB 5 header"),
        (b" " * 126 + b"XX", "no IM/MI endian marker"),
        (b" " * 124 + b"\x00\x02IM", "version 0x0200 is not level 5"),
        (b" " * 124 + b"\x00\x01IM" + struct.pack("<II", 14, 64), "needs 64 bytes, 0 left"),
        (b" " * 124 + b"\x00\x01IM" + struct.pack("<II", 15, 4) + b"abcd", "compressed variable is damaged"),
        (b" " * 124 + b"\x00\x01IM" + struct.pack("<II", 9, 8) + b"\x00" * 8, "type 9 where a variable"),
    ],
)
def test_damaged_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "damaged.mat"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=message) as error:
        read_mat(path)
    assert str(error.value).startswith(str(path))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[bool, bytes]:
    """A valid file of every variable kind, uncompressed and compressed."""
    folder = tmp_path_factory.mktemp("seeds")
    for compress in (False, True):
        scipy.io.savemat(folder / f"{compress}.mat", VARIABLES, do_compression=compress)
    return {compress: (folder / f"{compress}.mat").read_bytes() for compress in (False, True)}


@FUZZ
@given(data=st.data())
def test_mutated_files_raise_only_data_format_error(data: st.DataObject, seeds: dict, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("mat") / "mutated.mat"
    path.write_bytes(mutated(data, seeds[data.draw(st.booleans(), label="compressed")]))
    try:
        read_mat(path)
    except DataFormatError as error:
        assert str(path) in str(error)
