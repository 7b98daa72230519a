"""A learned two-sample test: a small network trained afresh to tell real (prime,
continuation) pairs from a system's, tested on pieces it was not trained on.

Nothing is tuned to it: it is trained from scratch for every system, fold and seed, on the
test windows alone, and only its held-out accuracy is kept (0.5: the two cannot be told
apart; 1: always told apart). It reads the raw grids, every voice's sounding pitch and its
onsets at every step of prime and continuation, so it can hear how voices sound together,
how lines move and how the continuation follows the prime, none of which it is told to look for.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from segue.evaluation.twosample import held_out_folds
from segue.music.tokens import FIRST_PITCH
from segue.sampler.states import sounding_pitches


def roll_features(primes: np.ndarray, continuations: np.ndarray, pitches: int) -> torch.Tensor:
    """(W, V * (P + 1), S) inputs from (W, V, K) primes and (W, V, C) continuations, side by side
    in time: for each voice, which of its P pitches sounds at each step, and whether a note
    starts there."""
    tokens = np.concatenate([primes, continuations], axis=2)
    onset = tokens >= FIRST_PITCH
    pitch = sounding_pitches(tokens, pitches)  # (W, V, S), -1 where silent
    windows, voices, steps = tokens.shape
    roll = np.zeros((windows, voices, pitches + 1, steps), dtype=np.float32)
    w, v, t = np.nonzero(pitch >= 0)
    roll[w, v, pitch[w, v, t], t] = 1.0
    roll[:, :, pitches] = onset
    return torch.from_numpy(roll.reshape(windows, voices * (pitches + 1), steps))


class Critic(nn.Module):
    """The continuation and the prime's last as many steps, aligned step by step, as the channels
    of one image (each voice's sounding pitches and all onsets, of both): a convolution across
    pitch (13 semitones, so that it sees every interval within an octave, the same at every
    transposition) and 3 steps, which can compare a step with the prime's step a continuation
    earlier; the strongest response over pitch; three convolutions over time; the mean over time."""

    def __init__(self, voices: int, pitches: int, prime_steps: int, width: int = 16) -> None:
        super().__init__()
        self.voices, self.pitches, self.prime_steps = voices, pitches, prime_steps
        self.vertical = nn.Conv2d(2 * (voices + 1), width, (13, 3), padding=(6, 1))
        layers: list[nn.Module] = [nn.LeakyReLU(0.2)]
        for channels in (width, 32, 32):
            layers += [nn.Conv1d(channels, 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)
        self.head = nn.Linear(32, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, V * (P + 1), K + C) inputs of :func:`roll_features` -> (B,) logits of "real"."""
        return self.head(self.features(x).mean(dim=2))[:, 0]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 32, T) the last features of each time cell (the continuation's steps / 8), whose
        mean over the cells the linear head reads: so each cell's share of the logit is exact."""
        batch, _, steps = x.shape
        roll = x.view(batch, self.voices, self.pitches + 1, steps)
        onsets = roll[:, :, self.pitches :].sum(1, keepdim=True).expand(-1, 1, self.pitches, -1)
        image = torch.cat([roll[:, :, : self.pitches], onsets], dim=1)  # (B, V + 1, P, K + C)
        continuation = image[..., self.prime_steps :]
        length = continuation.shape[3]
        prime = image[..., max(0, self.prime_steps - length) : self.prime_steps]
        prime = nn.functional.pad(prime, (length - prime.shape[3], 0))  # a short prime: silence first
        paired = torch.cat([continuation, prime], dim=1)  # (B, 2 (V + 1), P, C)
        return self.net(self.vertical(paired).amax(dim=2))


def critic_accuracy(
    real: torch.Tensor,
    fake: torch.Tensor,
    real_groups: np.ndarray,
    fake_groups: np.ndarray,
    voices: int,
    prime_steps: int,
    seed: int = 0,
    folds: int = 4,
    epochs: int = 20,
) -> float:
    """Held-out accuracy of a :class:`Critic` telling ``real`` inputs (see :func:`roll_features`,
    of ``voices`` voices, the first ``prime_steps`` steps the prime's) from ``fake`` ones:
    balanced classes, folds by group (pieces tested together: see
    :attr:`~segue.evaluation.windows.Windows.groups`), a fresh network for every fold, trained
    with Adam on the other folds (NaN when no fold can be tested: see
    :func:`~segue.evaluation.twosample.held_out_folds`)."""
    rng = np.random.default_rng(seed)
    count = min(len(real), len(fake))
    pick_real, pick_fake = rng.permutation(len(real))[:count], rng.permutation(len(fake))[:count]
    x = torch.cat([real[pick_real], fake[pick_fake]])
    y = torch.cat([torch.ones(count), torch.zeros(count)])
    groups = np.concatenate([real_groups[pick_real], fake_groups[pick_fake]])
    generator = torch.Generator().manual_seed(seed)
    correct, tested = 0, 0
    for mask in held_out_folds(groups, y.numpy(), folds, rng):
        test = torch.from_numpy(mask)
        critic = _train(x[~test], y[~test], voices, prime_steps, epochs, generator)
        with torch.no_grad():
            correct += int(((critic(x[test]) > 0) == (y[test] > 0.5)).sum())
        tested += int(test.sum())
    return correct / tested if tested else float("nan")


def _train(
    x: torch.Tensor,
    y: torch.Tensor,
    voices: int,
    prime_steps: int,
    epochs: int,
    generator: torch.Generator,
    decay: bool = False,
) -> Critic:
    """A fresh critic (its initial weights drawn from ``generator``'s stream) fitted to (x, y);
    with ``decay``, its rate decayed to zero along a cosine over the epochs (so that where training
    stops moves the result less)."""
    with torch.random.fork_rng(devices=[]):  # the global generator is left as it was
        torch.manual_seed(int(torch.randint(2**31, (1,), generator=generator)))
        critic = Critic(voices, x.shape[1] // voices - 1, prime_steps)
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-3, weight_decay=1e-4)
    batch = 32
    steps = epochs * ((len(x) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps) if decay else None
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for first in range(0, len(x), batch):
            rows = order[first : first + batch]
            loss = nn.functional.binary_cross_entropy_with_logits(critic(x[rows]), y[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
    return critic.eval()
