"""Mapping any layout into ``unified_30``, the heterogeneous-skeleton layout.

Each unified joint is a weighted sum of source joints (a layout's
``unified_rules``). Its confidence is the smallest confidence among the joints
it is built from; unified joints the source layout lacks get confidence 0 and
take the position of their nearest present ancestor, so bones stay short
instead of pointing at the origin. Positions of missing joints are therefore
placeholders: always read them together with the mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from models.skeleton.layouts import UNIFIED_30, Layout, get_layout
from models.skeleton.sequence import SkeletonSequence


@lru_cache(maxsize=None)
def unified_weights(layout_name: str) -> tuple[np.ndarray, np.ndarray]:
    """(30, V) weight matrix and (30, V) bool matrix of which source joints feed each unified joint."""
    layout = get_layout(layout_name)
    weights = np.zeros((UNIFIED_30.num_joints, layout.num_joints), dtype=np.float32)
    for target, rule in layout.unified_rules.items():
        row = UNIFIED_30.index(target)
        for source, weight in rule:
            weights[row, layout.index(source)] += weight
    return weights, weights != 0


def topological_order(layout: Layout) -> np.ndarray:
    """Joint indices ordered so that every parent comes before its children."""
    return _topological_order(layout.name, tuple(layout.parent_indices)).copy()


def joint_depths(parents: Sequence[int] | np.ndarray) -> np.ndarray:
    """(V,) edges from each joint to its root, for parent indices where a root is its own parent."""
    depth = np.zeros(len(parents), dtype=np.int64)
    for joint in range(len(parents)):
        node = joint
        while parents[node] != node:
            node = parents[node]
            depth[joint] += 1
            if depth[joint] > len(parents):
                raise ValueError("parent indices contain a cycle")
    return depth


@lru_cache(maxsize=None)
def _topological_order(name: str, parents: tuple[int, ...]) -> np.ndarray:
    return np.argsort(joint_depths(parents), kind="stable")


def fill_missing(joints: np.ndarray, mask: np.ndarray, layout: Layout) -> np.ndarray:
    """Copy of ``joints`` (..., V, C) where joints with mask 0 take their nearest present ancestor's position.

    A joint with no present ancestor keeps its value (an absent body stays as it is). Only joints missing
    somewhere in a skeleton that has a present joint are visited (the stream calls this per person and
    per window: usually few are).
    """
    filled = np.array(joints, dtype=np.float32, copy=True)
    present = np.asarray(mask) > 0
    parents = layout.parent_indices
    fillable = (~present & present.any(axis=-1, keepdims=True)).reshape(-1, present.shape[-1]).any(axis=0)
    if not fillable.any():
        return filled
    carried = present.copy()
    order = _topological_order(layout.name, tuple(parents))
    for joint in order[fillable[order]]:
        parent = parents[joint]
        if parent == joint:
            continue
        take = ~present[..., joint] & carried[..., parent]
        filled[..., joint, :] = np.where(take[..., None], filled[..., parent, :], filled[..., joint, :])
        carried[..., joint] |= take
    return filled


def to_unified(joints: np.ndarray, mask: np.ndarray, layout: Layout | str) -> tuple[np.ndarray, np.ndarray]:
    """Map ``joints`` (..., V, C) with confidences ``mask`` (..., V) into unified_30.

    Returns joints (..., 30, C) float32 and mask (..., 30) float32.
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    if joints.shape[-2] != layout.num_joints or mask.shape != joints.shape[:-1]:
        raise ValueError(
            f"layout {layout.name} has {layout.num_joints} joints; got joints {joints.shape}, mask {mask.shape}"
        )
    weights, feeds = unified_weights(layout.name)
    clean = np.nan_to_num(np.asarray(joints, dtype=np.float32))
    unified = np.einsum("uv,...vc->...uc", weights, clean)
    source_conf = np.where(feeds, np.asarray(mask, dtype=np.float32)[..., None, :], np.inf)
    unified_mask = np.min(source_conf, axis=-1)
    unified_mask[..., ~feeds.any(axis=1)] = 0.0
    unified_mask = unified_mask.astype(np.float32)
    return fill_missing(unified, unified_mask, UNIFIED_30), unified_mask


def sequence_to_unified(sequence: SkeletonSequence) -> SkeletonSequence:
    """The same sequence in unified_30.

    Per-joint projections of shape (T, M, V, C) (e.g. colour pixels) are mapped
    with the same rules; others (per-joint scalars) are not carried over.
    """
    if sequence.layout == UNIFIED_30.name:
        return sequence
    joints, mask = to_unified(sequence.joints, sequence.mask, sequence.layout)
    projections = {
        key: to_unified(value, sequence.mask, sequence.layout)[0]
        for key, value in sequence.projections.items()
        if value.ndim == 4 and value.shape[:3] == sequence.mask.shape
    }
    return SkeletonSequence(
        joints=joints,
        mask=mask,
        layout=UNIFIED_30.name,
        fps=sequence.fps,
        frame_ids=sequence.frame_ids,
        name=sequence.name,
        label=sequence.label,
        segments=list(sequence.segments),
        subject=sequence.subject,
        projections=projections,
        skipped=dict(sequence.skipped),
        action_points=list(sequence.action_points),
        attributes=dict(sequence.attributes),
    )
