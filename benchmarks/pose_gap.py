"""Kinect vs MediaPipe skeletons of the same take: what the model sees from each, and how they differ.

The NTU take S001C001P001R001A001 (drink water, 103 frames at 30 fps) exists as
the Kinect v2's skeleton file and as its colour video. The video goes through
the stream's pose step (`stream.run.assembly.make_pose_estimator`: MediaPipe
PoseLandmarker in VIDEO mode, ``--num-poses 2``, One-Euro smoothing on, as
``stream-run``; once more with smoothing off), both skeletons are mapped to
unified_30, and they are compared in three spaces:

- **metres**: each skeleton centred on its own spine_base in every frame
  (MediaPipe's world landmarks are hip-centred, so only shape is comparable);
- **model input**: each clip normalised as one window with the default
  checkpoint's `NormalizationConfig` (centre on the mean spine_base, hips
  turned to face the camera, unit torso, unused joints on their ancestors),
  i.e. what the model receives, in torso units;
- **image**: MediaPipe's image points against the Kinect's colour-pixel joints.

Reported (and written to ``results/pose_gap.json``): per-joint error (median,
p90, bias, standard deviation, slow and fast parts: `models.evaluation.skeleton_gap`),
error per axis (depth z against x and y), scale (torso and height ratios,
bone-length ratios), MediaPipe's visibility per joint and the Kinect's
tracked/inferred states, jitter of each source, the root motion the Kinect
sees and MediaPipe's world landmarks cannot, the lag of the smoothed
landmarks, and, gathered in ``augmentation``, the numbers a "MediaPipe-like"
training augmentation needs.

The video is mirrored with respect to the Kinect's 3D frame (``shared/data``
README): MediaPipe's left is the Kinect's right and its x is the Kinect's -x,
so MediaPipe's skeleton is mirrored back (sides swapped, x negated) before any
3D comparison, and sides are swapped for the pixel comparison. One take of one
person from one view (frontal, 3.8 m): indicative numbers, not a population.

    .venv/bin/python -m benchmarks.pose_gap
    .venv/bin/python -m benchmarks.pose_gap --json /tmp/pose_gap.json
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results
from models.checkpoint import CheckpointConfig, read_config
from models.datasets.ntu import read_ntu_skeleton
from models.evaluation.skeleton_gap import joint_errors, length_ratio, white_noise_std
from models.pretrained import DEFAULT_CHECKPOINT
from models.skeleton.layouts import MEDIAPIPE_33, UNIFIED_30
from models.skeleton.normalize import normalize_window
from models.skeleton.unified import to_unified

logger = logging.getLogger(__name__)

TAKE = "S001C001P001R001A001"
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "pose_gap.json"
SWAP = UNIFIED_30.flip_permutation
MIRROR_X = np.array([-1.0, 1.0, 1.0])
AXES = ("x", "y", "z")
LOW_VISIBILITY = 0.5
MAX_LAG_FRAMES = 6


def _index(name: str) -> int:
    return UNIFIED_30.index(name)


def kinect_take(root: Path) -> dict[str, np.ndarray]:
    """The Kinect's body 0: unified joints (T, 30, 3) m, mask (T, 30) (1 tracked, 0.5 inferred), colour pixels."""
    sequence = read_ntu_skeleton(root / "ntu_rgbd_skeleton" / f"{TAKE}.skeleton")
    joints, mask = to_unified(sequence.joints[:, 0], sequence.mask[:, 0], "kinect_v2_25")
    pixels, _ = to_unified(sequence.projections["color"][:, 0], sequence.mask[:, 0], "kinect_v2_25")
    return {"joints": joints, "mask": mask, "pixels": pixels, "fps": np.float64(sequence.fps)}


