"""Honest baselines for continuations, all on (V, S) token grids (see :mod:`segue.music.tokens`).

* :func:`repeat_prime`: the prime's last bars again;
* :func:`transpose_tokens` with another piece's real continuation: music that is real but
  does not follow this prime (transposed into the prime's key by the caller);
* :class:`VoiceMarkov`: an n-gram model per voice, fitted on the train split, sampled
  step by step from the prime's last tokens with back-off to shorter contexts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

import numpy as np

from segue.music.tokens import FIRST_PITCH, HOLD, REST


def repeat_prime(prime: np.ndarray, steps: int) -> np.ndarray:
    """The prime's last ``steps`` steps (tiled if the prime is shorter), (V, steps)."""
    if prime.shape[1] >= steps:
        return prime[:, -steps:].copy()
    return np.tile(prime, (1, -(-steps // prime.shape[1])))[:, :steps]


def transpose_tokens(tokens: np.ndarray, shift: int, vocab: int) -> np.ndarray:
    """Pitch tokens moved by ``shift`` semitones, by octaves back into range where needed."""
    if vocab - FIRST_PITCH < 12:
        raise ValueError("transposing needs a pitch range of at least an octave")
    out = tokens.copy()
    pitched = out >= FIRST_PITCH
    moved = out[pitched] + shift
    while (moved < FIRST_PITCH).any() or (moved >= vocab).any():
        moved = np.where(moved < FIRST_PITCH, moved + 12, np.where(moved >= vocab, moved - 12, moved))
    out[pitched] = moved
    return out


class VoiceMarkov:
    """An order-``order`` Markov chain over tokens, one per voice, with back-off."""

    def __init__(self, order: int = 4) -> None:
        self.order = order
        self.tables: list[dict[tuple[int, ...], Counter[int]]] = []

    def fit(self, grids: Iterable[np.ndarray]) -> VoiceMarkov:
        """Count every context of length 0..order in each voice of each (V, S) grid."""
        for grid in grids:
            while len(self.tables) < grid.shape[0]:
                self.tables.append(defaultdict(Counter))
            for voice, row in enumerate(grid.tolist()):
                table = self.tables[voice]
                for t, token in enumerate(row):
                    for k in range(0, self.order + 1):
                        if t - k < 0:
                            break
                        table[tuple(row[t - k : t])][token] += 1
        return self

    def continue_tokens(self, prime: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
        """Sample ``steps`` tokens per voice after ``prime`` (V, S)."""
        out = np.zeros((prime.shape[0], steps), dtype=np.int64)
        for voice, table in enumerate(self.tables[: prime.shape[0]]):
            history = prime[voice].tolist()
            for t in range(steps):
                for k in range(self.order, -1, -1):
                    counts = table.get(tuple(history[len(history) - k :]) if k else ())
                    if counts:
                        break
                tokens, weights = zip(*counts.items()) if counts else ((REST,), (1,))
                token = int(rng.choice(tokens, p=np.array(weights) / sum(weights)))
                if token == HOLD and history and history[-1] == REST:
                    token = REST
                out[voice, t] = token
                history.append(token)
        return out
