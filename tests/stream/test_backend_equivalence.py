"""Every backend gives the torch reference's logits on REAL windows, within stated bounds.

Windows: UTKinect subjects 1-2 and the NTU samples of ../shared/data, through the dataset registry,
`prepare_sequence` and `cut_window` (exactly what training and the stream feed the model).

Bounds (per batch; max over every logit of the batch; measured here with dste-small and dste-base, fp32 on CPU,
random-init and trained weights, batches 1/4/16: max abs 2.7e-7..1.4e-6, relative 2e-7..7e-7):

- onnxruntime (fp32):  max |ort - torch| <= 2e-5  and  max |ort - torch| / max |torch| <= 1e-5
- tensorrt fp32 (TF32 off): max abs <= 1e-3 + 1e-3 * max |torch|
- tensorrt fp16: max abs <= 2e-2 + 2e-2 * max |torch|, per-frame argmax agreement >= 98 %
  (TensorRT bounds are first estimates from FP16's 11-bit mantissa over d <= 1024: check them on the first GPU run)
"""

import logging
import subprocess
import sys

import numpy as np
import pytest

from foundation.optional import MissingDependencyError, is_available
from models.checkpoint import CheckpointError, read_config
from stream.backends import CHOICES, choose_backend, make_backend
from tests.conftest import VARIANT_LABELS, variant_checkpoint
from tests.stream.conftest import free_endpoint


needs_onnx = pytest.mark.skipif(not all(is_available(m) for m in ("onnx", "onnxruntime", "onnxscript")),
                                reason="the onnx extra is not installed: pip install -e '.[onnx]'")  # fmt: skip
TRT_REASON = "TensorRT is not installed (needs an NVIDIA GPU; see benchmarks/README.md)"
needs_tensorrt = pytest.mark.skipif(not is_available("tensorrt"), reason=TRT_REASON)
LABELS = VARIANT_LABELS
ORT_MAX_ABS, ORT_MAX_REL = 2e-5, 1e-5
BATCHES = (1, 4, 16)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "onnx-cache"


@pytest.fixture(scope="module")
def real_windows(tmp_path_factory):
    """16 real windows per variant config (both variants share T=64, unified_30, M=2)."""
    from tests.conftest import SHARED_DATA

    from models.datasets.registry import load_dataset
    from models.windows import cut_window, prepare_sequence, window_ends

    if not (SHARED_DATA / "utkinect_action3d").is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent (set SKELSTREAM_DATA)")
    config = read_config(variant_checkpoint(tmp_path_factory, "dste-small"))
    windows = []
    sources = [("utkinect", [1, 2])] + ([("ntu", None)] if (SHARED_DATA / "ntu_rgbd_skeleton").is_dir() else [])
    for name, subjects in sources:
        for sequence in load_dataset(name, SHARED_DATA, subjects):
            prepared = prepare_sequence(sequence, config.fps, num_bodies=config.model.M)
            for end in window_ends(prepared.num_frames, 24):
                windows.append(cut_window(prepared, int(end), config.num_frames, config.normalization)[0])
    windows = np.stack(windows).astype(np.float32)
    return windows[np.round(np.linspace(0, len(windows) - 1, max(BATCHES))).astype(int)]


def compare(reference: np.ndarray, actual: np.ndarray) -> tuple[float, float, float]:
    """(max abs error, max abs error / max |reference|, per-frame argmax agreement)."""
    assert actual.shape == reference.shape and actual.dtype == np.float32
    error = float(np.abs(actual - reference).max())
    return error, error / float(np.abs(reference).max()), float((actual.argmax(-1) == reference.argmax(-1)).mean())


@needs_onnx
@pytest.mark.parametrize("variant", ["dste-small", "dste-base"])
def test_onnxruntime_matches_torch_on_real_windows(tmp_path_factory, cache, real_windows, variant):
    checkpoint = variant_checkpoint(tmp_path_factory, variant)
    torch_backend = make_backend("torch", checkpoint, threads=2)
    ort_backend = make_backend("onnxruntime", checkpoint, threads=2, device="cpu", cache_dir=cache)
    assert ort_backend.config.to_dict() == torch_backend.config.to_dict()
    for batch in BATCHES:
        windows = real_windows[:batch]
        error, relative, agreement = compare(torch_backend.run(windows), ort_backend.run(windows))
        assert error <= ORT_MAX_ABS and relative <= ORT_MAX_REL, (variant, batch, error, relative)
        assert agreement >= 0.99, (variant, batch, agreement)


