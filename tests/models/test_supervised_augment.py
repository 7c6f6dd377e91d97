"""Supervised training augmentation: rigid moves and scale keep a body's proportions; shear changes them."""

import pytest
import torch

from models.skeleton.layouts import UNIFIED_30
from models.training.tasks import SupervisedAugment

N, T, V, M = 8, 16, UNIFIED_30.num_joints, 2


def _bodies() -> torch.Tensor:
    """(N, 3, T, V, M) random first bodies, the second body slot empty."""
    x = torch.zeros(N, 3, T, V, M)
    x[..., 0] = torch.randn(N, 3, T, V, generator=torch.Generator().manual_seed(0))
    return x


def _bone_ratios(x: torch.Tensor) -> torch.Tensor:
    """Each bone's length over the first bone's, per window and frame (first body): unchanged by rotation,
    mirroring (which swaps left and right bones: compared sorted) and uniform scale."""
    parents = torch.as_tensor(UNIFIED_30.parent_indices)
    child = torch.arange(V)[parents != torch.arange(V)]  # the root is its own parent
    lengths = (x[..., child, 0] - x[..., parents[child], 0]).norm(dim=1)  # (N, T, bones)
    return (lengths / lengths[..., :1]).sort(dim=-1).values


def test_without_shear_the_proportions_stay_and_the_empty_slot_stays_empty():
    x = _bodies()
    out = SupervisedAugment(noise=0.0)(x, torch.Generator().manual_seed(1))
    assert out[..., 1].abs().sum() == 0
    assert not torch.allclose(out, x)  # moved ...
    assert torch.allclose(_bone_ratios(out), _bone_ratios(x), rtol=1e-4, atol=1e-5)  # ... rigidly, up to scale


@pytest.mark.parametrize("amount", [0.1, 0.3])
def test_shear_changes_the_proportions_by_about_its_amount(amount):
    x = _bodies()
    out = SupervisedAugment(noise=0.0, shear=amount)(x, torch.Generator().manual_seed(1))
    assert out[..., 1].abs().sum() == 0
    change = (_bone_ratios(out) / _bone_ratios(x) - 1).abs().median().item()
    assert 0.1 * amount < change < 2 * amount
    # one shear per window: every frame of a window gets the same matrix, so a still body stays still
    still = x[:, :, :1].expand(-1, -1, T, -1, -1).clone()
    moved = SupervisedAugment(noise=0.0, shear=amount)(still, torch.Generator().manual_seed(2))
    assert torch.allclose(moved, moved[:, :, :1].expand_as(moved), atol=1e-6)
