"""The ONNX Runtime backend: the default on CPU, with the CUDA execution provider where it is installed.

    backend = OnnxRuntimeBackend("models/checkpoints/dste-small-utkinect", threads=2)
    logits = backend.run(windows)          # (N, C, T, V, M) float32 → (N, T, K + 1) float32

``model`` is a checkpoint directory (exported once with
`models.export.onnx_export.cached_onnx` into a cache keyed by the
checkpoint's fingerprint) or an ``.onnx`` written by stream-export, whose
metadata carries the checkpoint config. ``device``: None picks CUDA when the
installed onnxruntime has that provider (the ``onnxruntime-gpu`` wheel), else
CPU; "cpu" and "cuda[:N]" ask for one (a missing CUDA provider is an error
naming the package).

Sessions use ``threads`` intra-op threads, one inter-op thread, all graph
optimizations (ONNX Runtime fuses attention, GELU and LayerNorm itself), and
no spin-waiting between parallel sections (``spin=False``): the stream shares
its cores with pose, tracking and publishing, and with another busy process on
the 2 cores, spinning threads doubled the median here (dste-small batch 1,
2 threads: 7.4 ms spinning vs 3.7 ms not; 3.2 ms on 1 thread).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from models.checkpoint import CheckpointError
from models.export import MissingDependencyError, require_package
from stream.backends.base import Backend

logger = logging.getLogger(__name__)


class OnnxRuntimeBackend(Backend):
    """A detection checkpoint exported to ONNX, run by ONNX Runtime."""

    name = "onnxruntime"

    def __init__(
        self,
        model: str | Path,
        threads: int = 2,
        device: str | None = None,
        cache_dir: str | Path | None = None,
        spin: bool = False,
    ) -> None:
        ort = require_package("onnxruntime", extra="onnx", what="the onnxruntime backend")
        from models.export.onnx_export import INPUT_NAME, OUTPUT_NAME, cached_onnx, config_from_metadata

        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        path = Path(model)
        if path.is_dir():
            path = cached_onnx(path, cache_dir)
        elif not path.is_file():
            raise CheckpointError(f"{model}: neither a checkpoint directory nor an ONNX file")
        self.onnx_path = path
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: initializer warnings would drown the stream's log
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        self.providers = _providers(ort, device)
        try:
            self.session = ort.InferenceSession(str(path), options, providers=self.providers)
        except Exception as error:  # onnxruntime raises its own pybind exception types
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CheckpointError(f"{path}: ONNX Runtime cannot load it: {first}") from None
        self.config = config_from_metadata(self.session.get_modelmeta().custom_metadata_map, str(path))
        if self.config.task != "detection":
            raise CheckpointError(f"{path}: a {self.config.task} model cannot label frames; "
                                  "the stream needs a detection checkpoint")  # fmt: skip
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        names = ([i.name for i in inputs], [o.name for o in outputs])
        if names != ([INPUT_NAME], [OUTPUT_NAME]):
            raise CheckpointError(f"{path}: expected input {INPUT_NAME!r} and output {OUTPUT_NAME!r}, got {names}")
        fixed = tuple(inputs[0].shape[1:])
        if fixed != tuple(self.config.model.input_shape):
            raise CheckpointError(f"{path}: graph input (N, {fixed}) does not match its config's window "
                                  f"{self.config.model.input_shape}")  # fmt: skip
        self.input_name, self.output_name = INPUT_NAME, OUTPUT_NAME
        logger.info("onnxruntime backend: %s on %s, %d threads", path, self.session.get_providers()[0], threads)

    @property
    def provider(self) -> str:
        """The execution provider that runs the graph (first choice)."""
        return self.session.get_providers()[0]

    def run(self, windows: np.ndarray) -> np.ndarray:
        self.check_windows(windows)
        if windows.shape[0] == 0:
            return np.zeros((0, self.config.num_frames, self.config.model.num_classes), np.float32)
        (logits,) = self.session.run([self.output_name], {self.input_name: np.ascontiguousarray(windows)})
        return logits


def _providers(ort, device: str | None) -> list:
    available = ort.get_available_providers()
    if device is None:
        return (["CUDAExecutionProvider"] if "CUDAExecutionProvider" in available else []) + ["CPUExecutionProvider"]
    if device == "cpu":
        return ["CPUExecutionProvider"]
    kind, _, index = device.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise ValueError(f"onnxruntime backend: device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if "CUDAExecutionProvider" not in available:
        raise MissingDependencyError(
            f"onnxruntime {ort.__version__} has no CUDA execution provider (available: {', '.join(available)}): "
            "pip install onnxruntime-gpu in place of onnxruntime"
        )
    return [("CUDAExecutionProvider", {"device_id": int(index or 0)}), "CPUExecutionProvider"]
