"""ONNX → TensorRT engine (TensorRT 10 Python API), cached under a key of GPU, TensorRT version and settings.

    from models.export.tensorrt_build import EngineOptions, ensure_engine

    engine = ensure_engine("dste-base.onnx", EngineOptions(precision="fp16", max_batch=64))
    # → dste-base.fp16.b64.<digest>.engine next to the ONNX, and its sidecar dste-base....engine.json

Building (`build_engine`): the ONNX parser fills an explicit-batch network;
one optimization profile covers batch ``1..max_batch`` (kernels tuned for
``opt_batch``); FP16 (``BuilderFlag.FP16``) or INT8 (``BuilderFlag.INT8``
plus FP16 for the layers without INT8 kernels). INT8 scales come from the
graph itself when it is a QDQ export (`models.export.quantize`: explicit
quantisation, TensorRT's preferred path; no calibrator), else from an
``IInt8EntropyCalibrator2`` fed real windows through a fixed-shape
calibration profile, with a calibration cache (implicit quantisation,
deprecated since TensorRT 10.1). FP32 builds clear TF32 so they match
torch's FP32. A timing cache (one per GPU and TensorRT version,
next to the engine) makes rebuilds fast.

Caching: an engine is only valid for the GPU model (compute capability) and
the TensorRT version that built it. The file name carries a digest of the
`EngineKey` (GPU name, compute capability, TensorRT version, precision, max
and opt batch, SHA-256 of the ONNX file), and the JSON sidecar stores the key
itself plus the checkpoint config. `ensure_engine` rebuilds when the key
differs (another GPU, another TensorRT, a re-exported ONNX); `check_engine`
refuses a stale engine with a message saying what differs and how to rebuild,
instead of letting deserialization fail deep inside TensorRT.

CUDA memory and streams come from PyTorch when it has CUDA, else from
cuda-python (``cuda.bindings.runtime`` / ``cuda.cudart``), e.g. on a Jetson
with JetPack's TensorRT and no CUDA build of torch.

Nothing here can run without TensorRT and an NVIDIA GPU (DESIGN.md §6:
TensorRT is not installable on the CPU machines this was written on); the
parts that need neither (keys, sidecars, calibration windows) are tested here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import ctypes
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from foundation.errors import SkelstreamError
from foundation.optional import MissingDependencyError, require
from foundation.output_files import StagedOutput, write_atomically
from models.checkpoint import CheckpointConfig, CheckpointError
from models.export import ExportError

logger = logging.getLogger(__name__)

PRECISIONS = ("fp32", "fp16", "int8")
ENGINE_FORMAT = "skelstream-tensorrt-engine"
ENGINE_FORMAT_VERSION = 1
REBUILD_HINT = "rebuild it: stream-export --checkpoint DIR --output model.onnx --tensorrt (or delete the engine)"


class EngineError(SkelstreamError):
    """A TensorRT engine cannot be built or loaded, or was built for another GPU / TensorRT version."""


def require_tensorrt(what: str = "TensorRT (NVIDIA GPUs only)") -> Any:
    """``import tensorrt``, or `MissingDependencyError` naming the extra."""
    return require("tensorrt", extra="tensorrt", what=what)


# --------------------------------------------------------------------------- CUDA memory and streams


def _cudart() -> Any:
    try:
        from cuda.bindings import runtime as cudart  # cuda-python >= 12.6
    except ImportError:
        from cuda import cudart  # older cuda-python
    return cudart


def _cuda_check(result: Any) -> Any:
    """cuda-python calls return (error, *values): raise on error, return the value(s)."""
    cudart = _cudart()
    err, *values = result if isinstance(result, tuple) else (result,)
    if err != cudart.cudaError_t.cudaSuccess:
        _, name = cudart.cudaGetErrorName(err)
        raise EngineError(f"CUDA error {name.decode() if isinstance(name, bytes) else name}")
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(values)


class DeviceBuffer(ABC):
    """A device array of ``capacity`` rows with a pinned host twin; copies run on the owner's stream."""

    ptr: int
    host: np.ndarray  # pinned, shape (capacity, *row_shape)

    @abstractmethod
    def upload(self, array: np.ndarray) -> None:
        """Copy ``array`` into the pinned host buffer and on to the device (asynchronously)."""

    @abstractmethod
    def download(self, rows: int) -> None:
        """Copy the first ``rows`` rows from the device into the pinned host buffer (asynchronously)."""


