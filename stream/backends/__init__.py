"""Model backends behind one interface: windows (N, C, T, V, M) in, per-frame logits (N, T, K + 1) out.

`make_backend(name, checkpoint)` imports a backend only inside its branch, so
optional stacks are needed only by those who use them.
"""

from __future__ import annotations

from pathlib import Path

from stream.backends.base import Backend

BACKENDS = ("torch",)


def make_backend(name: str, checkpoint: str | Path, threads: int = 2, device: str = "cpu") -> Backend:
    """The backend called ``name`` running the checkpoint in ``checkpoint``."""
    if name == "torch":
        from stream.backends.torch_backend import TorchBackend

        return TorchBackend(checkpoint, threads=threads, device=device)
    raise ValueError(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}")