def mediapipe_take(root: Path, smoothing: bool, pose_model: str | None) -> dict[str, np.ndarray]:
    """The video through the stream's pose step: unified joints and image points mirrored back, visibility."""
    from stream.run.config import RunConfig
    from stream.sources import make_source
    from stream.run.assembly import make_pose_estimator, make_source_config

    video = root / "videos" / f"{TAKE}_rgb.avi"
    config = RunConfig(source="video", video=str(video), fast=True, smoothing=smoothing, pose_model=pose_model)
    frames = []
    with make_pose_estimator(config) as estimator, make_source(make_source_config(config)) as source:
        for frame in source:
            people = estimator.estimate(frame)
            if not people:
                frames.append(None)
                continue
            person = max(people, key=lambda p: np.ptp(p.image_points[:, 1]))  # the tallest in the image
            frames.append(person)
    present = np.array([p is not None for p in frames])
    filler = np.zeros((33, 3), np.float32), np.zeros(33, np.float32), np.zeros((33, 2), np.float32)
    joints = np.stack([p.joints if p is not None else filler[0] for p in frames])
    visibility = np.stack([p.confidence if p is not None else filler[1] for p in frames])
    points = np.stack([p.image_points if p is not None else filler[2] for p in frames])
    unified, mask = to_unified(joints, visibility, MEDIAPIPE_33)
    unified_points, _ = to_unified(points, visibility, MEDIAPIPE_33)
    return {"joints": unified[:, SWAP] * MIRROR_X, "mask": mask[:, SWAP], "pixels": unified_points[:, SWAP],
            "present": present}  # fmt: skip


def model_input(joints: np.ndarray, mask: np.ndarray, config: CheckpointConfig) -> np.ndarray:
    """The clip normalised as one window with the checkpoint's normalisation: (T, 30, 3) in torso units."""
    normalized, _ = normalize_window(joints[:, None], mask[:, None], UNIFIED_30, config.normalization)
    return normalized[:, 0]


def _per_joint(stats: dict[str, np.ndarray], joints: list[int]) -> dict[str, dict[str, Any]]:
    table = {}
    for j in joints:
        table[UNIFIED_30.joint_names[j]] = {
            "frames": int(stats["count"][j]), "median": round(float(stats["median"][j]), 5),
            "p90": round(float(stats["p90"][j]), 5),
            **{key: np.round(stats[key][j], 5).tolist() for key in ("bias", "std", "slow_std", "fast_std")},
        }  # fmt: skip
    return table


def _error_space(estimate: np.ndarray, reference: np.ndarray, valid: np.ndarray, used: list[int]) -> dict:
    """Per-joint statistics, the overall median error and the per-axis error of one comparison space."""
    error = estimate[:, used] - reference[:, used]
    ok = valid[:, used]
    values = error[ok]  # (n, C)
    axes = {axis: {"median_abs": round(float(np.median(np.abs(values[:, a]))), 5),
                   "rms": round(float(np.sqrt(np.mean(values[:, a] ** 2))), 5)}
            for a, axis in enumerate(AXES[: values.shape[1]])}  # fmt: skip
    return {"overall_median": round(float(np.median(np.linalg.norm(values, axis=-1))), 5), "per_axis": axes,
            "per_joint": _per_joint(joint_errors(estimate, reference, valid), used)}  # fmt: skip


def _jitter(x: np.ndarray, valid: np.ndarray, used: list[int]) -> dict[str, Any]:
    """White frame-to-frame noise per joint and axis (`white_noise_std`), and its mean over joints."""
    sigma = white_noise_std(x[:, used], valid[:, used])  # (J, 3)
    return {"per_axis_mean": dict(zip(AXES, np.nanmean(sigma, axis=0).round(5).tolist())),
            "per_joint": {UNIFIED_30.joint_names[j]: sigma[i].round(5).tolist()
                          for i, j in enumerate(used)}}  # fmt: skip


def _best_lag(estimate: np.ndarray, reference: np.ndarray, valid: np.ndarray, joints: list[int]) -> int:
    """The shift in frames (positive: the estimate lags) that minimises the mean error over ``joints``."""
    errors = {}
    for lag in range(-MAX_LAG_FRAMES, MAX_LAG_FRAMES + 1):
        late, early = slice(max(lag, 0), len(estimate) + min(lag, 0)), slice(max(-lag, 0), len(estimate) + min(-lag, 0))
        ok = (valid[late] & valid[early])[:, joints]
        distance = np.linalg.norm(estimate[late][:, joints] - reference[early][:, joints], axis=-1)
        errors[lag] = float(np.mean(distance[ok]))
    return min(errors, key=errors.get)


