"""A stronger critic for choosing between models: the learned critic's network trained on the
windows of the *train* split (the real continuations against the system's draws from the same
primes), then tested on the choice half of the validation pieces (real against drawn, primes it
never saw). The test split is never read.

The report's critic learns from the few windows it is tested on (141 on the chorales' choice
half), so it hears only the plainest differences and reads the shipped chorale model level with
another piece's continuation there. Trained on thousands of windows it can hear more, and its
held-out figure moves less from seed to seed. It is a lab tool for choices; the headline figures
stay those of `segue evaluate` on the test split.

    .venv/bin/python scripts/transfer_critic.py NAME=FOLDER[:plain|:key|:keyS][@T] ... [--data DS]
        [--seeds 3] [--first-seed 0] [--epochs 6] [--train-windows 20] [--windows 20] [--view VIEW] [--decay]
        [--keep VOICES ...]

Systems as ``system_spec.py`` says: ``:key`` draws under the key prior ``segue generate`` adds,
``:keyS`` under one of strength S.
NAME=other draws "another piece" (a real continuation of a partner piece, moved into the
prime's key) as a reference. Critic seed k reads the draws of seed k on both sides.
``--keep 0 1 01``: a critic for each set of voices (numbered from the top; the others blanked in
prime and continuation), all on the same draws: which voices, alone or together, give it away.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from system_spec import GRAMMAR, SystemSpec, parse_system
from telltales import VIEWS, view

from segue.data.splits import split_pieces
from segue.evaluation.critic import _train, roll_features
from segue.evaluation.systems import Continuer
from segue.evaluation.windows import Windows, other_piece, test_windows
from segue.training.calibration import validation_half


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """The probability that a real window scores above a drawn one (ties count a half)."""
    real, fake = scores[labels == 1][:, None], scores[labels == 0][None, :]
    return float(((real > fake) + 0.5 * (real == fake)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("systems", nargs="+", metavar=GRAMMAR)
    parser.add_argument("--data", default=None)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds from this one on")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--train-windows", type=int, default=20, help="most training windows per piece")
    parser.add_argument("--windows", type=int, default=20, help="most choice windows per piece")
    parser.add_argument("--decay", action="store_true", help="the critic's rate decayed along a cosine")
    parser.add_argument("--view", choices=VIEWS, default="full", help="what the critic reads (telltales.py)")
    parser.add_argument(
        "--keep",
        nargs="+",
        default=None,
        metavar="VOICES",
        help="critics reading only these voices (digits from the top: 0 12 03), each on the same draws",
    )
    args = parser.parse_args()

    specs = [parse_system(spec) for spec in args.systems]
    models = [None if spec.folder == "other" else spec.load() for spec in specs]
    reference = models[0] or SystemSpec("other", "chorales").load()  # other: the chorales' grid
    train = test_windows(split_pieces(args.data, "train"), reference, 4, 4, args.train_windows, 1)
    choice_pieces = validation_half(split_pieces(args.data, "valid"), reference.config, "choice")
    choice = test_windows(choice_pieces, reference, 4, 4, args.windows, 1)
    config = reference.config
    pitches, voices = config.vocab - 2, config.voices
    print(f"{len(train.primes)} training windows, {len(choice.primes)} choice windows")
    prime_steps = train.primes.shape[2]

    def rolls(primes: np.ndarray, continuations: np.ndarray) -> torch.Tensor:
        return view(roll_features(primes, continuations, pitches), voices, prime_steps, args.view)

    real_train, real_choice = rolls(train.primes, train.reals), rolls(choice.primes, choice.reals)
    subsets = [None] if args.keep is None else [[int(c) for c in keep] for keep in args.keep]

    def kept(x: torch.Tensor, subset: list[int] | None) -> torch.Tensor:
        if subset is None:
            return x
        mask = torch.zeros(voices, 1, 1)
        mask[subset] = 1.0
        return (x.view(len(x), voices, -1, x.shape[2]) * mask).view_as(x)

    for spec, model in zip(specs, models, strict=True):
        name = spec.name
        began = time.perf_counter()
        if model is None:

            def draw(windows: Windows, seed: int) -> np.ndarray:
                return other_piece(windows, config.lowest, config.vocab)

        else:
            system = spec.continuer(model)

            def draw(windows: Windows, seed: int, system: Continuer = system) -> np.ndarray:
                return system(windows.primes, seed)

        results: dict[int, tuple[list[float], list[float], list[float]]] = {
            k: ([], [], []) for k in range(len(subsets))
        }
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            fake_train = rolls(train.primes, draw(train, seed))
            fake_choice = rolls(choice.primes, draw(choice, seed))
            for k, subset in enumerate(subsets):
                accuracies, aucs, losses = results[k]
                x = kept(torch.cat([real_train, fake_train]), subset)
                y = torch.cat([torch.ones(len(real_train)), torch.zeros(len(fake_train))])
                generator = torch.Generator().manual_seed(seed)
                critic = _train(x, y, voices, prime_steps, args.epochs, generator, decay=args.decay)
                xt = kept(torch.cat([real_choice, fake_choice]), subset)
                yt = np.concatenate([np.ones(len(real_choice)), np.zeros(len(fake_choice))])
                with torch.no_grad():
                    scores = critic(xt).numpy()
                accuracies.append(float(((scores > 0) == (yt > 0.5)).mean()))
                aucs.append(auc(scores, yt))
                losses.append(
                    float(
                        torch.nn.functional.binary_cross_entropy_with_logits(
                            torch.from_numpy(scores), torch.from_numpy(yt).float()
                        )
                    )
                )
        for k, subset in enumerate(subsets):
            accuracies, aucs, losses = results[k]
            label = name if subset is None else f"{name} [voices {''.join(map(str, subset))}]"
            print(
                f"{label}: accuracy {np.mean(accuracies):.3f} (sd {np.std(accuracies):.3f}), "
                f"AUC {np.mean(aucs):.3f} (sd {np.std(aucs):.3f}), held-out loss {np.mean(losses):.3f}; "
                f"per seed {' '.join(f'{a:.3f}' for a in accuracies)}; {time.perf_counter() - began:.0f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
