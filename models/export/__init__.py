"""Deployment artifacts of a checkpoint: ONNX files and TensorRT engines.

    from models.export.onnx_export import export_onnx, cached_onnx
    from models.export.tensorrt_build import EngineOptions, build_engine

    result = export_onnx("models/checkpoints/actions", "dste-small.onnx")   # checked against torch
    engine = build_engine(result.path, EngineOptions(precision="fp16", max_batch=64))  # on a machine with TensorRT

The command is `stream-export` (``models/cli/export.py``). Optional stacks
(onnx, onnxscript, onnxruntime, tensorrt) are imported inside the functions
that use them; `require_package` is the one place a missing one becomes an
error naming the extra to install, so ``import models.export`` needs none of
them.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from models.errors import SkelstreamError

__all__ = ["ExportError", "MissingDependencyError", "is_available", "require_package"]


class ExportError(SkelstreamError):
    """A checkpoint cannot be exported, or the exported artifact fails its checks."""


class MissingDependencyError(SkelstreamError, ImportError):
    """An optional package is not installed (or does not load); the message names the extra that brings it."""


def is_available(module: str) -> bool:
    """Whether ``module`` can be found, without importing it (a found module may still fail to load)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require_package(module: str, extra: str, what: str | None = None, pip_name: str | None = None) -> ModuleType:
    """Import ``module`` or raise `MissingDependencyError` saying which skelstream extra installs it.

    ``pip_name`` names the distribution when it differs from the module (e.g. onnxruntime-gpu).
    A package that is installed but fails to load (a missing CUDA library, say) is reported with the cause.
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
