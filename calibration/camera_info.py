"""Camera intrinsics in the ROS ``camera_info`` YAML format.

The layout is the one ``camera_calibration_parsers`` writes and reads, so ROS
tools (``camera_info_manager``, ``image_proc``) load the file unchanged::

    image_width: 1280
    image_height: 720
    camera_name: head_camera
    camera_matrix:
      rows: 3
      cols: 3
      data: [800.0, 0.0, 640.0, 0.0, 800.0, 360.0, 0.0, 0.0, 1.0]
    distortion_model: plumb_bob
    distortion_coefficients:
      rows: 1
      cols: 5
      data: [-0.1, 0.02, 0.001, -0.001, 0.0]
    rectification_matrix: {rows: 3, cols: 3, data: [...]}
    projection_matrix: {rows: 3, cols: 4, data: [...]}

Usage::

    info = read_camera_info("camera.yaml")
    K, D = info.to_cv()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from foundation.errors import CalibrationError
from foundation.output_files import write_atomically
from foundation.yaml_files import quote
from foundation.yaml_files import read_yaml

__all__ = ["CameraInfo", "read_camera_info", "write_camera_info"]

MAX_SIZE = 1 << 16  # image sides and matrix dimensions beyond this are not a camera


def _identity3() -> np.ndarray:
    return np.eye(3)


@dataclass
class CameraInfo:
    """Monocular camera intrinsics as ROS ``sensor_msgs/CameraInfo`` holds them.

    ``K`` is the 3x3 camera matrix, ``D`` the distortion coefficients
    (``plumb_bob``: k1, k2, p1, p2, k3), ``R`` the rectification matrix
    (identity for a monocular camera) and ``P`` the 3x4 projection matrix
    (``[K | 0]`` when not given).
    """

    width: int
    height: int
    camera_name: str
    K: np.ndarray
    D: np.ndarray
    distortion_model: str = "plumb_bob"
    R: np.ndarray = field(default_factory=_identity3)
    P: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.width = int(self.width)
        self.height = int(self.height)
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")
        self.K = np.asarray(self.K, dtype=np.float64).reshape(3, 3)
        self.D = np.asarray(self.D, dtype=np.float64).reshape(-1)
        self.R = np.asarray(self.R, dtype=np.float64).reshape(3, 3)
        if self.P is None:
            self.P = np.hstack([self.K, np.zeros((3, 1))])
        self.P = np.asarray(self.P, dtype=np.float64).reshape(3, 4)

    def to_cv(self) -> tuple[np.ndarray, np.ndarray]:
        """``(K, D)`` as float64 arrays, shapes (3, 3) and (N,), ready for OpenCV."""
        return self.K.copy(), self.D.copy()

    @property
    def image_size(self) -> tuple[int, int]:
        """``(width, height)`` as OpenCV takes it."""
        return self.width, self.height


def _matrix(values: np.ndarray, rows: int, cols: int) -> dict:
    return {"rows": rows, "cols": cols, "data": [float(v) for v in np.asarray(values).reshape(-1)]}


def write_camera_info(info: CameraInfo, path: str | Path) -> Path:
    """Write ``info`` as ROS camera_info YAML to ``path`` safely (`foundation.output_files.write_atomically`: parent
    folders created, a temporary file renamed into place); returns the path."""
    path = Path(path)
    doc = {
        "image_width": info.width,
        "image_height": info.height,
        "camera_name": info.camera_name,
        "camera_matrix": _matrix(info.K, 3, 3),
        "distortion_model": info.distortion_model,
        "distortion_coefficients": _matrix(info.D, 1, int(info.D.size)),
        "rectification_matrix": _matrix(info.R, 3, 3),
        "projection_matrix": _matrix(info.P, 3, 4),
    }
    # Flow style for the data lists only, like camera_calibration_parsers writes them.
    lines = []
    for key, value in doc.items():
        if isinstance(value, dict):
            data = ", ".join(repr(v) for v in value["data"])
            lines += [f"{key}:", f"  rows: {value['rows']}", f"  cols: {value['cols']}", f"  data: [{data}]"]
        else:
            lines.append(f"{key}: {yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}")
    write_atomically(path, "\n".join(lines) + "\n")
    return path


def _read_matrix(doc: dict, key: str, path: Path, rows: int | None, cols: int | None) -> np.ndarray:
    entry = doc.get(key)
    if not isinstance(entry, dict):
        raise CalibrationError(f"{path}: missing or malformed key {key!r} (expected rows, cols, data)")
    try:
        r, c = entry["rows"], entry["cols"]
        if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_SIZE for n in (r, c)):
            raise ValueError(f"rows and cols must be integers from 0 to {MAX_SIZE}, got {quote(r)} and {quote(c)}")
        data = np.asarray(entry["data"], dtype=np.float64).reshape(-1)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CalibrationError(f"{path}: malformed key {key!r}: {exc}") from None
    if (rows is not None and r != rows) or (cols is not None and c != cols):
        raise CalibrationError(f"{path}: key {key!r} must be {rows}x{cols if cols is not None else 'N'}, got {r}x{c}")
    if data.size != r * c:
        raise CalibrationError(f"{path}: key {key!r} has {data.size} values for a {r}x{c} matrix")
    if not np.all(np.isfinite(data)):
        raise CalibrationError(f"{path}: key {key!r} holds non-finite values")
    return data.reshape(r, c)


def read_camera_info(path: str | Path) -> CameraInfo:
    """Read a ROS camera_info YAML file; raises CalibrationError naming the file and the bad key."""
    path = Path(path)
    doc = read_yaml(path, "camera info", CalibrationError)
    if not isinstance(doc, dict):
        raise CalibrationError(f"{path}: expected a camera_info mapping, got {type(doc).__name__}")
    size = {}
    for key in ("image_width", "image_height"):
        value = doc.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SIZE:
            raise CalibrationError(f"{path}: key {key!r} must be a positive integer up to {MAX_SIZE}, "
                                   f"got {quote(value)}")  # fmt: skip
        size[key] = value
    K = _read_matrix(doc, "camera_matrix", path, 3, 3)
    D = _read_matrix(doc, "distortion_coefficients", path, 1, None).reshape(-1)
    R = _read_matrix(doc, "rectification_matrix", path, 3, 3) if "rectification_matrix" in doc else np.eye(3)
    P = _read_matrix(doc, "projection_matrix", path, 3, 4) if "projection_matrix" in doc else None
    model = doc.get("distortion_model", "plumb_bob")
    if not isinstance(model, str):
        raise CalibrationError(f"{path}: key 'distortion_model' must be a string, got {quote(model)}")
    name = doc.get("camera_name", "camera")
    return CameraInfo(width=size["image_width"], height=size["image_height"], K=K, D=D,
                      camera_name=str(name) if name is not None else "camera",
                      distortion_model=model, R=R, P=P)  # fmt: skip
