"""The embedded demo runs end to end on the shipped checkpoint and fails clearly without one."""

import subprocess
import sys

import pytest

from models.pretrained import DEFAULT_CHECKPOINT


def _demo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stream.demo", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not (DEFAULT_CHECKPOINT / "config.json").is_file(), reason="default checkpoint not in this tree")
def test_demo_scores_synthetic_people_with_the_default_checkpoint():
    result = _demo("--seconds", "12", "--people", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("person ") >= 3
    accuracies = [float(line.split(":")[1].split()[0]) for line in result.stdout.splitlines()
                  if line.strip().startswith("person ")]  # fmt: skip
    assert len(accuracies) == 3 and all(0.0 <= a <= 1.0 for a in accuracies)
    assert "model call (3 windows per call" in result.stdout


def test_demo_without_checkpoint_exits_2(tmp_path):
    result = _demo("--checkpoint", str(tmp_path))
    assert result.returncode == 2 and "no config.json" in result.stderr and "Traceback" not in result.stderr