@needs_onnx
def test_two_threads_run_the_two_streams_in_parallel(tmp_path_factory, cache, real_windows):
    from stream.backends.onnxruntime_backend import OnnxRuntimeBackend

    checkpoint = variant_checkpoint(tmp_path_factory, "dste-small")
    parallel = make_backend("onnxruntime", checkpoint, threads=2, device="cpu", cache_dir=cache)
    whole = make_backend("onnxruntime", checkpoint, threads=1, device="cpu", cache_dir=cache)
    assert parallel.concurrent_streams and not whole.concurrent_streams
    assert not OnnxRuntimeBackend(checkpoint, threads=2, cache_dir=cache, concurrent_streams=False).concurrent_streams
    for batch in (1, 16):
        np.testing.assert_allclose(parallel.run(real_windows[:batch]), whole.run(real_windows[:batch]), rtol=0,
                                   atol=1e-6)  # fmt: skip


@needs_onnx
@pytest.mark.parametrize(
    "shape, dtype",
    [((1, 3, 32, 30, 2), np.float32), ((1, 3, 64, 25, 2), np.float32), ((1, 3, 64, 30, 2), np.float64),
     ((3, 64, 30, 2), np.float32), ((1, 2, 64, 30, 2), np.float32)],
)  # fmt: skip
def test_onnxruntime_refuses_wrong_windows_with_the_expected_shape(tmp_path_factory, cache, shape, dtype):
    backend = make_backend("onnxruntime", variant_checkpoint(tmp_path_factory, "dste-small"), cache_dir=cache)
    with pytest.raises(ValueError, match=r"float32 windows \(N, C=3, T=64, V=30, M=2\)"):
        backend.run(np.zeros(shape, dtype))


@needs_onnx
def test_an_onnx_file_without_a_checkpoint_config_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("windows", TensorProto.FLOAT, ["N", 3])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])
    graph = helper.make_graph([helper.make_node("Relu", ["windows"], ["logits"])], "g", [x], [y])
    path = tmp_path / "plain.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10), path)
    with pytest.raises(CheckpointError, match="no skelstream checkpoint config"):
        make_backend("onnxruntime", path)
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match="ONNX Runtime cannot load it"):
        make_backend("onnxruntime", tmp_path / "junk.onnx")


@needs_onnx
def test_auto_logs_its_choice(tmp_path_factory, cache, caplog):
    checkpoint = variant_checkpoint(tmp_path_factory, "dste-small")
    expected = "tensorrt" if choose_backend(checkpoint)[0] == "tensorrt" else "onnxruntime"
    if expected == "tensorrt":
        pytest.skip("TensorRT and a GPU are here: auto picks tensorrt (covered by the tensorrt tests)")
    with caplog.at_level(logging.INFO, logger="stream.backends"):
        backend = make_backend("auto", checkpoint, cache_dir=cache)
    assert backend.name == "onnxruntime" and backend.provider == "CPUExecutionProvider"
    assert any("backend auto: onnxruntime" in record.getMessage() for record in caplog.records)
    assert set(CHOICES) == {"torch", "onnxruntime", "tensorrt", "auto"}


