"""Training throughput: windows per second and achieved FLOP/s of one G+D step.

The FLOPs of one full training step (D update on real, generated and mismatched
pairs, then G update; forward and backward) are counted with
``torch.utils.flop_counter``; the machine's dense ceiling for the same precision is the
larger of a 2048^3 matmul and a large channels-last conv2d, measured in the same run.

    .venv/bin/python benchmarks/train_throughput.py                     # default model, fp32 and bf16
    .venv/bin/python benchmarks/train_throughput.py --batch 128 --config my.toml
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from segue.commands.train import load_configs, training_pieces
from segue.training.trainer import Trainer


def timed(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds per call after one warm-up call."""
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def ceiling(dtype: torch.dtype) -> tuple[float, str]:
    """The larger of a 2048^3 matmul's and a channels-last conv2d's FLOP/s, and which."""
    a = torch.randn(2048, 2048, dtype=dtype)
    b = torch.randn(2048, 2048, dtype=dtype)
    matmul = 2 * 2048**3 / timed(lambda: a @ b, 5)
    conv = torch.nn.Conv2d(256, 256, 3, padding=1).to(dtype=dtype, memory_format=torch.channels_last)
    x = torch.randn(16, 256, 32, 32, dtype=dtype).to(memory_format=torch.channels_last)
    with torch.no_grad():
        conv_rate = 2 * 16 * 256 * 256 * 9 * 32 * 32 / timed(lambda: conv(x), 5)
    return (matmul, "matmul 2048^3") if matmul > conv_rate else (conv_rate, "conv2d 3x3 256ch channels-last")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, help="TOML with [model] and [train] tables")
    parser.add_argument("--batch", type=int, nargs="+", default=None, help="batch sizes (default: config's)")
    parser.add_argument("--precision", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per setting")
    args = parser.parse_args()
    model_config, train_config = load_configs(args.config, None)
    train, _, _ = training_pieces(None)
    params = None
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    columns = ["precision", "batch", "ms per step", "windows/s", "GFLOP per step", "achieved GFLOP/s"]
    print("| " + " | ".join([*columns, "ceiling GFLOP/s", "share"]) + " |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for precision in args.precision:
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        peak, peak_kind = ceiling(dtype)
        for batch in args.batch or [train_config.batch_size]:
            config = dataclasses.replace(train_config, batch_size=batch, precision=precision)
            trainer = Trainer("/tmp/segue-throughput", model_config, config, train, progress=False)
            params = sum(p.numel() for net in (trainer.G, trainer.D) for p in net.parameters())
            with FlopCounterMode(display=False) as counter:
                trainer.train_step()
            flops = counter.get_total_flops()
            seconds = timed(trainer.train_step, args.steps)
            cells = [
                precision,
                batch,
                f"{1000 * seconds:.0f}",
                f"{batch / seconds:,.0f}",
                f"{flops / 1e9:.2f}",
            ]
            cells += [
                f"{flops / seconds / 1e9:.1f}",
                f"{peak / 1e9:.0f} ({peak_kind})",
                f"{flops / seconds / peak:.1%}",
            ]
            print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)
    print(f"model: {params:,} parameters (G + D)")


if __name__ == "__main__":
    main()