class CudaRuntime(ABC):
    """The CUDA stream and buffers a TensorRT engine runs with."""

    name: str
    stream_handle: int

    @abstractmethod
    def buffer(self, shape: tuple[int, ...], dtype: np.dtype) -> DeviceBuffer:
        """A device buffer of ``shape`` rows with a pinned host twin."""

    @abstractmethod
    def synchronize(self) -> None:
        """Wait for the stream's queued work."""


class _TorchBuffer(DeviceBuffer):
    def __init__(self, cuda: TorchCuda, shape: tuple[int, ...], dtype: np.dtype) -> None:
        torch = cuda.torch
        tdtype = torch.from_numpy(np.zeros(0, dtype)).dtype
        self._cuda = cuda
        self.device = torch.empty(shape, dtype=tdtype, device=cuda.device)
        self._host = torch.empty(shape, dtype=tdtype, pin_memory=True)
        self.host = self._host.numpy()
        self.ptr = self.device.data_ptr()

    def upload(self, array: np.ndarray) -> None:
        rows = array.shape[0]
        self.host[:rows] = array
        with self._cuda.torch.cuda.stream(self._cuda.stream):
            self.device[:rows].copy_(self._host[:rows], non_blocking=True)

    def download(self, rows: int) -> None:
        with self._cuda.torch.cuda.stream(self._cuda.stream):
            self._host[:rows].copy_(self.device[:rows], non_blocking=True)


class TorchCuda(CudaRuntime):
    """CUDA through a CUDA build of PyTorch."""

    name = "torch"

    def __init__(self, device_index: int = 0) -> None:
        import torch

        self.torch = torch
        self.device = torch.device("cuda", device_index)
        torch.cuda.set_device(self.device)
        self.stream = torch.cuda.Stream(device=self.device)
        self.stream_handle = self.stream.cuda_stream

    def buffer(self, shape: tuple[int, ...], dtype: np.dtype) -> DeviceBuffer:
        return _TorchBuffer(self, shape, np.dtype(dtype))

    def synchronize(self) -> None:
        self.stream.synchronize()


class _CudartBuffer(DeviceBuffer):
    def __init__(self, cuda: CudartCuda, shape: tuple[int, ...], dtype: np.dtype) -> None:
        cudart = cuda.cudart
        self._cuda = cuda
        self.row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        nbytes = self.row_bytes * shape[0]
        self.ptr = int(_cuda_check(cudart.cudaMalloc(nbytes)))
        self._host_ptr = int(_cuda_check(cudart.cudaMallocHost(nbytes)))
        ctype = np.ctypeslib.as_ctypes_type(dtype)
        flat = np.ctypeslib.as_array(ctypes.cast(self._host_ptr, ctypes.POINTER(ctype)), (int(np.prod(shape)),))
        self.host = flat.reshape(shape)

    def upload(self, array: np.ndarray) -> None:
        rows = array.shape[0]
        self.host[:rows] = array
        cudart = self._cuda.cudart
        kind = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        _cuda_check(cudart.cudaMemcpyAsync(self.ptr, self._host_ptr, rows * self.row_bytes, kind, self._cuda.stream))

    def download(self, rows: int) -> None:
        cudart = self._cuda.cudart
        kind = cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
        _cuda_check(cudart.cudaMemcpyAsync(self._host_ptr, self.ptr, rows * self.row_bytes, kind, self._cuda.stream))

    def __del__(self) -> None:
        try:
            self._cuda.cudart.cudaFree(self.ptr)
            self._cuda.cudart.cudaFreeHost(self._host_ptr)
        except Exception:  # interpreter shutdown
            pass


class CudartCuda(CudaRuntime):
    """CUDA through cuda-python's runtime bindings (no CUDA build of torch needed)."""

    name = "cuda-python"

    def __init__(self, device_index: int = 0) -> None:
        self.cudart = _cudart()
        _cuda_check(self.cudart.cudaSetDevice(device_index))
        self.stream = _cuda_check(self.cudart.cudaStreamCreate())
        self.stream_handle = int(self.stream)

    def buffer(self, shape: tuple[int, ...], dtype: np.dtype) -> DeviceBuffer:
        return _CudartBuffer(self, shape, np.dtype(dtype))

    def synchronize(self) -> None:
        _cuda_check(self.cudart.cudaStreamSynchronize(self.stream))


