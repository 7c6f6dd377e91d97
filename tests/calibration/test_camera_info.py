"""ROS camera_info YAML: exact layout, round trip, and clear errors on malformed files."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from calibration.camera_info import CameraInfo, read_camera_info, write_camera_info
from foundation.errors import CalibrationError
from foundation.errors import SkelstreamError


K = np.array([[801.5, 0.0, 639.25], [0.0, 799.75, 361.5], [0.0, 0.0, 1.0]])
D = np.array([-0.1, 0.02, 0.001, -0.0015, 0.0])

# As camera_calibration_parsers (ROS 2) writes it for a monocular camera.
ROS_FILE = """\
image_width: 640
image_height: 480
camera_name: narrow_stereo
camera_matrix:
  rows: 3
  cols: 3
  data: [430.15433, 0, 311.71339, 0, 430.60462, 221.06775, 0, 0, 1]
distortion_model: plumb_bob
distortion_coefficients:
  rows: 1
  cols: 5
  data: [-0.337568, 0.096859, 0.003846, -0.000193, 0.000000]
rectification_matrix:
  rows: 3
  cols: 3
  data: [1, 0, 0, 0, 1, 0, 0, 0, 1]
projection_matrix:
  rows: 3
  cols: 4
  data: [370.42, 0, 309.31, 0, 0, 391.17, 220.34, 0, 0, 0, 1, 0]
"""


def test_round_trip_is_exact(tmp_path):
    info = CameraInfo(width=1280, height=720, camera_name="head_camera", K=K, D=D)
    path = write_camera_info(info, tmp_path / "sub" / "camera.yaml")
    back = read_camera_info(path)
    assert (back.width, back.height, back.camera_name, back.distortion_model) == (1280, 720, "head_camera", "plumb_bob")
    np.testing.assert_array_equal(back.K, K)
    np.testing.assert_array_equal(back.D, D)
    np.testing.assert_array_equal(back.R, np.eye(3))
    np.testing.assert_array_equal(back.P, np.hstack([K, np.zeros((3, 1))]))
    K2, D2 = back.to_cv()
    assert K2.shape == (3, 3) and D2.shape == (5,) and K2.dtype == np.float64


def test_written_layout_is_ros_camera_info(tmp_path):
    path = write_camera_info(CameraInfo(640, 480, "cam", K, D), tmp_path / "c.yaml")
    doc = yaml.safe_load(path.read_text())
    assert list(doc) == ["image_width", "image_height", "camera_name", "camera_matrix", "distortion_model",
                         "distortion_coefficients", "rectification_matrix", "projection_matrix"]  # fmt: skip
    assert doc["camera_matrix"]["rows"] == 3 and doc["camera_matrix"]["cols"] == 3
    assert len(doc["camera_matrix"]["data"]) == 9
    assert doc["distortion_coefficients"] == {"rows": 1, "cols": 5, "data": D.tolist()}
    assert doc["projection_matrix"]["rows"] == 3 and doc["projection_matrix"]["cols"] == 4
    assert "  data: [" in path.read_text()  # flow-style data lists, as the ROS writer emits


def test_reads_a_file_written_by_ros(tmp_path):
    path = tmp_path / "ros.yaml"
    path.write_text(ROS_FILE)
    info = read_camera_info(path)
    assert info.camera_name == "narrow_stereo" and (info.width, info.height) == (640, 480)
    assert info.K[0, 0] == pytest.approx(430.15433) and info.K[1, 2] == pytest.approx(221.06775)
    assert info.D[0] == pytest.approx(-0.337568)
    assert info.P[0, 0] == pytest.approx(370.42)


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d.pop("camera_matrix"), "camera_matrix"),
        (lambda d: d["camera_matrix"].update(rows=2), "camera_matrix"),
        (lambda d: d["camera_matrix"].update(data=[1, 2, 3]), "camera_matrix"),
        (lambda d: d["distortion_coefficients"].update(data="abc"), "distortion_coefficients"),
        (lambda d: d.update(image_width=-5), "image_width"),
        (lambda d: d.pop("image_height"), "image_height"),
        (lambda d: d["projection_matrix"].update(cols=3), "projection_matrix"),
    ],
)
def test_malformed_file_names_file_and_key(tmp_path, edit, key):
    doc = yaml.safe_load(ROS_FILE)
    edit(doc)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(CalibrationError) as info:
        read_camera_info(path)
    assert str(path) in str(info.value) and key in str(info.value)
    assert isinstance(info.value, SkelstreamError)


def test_missing_and_non_yaml_files(tmp_path):
    with pytest.raises(CalibrationError, match="cannot read"):
        read_camera_info(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("camera_matrix: [unclosed\n")
    with pytest.raises(CalibrationError, match="not valid YAML"):
        read_camera_info(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(CalibrationError, match="mapping"):
        read_camera_info(bad)


def test_invalid_camera_info_is_refused():
    with pytest.raises(ValueError, match="positive"):
        CameraInfo(0, 480, "cam", K, D)
