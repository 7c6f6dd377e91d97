"""`stream-calibrate` as a user runs it: subcommands listed, errors one line with exit 2."""

import subprocess
import sys


def _calibrate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calibration.cli", *args], capture_output=True, text=True, timeout=120)


def test_subcommands_are_listed():
    result = _calibrate("--help")
    assert result.returncode == 0
    assert all(name in result.stdout for name in ("intrinsics", "extrinsics", "handeye"))


def test_intrinsics_on_a_folder_without_images_exits_2(tmp_path):
    result = _calibrate("intrinsics", "--images", str(tmp_path), "--pattern", "chessboard", "--cols", "9",
                        "--rows", "6", "--square", "0.025", "--output", str(tmp_path / "camera.yaml"))  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().startswith("stream-calibrate: error:") and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "camera.yaml").exists()


def test_extrinsics_with_missing_intrinsics_exits_2(tmp_path):
    result = _calibrate("extrinsics", "--intrinsics", str(tmp_path / "nope.yaml"), "--image", str(tmp_path / "x.png"),
                        "--pattern", "chessboard", "--cols", "9", "--rows", "6", "--square", "0.025",
                        "--board-pose", "0.6,0,0,0,0,0,1", "--output", str(tmp_path / "t.yaml"))  # fmt: skip
    assert result.returncode == 2 and "nope.yaml" in result.stderr
