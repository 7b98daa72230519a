"""The learned critic, the harmony measures and the feature classifier for several model folders,
on the chorales' test or validation split: how experiments are compared before one is shipped
(choose on ``--split valid``; report the test split with ``segue evaluate``).

    .venv/bin/python scripts/compare_models.py NAME=FOLDER[:plain] ... [--split valid] [--critic-seeds 3]

FOLDER is a model folder (``shipped`` for the bundled model); ``:plain`` draws without the sampler.
Every bar offset of the split's pieces, 4 bars of prime and 4 continued, draws with seed 0 (the
feature classifier: draw and fold seeds 0-4).
"""

from __future__ import annotations

import argparse

import numpy as np

from segue.data.chorales import load_chorales, split_indices
from segue.evaluation.critic import roll_features
from segue.evaluation.report import critic_accuracies
from segue.evaluation.scores import score_harmony
from segue.evaluation.twosample import classifier_accuracy, named_pair_features, pair_features
from segue.evaluation.windows import test_windows
from segue.pipeline.continuation import continue_primes
from segue.pipeline.model import load_model
from segue.sampler import PlainSampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("systems", nargs="+", metavar="NAME=FOLDER[:plain]")
    parser.add_argument("--split", choices=("test", "valid"), default="test")
    parser.add_argument("--critic-seeds", type=int, default=3)
    args = parser.parse_args()
    chorales = load_chorales()
    pieces = [chorales[i] for i in split_indices(chorales, args.split)]
    shipped = load_model(None)
    windows = test_windows(pieces, shipped, 4, 4, 20, 1)
    config = shipped.config
    pitches, lowest, bar = config.vocab - 2, config.lowest, config.steps_per_bar
    real_rolls = roll_features(windows.primes, windows.reals, pitches)
    bach = score_harmony(windows.reals, lowest, bar)
    real_features = np.array(
        [list(named_pair_features(p, c, lowest, bar).values()) for p, c in zip(windows.primes, windows.reals)]
    )
    print(f"{args.split} split: {len(windows.primes)} windows")
    for spec in args.systems:
        name, _, rest = spec.partition("=")
        folder, _, option = rest.partition(":")
        model = load_model(None if folder == "shipped" else folder)
        if option == "plain":
            model.sampler = PlainSampler()
        draws = [continue_primes(windows.primes, 4, model, seed) for seed in range(5)]
        critic = critic_accuracies(
            real_rolls, windows, draws[0], None, config.voices, pitches, args.critic_seeds, 0
        )
        features = [
            classifier_accuracy(
                real_features,
                np.stack([pair_features(p, c, lowest, bar) for p, c in zip(windows.primes, draw)]),
                seed=seed,
                real_groups=windows.groups,
                fake_groups=windows.groups,
            )
            for seed, draw in enumerate(draws)
        ]
        harmony = score_harmony(draws[0], lowest, bar).row(bach)
        print(
            f"{name}: critic {np.mean(critic):.3f} (sd {np.std(critic):.3f}), feature classifier "
            f"{np.mean(features):.3f}, consonance {harmony['consonance']:.3f} (Bach {bach.consonance:.3f}), "
            f"note length furthest voice {harmony['note length, furthest voice']:.1%}, "
            f"sounding share furthest voice {harmony['sounding share, furthest voice']:.1%}"
        )


if __name__ == "__main__":
    main()
