"""The slim runtime: `stream-run` in a virtual environment without torch (the ``runtime`` extra, `make runtime-env`),
on a checkpoint that carries its own ``model.onnx`` (``stream-export --into-checkpoint``).

The environment is built by ``make runtime-env`` (``pip install -e '.[runtime]'`` into ``.venv-runtime``: pose,
ONNX Runtime, ZeroMQ) and named by ``SKELSTREAM_RUNTIME_ENV``; ``make test`` builds it and sets
``SKELSTREAM_REQUIRE_RUNTIME``, which turns the skip into a failure. The runs use this checkout's code
(``PYTHONPATH``) with that environment's packages, and their labels are compared with the same runs in the
development environment (torch installed): the same model, the same labels.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from models.export.onnx_export import RUNTIME_ONNX, checkpoint_fingerprint, onnx_metadata
from models.pretrained import DEFAULT_CHECKPOINT
from tests.conftest import REPO_ROOT
from tests.stream.conftest import free_endpoint

RUNTIME_ENV = os.environ.get("SKELSTREAM_RUNTIME_ENV")


@pytest.fixture(scope="module")
def runtime_python() -> Path:
    """The Python of the torch-free environment; skip (or fail under ``make test``) without one."""
    python = Path(RUNTIME_ENV or REPO_ROOT / ".venv-runtime") / "bin" / "python"
    if not python.is_file():
        message = f"no slim runtime environment at {python.parent.parent}: make runtime-env (SKELSTREAM_RUNTIME_ENV)"
        if os.environ.get("SKELSTREAM_REQUIRE_RUNTIME"):
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A copy of the default checkpoint with its own model.onnx (the one ``stream-export --into-checkpoint``
    wrote), so no ONNX cache can stand in for it."""
    if not (DEFAULT_CHECKPOINT / RUNTIME_ONNX).is_file():
        pytest.fail(f"{DEFAULT_CHECKPOINT} has no {RUNTIME_ONNX}: stream-export --checkpoint actions --into-checkpoint")
    copy = tmp_path_factory.mktemp("slim") / "actions"
    shutil.copytree(DEFAULT_CHECKPOINT, copy)
    return copy


def run(python: Path, *args: str, cache: Path) -> subprocess.CompletedProcess:
    """``stream-run ARGS`` with ``python``, this checkout's code and an empty export cache."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "SKELSTREAM_CACHE": str(cache)}
    return subprocess.run([str(python), "-m", "stream.cli.run", *args, "--zmq", free_endpoint()], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_the_shipped_checkpoint_carries_a_current_model_onnx():
    exported_from = onnx_metadata(DEFAULT_CHECKPOINT / RUNTIME_ONNX)["skelstream.checkpoint_sha256"]
    assert exported_from == checkpoint_fingerprint(DEFAULT_CHECKPOINT), \
        "models/checkpoints/actions changed since its model.onnx: stream-export --checkpoint actions --into-checkpoint"


def test_the_environment_has_no_torch(runtime_python):
    result = subprocess.run([str(runtime_python), "-c", "import torch"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "No module named 'torch'" in result.stderr


def test_a_synthetic_scene_runs_without_torch_and_labels_as_with_it(runtime_python, checkpoint, tmp_path):
    args = ["--source", "synthetic", "--people", "2", "--seconds", "6", "--fast", "--stride", "4",
            "--checkpoint", str(checkpoint)]  # fmt: skip
    slim = run(runtime_python, *args, "--backend", "auto", "--record", str(tmp_path / "slim.skrec"),
               cache=tmp_path / "cache")  # fmt: skip
    assert slim.returncode == 0, slim.stderr
    assert "backend onnxruntime fp32 (auto: ONNX Runtime is installed" in slim.stderr
    assert not (tmp_path / "cache").exists()  # the checkpoint's own model.onnx ran: nothing exported
    full = run(Path(sys.executable), *args, "--backend", "onnxruntime", "--record", str(tmp_path / "full.skrec"),
               cache=tmp_path / "cache")  # fmt: skip
    assert full.returncode == 0, full.stderr
    assert labels(tmp_path / "slim.skrec") == labels(tmp_path / "full.skrec") != []


@pytest.mark.parametrize("pose_3d", ["world", "lifted"])  # lifted: the 2D-to-3D lifter runs in numpy
def test_a_video_runs_through_mediapipe_without_torch(runtime_python, checkpoint, data_root, tmp_path, pose_3d):
    video = data_root / "videos" / "exercise.avi"
    stats = tmp_path / "stats.json"
    result = run(runtime_python, "--video", str(video), "--fast", "--max-frames", "40", "--backend", "onnxruntime",
                 "--checkpoint", str(checkpoint), "--stats-json", str(stats), "--pose-3d", pose_3d,
                 cache=tmp_path / "cache")  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(stats.read_text())
    assert summary["frames"] == 40 and "pose" in summary["latency_ms"] and summary["labels"] > 0


def test_a_checkpoint_without_model_onnx_says_how_to_write_one(runtime_python, checkpoint, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(checkpoint, bare, ignore=shutil.ignore_patterns(RUNTIME_ONNX))
    result = run(runtime_python, "--backend", "onnxruntime", "--checkpoint", str(bare), "--max-frames", "5",
                 cache=tmp_path / "cache")  # fmt: skip
    assert result.returncode == 2
    assert f"{bare / RUNTIME_ONNX} is missing, and this install cannot export the checkpoint (no torch" in result.stderr
    assert f"stream-export --checkpoint {bare} --into-checkpoint" in " ".join(result.stderr.split())


def labels(path: Path) -> list[tuple]:
    """(frame, track, label, score) of every label of a recording."""
    from stream.recordings.skrec import read_recording

    _, reader = read_recording(path)
    return [(r.index, p.id, p.label, round(p.score, 4)) for r in reader for p in r.people if p.label]


def test_the_simple_baseline_says_it_needs_the_train_extra_before_any_clip_runs(runtime_python, data_root, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    name = "GestureRecording_Id1actor1idAction1category1.mp4"
    (clips / name).symlink_to(data_root / "videos" / "florence3d" / name)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "SKELSTREAM_CACHE": str(tmp_path / "cache")}
    result = subprocess.run([str(runtime_python), "-m", "stream.cli.evaluate", "--dataset", "florence-video",
                             "--root", str(clips), "--baseline", "--no-cache", "--pose-model",
                             str(tmp_path / "absent.task")], env=env, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode == 2, result.stderr
    # refused before the first clip: the clip's pose step would have failed on the absent pose model
    assert "--baseline needs scikit-learn (it is not installed): pip install skelstream[train]" in result.stderr
    assert "absent.task" not in result.stderr and "Traceback" not in result.stderr