def _scale(m_rel: np.ndarray, k_rel: np.ndarray, valid: np.ndarray, used: list[int]) -> dict[str, Any]:
    root, top, head = _index("spine_base"), _index("spine_shoulder"), _index("head")
    ankles = [_index("ankle_left"), _index("ankle_right")]
    torso = length_ratio(m_rel, k_rel, valid, top, root)
    tall = valid[:, head] & valid[:, ankles].all(axis=1)

    def height(x: np.ndarray) -> np.ndarray:
        return np.linalg.norm(x[tall, head] - x[tall][:, ankles].mean(axis=1), axis=-1)

    bones = {}
    for child, parent in UNIFIED_30.bones:
        ratio = length_ratio(m_rel, k_rel, valid, child, parent) if child in used and parent in used else None
        if ratio is not None and np.isfinite(ratio).any():
            name = f"{UNIFIED_30.joint_names[parent]}-{UNIFIED_30.joint_names[child]}"
            bones[name] = {"median": round(float(np.nanmedian(ratio)), 4),
                           "iqr": round(float(np.subtract(*np.nanpercentile(ratio, [75, 25]))), 4)}  # fmt: skip
    return {
        "kinect_torso_m": round(float(np.median(np.linalg.norm(k_rel[valid[:, top], top], axis=-1))), 4),
        "mediapipe_torso_m": round(float(np.median(np.linalg.norm(m_rel[valid[:, top], top], axis=-1))), 4),
        "torso_ratio_median": round(float(np.nanmedian(torso)), 4),
        "torso_ratio_iqr": round(float(np.subtract(*np.nanpercentile(torso, [75, 25]))), 4),
        "height_ratio_median": round(float(np.median(height(m_rel) / height(k_rel))), 4),
        "bone_ratio": bones,
    }


def _confidence(kinect: dict, mediapipe: dict, error_m: np.ndarray, valid: np.ndarray, used: list[int]) -> dict:
    names = [UNIFIED_30.joint_names[j] for j in used]
    visibility = mediapipe["mask"][mediapipe["present"]][:, used]
    k_mask = kinect["mask"][:, used]
    low = (mediapipe["mask"] < LOW_VISIBILITY) & valid
    high = (mediapipe["mask"] >= LOW_VISIBILITY) & valid
    return {
        "mediapipe_mean_visibility": dict(zip(names, visibility.mean(axis=0).round(3).tolist())),
        f"mediapipe_below_{LOW_VISIBILITY}": dict(zip(names,
                                                      (visibility < LOW_VISIBILITY).mean(axis=0).round(3).tolist())),
        "mediapipe_missing": dict(zip(names, (visibility == 0).mean(axis=0).round(3).tolist())),
        f"error_m_median_visibility_below_{LOW_VISIBILITY}": float(np.median(error_m[low])) if low.any() else None,
        f"error_m_median_visibility_at_least_{LOW_VISIBILITY}": float(np.median(error_m[high])) if high.any() else None,
        "kinect_inferred": dict(zip(names, (k_mask == 0.5).mean(axis=0).round(3).tolist())),
        "kinect_missing": dict(zip(names, (k_mask == 0).mean(axis=0).round(3).tolist())),
    }


def _rms(x: np.ndarray) -> dict[str, float]:
    return dict(zip(AXES, np.sqrt(np.mean(x**2, axis=0)).round(4).tolist()))


