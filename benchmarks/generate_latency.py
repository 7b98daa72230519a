"""Generation latency: a 4-bar prime continued by 32 bars, with the voice-leading sampler and with
the plain draw, for 1 sample and for 64 at once; and a whole ``segue generate`` process against
``python -c "import torch"``. Every figure is the median of rounds that alternate the settings,
so that the ratios compare like with like on a noisy machine.

The sampler's compiled kernel is loaded first (as in the studio, or a process that has drawn for
a while); the NumPy reference draw, which a short process uses instead, is timed too.

    .venv/bin/python benchmarks/generate_latency.py [--model FOLDER] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from segue import load_model
from segue.data.chorales import load_chorales, split_indices
from segue.music.midi import midi_bytes
from segue.pipeline.continuation import continue_voices
from segue.pipeline.pieces import piece_tokens
from segue.sampler import PlainSampler, kernel
from segue.training.precision import cpu_flags, cpu_support

BARS = 32


def seconds(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    model = load_model(args.model)
    voice_leading = model.sampler
    config = model.config
    chorales = load_chorales()
    piece = chorales[split_indices(chorales, "test")[0]]
    start = piece.first_bar * config.steps_per_bar
    prime = piece_tokens(piece, config)[:, start : start + 4 * config.steps_per_bar]
    kernel.load()

    def run(sampler, samples: int, compiled: bool | None = None) -> float:  # type: ignore[no-untyped-def]
        model.sampler = sampler
        if compiled is not None:
            sampler.compiled = compiled
        return seconds(lambda: continue_voices(prime, BARS, model, seed=0, samples=samples))

    plain = PlainSampler()
    settings = {
        "plain, 1": lambda: run(plain, 1),
        "sampler, 1": lambda: run(voice_leading, 1, True),
        "reference, 1": lambda: run(voice_leading, 1, False),
        "plain, 64": lambda: run(plain, 64),
        "sampler, 64": lambda: run(voice_leading, 64, True),
    }
    for fn in settings.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in settings}
    for _ in range(args.rounds):
        for name, fn in settings.items():
            times[name].append(fn())
    median = {name: statistics.median(values) for name, values in times.items()}
    one, plain_one = median["sampler, 1"], median["plain, 1"]
    many, plain_many = median["sampler, 64"], median["plain, 64"]

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prime.mid"
        path.write_bytes(midi_bytes(piece))
        generate = [sys.executable, "-m", "segue", "generate", str(path), "--out", str(Path(tmp) / "o.mid")]
        generate += ["--prime-bars", "4"] + (["--model", str(args.model)] if args.model else [])
        commands = {
            "import torch": [sys.executable, "-c", "import torch"],
            "segue generate (8 bars)": generate,
            f"segue generate --bars {BARS}": [*generate, "--bars", str(BARS)],
        }
        process: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(7):
            for name, command in commands.items():
                process[name].append(
                    seconds(lambda c=command: subprocess.run(c, check=True, capture_output=True))
                )
    startup = {name: statistics.median(values) for name, values in process.items()}

    params = sum(p.numel() for p in model.generator.parameters())
    print(
        f"CPU flags: {cpu_flags()} ({cpu_support().flags}); "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(
        f"generator: {params:,} parameters; 4-bar prime, {BARS} bars; "
        f"medians of {args.rounds} alternating rounds"
    )
    print("| what | voice-leading sampler | plain draw | ratio |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| 1 sample | {one * 1000:.1f} ms | {plain_one * 1000:.1f} ms "
        f"| {one / plain_one:.2f}x the plain draw |"
    )
    print(
        f"| 64 samples in one batch (per sample) | {many * 1000:.0f} ms ({many / 64 * 1000:.2f} ms) "
        f"| {plain_many * 1000:.0f} ms ({plain_many / 64 * 1000:.2f} ms) "
        f"| {64 * one / many:.1f}x cheaper per sample than one (plain: {64 * plain_one / plain_many:.1f}x) |"
    )
    reference = median["reference, 1"]
    print(
        "| 1 sample, NumPy reference draw (a short process, before the kernel loads) "
        f"| {reference * 1000:.1f} ms "
        f"| | {reference / plain_one:.2f}x the plain draw |"
    )
    torch_alone = startup["import torch"]
    print("| process | seconds | | ratio to `import torch` |")
    for name, value in startup.items():
        print(f"| `{name}` | {value:.2f} s | | {value / torch_alone:.2f}x |")


if __name__ == "__main__":
    main()