def _torch_has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def gpu_available() -> bool:
    """Whether a CUDA GPU is visible, through torch or cuda-python (False without either)."""
    if _torch_has_cuda():
        return True
    try:
        return int(_cuda_check(_cudart().cudaGetDeviceCount())) > 0
    except Exception:  # no cuda-python, no driver
        return False


def cuda_runtime(device_index: int = 0) -> CudaRuntime:
    """A stream and buffer factory on GPU ``device_index``: PyTorch's CUDA when present, else cuda-python."""
    if _torch_has_cuda():
        return TorchCuda(device_index)
    try:
        return CudartCuda(device_index)
    except ImportError:
        raise MissingDependencyError(
            "the TensorRT backend needs CUDA from a CUDA build of PyTorch or from cuda-python: "
            "pip install cuda-python (JetPack: use NVIDIA's Jetson torch wheel or cuda-python)"
        ) from None


def gpu_identity(device_index: int = 0) -> tuple[str, str]:
    """(GPU name, compute capability "major.minor") of GPU ``device_index``."""
    if _torch_has_cuda():
        import torch

        major, minor = torch.cuda.get_device_capability(device_index)
        return torch.cuda.get_device_name(device_index), f"{major}.{minor}"
    try:
        props = _cuda_check(_cudart().cudaGetDeviceProperties(device_index))
    except ImportError:
        raise MissingDependencyError("finding the GPU needs a CUDA build of PyTorch or cuda-python: "
                                     "pip install cuda-python") from None  # fmt: skip
    name = props.name.decode(errors="replace") if isinstance(props.name, bytes) else str(props.name)
    return name.rstrip("\x00").strip(), f"{props.major}.{props.minor}"


# --------------------------------------------------------------------------- keys and sidecars


@dataclass
class EngineOptions:
    """How to build an engine.

    Attributes:
        precision: "fp32" (TF32 off), "fp16" or "int8" (with FP16 fallback; needs calibration windows or a
            calibration cache).
        max_batch: the profile's largest batch; a bigger batch is refused at run time.
        opt_batch: the batch the kernels are tuned for (1: streaming latency; max_batch: throughput).
        workspace_gb: builder workspace limit.
        calib_windows: (N, C, T, V, M) float32 real windows for INT8 calibration (see `models.export.calibration`).
        calib_batch: windows per calibration batch.
        calib_cache: calibration cache file (default: next to the engine); reused when present.
        calib_source: what the windows are (recorded in the sidecar), e.g. "utkinect:1,2".
        timing_cache: timing cache file (default: next to the ONNX, one per GPU and TensorRT version).
    """

    precision: str = "fp16"
    max_batch: int = 64
    opt_batch: int = 1
    workspace_gb: float = 4.0
    calib_windows: np.ndarray | None = None
    calib_batch: int = 16
    calib_cache: Path | None = None
    calib_source: str | None = None
    timing_cache: Path | None = None

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if not isinstance(self.max_batch, int) or self.max_batch < 1:
            raise ValueError(f"max_batch must be a positive integer, got {self.max_batch!r}")
        if not isinstance(self.opt_batch, int) or not 1 <= self.opt_batch <= self.max_batch:
            raise ValueError(f"opt_batch must be in [1, max_batch={self.max_batch}], got {self.opt_batch!r}")
        if self.workspace_gb <= 0:
            raise ValueError(f"workspace_gb must be > 0, got {self.workspace_gb}")
        if self.calib_batch < 1:
            raise ValueError(f"calib_batch must be >= 1, got {self.calib_batch}")
        if self.calib_windows is not None:
            windows = self.calib_windows
            if windows.ndim != 5 or windows.dtype != np.float32 or len(windows) == 0:
                raise ValueError(f"calib_windows must be a non-empty float32 (N, C, T, V, M) array, got "
                                 f"{windows.dtype} {windows.shape}")  # fmt: skip


@dataclass(frozen=True)
class EngineKey:
    """Everything an engine is only valid for."""

    gpu: str
    compute_capability: str
    tensorrt: str
    precision: str
    max_batch: int
    opt_batch: int
    onnx_sha256: str

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]

    def platform_differences(self, other: EngineKey) -> list[str]:
        """What about the machine differs (GPU, compute capability, TensorRT), as readable phrases."""
        out = []
        for name, label in (("gpu", "GPU"), ("compute_capability", "compute capability"), ("tensorrt", "TensorRT")):
            if getattr(self, name) != getattr(other, name):
                out.append(f"{label} {getattr(self, name)!r} (this machine: {getattr(other, name)!r})")
        return out