def compare(kinect: dict[str, np.ndarray], mediapipe: dict[str, np.ndarray], config: CheckpointConfig) -> dict:
    """Every comparison of the module docstring for one MediaPipe run against the Kinect."""
    used = [_index(name) for name in (config.normalization.joints or UNIFIED_30.joint_names)]
    root = _index("spine_base")
    present = mediapipe["present"]
    k_valid = kinect["mask"] >= 1.0  # tracked; an inferred joint (0.5) is the Kinect's guess, not a reference
    valid = k_valid & (mediapipe["mask"] > 0) & present[:, None]
    inferred = (kinect["mask"] == 0.5) & (mediapipe["mask"] > 0) & present[:, None]
    k_rel = kinect["joints"] - kinect["joints"][:, root : root + 1]
    m_rel = mediapipe["joints"] - mediapipe["joints"][:, root : root + 1]
    k_in = model_input(kinect["joints"], kinect["mask"], config)
    m_in = model_input(mediapipe["joints"], np.where(present[:, None], mediapipe["mask"], 0.0), config)
    arms = [_index(f"{part}_{side}") for part in ("wrist", "elbow") for side in ("left", "right")]
    k_root = kinect["joints"][k_valid[:, root], root]
    distance_m = np.linalg.norm(m_rel - k_rel, axis=-1)
    return {
        "frames": int(len(present)), "frames_with_person": int(present.sum()),
        "joints": [UNIFIED_30.joint_names[j] for j in used],
        "metres": _error_space(m_rel, k_rel, valid, used),
        "metres_where_kinect_inferred": {"per_joint_median": {
            UNIFIED_30.joint_names[j]: round(float(np.median(distance_m[inferred[:, j], j])), 4)
            for j in used if inferred[:, j].sum() >= 5}},  # fmt: skip
        "model_input": _error_space(m_in, k_in, valid, used),
        "model_input_root_relative": _error_space(m_in - m_in[:, root : root + 1], k_in - k_in[:, root : root + 1],
                                                  valid, used),
        "image_px": {**_error_space(mediapipe["pixels"], kinect["pixels"], valid, used),
                     "kinect_torso_px": round(float(np.median(np.linalg.norm(
                         kinect["pixels"][:, _index("spine_shoulder")] - kinect["pixels"][:, root], axis=-1))), 2)},
        "scale": _scale(m_rel, k_rel, valid, used),
        "confidence": _confidence(kinect, mediapipe, distance_m, valid, used),
        "jitter_m": {"kinect": _jitter(k_rel, k_valid, used), "mediapipe": _jitter(m_rel, valid, used)},
        "jitter_model_input": {"kinect": _jitter(k_in, k_valid, used), "mediapipe": _jitter(m_in, valid, used)},
        "root_motion_rms": {"kinect_m": _rms(k_root - k_root.mean(axis=0)),
                            "kinect_model_input": _rms(k_in[k_valid[:, root], root]),
                            "mediapipe_world_m": _rms(mediapipe["joints"][present, root]),
                            "mediapipe_model_input": _rms(m_in[present, root])},
        "lag_frames": _best_lag(m_rel, k_rel, valid, arms),
    }  # fmt: skip


def augmentation_numbers(result: dict, used: list[str]) -> dict[str, Any]:
    """The numbers a "MediaPipe-like" augmentation of Kinect windows needs, in model-input (torso) units.

    Per-joint numbers are root-relative (each frame's spine_base at the origin): the Kinect's root motion,
    which MediaPipe lacks, is reported apart (``root_motion``) and is not counted as joint error.
    ``fast_std`` is MediaPipe's white noise beyond the Kinect's own (subtracted in quadrature).
    """
    model = result["model_input_root_relative"]
    k_jitter = result["jitter_model_input"]["kinect"]["per_joint"]
    m_jitter = result["jitter_model_input"]["mediapipe"]["per_joint"]
    fast = {name: np.sqrt(np.maximum(np.square(m_jitter[name]) - np.square(k_jitter[name]), 0.0)).round(5).tolist()
            for name in used}  # fmt: skip
    axes = model["per_axis"]
    return {
        "units": "model input: torso lengths, after the checkpoint's normalisation (centre, hip alignment, scale)",
        "joint_bias": {name: model["per_joint"][name]["bias"] for name in used},
        "joint_slow_std": {name: model["per_joint"][name]["slow_std"] for name in used},
        "joint_fast_std": fast,
        "depth_to_lateral_rms": round(axes["z"]["rms"] / np.mean([axes["x"]["rms"], axes["y"]["rms"]]), 3),
        "torso_ratio": {"median": result["scale"]["torso_ratio_median"], "iqr": result["scale"]["torso_ratio_iqr"]},
        "bone_ratio": result["scale"]["bone_ratio"],
        "low_visibility_rate": result["confidence"][f"mediapipe_below_{LOW_VISIBILITY}"],
        "root_motion": {"mediapipe": "none: world landmarks are hip-centred every frame",
                        "kinect_rms": result["root_motion_rms"]["kinect_model_input"]},
        "lag_frames_at_30fps": result["lag_frames"],
    }


