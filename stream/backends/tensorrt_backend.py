"""The TensorRT backend: a serialized engine run with the TensorRT 10 explicit-tensor API on one CUDA stream.

    backend = TensorRTBackend("models/checkpoints/actions", precision="fp16", max_batch=64)
    logits = backend.run(windows)          # (N, C, T, V, M) float32 → (N, T, K + 1) float32

``model`` is a checkpoint directory (exported to ONNX in the cache on first
use, then built into an engine next to that ONNX; for ``precision="int8"``
the export is first quantised to a QDQ graph, `models.export.quantize`, whose
scales the engine takes), an ``.onnx`` written by
stream-export (engine built next to it), or an ``.engine`` with its sidecar
(loaded as is, after checking that it was built for this GPU and TensorRT).
A stale engine is rebuilt (``build=True``) or refused with a message.

Each call: copy the windows into a pinned host buffer, then on one stream:
host→device copy, ``set_input_shape`` (the batch), ``execute_async_v3``,
device→host copy, one synchronize. Buffers are allocated once for the
profile's maximum batch; tensor addresses are bound once with
``set_tensor_address``. A batch above that maximum is a ValueError naming it.

Written against the documented TensorRT 10 Python API; it cannot run on the
CPU machines it was written on (see benchmarks/README.md for GPU runs).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from models.checkpoint import CheckpointError
from models.export.onnx_export import DEFAULT_OPSET
from models.export.tensorrt_build import (
    EngineError,
    EngineOptions,
    check_engine,
    cuda_runtime,
    ensure_engine,
    require_tensorrt,
)
from stream.backends.base import Backend

logger = logging.getLogger(__name__)


class TensorRTBackend(Backend):
    """A detection checkpoint compiled by TensorRT (FP16 by default) on an NVIDIA GPU."""

    name = "tensorrt"

    def __init__(
        self,
        model: str | Path,
        device: str | None = None,
        precision: str = "fp16",
        max_batch: int = 64,
        opt_batch: int = 1,
        build: bool = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        trt = require_tensorrt("the tensorrt backend (NVIDIA GPUs only)")
        device_index = _device_index(device)
        path = Path(model)
        if path.is_dir():  # INT8: the QDQ quantisation of the opset-18 export (explicit quantisation)
            from models.export.onnx_export import cached_onnx
            from models.export.quantize import cached_int8_onnx

            path = (cached_int8_onnx(path, cache_dir, opset=DEFAULT_OPSET) if precision == "int8"
                    else cached_onnx(path, cache_dir))  # fmt: skip
        if path.suffix == ".onnx":
            if not path.is_file():
                raise CheckpointError(f"{path}: no such ONNX file")
            options = EngineOptions(precision=precision, max_batch=max_batch, opt_batch=opt_batch)
            path = ensure_engine(path, options, build=build, device_index=device_index)
        elif path.suffix not in (".engine", ".plan"):
            raise CheckpointError(f"{model}: expected a checkpoint directory, an .onnx or an .engine file")
        key, self.config, self.sidecar = check_engine(path, device_index)
        if self.config.task != "detection":
            raise CheckpointError(f"{path}: a {self.config.task} model cannot label frames")
        self.engine_path = path
        self.precision = key.precision

        self._trt = trt
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self.engine = self._runtime.deserialize_cuda_engine(path.read_bytes())
        if self.engine is None:
            raise EngineError(f"{path}: TensorRT could not deserialize the engine (see its log above)")
        self.context = self.engine.create_execution_context()
        if self.context is None:
            raise EngineError(f"{path}: could not create an execution context (out of GPU memory?)")
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        if len(inputs) != 1 or len(outputs) != 1:
            raise EngineError(f"{path}: expected one input and one output tensor, found {inputs} and {outputs}")
        self.input_name, self.output_name = inputs[0], outputs[0]
        low, _, high = (tuple(s) for s in self.engine.get_tensor_profile_shape(self.input_name, 0))
        window = tuple(self.config.model.input_shape)
        if tuple(high[1:]) != window:
            raise EngineError(f"{path}: engine input {high[1:]} does not match its config's window {window}")
        self.min_batch, self.max_batch = int(low[0]), int(high[0])

        self.cuda = cuda_runtime(device_index)
        out_dtype = np.dtype(trt.nptype(self.engine.get_tensor_dtype(self.output_name)))
        if not self.context.set_input_shape(self.input_name, (self.max_batch, *window)):
            raise EngineError(f"{path}: the engine refuses its own maximum input shape")
        out_shape = tuple(self.context.get_tensor_shape(self.output_name))
        self._input = self.cuda.buffer((self.max_batch, *window), np.float32)
        self._output = self.cuda.buffer(out_shape, out_dtype)
        self.context.set_tensor_address(self.input_name, self._input.ptr)
        self.context.set_tensor_address(self.output_name, self._output.ptr)
        self._lock = threading.Lock()
        logger.info("tensorrt backend: %s (%s, batch %d..%d, CUDA via %s)", path.name, self.precision,
                    self.min_batch, self.max_batch, self.cuda.name)  # fmt: skip

    def run(self, windows: np.ndarray) -> np.ndarray:
        self.check_windows(windows)
        n = windows.shape[0]
        if n > self.max_batch:
            raise ValueError(f"tensorrt backend: a batch of {n} windows exceeds the engine's optimization profile "
                             f"maximum of {self.max_batch}; split the batch or rebuild with "
                             f"stream-export --tensorrt --max-batch {n}")  # fmt: skip
        if n == 0:
            return np.zeros((0, self.config.num_frames, self.config.model.num_classes), np.float32)
        with self._lock:
            self._input.upload(np.ascontiguousarray(windows))
            if not self.context.set_input_shape(self.input_name, (n, *self.config.model.input_shape)):
                raise ValueError(f"tensorrt backend: the engine refused input shape {windows.shape}")
            if not self.context.execute_async_v3(self.cuda.stream_handle):
                raise EngineError(f"{self.engine_path}: TensorRT execution failed (see its log above)")
            self._output.download(n)
            self.cuda.synchronize()
            return self._output.host[:n].astype(np.float32, copy=True)


def _device_index(device: str | None) -> int:
    """"cuda" / "cuda:1" / None → the GPU index; anything else is a ValueError."""
    if device in (None, "cuda", "gpu"):
        return 0
    kind, _, index = str(device).partition(":")
    if kind != "cuda" or not index.isdigit():
        raise ValueError(f"the tensorrt backend runs on a GPU: device must be 'cuda' or 'cuda:N', got {device!r}")
    return int(index)
