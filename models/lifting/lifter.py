"""The lifter: unified_30 image keypoints of one person → unified_30 3D joints, one frame at a time.

Input (`normalize_2d`): the present keypoints relative to the 2D root
(spine_base, else their mean), divided by their RMS distance from it, with
image axes turned to the skeleton convention (x to the camera's left, y up:
`models.skeleton.layouts`), and the presence mask; absent joints are 0. Output:
3D joints relative to the root in the camera frame (z away from the camera),
in the same unit — the RMS spread of the joints in x and y — so a flat
lifter's x and y are the input itself and the network learns mostly depth. Scale and
position are left to the action model's own normalisation (centred on the
spine base, divided by the torso length).

Network (`LifterConfig`): Linear(90 → width), ReLU, ``blocks`` residual blocks
of two Linear(width → width) + LayerNorm + ReLU, Linear(width → 90): the
"simple baseline" of Martinez et al. (ICCV 2017) with LayerNorm. `Lifter` is
the torch module that trains it; `NumpyLifter` runs the same weights without
torch, as the slim runtime must. A lifter directory holds ``config.json`` and
``model.safetensors``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.skeleton.layouts import UNIFIED_30

JOINTS = UNIFIED_30.num_joints
ROOT = UNIFIED_30.index("spine_base")
MIN_CONFIDENCE = 0.1
"""Keypoints with less confidence than this are treated as absent."""
CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
DEFAULT_LIFTER = Path(__file__).resolve().parents[1] / "lifters" / "unified-2d"
"""The shipped lifter (``python -m models.lifting.train``; its figures in its ``config.json``)."""
FORMAT = "skelstream-lifter"


@dataclass
class LifterConfig:
    """The network's size, and what it was trained on (``training``: data, cameras, steps, figures)."""

    width: int = 512
    blocks: int = 2
    dropout: float = 0.1
    unit_m: float = 0.45  # the output unit in metres for a typical body (the training data's median)
    input_joints: list[str] = field(default_factory=list)  # unified joints it was shown (others ignored); []: all
    training: dict[str, Any] = field(default_factory=dict)


def normalize_2d(points: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 30, 2) pixel keypoints and (N, 30) confidences → (N, 30, 2) normalised keypoints (module docstring)
    and the (N, 30) presence mask; a frame with fewer than two present keypoints is all zero."""
    points = np.asarray(points, np.float64)
    present = (np.asarray(confidence) >= MIN_CONFIDENCE) & np.isfinite(points).all(axis=-1)
    turned = np.stack([-points[..., 0], -points[..., 1]], axis=-1)  # image x right, y down → x left, y up
    turned = np.where(present[..., None], turned, 0.0)
    count = present.sum(axis=1)
    mean = turned.sum(axis=1) / np.maximum(count, 1)[:, None]
    root = np.where(present[:, ROOT, None], turned[:, ROOT], mean)
    centred = np.where(present[..., None], turned - root[:, None], 0.0)
    spread = np.sqrt((centred**2).sum(axis=(1, 2)) / np.maximum(count, 1))
    usable = (count >= 2) & (spread > 1e-9)
    normalized = np.where(usable[:, None, None], centred / np.where(usable, spread, 1.0)[:, None, None], 0.0)
    return normalized.astype(np.float32), (present & usable[:, None]).astype(np.float32)


def lifter_input(normalized: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(N, 90) network input: the normalised keypoints (absent ones 0) and the presence mask."""
    return np.concatenate([normalized.reshape(len(normalized), -1), present], axis=1).astype(np.float32)