def format_table(result: dict, raw: dict) -> str:
    """Per joint: error in metres and torso units, bias and spread, jitter of each source, visibility."""
    names = result["joints"]
    metres, model = result["metres"]["per_joint"], result["model_input"]["per_joint"]
    relative = result["model_input_root_relative"]["per_joint"]
    jk, jm = result["jitter_m"]["kinect"]["per_joint"], result["jitter_m"]["mediapipe"]["per_joint"]
    jr = raw["jitter_m"]["mediapipe"]["per_joint"]
    visibility = result["confidence"]["mediapipe_mean_visibility"]
    lines = ["Kinect-tracked frames only. err: median error in metres (each skeleton centred on its spine_base) and "
             "in the model's input (torso units); bias, std: of the model input with each frame's spine_base at 0; "
             "jitter: white frame-to-frame noise (RMS second difference / sqrt 6)",
             f"{'joint':<15}{'err m':>7}{'err torso':>10}  {'bias torso (x y z)':<22}{'std torso (x y z)':<22}"
             f"{'jitter mm K / MP / MP raw':>26}{'vis':>6}",  # fmt: skip
             "-" * 108]
    for name in names:
        bias = " ".join(f"{v:+.2f}" for v in relative[name]["bias"])
        std = " ".join(f"{v:.2f}" for v in relative[name]["std"])
        jitter = f"{1000 * np.mean(jk[name]):.1f} / {1000 * np.mean(jm[name]):.1f} / {1000 * np.mean(jr[name]):.1f}"
        lines.append(f"{name:<15}{metres[name]['median']:>7.3f}{model[name]['median']:>10.3f}  {bias:<22}{std:<22}"
                     f"{jitter:>26}{visibility[name]:>6.2f}")  # fmt: skip
    lines.append("-" * 108)
    axes_m, axes_in = result["metres"]["per_axis"], result["model_input"]["per_axis"]
    for stat in ("median_abs", "rms"):
        lines.append(f"error per axis, {stat}: metres " + ", ".join(f"{a} {axes_m[a][stat]:.3f}" for a in AXES)
                     + "; torso units " + ", ".join(f"{a} {axes_in[a][stat]:.3f}" for a in AXES))  # fmt: skip
    scale = result["scale"]
    lines.append(f"scale: torso {scale['mediapipe_torso_m']:.3f} m (MediaPipe) vs {scale['kinect_torso_m']:.3f} m "
                 f"(Kinect), ratio {scale['torso_ratio_median']:.3f} (IQR {scale['torso_ratio_iqr']:.3f}); "
                 f"height ratio {scale['height_ratio_median']:.3f}")  # fmt: skip
    root = result["root_motion_rms"]
    kinect_root = ", ".join(f"{a} {root['kinect_model_input'][a]:.3f}" for a in AXES)
    mediapipe_root = ", ".join(f"{a} {root['mediapipe_model_input'][a]:.3f}" for a in AXES)
    lines.append(f"root motion RMS, model input: Kinect {kinect_root}; MediaPipe {mediapipe_root}")
    image = result["image_px"]
    lines.append(f"image: median {image['overall_median']:.1f} px (Kinect torso {image['kinect_torso_px']:.0f} px); "
                 f"smoothed landmarks lag the Kinect by {result['lag_frames']} frames "
                 f"(raw: {raw['lag_frames']})")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help=f"the shared data root (default {DATA})")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT), help="whose normalisation the model uses")
    parser.add_argument("--pose-model", help="a MediaPipe .task (default: stream-run's)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not (args.data / "ntu_rgbd_skeleton" / f"{TAKE}.skeleton").is_file():
        print(f"pose_gap: the NTU take {TAKE} is not under {args.data}", file=sys.stderr)
        return 2
    config = read_config(args.checkpoint)
    kinect = kinect_take(args.data)
    from stream.pose.native_log import NativeLogFilter

    with NativeLogFilter():  # MediaPipe's and TFLite's informational lines
        runs = {name: mediapipe_take(args.data, smoothing, args.pose_model)
                for name, smoothing in (("smoothed", True), ("raw", False))}  # fmt: skip
    results = {name: compare(kinect, run, config) for name, run in runs.items()}
    used = results["smoothed"]["joints"]
    print(f"{TAKE}: Kinect v2 vs MediaPipe (stream-run's pose step), {results['smoothed']['frames']} frames, "
          f"{config.normalization.center_joint}-centred; torso = the model's unit")  # fmt: skip
    print(format_table(results["smoothed"], results["raw"]))
    output = {
        "take": TAKE, "checkpoint": args.checkpoint, "normalization": config.normalization.to_dict(),
        "smoothed": results["smoothed"], "raw": results["raw"],
        "augmentation": augmentation_numbers(results["smoothed"], used),
        "machine": machine_info(), "date": time.strftime("%Y-%m-%d %H:%M"),
    }  # fmt: skip
    write_results(args.json, output, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
