"""Deployment artifacts of a checkpoint: ONNX files and TensorRT engines.

    from models.export.onnx_export import export_onnx, cached_onnx
    from models.export.tensorrt_build import EngineOptions, build_engine

    result = export_onnx("models/checkpoints/actions", "dste-small.onnx")   # checked against torch
    engine = build_engine(result.path, EngineOptions(precision="fp16", max_batch=64))  # on a machine with TensorRT

The command is `stream-export` (``models/cli/export.py``). Optional stacks
(onnx, onnxscript, onnxruntime, tensorrt) are imported inside the functions
that use them through `foundation.optional.require`, the one place a missing
one becomes an error naming the extra to install, so ``import models.export``
needs none of them.
"""

from __future__ import annotations

from foundation.errors import SkelstreamError


class ExportError(SkelstreamError):
    """A checkpoint cannot be exported, or the exported artifact fails its checks."""
