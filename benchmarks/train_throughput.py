"""Training throughput: windows per second of one G+D step in fp32, bf16 and the default
``auto``, their ratios measured in one run, and the choice ``auto`` made on this machine.

The settings are timed in alternating rounds (the median round of each counts), so that a
busy moment of the machine weighs on all of them alike. The FLOPs of one full training step
(D update on real, generated and mismatched pairs, then G update; forward and backward) are
counted with ``torch.utils.flop_counter``; with ``--ceiling`` the machine's dense ceiling for
each precision (the larger of a 2048^3 matmul and a channels-last conv2d) is measured too.

    .venv/bin/python benchmarks/train_throughput.py                     # default model, batch 64
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 .venv/bin/python benchmarks/train_throughput.py
    .venv/bin/python benchmarks/train_throughput.py --batch 64 256 --ceiling --config my.toml
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from segue.commands.train import load_configs, training_pieces
from segue.training.precision import cpu_flags, cpu_support
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
    matmul = 2 * 2048**3 / timed(lambda: a @ b, 3)
    conv = torch.nn.Conv2d(256, 256, 3, padding=1).to(dtype=dtype, memory_format=torch.channels_last)
    x = torch.randn(16, 256, 32, 32, dtype=dtype).to(memory_format=torch.channels_last)
    with torch.no_grad():
        conv_rate = 2 * 16 * 256 * 256 * 9 * 32 * 32 / timed(lambda: conv(x), 3)
    return (matmul, "matmul") if matmul > conv_rate else (conv_rate, "conv2d")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, help="TOML with [model] and [train] tables")
    parser.add_argument("--batch", type=int, nargs="+", default=None, help="batch sizes (default: config's)")
    parser.add_argument("--precision", nargs="+", default=["fp32", "bf16", "auto"])
    parser.add_argument("--steps", type=int, default=4, help="timed steps per setting and round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of every setting")
    parser.add_argument("--ceiling", action="store_true", help="also measure the dense FLOP/s ceilings")
    args = parser.parse_args()
    model_config, train_config, _ = load_configs(args.config, None)
    train, _, _ = training_pieces(None)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"CPU flags: {cpu_flags()}; as PyTorch runs: {cpu_support().flags}")
    settings = []  # (label, batch, trainer, flops)
    for precision in args.precision:
        for batch in args.batch or [train_config.batch_size]:
            config = dataclasses.replace(train_config, batch_size=batch, precision=precision)
            trainer = Trainer("/tmp/segue-throughput", model_config, config, train, progress=False)
            if precision == "auto":
                print(f"auto at batch {batch} chose {trainer.precision}")
            with FlopCounterMode(display=False) as counter:
                trainer.train_step()
            settings.append((precision, batch, trainer, counter.get_total_flops()))
    rounds: dict[tuple[str, int], list[float]] = {(label, batch): [] for label, batch, _, _ in settings}
    for _ in range(args.rounds):
        for label, batch, trainer, _ in settings:
            rounds[label, batch].append(timed(trainer.train_step, args.steps))
    seconds = {key: statistics.median(values) for key, values in rounds.items()}
    peaks = {}
    if args.ceiling:
        peaks = {p: ceiling(torch.bfloat16 if p == "bf16" else torch.float32) for p in ("fp32", "bf16")}
    columns = ["precision", "batch", "ms per step", "windows/s", "GFLOP per step", "achieved GFLOP/s"]
    columns += ["ceiling GFLOP/s", "share"] if peaks else []
    print("| " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * (len(columns) - 1))
    for label, batch, trainer, flops in settings:
        step = seconds[label, batch]
        used = trainer.precision.precision
        cells = [label if label != "auto" else f"auto ({used})", batch, f"{1000 * step:,.0f}"]
        cells += [f"{batch / step:,.0f}", f"{flops / 1e9:.2f}", f"{flops / step / 1e9:.1f}"]
        if peaks:
            peak, kind = peaks[used]
            cells += [f"{peak / 1e9:.0f} ({kind})", f"{flops / step / peak:.1%}"]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    for batch in args.batch or [train_config.batch_size]:
        if ("fp32", batch) not in seconds:
            continue
        base = seconds["fp32", batch]
        for label in ("bf16", "auto"):
            if (label, batch) in seconds:
                print(
                    f"batch {batch}: {label} runs {base / seconds[label, batch]:.2f}x fp32's steps per second"
                )
    params = sum(p.numel() for net in (settings[0][2].G, settings[0][2].D) for p in net.parameters())
    print(f"model: {params:,} parameters (G + D)")


if __name__ == "__main__":
    main()
