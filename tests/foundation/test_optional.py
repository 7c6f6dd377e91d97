"""Optional dependencies: one error type and one wording, naming the extra; heavy stacks load only where used."""

import json
import subprocess
import sys
import textwrap

import pytest

from foundation.optional import MissingDependencyError, is_available, require
from tests.conftest import REPO_ROOT

BLOCK = """
import sys
class Block:
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Block())
"""


def run_without(blocked: set[str], code: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter in which the ``blocked`` top-level packages cannot be imported."""
    script = BLOCK.format(blocked=blocked) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_require_names_the_extra_and_returns_the_module():
    with pytest.raises(MissingDependencyError, match=r"a test needs skelstream_no_such_module \(it is not "
                                                     r"installed\): pip install skelstream\[onnx\]"):
        require("skelstream_no_such_module", extra="onnx", what="a test")
    assert require("json", extra="onnx") is json
    assert is_available("json") and not is_available("skelstream_no_such_module")


def test_a_missing_dependency_is_an_import_error_and_a_skelstream_error():
    from foundation.errors import SkelstreamError

    assert issubclass(MissingDependencyError, ImportError) and issubclass(MissingDependencyError, SkelstreamError)


def test_calibration_imports_opencv_only_when_it_calibrates():
    result = run_without(set(), """
        import sys
        import calibration.boards, calibration.intrinsics, calibration.extrinsics, calibration.person_position
        import calibration.cli.board_args, calibration.cli.handeye
        assert "cv2" not in sys.modules, "calibration imported cv2 at module load"
        import numpy as np
        from calibration.boards import to_gray
        to_gray(np.zeros((4, 4, 3), np.uint8))
        print("cv2" in sys.modules)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_calibration_without_opencv_names_the_calibration_extra():
    result = run_without({"cv2"}, """
        import numpy as np
        from foundation.optional import MissingDependencyError
        from calibration.intrinsics import sharpness
        try:
            sharpness(np.zeros((8, 8), np.uint8))
        except MissingDependencyError as error:
            print(error)
    """)
    assert result.returncode == 0, result.stderr
    assert "calibration needs opencv-contrib-python (it is not installed): pip install skelstream[calibration]" \
        in result.stdout


def test_the_torch_backend_without_torch_names_the_train_extra():
    result = run_without({"torch"}, """
        from foundation.optional import MissingDependencyError
        from stream.backends import make_backend
        try:
            make_backend("torch", "models/checkpoints/actions")
        except MissingDependencyError as error:
            print(error)
    """)
    assert result.returncode == 0, result.stderr
    assert "the torch backend needs torch (it is not installed): pip install skelstream[train]" in result.stdout
