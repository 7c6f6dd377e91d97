"""The PyTorch reference backend: CPU, or CUDA when asked (optionally FP16 and CUDA graphs).

    TorchBackend(checkpoint)                                          # CPU, FP32, eager: the reference
    TorchBackend(checkpoint, device="cuda", precision="fp16", cuda_graphs=True)

On CUDA, ``precision="fp16"`` runs the model in half precision (logits are
returned as float32), and ``cuda_graphs=True`` captures one CUDA graph per
batch size on first use (a static input buffer is filled and the graph
replayed: no per-kernel launch overhead). Both are CUDA-only: asking for them
on CPU is a ValueError.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from foundation.optional import require
from models.checkpoint import CheckpointError
from stream.backends.base import Backend

PRECISIONS = ("fp32", "fp16")
MAX_GRAPHS = 8  # captured batch sizes kept (least recently used dropped)


class TorchBackend(Backend):
    """Eager PyTorch inference of a detection checkpoint."""

    name = "torch"

    def __init__(
        self,
        checkpoint: str | Path,
        threads: int = 2,
        device: str = "cpu",
        precision: str = "fp32",
        cuda_graphs: bool = False,
    ) -> None:
        torch = require("torch", extra="train", what="the torch backend")

        from models.checkpoint import load_checkpoint

        if precision not in PRECISIONS:
            raise ValueError(f"torch backend: precision must be one of {PRECISIONS}, got {precision!r}")
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"torch backend: device {device!r} asked for, but this torch ({torch.__version__}) "
                             "sees no CUDA GPU")  # fmt: skip
        if self.device.type != "cuda" and (precision != "fp32" or cuda_graphs):
            raise ValueError("torch backend: fp16 and CUDA graphs need device 'cuda'")
        torch.set_num_threads(threads)
        self.model, self.config = load_checkpoint(checkpoint, map_location=self.device)
        if self.config.task != "detection":
            raise CheckpointError(f"{checkpoint}: a {self.config.task} checkpoint cannot label frames; "
                                  "the stream needs a detection checkpoint")  # fmt: skip
        self.precision = precision
        self.dtype = torch.float16 if precision == "fp16" else torch.float32
        if precision == "fp16":
            self.model = self.model.half()
        self.cuda_graphs = cuda_graphs
        self._graphs: OrderedDict[int, tuple] = OrderedDict()
        self._torch = torch

    def run(self, windows: np.ndarray) -> np.ndarray:
        self.check_windows(windows)
        torch = self._torch
        if self.cuda_graphs and windows.shape[0] > 0:
            graph, static_in, static_out = self._graph(windows.shape[0])
            static_in.copy_(torch.from_numpy(windows))  # host → device, cast to the model's dtype
            graph.replay()
            return static_out.float().cpu().numpy()
        with torch.inference_mode():
            x = torch.from_numpy(windows).to(self.device, self.dtype)
            logits = self.model(x)
        return logits.float().cpu().numpy()

    def _graph(self, batch: int) -> tuple:
        """The CUDA graph of one batch size: captured after a few warm-up runs on a side stream."""
        if batch in self._graphs:
            self._graphs.move_to_end(batch)
            return self._graphs[batch]
        torch = self._torch
        static_in = torch.zeros((batch, *self.config.model.input_shape), dtype=self.dtype, device=self.device)
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.inference_mode(), torch.cuda.stream(side):
            for _ in range(3):
                self.model(static_in)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.inference_mode(), torch.cuda.graph(graph):
            static_out = self.model(static_in)
        self._graphs[batch] = (graph, static_in, static_out)
        if len(self._graphs) > MAX_GRAPHS:
            self._graphs.popitem(last=False)
        return self._graphs[batch]
