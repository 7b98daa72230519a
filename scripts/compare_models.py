"""The learned critic, the harmony measures and the feature classifier for several model folders,
on the chorales' test or validation split: how experiments are compared before one is shipped
(choose on ``--split valid``; report the test split with ``segue evaluate``). ``--split valid``
scores the half of the validation pieces that the sampler's calibration does not read
(:func:`segue.training.calibration.validation_half`, in the first system's meter and grid), so that a
sampled draw is not chosen on windows its calibration matched.

    .venv/bin/python scripts/compare_models.py NAME=FOLDER[:plain|:key|:plain+key][@T] ... [--split valid]
        [--critic-seeds 3] [--data DATASET] [--windows 20] [--key-strength 0.5] [--draw-seed 0]

FOLDER is a model folder or a shipped model's name (``shipped``: the chorales in 4/4); ``:plain``
draws without the sampler, ``:key`` under the key prior of each prime's last bars as ``segue
generate`` draws (strength 0.5, or ``--key-strength``); ``@T`` draws the noise z within ±T
(``segue generate --truncation T``). ``--data`` takes another dataset's
split (its recorded splits, e.g. the bundled folk melodies); the windows are cut for each system
in its meter, grid and voices (the same pieces and bar offsets: a melody is the top voice of a
model of several voices).
Every bar offset of the split's pieces, 4 bars of prime and 4 continued, draws with seed 0
(``--draw-seed``; the feature classifier: draw and fold seeds 0-4, the first draw's seed that one).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from system_spec import GRAMMAR, parse_system

from segue.data.splits import split_pieces
from segue.evaluation.critic import roll_features
from segue.evaluation.report import critic_accuracies, seeded_critic
from segue.evaluation.scores import score_harmony
from segue.evaluation.twosample import classifier_accuracy, named_pair_features, pair_features
from segue.evaluation.windows import Windows, test_windows
from segue.pipeline.model import SegueModel
from segue.sampler.config import KEY_STRENGTH
from segue.training.calibration import validation_half


class Real:
    """The real side of a set of windows, cut for models of one meter, grid and voices."""

    def __init__(self, windows: Windows, model: SegueModel) -> None:
        config = model.config
        lowest, bar = config.lowest, config.steps_per_bar
        self.windows = windows
        self.rolls = roll_features(windows.primes, windows.reals, config.vocab - 2)
        self.harmony = score_harmony(windows.reals, lowest, bar)
        self.features = np.array(
            [
                list(named_pair_features(p, c, lowest, bar).values())
                for p, c in zip(windows.primes, windows.reals)
            ]
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("systems", nargs="+", metavar=GRAMMAR)
    parser.add_argument("--split", choices=("test", "valid"), default="test")
    parser.add_argument("--critic-seeds", type=int, default=3)
    parser.add_argument("--data", default=None, help="a dataset (default: the bundled chorales)")
    parser.add_argument("--windows", type=int, default=20, help="most windows per piece")
    parser.add_argument(
        "--key-strength", type=float, default=KEY_STRENGTH, help="the key prior of :key (default %(default)s)"
    )
    parser.add_argument(
        "--draw-seed", type=int, default=0, help="the seed of the draws the critic and the harmony read"
    )
    parser.add_argument(
        "--seeded-draws",
        action="store_true",
        help="critic seed k reads the draw of seed k (at most 5 seeds): the spread then holds the draw's too",
    )
    args = parser.parse_args()
    if args.seeded_draws and (args.critic_seeds > 5 or args.draw_seed):
        sys.exit("error: --seeded-draws reads the draws of seeds 0-4: at most 5 critic seeds, no --draw-seed")
    pieces = split_pieces(args.data, args.split)
    specs = [parse_system(text, args.key_strength) for text in args.systems]
    models = [spec.load() for spec in specs]
    reference = models[0]
    if args.split == "valid":
        pieces = validation_half(pieces, reference.config, "choice")
    half = " (the half of its pieces the calibration does not read)" if args.split == "valid" else ""
    print(f"{args.split} split{half}: {len(pieces)} pieces")
    cut: dict[tuple[object, ...], Real] = {}
    for spec, model in zip(specs, models, strict=True):
        name, system = spec.name, spec.continuer(model)
        config = model.config
        shape = (config.meter, config.steps_per_beat, config.voices, config.lowest, config.highest)
        if shape not in cut:
            cut[shape] = Real(test_windows(pieces, model, 4, 4, args.windows, 1), model)
            print(f"{len(cut[shape].windows.primes)} windows of {config.voices} voices in {config.meter}")
        real = cut[shape]
        windows, lowest, bar = real.windows, config.lowest, config.steps_per_bar
        draws = [system(windows.primes, seed) for seed in (args.draw_seed, *range(1, 5))]
        if args.seeded_draws:
            critic = seeded_critic(
                real.rolls, windows, draws[: args.critic_seeds], config.voices, config.vocab - 2, 0
            )
        else:
            critic = critic_accuracies(
                real.rolls, windows, draws[0], None, config.voices, config.vocab - 2, args.critic_seeds, 0
            )
        features = [
            classifier_accuracy(
                real.features,
                np.stack([pair_features(p, c, lowest, bar) for p, c in zip(windows.primes, draw)]),
                seed=seed,
                real_groups=windows.groups,
                fake_groups=windows.groups,
            )
            for seed, draw in enumerate(draws)
        ]
        harmony = score_harmony(draws[0], lowest, bar).row(real.harmony)
        print(
            f"{name}: critic {np.mean(critic):.3f} (sd {np.std(critic):.3f}), feature classifier "
            f"{np.mean(features):.3f}, consonance {harmony['consonance']:.3f} "
            f"(real {real.harmony.consonance:.3f}), "
            f"note length furthest voice {harmony['note length, furthest voice']:.1%}, "
            f"sounding share furthest voice {harmony['sounding share, furthest voice']:.1%}"
        )


if __name__ == "__main__":
    main()
