"""Bad calibration files, fuzzed: the camera_info and transform readers raise only `CalibrationError`, naming the
file, with a short message, whatever the bytes or the YAML values."""

import copy

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from calibration.camera_info import CameraInfo, read_camera_info, write_camera_info
from calibration.transforms import Transform, read_transform, write_transform
from foundation.errors import CalibrationError
from tests.fuzzing import FUZZ, mutated, replace_somewhere


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    """A valid camera_info file and transform file: (reader, bytes, parsed document) each."""
    folder = tmp_path_factory.mktemp("valid")
    info = CameraInfo(640, 480, "head", np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]), np.zeros(5))
    camera = write_camera_info(info, folder / "camera.yaml")
    transform = write_transform(Transform("base_link", "camera", translation=[0.1, 0.0, 1.2]), folder / "tf.yaml")
    return {name: (reader, path.read_bytes(), yaml.safe_load(path.read_text()))
            for name, reader, path in (("camera", read_camera_info, camera), ("transform", read_transform, transform))}


@FUZZ
@given(data=st.data())
def test_calibration_readers_raise_only_calibration_error(data, valid, tmp_path_factory):
    reader, content, document = valid[data.draw(st.sampled_from(sorted(valid)), label="file")]
    how = data.draw(st.sampled_from(["bytes", "mutated", "value"]), label="how")
    if how == "bytes":
        content = data.draw(st.binary(max_size=300), label="content")
    elif how == "mutated":
        content = mutated(data, content)
    else:
        content = yaml.safe_dump(replace_somewhere(data, copy.deepcopy(document))).encode()
    path = tmp_path_factory.mktemp("fuzz") / "calibration.yaml"
    path.write_bytes(content)
    try:
        reader(path)
    except CalibrationError as error:
        assert str(path) in str(error) and len(str(error)) < 1000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("parent_frame: a\nchild_frame: b\ntranslation: {x: 1" + "0" * 400 + ", y: 0, z: 0}\n"
         "rotation: {x: 0, y: 0, z: 0, w: 1}\n", "translation.x must be a finite number"),
        ("image_width: 10\nimage_height: 10\ncamera_matrix: {rows: .inf, cols: 3, data: []}\n", "camera_matrix"),
        ("image_width: 1" + "0" * 400 + "\n", "image_width"),
        ("\x80\x81", "not a UTF-8 text file"),
    ],  # fmt: skip
)
def test_numbers_no_float_can_hold_and_binary_files_are_named(tmp_path, text, message):
    path = tmp_path / "calibration.yaml"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(CalibrationError, match=message):
        (read_transform if "parent_frame" in text else read_camera_info)(path)
