"""Optional dependencies: the one way skelstream loads a package that not every install has.

    torch = require("torch", extra="train", what="the torch backend")
    if is_available("onnxruntime"): ...

Heavy stacks (torch, mediapipe, OpenCV, ONNX Runtime, TensorRT, cyclonedds,
rosbags) are imported inside the code that needs them, through `require`, so
``import stream`` and every command's ``--help`` work without them, and a
missing one is one `MissingDependencyError` line naming the extra to install:
``pip install skelstream[train]`` (from a checkout: ``pip install -e '.[train]'``).
The extras are in setup.py; README's install section says which to choose.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from foundation.errors import SkelstreamError


class MissingDependencyError(SkelstreamError, ImportError):
    """An optional package is not installed (or does not load); the message names the extra that brings it."""


def is_available(module: str) -> bool:
    """Whether ``module`` can be found, without importing it (a found module may still fail to load)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, extra: str, what: str | None = None, pip_name: str | None = None) -> ModuleType:
    """Import ``module`` or raise `MissingDependencyError` saying which skelstream extra installs it.

    ``what`` names what needs it ("the torch backend"); ``pip_name`` the distribution when it differs from
    the module (``cv2``: opencv-contrib-python). A package that is installed but fails to load (a missing
    CUDA library, say) is reported with the cause.
    """
    try:
        return importlib.import_module(module)
    except (ImportError, OSError) as error:
        needs = f"{what} needs {pip_name or module}" if what else f"{pip_name or module} is not available"
        missing = isinstance(error, ModuleNotFoundError) and error.name in (module, module.split(".")[0])
        cause = "it is not installed" if missing else f"it does not load: {error}"
        raise MissingDependencyError(
            f"{needs} ({cause}): pip install skelstream[{extra}] (from a checkout: pip install -e '.[{extra}]')"
        ) from None
