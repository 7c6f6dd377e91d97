"""OpenCV for calibration, imported on first use: ``import calibration`` and ``stream-calibrate --help`` need none.

The `calibration` extra brings it (opencv-contrib-python, the build MediaPipe
installs too: ChArUco boards need its aruco module).
"""

from __future__ import annotations

from types import ModuleType

from foundation.optional import require


def opencv() -> ModuleType:
    """The ``cv2`` module, or `foundation.optional.MissingDependencyError` naming the calibration extra."""
    return require("cv2", extra="calibration", what="calibration", pip_name="opencv-contrib-python")