def current_key(onnx_path: str | Path, options: EngineOptions, device_index: int = 0,
                onnx_sha256: str | None = None) -> EngineKey:  # fmt: skip
    """The key an engine built here, now, from ``onnx_path`` with ``options`` would have."""
    from models.export.onnx_export import file_sha256

    trt = require_tensorrt()
    gpu, capability = gpu_identity(device_index)
    return EngineKey(gpu=gpu, compute_capability=capability, tensorrt=trt.__version__, precision=options.precision,
                     max_batch=options.max_batch, opt_batch=options.opt_batch,
                     onnx_sha256=onnx_sha256 or file_sha256(onnx_path))  # fmt: skip


def engine_path_for(onnx_path: str | Path, key: EngineKey) -> Path:
    """``<onnx stem>.<precision>.b<max batch>.<key digest>.engine`` next to the ONNX file."""
    onnx_path = Path(onnx_path)
    return onnx_path.with_name(f"{onnx_path.stem}.{key.precision}.b{key.max_batch}.{key.digest()}.engine")


def sidecar_path(engine_path: str | Path) -> Path:
    return Path(f"{engine_path}.json")


def timing_cache_path(onnx_path: str | Path, key: EngineKey) -> Path:
    safe = "".join(c if c.isalnum() else "-" for c in key.gpu).strip("-").lower()
    return Path(onnx_path).with_name(f"timing-{safe}-sm{key.compute_capability}-trt{key.tensorrt}.cache")


def write_sidecar(engine_path: str | Path, key: EngineKey, config: CheckpointConfig, extra: dict | None = None) -> Path:
    """The JSON next to an engine: format, key, checkpoint config and build facts."""
    data = {
        "format": ENGINE_FORMAT,
        "format_version": ENGINE_FORMAT_VERSION,
        "key": asdict(key),
        "key_digest": key.digest(),
        "checkpoint_config": config.to_dict(),
        **(extra or {}),
    }
    path = sidecar_path(engine_path)
    write_atomically(path, json.dumps(data, indent=2) + "\n")
    return path


