"""The training loop shared by every task: optimiser and schedule, AMP, DDP, resume, logs, checkpoints.

Single process: ``stream-train ...``. Several GPUs or nodes: ``torchrun
--nproc_per_node=N -m models.cli.train ...`` (DistributedDataParallel; rank 0
logs and writes checkpoints).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler

from models.checkpoint import save_checkpoint
from models.training.config import TrainConfig
from models.training.tasks import TASK_TYPES, Task

logger = logging.getLogger(__name__)
STATE_FILE = "train_state.pt"


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _distributed() -> tuple[int, int]:
    """(rank, world size), initialising the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return (dist.get_rank() if world > 1 else 0), world


def _schedule(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up then cosine decay, per step."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class _Logs:
    """CSV log (always) and TensorBoard (when installed) of per-step and per-epoch values."""

    def __init__(self, directory: Path) -> None:
        self.csv_path = directory / "log.csv"
        self.rows: list[dict[str, Any]] = []
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.board = SummaryWriter(str(directory / "tensorboard"))
        except ImportError:
            self.board = None

    def write(self, step: int, values: dict[str, float]) -> None:
        row = {"step": step, **values}
        self.rows.append(row)
        keys = sorted({k for r in self.rows for k in r} - {"step"})
        with self.csv_path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["step", *keys])
            writer.writeheader()
            writer.writerows(self.rows)
        if self.board is not None:
            for key, value in values.items():
                self.board.add_scalar(key, value, step)

    def close(self) -> None:
        if self.board is not None:
            self.board.close()


def _scalars(metrics: dict[str, Any], prefix: str = "val/") -> dict[str, float]:
    flat = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(_scalars(value, f"{prefix}{key}/"))
        elif isinstance(value, (int, float)):
            flat[f"{prefix}{key}"] = float(value)
    return flat


def _summary(metrics: dict[str, Any]) -> dict[str, float]:
    """The scalars an epoch logs: all but the per-class APs and the error breakdown (the checkpoint keeps those)."""
    return {k: v for k, v in _scalars(metrics).items() if "frame_ap" not in k and "frame_errors" not in k}


def train(config: TrainConfig, command: str = "") -> dict[str, Any] | None:
    """Run one training job; returns the final evaluation metrics on rank 0, None on the other ranks."""
    from tqdm import tqdm

    rank, world = _distributed()
    torch.manual_seed(config.seed + rank)
    device = _device(config.device)
    output = Path(config.output)
    if rank == 0:
        output.mkdir(parents=True, exist_ok=True)
        (output / "train_config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")

    task: Task = TASK_TYPES[config.task](config)
    trainable = task.trainable.to(device)
    task.model.to(device)
    loss_module: torch.nn.Module = _TaskLoss(task)
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        # Only the temporal-only head leaves parameters (the spatial stream) out of the loss.
        unused = config.task == "detect" and task.checkpoint.model.frame_feature == "temporal"
        loss_module = torch.nn.parallel.DistributedDataParallel(loss_module, device_ids=ids, find_unused_parameters=unused)
    params = [p for p in trainable.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(params, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay, nesterov=True)
    else:
        kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
        optimizer = kind(params, lr=config.lr, weight_decay=config.weight_decay)
    sampler = DistributedSampler(task.train_data, shuffle=True, seed=config.seed) if world > 1 else None
    loader = DataLoader(task.train_data, batch_size=config.batch_size, shuffle=sampler is None, sampler=sampler,
                        num_workers=config.num_workers, drop_last=len(task.train_data) > config.batch_size)  # fmt: skip
    total_steps = config.epochs * len(loader)
    scheduler = _schedule(optimizer, config.warmup_epochs * len(loader), total_steps)
    use_amp = config.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)

    start_epoch, step = 0, 0
    state_path = output / STATE_FILE
    if config.resume and state_path.is_file():
        state = torch.load(state_path, map_location=device, weights_only=True)
        trainable.load_state_dict(state["trainable"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, step = state["epoch"], state["step"]
        logger.info("resumed from %s at epoch %d", state_path, start_epoch)

    logs = _Logs(output) if rank == 0 else None
    generator = torch.Generator().manual_seed(config.seed * 1000 + rank)
    metrics: dict[str, Any] = {}
    for epoch in range(start_epoch, config.epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        if hasattr(task.train_data, "set_epoch"):
            task.train_data.set_epoch(epoch)
        trainable.train()
        started = time.perf_counter()
        bar = tqdm(loader, desc=f"{config.task} epoch {epoch + 1}/{config.epochs}", disable=rank != 0, leave=False)
        for batch in bar:
            batch = [b.to(device, non_blocking=True) if torch.is_tensor(b) else b for b in batch]
            with torch.autocast(device.type, enabled=use_amp):
                losses = loss_module(batch, generator)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(losses["total"]).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            step += 1
            bar.set_postfix(loss=f"{losses['total'].item():.4f}")
            if logs is not None and step % 10 == 0:
                logs.write(step, {f"train/{k}": v.item() for k, v in losses.items()} | {"lr": scheduler.get_last_lr()[0]})
        if rank == 0:
            task.model.eval()
            metrics = task.evaluate()
            summary = _summary(metrics)
            logs.write(step, summary | {"epoch_seconds": time.perf_counter() - started})
            logger.info("epoch %d/%d loss %.4f %s", epoch + 1, config.epochs, losses["total"].item(),
                        " ".join(f"{k}={v:.4f}" for k, v in summary.items()))  # fmt: skip
            torch.save({"trainable": trainable.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "epoch": epoch + 1, "step": step}, state_path)  # fmt: skip
            task.checkpoint.training = {**task.checkpoint.training, "command": command, "config": config.to_dict(),
                                        "epochs_done": epoch + 1}
            task.checkpoint.metrics = {"validation": metrics} if metrics else {}
            save_checkpoint(output / "checkpoint", task.model, task.checkpoint)
    if rank == 0:
        task.model.eval()
        finished = task.finish()
        if finished:  # the task changed the model after training (e.g. calibrated its scores): evaluate again
            metrics = task.evaluate()
            task.checkpoint.metrics = {**({"validation": metrics} if metrics else {}), **finished}
            save_checkpoint(output / "checkpoint", task.model, task.checkpoint)
            logger.info("after %s: %s", ", ".join(finished),
                        " ".join(f"{k}={v:.4f}" for k, v in _summary(metrics).items()))  # fmt: skip
    if logs is not None:
        logs.close()
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return metrics if rank == 0 else None


class _TaskLoss(torch.nn.Module):
    """The task's loss as a module, so DistributedDataParallel's forward sees every step."""

    def __init__(self, task: Task) -> None:
        super().__init__()
        self.task = task
        self.trainable = task.trainable

    def forward(self, batch: list, generator: torch.Generator) -> dict[str, torch.Tensor]:
        return self.task.loss(batch, generator)
