"""Model backends behind one interface: windows (N, C, T, V, M) in, per-frame logits (N, T, K + 1) out.

    from stream.backends import make_backend

    backend = make_backend("onnxruntime", "models/checkpoints/actions", threads=2)
    logits = backend.run(windows)                  # float32 (N, C, T, V, M) → float32 (N, T, K + 1)
    backend = make_backend("auto", checkpoint)     # TensorRT on a GPU, else ONNX Runtime, else torch
    name, reason = choose_backend(checkpoint)      # what auto picks, and why

- ``torch``: the reference (CPU; CUDA with optional FP16 and CUDA graphs).
- ``onnxruntime``: the default on CPU; CUDA execution provider when installed
  (onnxruntime-gpu). A checkpoint directory runs its own ``model.onnx``
  (``stream-export --into-checkpoint``; no torch needed: the ``runtime``
  extra), else it is exported to ONNX once, into a cache keyed by its weights
  (`models.export.onnx_export.checkpoint_onnx`). With 2 or more threads the
  encoder's two streams run in parallel. Needs no torch when given an
  exported ``.onnx``. ``precision="int8"``: the static INT8
  (QDQ) quantisation of that export (`models.export.quantize`).
- ``tensorrt``: a TensorRT 10 engine (FP16 by default) on an NVIDIA GPU, built
  and cached next to the ONNX, keyed by GPU and TensorRT version.
- ``auto``: `choose_backend` — TensorRT where it imports and a GPU exists,
  else ONNX Runtime where the ``onnx`` extra is installed, else torch; the
  choice and why is logged at INFO.

``threads`` None takes each backend's default (`DEFAULT_THREADS`: torch 1,
whose OpenMP threads collapse when they spin against another busy process;
onnxruntime 2, its two encoder streams in parallel, nothing spinning).

``checkpoint`` is a checkpoint directory for every backend; onnxruntime also
takes an exported ``.onnx``, tensorrt an ``.onnx`` or a built ``.engine``.
`make_backend` imports a backend only inside its branch, so optional stacks
are needed only by those who use them; one that is asked for and missing is a
`MissingDependencyError` naming the extra (``pip install skelstream[onnx]``,
``pip install skelstream[tensorrt]``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from foundation.optional import is_available, require
from models.export.onnx_export import RUNTIME_ONNX
from stream.backends.base import Backend

logger = logging.getLogger(__name__)

BACKENDS = ("torch", "onnxruntime", "tensorrt")
CHOICES = (*BACKENDS, "auto")
DEFAULT_THREADS = {"torch": 1, "onnxruntime": 2, "tensorrt": 1}
ONNX_EXTRA = ("onnxruntime", "onnx", "onnxscript")  # ONNX Runtime plus what exporting a checkpoint needs
RUNTIME_STACK = ("onnxruntime", "onnx")  # what running an exported model needs (onnx: the streams in parallel)


def choose_backend(checkpoint: str | Path | None = None) -> tuple[str, str]:
    """(backend name, reason) of ``auto``: TensorRT if it imports and a GPU exists, else onnxruntime if the
    onnx extra is installed (only ONNX Runtime and onnx when ``checkpoint`` is an .onnx or a directory with its
    own model.onnx: the runtime extra), else torch."""
    reasons = []
    if is_available("tensorrt"):
        from models.export.tensorrt_build import gpu_available

        try:
            import tensorrt

            if gpu_available():
                return "tensorrt", f"TensorRT {tensorrt.__version__} imports and a CUDA GPU is visible"
            reasons.append("TensorRT imports but no CUDA GPU is visible")
        except (ImportError, OSError) as error:
            reasons.append(f"TensorRT does not load ({error})")
    else:
        reasons.append("TensorRT is not installed")
    exported = str(checkpoint or "").endswith(".onnx") or (checkpoint is not None
                                                            and (Path(checkpoint) / RUNTIME_ONNX).is_file())
    needed = RUNTIME_STACK if exported else ONNX_EXTRA
    missing = [name for name in needed if not is_available(name)]
    if not missing:
        return "onnxruntime", "; ".join(["ONNX Runtime is installed", *reasons])
    reasons.append(f"{', '.join(missing)} not installed (pip install skelstream[onnx])")
    return "torch", "; ".join(reasons)


def make_backend(
    name: str,
    checkpoint: str | Path,
    threads: int | None = None,
    device: str | None = None,
    precision: str | None = None,
    cuda_graphs: bool = False,
    max_batch: int = 64,
    cache_dir: str | Path | None = None,
) -> Backend:
    """The backend called ``name`` (one of `CHOICES`) running the checkpoint in ``checkpoint``.

    ``device``: torch "cpu" (default) or "cuda[:N]"; onnxruntime None (CUDA provider when present, else CPU),
    "cpu" or "cuda[:N]"; tensorrt "cuda[:N]". ``precision``: torch "fp32"/"fp16" (fp16 on CUDA), onnxruntime
    "fp32" (default) or "int8" (static QDQ), tensorrt "fp16" (default), "fp32" or "int8" (an INT8 engine:
    from a QDQ export, or calibrated by stream-export). ``threads`` None: `DEFAULT_THREADS`.
    ``cuda_graphs``: torch on CUDA. ``max_batch``: tensorrt's profile maximum. ``cache_dir``: where exports of a
    checkpoint directory are cached (default ``$SKELSTREAM_CACHE`` or ``~/.cache/skelstream``).
    """
    if name == "auto":
        name, reason = choose_backend(checkpoint)
        if name == "torch" and device is None:
            device = _torch_default_device()
        logger.info("backend auto: %s (%s)", name, reason)
    if threads is None:
        threads = DEFAULT_THREADS.get(name, 1)
    if name == "torch":
        from stream.backends.torch_backend import TorchBackend

        return TorchBackend(checkpoint, threads=threads, device=device or "cpu", precision=precision or "fp32",
                            cuda_graphs=cuda_graphs)  # fmt: skip
    if name == "onnxruntime":
        from stream.backends.onnxruntime_backend import OnnxRuntimeBackend

        return OnnxRuntimeBackend(checkpoint, threads=threads, device=device, cache_dir=cache_dir,
                                  precision=precision or "fp32")  # fmt: skip
    if name == "tensorrt":
        from stream.backends.tensorrt_backend import TensorRTBackend

        return TensorRTBackend(checkpoint, device=device, precision=precision or "fp16", max_batch=max_batch,
                               cache_dir=cache_dir)  # fmt: skip
    raise ValueError(f"unknown backend {name!r}; available: {', '.join(CHOICES)}")


def _torch_default_device() -> str:
    torch = require("torch", extra="train", what="the torch backend")

    return "cuda" if torch.cuda.is_available() else "cpu"
