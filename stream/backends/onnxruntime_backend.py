"""The ONNX Runtime backend: the default on CPU, with the CUDA execution provider where it is installed.

    backend = OnnxRuntimeBackend("models/checkpoints/actions", threads=2)
    logits = backend.run(windows)          # (N, C, T, V, M) float32 → (N, T, K + 1) float32

``model`` is a checkpoint directory or an ``.onnx`` written by stream-export,
whose metadata carries the checkpoint config. A directory runs its own
``model.onnx`` (``stream-export --checkpoint DIR --into-checkpoint``), which
needs no torch, or else is exported once, at `ONNXRUNTIME_OPSET`, into a
cache keyed by the checkpoint's fingerprint
(`models.export.onnx_export.checkpoint_onnx`).
``precision="int8"`` runs the static INT8 (QDQ) quantisation of that export
(`models.export.quantize`: a checkpoint directory is quantised once into the
cache, calibrated on its training data, which must then be under
``$SKELSTREAM_DATA`` or ``../shared/data``; an ``.onnx`` must already be
quantised: ``stream-export --quantize int8``). ``device``: None
picks CUDA when the installed onnxruntime has that provider (the
``onnxruntime-gpu`` wheel), else CPU; "cpu" and "cuda[:N]" ask for one (a
missing CUDA provider is an error naming the package).

Threads. On the CPU, with ``threads`` >= 2 and an export that names its
stream outputs (every export of this version whose head reads both streams),
the graph is cut into the temporal stream, the spatial stream and the head
(`models.export.onnx_export.split_streams`, needs the onnx package): the two
streams run at the same time, the temporal one on the calling thread and the
spatial one on a worker thread, each session with ``threads // 2`` intra-op
threads, then the head. Otherwise one session runs the whole graph on
``threads`` intra-op threads. Why: at batch 1 the graph is ≈230 small kernels,
and splitting each across two threads costs a wake-up of the second thread
every time (spinning avoids that but collapses under contention, see below).
dste-small batch 1 on the 2-core development machine (busy with other jobs),
medians: one session on 1 thread 2.6 ms, on 2 threads 3.2 ms; the two streams
in parallel 1.7 ms, and 2.9 ms while another process kept one core busy
(graceful: the streams then run one after the other). Outputs are the same
either way (same kernels).

Sessions use all graph optimizations, one inter-op thread, and no spin-waiting
between parallel sections (``spin=False``): the stream shares its cores with
pose, tracking and publishing, and with another busy process on the 2 cores,
spinning threads doubled the median of a 2-thread session here (dste-small
batch 1: 7.4 ms spinning vs 3.7 ms not; 3.2 ms on 1 thread).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from foundation.optional import MissingDependencyError, is_available, require
from models.checkpoint import CheckpointError
from models.export.onnx_export import (INPUT_NAME, OUTPUT_NAME, SPATIAL_FEATURES, TEMPORAL_FEATURES,
                                       checkpoint_onnx, config_from_metadata, split_streams)  # fmt: skip
from models.export.quantize import META_QUANTIZATION, cached_int8_onnx
from stream.backends.base import Backend

logger = logging.getLogger(__name__)
PRECISIONS = ("fp32", "int8")


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
        concurrent_streams: bool = True,
        precision: str = "fp32",
    ) -> None:
        """``concurrent_streams=False`` runs the whole graph in one session even with ``threads`` >= 2 on the CPU
        (on CUDA it always does: the split is about CPU threads). ``precision``: "fp32" or "int8"."""
        ort = require("onnxruntime", extra="onnx", what="the onnxruntime backend")
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        if precision not in PRECISIONS:
            raise ValueError(f"onnxruntime backend: precision must be one of {PRECISIONS}, got {precision!r}")
        path = Path(model)
        if not path.is_file():  # a checkpoint directory (a bad one fails here, with what it lacks)
            path = cached_int8_onnx(path, cache_dir) if precision == "int8" else checkpoint_onnx(path, cache_dir)
        self.precision = precision
        self.onnx_path = path
        self.providers = _providers(ort, device)
        session = self._session(ort, str(path), threads, spin)
        metadata = session.get_modelmeta().custom_metadata_map
        self.config = config_from_metadata(metadata, str(path))
        if (precision == "int8") != (META_QUANTIZATION in metadata):
            raise CheckpointError(f"{path} is {'an' if META_QUANTIZATION in metadata else 'not an'} INT8 (QDQ) "
                                  f"export, but precision {precision} was asked for; quantise one with "
                                  "stream-export --quantize int8, or pass the checkpoint directory")  # fmt: skip
        if self.config.task != "detection":
            raise CheckpointError(f"{path}: a {self.config.task} model cannot label frames; "
                                  "the stream needs a detection checkpoint")  # fmt: skip
        inputs, outputs = session.get_inputs(), session.get_outputs()
        names = ([i.name for i in inputs], [o.name for o in outputs])
        if names != ([INPUT_NAME], [OUTPUT_NAME]):
            raise CheckpointError(f"{path}: expected input {INPUT_NAME!r} and output {OUTPUT_NAME!r}, got {names}")
        fixed = tuple(inputs[0].shape[1:])
        if fixed != tuple(self.config.model.input_shape):
            raise CheckpointError(f"{path}: graph input (N, {fixed}) does not match its config's window "
                                  f"{self.config.model.input_shape}")  # fmt: skip
        self.input_name, self.output_name = INPUT_NAME, OUTPUT_NAME
        self._provider = session.get_providers()[0]
        self._whole = session  # the whole graph; None while the streams run in parallel
        self._streams: tuple | None = None  # sessions of the temporal stream, the spatial stream, the head
        self._worker: ThreadPoolExecutor | None = None
        if concurrent_streams and threads >= 2 and self._provider == "CPUExecutionProvider":
            self._open_streams(ort, path, threads // 2, spin)
        mode = "temporal and spatial streams in parallel" if self._streams else "one session"
        logger.info("onnxruntime backend: %s (%s) on %s, %d threads (%s)", path, precision, self.provider, threads,
                    mode)  # fmt: skip

    @property
    def provider(self) -> str:
        """The execution provider that runs the graph (first choice)."""
        return self._provider

    @property
    def concurrent_streams(self) -> bool:
        """Whether the two encoder streams run at the same time (see the module docstring)."""
        return self._streams is not None

    def run(self, windows: np.ndarray) -> np.ndarray:
        self.check_windows(windows)
        if windows.shape[0] == 0:
            return np.zeros((0, self.config.num_frames, self.config.model.num_classes), np.float32)
        feeds = {self.input_name: np.ascontiguousarray(windows)}
        if self._streams is None:
            (logits,) = self._whole.run([self.output_name], feeds)
            return logits
        temporal, spatial, head = self._streams
        pending = self._worker.submit(spatial.run, None, feeds)  # ONNX Runtime releases the GIL while it runs
        (temporal_features,) = temporal.run(None, feeds)
        (spatial_features,) = pending.result()
        (logits,) = head.run(None, {TEMPORAL_FEATURES: temporal_features, SPATIAL_FEATURES: spatial_features})
        return logits

    def _session(self, ort, model: str | bytes, threads: int, spin: bool):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: initializer warnings would drown the stream's log
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        try:
            return ort.InferenceSession(model, options, providers=self.providers)
        except Exception as error:  # onnxruntime raises its own pybind exception types
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CheckpointError(f"{self.onnx_path}: ONNX Runtime cannot load it: {first}") from None

    def _open_streams(self, ort, path: Path, threads: int, spin: bool) -> None:
        """Sessions of the temporal stream, the spatial stream and the head, if the export can be cut so."""
        if not is_available("onnx"):
            logger.info("onnxruntime backend: the onnx package is not installed, so the two streams run in one "
                        "session; pip install skelstream[onnx] to run them in parallel")  # fmt: skip
            return
        parts = split_streams(path)
        if parts is None:
            logger.info("onnxruntime backend: %s does not name its stream outputs (an older export, or a head "
                        "that reads one stream): one session", path)  # fmt: skip
            return
        self._streams = tuple(self._session(ort, part, threads, spin) for part in parts)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="onnxruntime-spatial")
        self._whole = None


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
