"""The learned critic on the first and the last 4-bar chunk of 16-bar continuations, on the choice
half of the validation pieces: whether a model's music holds up as it continues its own bars (each
chunk is read with the 4 bars before it as its prime: the real bars for the real side, the model's
own for its side). A lab tool; nothing is fitted to what it prints.

    .venv/bin/python scripts/late_chunks.py NAME=FOLDER ... [--data DATASET] [--windows 2] [--seeds 3]

FOLDER is a model folder or a shipped model's name, drawn as ``segue generate`` draws (the key prior
0.5). Windows of 4 + 16 bars, up to ``--windows`` a piece, 4 bars apart, cut in the first model's
meter and grid; critic seed k reads draw k.
"""

from __future__ import annotations

import argparse

import numpy as np

from segue.data.splits import split_pieces
from segue.evaluation.critic import critic_accuracy, roll_features
from segue.evaluation.systems import model_system
from segue.evaluation.windows import test_windows
from segue.pipeline.catalog import model_path
from segue.pipeline.model import load_model
from segue.sampler.config import KEY_STRENGTH
from segue.training.calibration import validation_half

PRIME, CHUNK, CHUNKS = 4, 4, 4
"""Bars of prime, bars a chunk, chunks continued."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("systems", nargs="+", metavar="NAME=FOLDER")
    parser.add_argument("--data", default=None, help="a dataset (default: the bundled chorales)")
    parser.add_argument("--windows", type=int, default=2, help="most windows per piece")
    parser.add_argument("--seeds", type=int, default=3, help="draws and critic seeds")
    args = parser.parse_args()
    specs = [spec.partition("=")[::2] for spec in args.systems]
    reference = load_model(model_path(specs[0][1]))
    config = reference.config
    pieces = validation_half(split_pieces(args.data, "valid"), config, "choice")
    windows = test_windows(pieces, reference, PRIME, CHUNK * CHUNKS, args.windows, CHUNK)
    bar, pitches, groups = config.steps_per_bar, config.vocab - 2, windows.groups
    print(f"choice half: {len(pieces)} pieces, {len(groups)} windows of {PRIME} + {CHUNK * CHUNKS} bars")
    real = np.concatenate([windows.primes, windows.reals], axis=2)

    def chunk(tokens: np.ndarray, c: int) -> np.ndarray:
        """roll_features of chunk c (from 0) with the bars before it as its prime."""
        start = (PRIME + CHUNK * c) * bar
        return roll_features(
            tokens[:, :, start - PRIME * bar : start], tokens[:, :, start : start + CHUNK * bar], pitches
        )

    for name, folder in specs:
        system = model_system(load_model(model_path(folder)), CHUNK * CHUNKS, key_strength=KEY_STRENGTH)
        draws = [
            np.concatenate([windows.primes, system(windows.primes, k)], axis=2) for k in range(args.seeds)
        ]
        found = []
        for c in (0, CHUNKS - 1):
            accuracies = [
                critic_accuracy(chunk(real, c), chunk(d, c), groups, groups, config.voices, PRIME * bar, k)
                for k, d in enumerate(draws)
            ]
            found.append(f"chunk {c + 1}: {np.mean(accuracies):.3f} (sd {np.std(accuracies):.3f})")
        print(f"{name}: " + "; ".join(found), flush=True)


if __name__ == "__main__":
    main()