def read_sidecar(engine_path: str | Path) -> tuple[EngineKey, CheckpointConfig, dict]:
    """Key, checkpoint config and the whole sidecar of an engine; EngineError when missing or malformed."""
    path = sidecar_path(engine_path)
    if not path.is_file():
        raise EngineError(f"{engine_path}: no sidecar {path.name}, so what GPU and TensorRT built it is unknown; "
                          f"{REBUILD_HINT}")  # fmt: skip
    try:
        data = json.loads(path.read_text())
        if data.get("format") != ENGINE_FORMAT or data.get("format_version") != ENGINE_FORMAT_VERSION:
            raise ValueError(f"format {data.get('format')!r} version {data.get('format_version')!r}")
        key = EngineKey(**data["key"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise EngineError(f"{path}: not a skelstream engine sidecar ({error}); {REBUILD_HINT}") from None
    config = CheckpointConfig.from_dict(data.get("checkpoint_config") or {}, source=f"{path} (checkpoint_config)")
    return key, config, data


def check_key(stored: EngineKey, current: EngineKey, engine_path: str | Path) -> None:
    """Raise EngineError unless an engine with key ``stored`` may run where ``current`` describes the machine."""
    differences = stored.platform_differences(current)
    if differences:
        raise EngineError(f"{engine_path} was built for {'; '.join(differences)}: an engine runs only on the GPU "
                          f"model and TensorRT version that built it; {REBUILD_HINT}")  # fmt: skip


def check_engine(engine_path: str | Path, device_index: int = 0) -> tuple[EngineKey, CheckpointConfig, dict]:
    """Sidecar of an engine, after checking that this machine's GPU and TensorRT match its key."""
    engine_path = Path(engine_path)
    if not engine_path.is_file():
        raise EngineError(f"{engine_path}: no such engine file")
    key, config, data = read_sidecar(engine_path)
    trt = require_tensorrt()
    gpu, capability = gpu_identity(device_index)
    here = EngineKey(gpu=gpu, compute_capability=capability, tensorrt=trt.__version__, precision=key.precision,
                     max_batch=key.max_batch, opt_batch=key.opt_batch, onnx_sha256=key.onnx_sha256)  # fmt: skip
    check_key(key, here, engine_path)
    if data.get("key_digest") != key.digest():
        raise EngineError(f"{sidecar_path(engine_path)}: key digest does not match its key (edited by hand?); "
                          f"{REBUILD_HINT}")  # fmt: skip
    return key, config, data


# --------------------------------------------------------------------------- INT8 calibration


def _batches(windows: np.ndarray, batch: int) -> Iterable[np.ndarray]:
    """Full batches only (the calibration profile has one shape); a short tail is dropped."""
    for start in range(0, len(windows) - batch + 1, batch):
        yield windows[start : start + batch]


def make_calibrator(trt: Any, windows: np.ndarray | None, batch: int, cache: Path, cuda: CudaRuntime | None) -> Any:
    """An ``IInt8EntropyCalibrator2`` feeding ``windows`` in batches of ``batch`` (or only replaying ``cache``)."""

    class WindowCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)  # required by the Python bindings
            self.batches = iter(_batches(windows, batch)) if windows is not None else iter(())
            self.buffer = cuda.buffer((batch, *windows.shape[1:]), np.float32) if windows is not None else None
            self.seen = 0

        def get_batch_size(self) -> int:
            return batch

        def get_batch(self, names: list[str]) -> list[int] | None:
            chunk = next(self.batches, None)
            if chunk is None or self.buffer is None:
                return None
            self.buffer.upload(np.ascontiguousarray(chunk))
            cuda.synchronize()
            self.seen += len(chunk)
            return [self.buffer.ptr]

        def read_calibration_cache(self) -> bytes | None:
            if cache.is_file():
                logger.info("INT8: using the calibration cache %s", cache)
                return cache.read_bytes()
            return None

        def write_calibration_cache(self, data: Any) -> None:
            cache.write_bytes(bytes(data))
            logger.info("INT8: calibrated on %d windows; cache written to %s", self.seen, cache)

    return WindowCalibrator()


# --------------------------------------------------------------------------- build


def build_engine(onnx_path: str | Path, options: EngineOptions | None = None, output: str | Path | None = None,
                 device_index: int = 0) -> Path:  # fmt: skip
    """Build a serialized engine from an ONNX file written by `export_onnx`; returns the engine path.

    Writes ``output`` (default: `engine_path_for` next to the ONNX), its JSON sidecar, and updates the
    timing cache. Raises EngineError with TensorRT's own message when parsing or building fails.
    """
    from models.export.onnx_export import INPUT_NAME, file_sha256, read_onnx_config

    from models.export.quantize import is_quantized

    options = options or EngineOptions()
    onnx_path = Path(onnx_path)
    trt = require_tensorrt()
    config, _ = read_onnx_config(onnx_path)
    key = current_key(onnx_path, options, device_index, onnx_sha256=file_sha256(onnx_path))
    engine_path = Path(output) if output is not None else engine_path_for(onnx_path, key)
    explicit = options.precision == "int8" and is_quantized(onnx_path)  # a QDQ graph carries its own scales
    if options.precision == "int8" and options.calib_windows is None and not explicit:
        cache = options.calib_cache or engine_path.with_suffix(".calib.cache")
        if not cache.is_file():
            raise EngineError("INT8 needs calibration windows (--calib-data utkinect:1,2) or an existing "
                              f"calibration cache ({cache} is absent)")  # fmt: skip
    started = time.perf_counter()
    trt_logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(trt_logger)
    network = builder.create_network(0)  # TensorRT 10: networks are always explicit-batch
    parser = trt.OnnxParser(network, trt_logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise EngineError(f"{onnx_path}: TensorRT's ONNX parser failed: {'; '.join(errors[:3]) or 'no details'}")
    tensor = network.get_input(0)
    shape = tuple(tensor.shape)
    window = tuple(config.model.input_shape)
    if tensor.name != INPUT_NAME or shape[1:] != window:
        raise EngineError(f"{onnx_path}: input {tensor.name!r} {shape} does not match the embedded config "
                          f"({INPUT_NAME!r} (N, {', '.join(map(str, window))}))")  # fmt: skip

    build = builder.create_builder_config()
    build.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(options.workspace_gb * (1 << 30)))
    profile = builder.create_optimization_profile()
    profile.set_shape(INPUT_NAME, (1, *window), (options.opt_batch, *window), (options.max_batch, *window))
    build.add_optimization_profile(profile)
    if options.precision == "fp32":
        build.clear_flag(trt.BuilderFlag.TF32)  # TF32 matmuls would differ from torch's FP32 by ~1e-3
    else:
        if not getattr(builder, "platform_has_fast_fp16", True):  # deprecated in TensorRT 10, may go
            logger.warning("this GPU has no fast FP16; the %s engine may be slow", options.precision)
        build.set_flag(trt.BuilderFlag.FP16)
    cuda = None
    if explicit:
        build.set_flag(trt.BuilderFlag.INT8)  # the Q/DQ layers' scales; layers without them run FP16 (flag above)
    elif options.precision == "int8":
        build.set_flag(trt.BuilderFlag.INT8)  # layers without INT8 kernels fall back to FP16 (flag above)
        calib_cache = options.calib_cache or engine_path.with_suffix(".calib.cache")
        batch = options.calib_batch
        if options.calib_windows is not None:
            batch = min(batch, len(options.calib_windows))
            cuda = cuda_runtime(device_index)
        calibration = builder.create_optimization_profile()
        calibration.set_shape(INPUT_NAME, (batch, *window), (batch, *window), (batch, *window))
        build.set_calibration_profile(calibration)
        build.int8_calibrator = make_calibrator(trt, options.calib_windows, batch, calib_cache, cuda)

    timing_path = options.timing_cache or timing_cache_path(onnx_path, key)
    timing = build.create_timing_cache(timing_path.read_bytes() if timing_path.is_file() else b"")
    if not build.set_timing_cache(timing, ignore_mismatch=False):
        logger.warning("timing cache %s does not match this GPU / TensorRT; starting a new one", timing_path)
        build.set_timing_cache(build.create_timing_cache(b""), ignore_mismatch=False)

    logger.info("building a %s TensorRT %s engine for %s (batch 1..%d, tuned for %d); this takes minutes",
                options.precision, trt.__version__, key.gpu, options.max_batch, options.opt_batch)  # fmt: skip
    serialized = builder.build_serialized_network(network, build)
    if serialized is None:
        raise EngineError(f"{onnx_path}: TensorRT built no engine (see its log above; if it mentions memory, "
                          "raise --workspace-gb)")  # fmt: skip
    staged = StagedOutput(engine_path)  # a killed build never leaves a truncated engine under its name
    try:
        staged.path.write_bytes(memoryview(serialized))
    except OSError:
        staged.discard()
        raise
    staged.commit()
    try:
        timing_path.write_bytes(memoryview(build.get_timing_cache().serialize()))
    except OSError as error:
        logger.warning("could not write the timing cache %s: %s", timing_path, error)
    seconds = time.perf_counter() - started
    write_sidecar(engine_path, key, config, extra={
        "onnx": onnx_path.name,
        "input": INPUT_NAME,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(seconds, 1),
        "calibration": ("explicit: the QDQ graph's scales" if explicit else
                        {"source": options.calib_source, "windows": None if options.calib_windows is None
                         else len(options.calib_windows)} if options.precision == "int8" else None),
    })  # fmt: skip
    logger.info("wrote %s in %.0f s", engine_path, seconds)
    return engine_path


def ensure_engine(onnx_path: str | Path, options: EngineOptions | None = None, build: bool = True,
                  device_index: int = 0) -> Path:  # fmt: skip
    """The engine for ``onnx_path`` and ``options`` on this GPU and TensorRT: reused when its key matches,
    else built (``build=True``) or refused with an EngineError saying why."""
    options = options or EngineOptions()
    key = current_key(onnx_path, options, device_index)
    path = engine_path_for(onnx_path, key)
    if path.is_file():
        try:
            stored, _, data = read_sidecar(path)
            if stored == key and data.get("key_digest") == key.digest():
                return path
            reason = "its sidecar key differs"
        except (EngineError, CheckpointError) as error:
            reason = str(error)
        if not build:
            raise EngineError(f"{path}: stale engine ({reason}); {REBUILD_HINT}")
        logger.warning("rebuilding %s: %s", path, reason)
    elif not build:
        raise EngineError(f"no engine for {onnx_path} on {key.gpu} (cc {key.compute_capability}) with TensorRT "
                          f"{key.tensorrt} ({options.precision}, max batch {options.max_batch}); {REBUILD_HINT}")
    return build_engine(onnx_path, options, output=path, device_index=device_index)