class NumpyLifter:
    """The lifter's forward pass in numpy (no torch): what `stream-run --pose-3d lifted` runs."""

    def __init__(self, config: LifterConfig, weights: dict[str, np.ndarray]) -> None:
        self.config = config
        self.weights = {name: np.asarray(value, np.float32) for name, value in weights.items()}
        names = config.input_joints or UNIFIED_30.joint_names
        self.input_mask = np.isin(UNIFIED_30.joint_names, names).astype(np.float32)

    def __call__(self, points: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 30, 2) pixel keypoints, (N, 30) confidences → (N, 30, 3) lifted root-relative joints and their
        (N, 30) mask (the input's presence: joints the detector did not see are placed by the network but
        marked absent). Keypoints of joints the lifter was never shown (``config.input_joints``: a detector's face points
        when it learnt from Kinect bodies) are left out of its input."""
        normalized, present = normalize_2d(points, np.asarray(confidence) * self.input_mask)
        w = self.weights

        def linear(name: str, x: np.ndarray) -> np.ndarray:
            return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]

        def layer_norm(name: str, x: np.ndarray) -> np.ndarray:
            mean = x.mean(axis=-1, keepdims=True)
            var = x.var(axis=-1, keepdims=True)
            return (x - mean) / np.sqrt(var + 1e-5) * w[f"{name}.weight"] + w[f"{name}.bias"]

        x = np.maximum(linear("inp", lifter_input(normalized, present)), 0.0)
        for b in range(self.config.blocks):
            y = np.maximum(layer_norm(f"blocks.{b}.norm1", linear(f"blocks.{b}.fc1", x)), 0.0)
            y = np.maximum(layer_norm(f"blocks.{b}.norm2", linear(f"blocks.{b}.fc2", y)), 0.0)
            x = x + y
        joints = linear("out", x).reshape(len(x), JOINTS, 3)
        return joints - joints[:, ROOT : ROOT + 1], present  # the root exactly at the origin


def build_torch_lifter(config: LifterConfig):
    """The torch module of ``config`` (parameter names as `NumpyLifter` reads them)."""
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.norm1 = nn.Linear(config.width, config.width), nn.LayerNorm(config.width)
            self.fc2, self.norm2 = nn.Linear(config.width, config.width), nn.LayerNorm(config.width)
            self.drop = nn.Dropout(config.dropout)

        def forward(self, x):
            y = self.drop(self.norm1(self.fc1(x)).relu())
            return x + self.drop(self.norm2(self.fc2(y)).relu())

    class Lifter(nn.Module):
        """(N, 90) `lifter_input` → (N, 30, 3) root-relative joints."""

        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Linear(3 * JOINTS, config.width)
            self.blocks = nn.ModuleList([Block() for _ in range(config.blocks)])
            self.out = nn.Linear(config.width, 3 * JOINTS)

        def forward(self, x):
            x = self.inp(x).relu()
            for block in self.blocks:
                x = block(x)
            return self.out(x).view(len(x), JOINTS, 3)

    return Lifter()


def save_lifter(directory: str | Path, model, config: LifterConfig) -> Path:
    """Write ``config.json`` and float32 ``model.safetensors`` of a trained torch lifter."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_file({name: tensor.detach().float().contiguous() for name, tensor in model.state_dict().items()},
              str(directory / WEIGHTS_FILE))  # fmt: skip
    (directory / CONFIG_FILE).write_text(json.dumps({"format": FORMAT, **asdict(config)}, indent=2) + "\n")
    return directory


def load_lifter(directory: str | Path) -> NumpyLifter:
    """A lifter directory (`save_lifter`) as a `NumpyLifter`; clear errors for a missing or foreign one."""
    from safetensors.numpy import load_file

    from foundation.errors import SkelstreamError

    directory = Path(directory)
    if not (directory / CONFIG_FILE).is_file() or not (directory / WEIGHTS_FILE).is_file():
        raise SkelstreamError(f"{directory}: not a lifter (needs {CONFIG_FILE} and {WEIGHTS_FILE})")
    data = json.loads((directory / CONFIG_FILE).read_text())
    if data.pop("format", None) != FORMAT:
        raise SkelstreamError(f"{directory / CONFIG_FILE}: not a skelstream lifter config")
    try:
        config = LifterConfig(**data)
    except TypeError as error:
        raise SkelstreamError(f"{directory / CONFIG_FILE}: {error}") from None
    weights = load_file(str(directory / WEIGHTS_FILE))
    expected = {"inp.weight": (config.width, 3 * JOINTS), "out.weight": (3 * JOINTS, config.width)}
    for name, shape in expected.items():
        if name not in weights or weights[name].shape != shape:
            raise SkelstreamError(f"{directory / WEIGHTS_FILE}: {name} should be {shape} for width {config.width}")
    return NumpyLifter(config, weights)
