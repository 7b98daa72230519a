"""Generation latency: a 4-bar prime continued by 32 bars, for 1 sample and for 64 at once.

Measures the model alone (loaded once), the model with loading included, and a whole
``segue generate`` process from start to written MIDI file.

    .venv/bin/python benchmarks/generate_latency.py [--model FOLDER] [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from segue import load_model
from segue.data.chorales import load_chorales, split_indices
from segue.music.midi import midi_bytes
from segue.pipeline.continuation import continue_voices
from segue.sampler import PlainSampler
from segue.training.windows import piece_tokens


def median_seconds(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def loaded_model(path: Path | None, plain: bool):  # type: ignore[no-untyped-def]
    """The model, with the plain sampler instead of its voice-leading one when ``plain``."""
    model = load_model(path)
    if plain:
        model.sampler = PlainSampler()
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--plain", action="store_true", help="with the plain sampler, not the voice-leading one"
    )
    args = parser.parse_args()
    model = loaded_model(args.model, args.plain)
    config = model.config
    chorales = load_chorales()
    piece = chorales[split_indices(chorales, "test")[0]]
    start = piece.first_bar * config.steps_per_bar
    prime = piece_tokens(piece, config)[:, start : start + 4 * config.steps_per_bar]
    bars = 32
    one = median_seconds(lambda: continue_voices(prime, bars, model, seed=0, samples=1), args.repeats)
    many = median_seconds(
        lambda: continue_voices(prime, bars, model, seed=0, samples=64), max(3, args.repeats // 4)
    )
    loaded = median_seconds(
        lambda: continue_voices(prime, bars, loaded_model(args.model, args.plain), seed=0, samples=1),
        max(3, args.repeats // 4),
    )
    music_seconds = bars * 4 * 0.5  # 4/4 at 120 bpm
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prime.mid"
        path.write_bytes(midi_bytes(piece))
        command = [
            sys.executable,
            "-m",
            "segue",
            "generate",
            str(path),
            "--out",
            str(Path(tmp) / "out.mid"),
            "--bars",
            str(bars),
            "--prime-bars",
            "4",
        ]
        if args.model is not None:
            command += ["--model", str(args.model)]
        if args.plain:
            command.append("--plain")
        process = []
        for _ in range(5):
            begin = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            process.append(time.perf_counter() - begin)
    params = sum(p.numel() for p in model.generator.parameters())
    print(f"generator: {params:,} parameters; 4-bar prime, {bars} bars generated, median of repeats")
    print("| what | seconds | per sample | faster than the music plays (120 bpm) |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| 1 sample, model loaded | {one * 1000:.1f} ms | {one * 1000:.1f} ms "
        f"| {music_seconds / one:,.0f}x |"
    )
    print(
        f"| 64 samples in one batch | {many * 1000:.1f} ms | {many / 64 * 1000:.2f} ms | "
        f"{64 * music_seconds / many:,.0f}x |"
    )
    print(f"| 1 sample, loading the model included | {loaded * 1000:.1f} ms | | |")
    print(
        f"| whole `segue generate` process, start to written MIDI | {statistics.median(process):.2f} s | | |"
    )
    print(f"64 samples cost {one * 64 / many:.1f} times less per sample than one")


if __name__ == "__main__":
    main()
