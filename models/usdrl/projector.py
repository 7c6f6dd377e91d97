"""The three USDRL domain projectors: 3-layer MLPs with BatchNorm (DESIGN.md §3).

Each projector is ``Linear-BN-ReLU, Linear-BN-ReLU, Linear``. The official code
(``model/DSTE.py::USDRL``) with encoder width d = 1024 uses:

- temporal and spatial: d → 2048 → 2048 → 2048;
- instance: 2d → 2048 → 2048 → 4096.

`ProjectorConfig` holds the widths so a small CPU run can use e.g. 256.
Weights are initialised as the official code does: trunc-normal (std 0.02)
Linear weights, zero biases; BatchNorm at its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn


@dataclass(frozen=True)
class ProjectorConfig:
    """Widths of the three projectors (defaults: the paper's).

    Attributes:
        width: hidden width of the temporal and spatial projectors.
        out_dim: output width of the temporal and spatial projectors.
        instance_width: hidden width of the instance projector.
        instance_out_dim: output width of the instance projector.
    """

    width: int = 2048
    out_dim: int = 2048
    instance_width: int = 2048
    instance_out_dim: int = 4096

    def __post_init__(self) -> None:
        for name in ("width", "out_dim", "instance_width", "instance_out_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"ProjectorConfig.{name} must be >= 1, got {getattr(self, name)}")


class Projector(nn.Sequential):
    """``Linear-BN-ReLU, Linear-BN-ReLU, Linear``: (N, in_dim) -> (N, out_dim)."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int) -> None:
        if min(in_dim, hidden_dim, out_dim) < 1:
            raise ValueError(f"projector widths must be >= 1, got {in_dim}, {hidden_dim}, {out_dim}")
        super().__init__(
            nn.Linear(in_dim, hidden_dim),
            nn.BatchNorm1d(hidden_dim),
            nn.ReLU(inplace=True),
            nn.Linear(hidden_dim, hidden_dim),
            nn.BatchNorm1d(hidden_dim),
            nn.ReLU(inplace=True),
            nn.Linear(hidden_dim, out_dim),
        )
        self.in_dim, self.out_dim = in_dim, out_dim
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)


class DomainProjectors(nn.Module):
    """The temporal, spatial and instance projectors for an encoder of width ``feature_dim``.

    Inputs are pooled features: temporal (N, d), spatial (N, d), global (N, 2d).
    """

    def __init__(self, feature_dim: int, config: ProjectorConfig = ProjectorConfig()) -> None:
        super().__init__()
        if feature_dim < 1:
            raise ValueError(f"feature_dim must be >= 1, got {feature_dim}")
        self.feature_dim = feature_dim
        self.config = config
        self.temporal = Projector(feature_dim, config.width, config.out_dim)
        self.spatial = Projector(feature_dim, config.width, config.out_dim)
        self.instance = Projector(2 * feature_dim, config.instance_width, config.instance_out_dim)

    def forward(self, temporal: Tensor, spatial: Tensor, global_: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Project pooled features; returns ``(z_t, z_s, z_i)``."""
        return self.temporal(temporal), self.spatial(spatial), self.instance(global_)

