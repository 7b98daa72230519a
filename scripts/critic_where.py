"""Where in time the transfer critic tells a system from Bach. The critic's score is a linear head
on the mean over time cells (half a bar each at 4 bars of 16 steps) of its last features, so each
cell's share of the score is exact (:meth:`Critic.features`): for every seed this trains the critic as
``transfer_critic.py`` does (the train split's windows, real against the system's draws of the
same seed) and prints the mean share of each cell for the choice half's real windows less that for
its drawn ones. A gap spread evenly says the whole chunk sounds a little off; one at the first
cells, the seam. A lab tool; it reads no test split.

    .venv/bin/python scripts/critic_where.py NAME=FOLDER[:plain|:key|:keyS] [--seeds 3] [--epochs 8]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from system_spec import GRAMMAR, parse_system
from telltales import view

from segue.data.splits import split_pieces
from segue.evaluation.critic import Critic, _train, roll_features
from segue.evaluation.windows import test_windows
from segue.training.calibration import validation_half


def cell_shares(critic: Critic, x: torch.Tensor) -> torch.Tensor:
    """(B, T) each time cell's share of the critic's (B,) logits for ``x`` (less the head's bias)."""
    with torch.no_grad():
        features = critic.features(x)
        return (critic.head.weight[0][None, :, None] * features).sum(1) / features.shape[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("system", metavar=GRAMMAR)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    spec = parse_system(args.system)
    model = spec.load()
    config = model.config
    train = test_windows(split_pieces(None, "train"), model, 4, 4, 20, 1)
    choice = test_windows(validation_half(split_pieces(None, "valid"), config, "choice"), model, 4, 4, 20, 1)
    pitches, voices, prime_steps = config.vocab - 2, config.voices, train.primes.shape[2]

    def rolls(primes: np.ndarray, continuations: np.ndarray) -> torch.Tensor:
        return view(roll_features(primes, continuations, pitches), voices, prime_steps, "full")

    system = spec.continuer(model)
    real_train, real_choice = rolls(train.primes, train.reals), rolls(choice.primes, choice.reals)
    gaps = []
    for seed in range(args.seeds):
        fake_train = rolls(train.primes, system(train.primes, seed))
        fake_choice = rolls(choice.primes, system(choice.primes, seed))
        x = torch.cat([real_train, fake_train])
        y = torch.cat([torch.ones(len(real_train)), torch.zeros(len(fake_train))])
        critic = _train(
            x, y, voices, prime_steps, args.epochs, torch.Generator().manual_seed(seed), decay=True
        )
        real, fake = cell_shares(critic, real_choice), cell_shares(critic, fake_choice)
        bias = float(critic.head.bias.detach())
        accuracy = (
            float(((real.sum(1) + bias) > 0).float().mean())
            + float(((fake.sum(1) + bias) <= 0).float().mean())
        ) / 2
        gap = (real.mean(0) - fake.mean(0)).numpy()
        gaps.append(gap)
        print(
            f"seed {seed}: accuracy {accuracy:.3f}; gap by cell " + " ".join(f"{g:+.2f}" for g in gap),
            flush=True,
        )
    mean = np.mean(gaps, axis=0)
    quarter = len(mean) // 4
    first, last = mean[:quarter].sum() / mean.sum(), mean[-quarter:].sum() / mean.sum()
    cells = " ".join(f"{g:+.2f}" for g in mean)
    print(f"{spec.name}: gap by cell {cells}; first quarter {first:.2f}, last {last:.2f}")


if __name__ == "__main__":
    main()