def test_importing_the_backends_and_reading_a_config_needs_no_optional_stack(tmp_path_factory):
    """Every backend module, the export helpers and a checkpoint config load without onnx, onnxruntime,
    onnxscript or tensorrt (they are imported inside the branches that use them)."""
    code = ("import sys; import stream.backends, stream.backends.onnxruntime_backend, "
            "stream.backends.tensorrt_backend, models.export.onnx_export, models.export.tensorrt_build, "
            "models.cli.export; "
            "from models.checkpoint import read_config; read_config(sys.argv[1]); "
            "loaded = [m for m in ('onnx', 'onnxruntime', 'onnxscript', 'tensorrt') if m in sys.modules]; "
            "assert not loaded, loaded")  # fmt: skip
    checkpoint = variant_checkpoint(tmp_path_factory, "dste-small")
    result = subprocess.run([sys.executable, "-c", code, checkpoint], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@needs_onnx
def test_onnxruntime_backend_runs_an_export_without_torch(tmp_path_factory, cache):
    """An ONNX-Runtime-only deployment: the backend, the checkpoint config it reads from the export's metadata and
    a model call import no torch."""
    from models.export.onnx_export import cached_onnx

    path = cached_onnx(variant_checkpoint(tmp_path_factory, "dste-small"), cache)
    code = ("import sys; import numpy as np; from stream.backends import make_backend; "
            "backend = make_backend('onnxruntime', sys.argv[1], threads=2, device='cpu'); "
            "assert backend.concurrent_streams; "
            "logits = backend.run(np.zeros((2, *backend.config.model.input_shape), np.float32)); "
            "assert logits.shape[:2] == (2, backend.config.num_frames), logits.shape; "
            "assert 'torch' not in sys.modules, 'torch was imported'")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(is_available("tensorrt"), reason="TensorRT is installed here")
def test_tensorrt_backend_without_tensorrt_names_the_extra(tmp_path_factory):
    with pytest.raises(MissingDependencyError, match=r"pip install skelstream\[tensorrt\]"):
        make_backend("tensorrt", variant_checkpoint(tmp_path_factory, "dste-small"))


def test_torch_fp16_and_cuda_graphs_need_cuda(tmp_path_factory):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here: covered by test_torch_cuda_fp16_matches_fp32")
    checkpoint = variant_checkpoint(tmp_path_factory, "dste-small")
    with pytest.raises(ValueError, match="need device 'cuda'"):
        make_backend("torch", checkpoint, precision="fp16")
    with pytest.raises(ValueError, match="sees no CUDA GPU"):
        make_backend("torch", checkpoint, device="cuda")


@needs_onnx
def test_stream_run_with_onnxruntime_end_to_end(checkpoint, tmp_path):
    """The real command on the synthetic source, the ONNX export made on first use into SKELSTREAM_CACHE."""
    import os

    env = {**os.environ, "SKELSTREAM_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "stream.cli.run", "--source", "synthetic", "--seconds", "4", "--fast",
               "--backend", "onnxruntime", "--checkpoint", checkpoint, "--zmq", free_endpoint()]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stderr
    assert "(onnxruntime)" in result.stderr and "model calls" in result.stdout
    assert list((tmp_path / "cache" / "onnx").glob("*/model.onnx"))


@pytest.mark.skipif(is_available("tensorrt"), reason="TensorRT is installed here")
def test_stream_run_with_tensorrt_missing_exits_2_naming_the_extra(checkpoint, capsys):
    from stream.cli.run import main

    assert main(["--source", "synthetic", "--seconds", "1", "--fast", "--backend", "tensorrt",
                 "--checkpoint", checkpoint, "--zmq", free_endpoint()]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert "pip install skelstream[tensorrt]" in err and "\n" not in err


# --------------------------------------------------------------------------- GPU machines only


@needs_tensorrt
@pytest.mark.parametrize("variant", ["dste-small", "dste-base"])
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_tensorrt_matches_torch_on_real_windows(tmp_path_factory, cache, real_windows, variant, precision):
    checkpoint = variant_checkpoint(tmp_path_factory, variant)
    reference = make_backend("torch", checkpoint)
    backend = make_backend("tensorrt", checkpoint, precision=precision, max_batch=16, cache_dir=cache)
    for batch in BATCHES:
        expected = reference.run(real_windows[:batch])
        error, _, agreement = compare(expected, backend.run(real_windows[:batch]))
        scale = float(np.abs(expected).max())
        bound = 1e-3 + 1e-3 * scale if precision == "fp32" else 2e-2 + 2e-2 * scale
        assert error <= bound, (variant, precision, batch, error, bound)
        assert agreement >= (0.999 if precision == "fp32" else 0.98), (variant, precision, batch, agreement)
    with pytest.raises(ValueError, match="maximum of 16"):
        backend.run(np.zeros((17, *backend.config.model.input_shape), np.float32))
    with pytest.raises(ValueError, match="T=64"):
        backend.run(np.zeros((1, 3, 32, 30, 2), np.float32))


def test_torch_cuda_fp16_matches_fp32(tmp_path_factory, real_windows):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU: torch fp16 and CUDA graphs run on CUDA only")
    checkpoint = variant_checkpoint(tmp_path_factory, "dste-small")
    expected = make_backend("torch", checkpoint).run(real_windows)
    for options in ({"precision": "fp32", "cuda_graphs": True}, {"precision": "fp16", "cuda_graphs": False},
                    {"precision": "fp16", "cuda_graphs": True}):  # fmt: skip
        backend = make_backend("torch", checkpoint, device="cuda", **options)
        for _ in range(2):  # the second call replays the captured graph
            error, _, agreement = compare(expected, backend.run(real_windows))
        bound = 1e-3 + 1e-3 * float(np.abs(expected).max()) if options["precision"] == "fp32" else 5e-2
        assert error <= bound and agreement >= 0.98, (options, error, agreement)
