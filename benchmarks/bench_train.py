"""Trainer speed: genesis's on-device batches against a plain PyTorch loop with a DataLoader.

Both train the same compiled model (same architecture, same seed, same optimizer, batch size,
label smoothing and augmentation: random crop with 3-pixel padding) on the same Fashion-MNIST
examples, for the same number of steps, side by side in one run. The baseline is the loop most
PyTorch code has: a ``Dataset`` whose ``__getitem__`` crops one example, a ``DataLoader`` that
shuffles and collates, and a copy of each batch to the device. Prints examples per second of
each and their ratio (target >= 1.0). On CUDA it also prints the epoch time of the default
network on the full training set.

Run: ``python benchmarks/bench_train.py [--examples N] [--steps N] [--device cpu|cuda]``.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset

from genesis.compiler import compile_architecture
from genesis.data import load_dataset, make_splits
from genesis.presets import build_architecture
from genesis.train import Budget, resolve_device, train_architecture


class CroppedImages(TorchDataset):
    """The usual per-example pipeline: to float, normalise, pad, random crop."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, pad: int):
        self.x, self.y, self.pad = x, y, pad
        xf = x.float() / 255
        self.mean, self.std = xf.mean().item(), xf.std().item()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        img = (self.x[i].float() / 255 - self.mean) / self.std
        p = self.pad
        img = F.pad(img, (p, p, p, p))
        dy, dx = torch.randint(0, 2 * p + 1, (2,)).tolist()
        h, w = self.x.shape[-2:]
        return img[:, dy : dy + h, dx : dx + w], self.y[i]


def baseline(arch, splits, device, steps: int, workers: int) -> float:
    """Examples per second of the plain DataLoader loop."""
    torch.manual_seed(0)
    model = compile_architecture(arch, seed=0).to(device)
    cfg = arch.train
    opt = torch.optim.SGD(
        model.parameters(),
        lr=cfg.lr,
        momentum=cfg.momentum,
        nesterov=True,
        weight_decay=cfg.weight_decay,
    )
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    loader = DataLoader(
        CroppedImages(splits.train_x, splits.train_y, 3),
        batch_size=cfg.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0,
    )
    done, seen = 0, 0
    start = None
    while done < steps + 2:
        for xb, yb in loader:
            if done == 2:  # warm-up steps excluded, as in the trainer's rate
                if device.type == "cuda":
                    torch.cuda.synchronize()
                start, seen = time.perf_counter(), 0
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            model.train()
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xb), yb).backward()
            opt.step()
            done += 1
            seen += len(yb)
            if done >= steps + 2:
                break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def genesis_rate(arch, splits, device, steps: int) -> tuple[float, float]:
    """Examples per second of genesis's trainer over ``steps`` steps, and its wall time."""
    per_epoch = len(splits.train_y) // arch.train.batch_size
    result = train_architecture(
        arch, splits, seed=0, device=device, budget=Budget(epochs=steps / per_epoch)
    )
    assert result.status == "ok", result.error
    return result.samples_per_second, result.train_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=12800, help="training examples used")
    parser.add_argument("--steps", type=int, default=60, help="training steps each")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers of the baseline")
    args = parser.parse_args()
    device = resolve_device(args.device)
    arch = build_architecture("fashion-mnist", seed=0)
    splits = make_splits(load_dataset("fashion-mnist"), subset=args.examples)
    print(
        f"machine: {platform.node()} {platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}, device {device}"
        + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "")
    )
    rounds = []
    for _ in range(2):  # alternate, keep each one's best: fair under machine noise
        fast, _ = genesis_rate(arch, splits, device, args.steps)
        slow = baseline(arch, splits, device, args.steps, args.workers)
        rounds.append((fast, slow))
    fast = max(r[0] for r in rounds)
    slow = max(r[1] for r in rounds)
    print(
        f"fashion-mnist preset, batch {arch.train.batch_size}, {args.steps} steps: genesis "
        f"{fast:8.0f} ex/s, DataLoader loop ({args.workers} workers) {slow:8.0f} ex/s, "
        f"ratio {fast / slow:.2f}"
    )
    if device.type == "cuda":
        full = make_splits(load_dataset("fashion-mnist"))
        result = train_architecture(arch, full, seed=0, device=device, budget=Budget(epochs=1))
        print(
            f"one epoch of the default network on {len(full.train_y)} examples: "
            f"{result.train_seconds:.1f} s ({result.samples_per_second:.0f} ex/s), "
            f"val accuracy {result.accuracy:.4f}"
        )


if __name__ == "__main__":
    main()
