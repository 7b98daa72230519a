"""The systems that continue primes: the GAN (or CVAE), the LSTM and the per-voice Markov chain.

A system (:data:`Continuer`) maps primes and a seed to continuations. The baselines that
need no sampling (the prime repeated, another piece) are in :mod:`segue.evaluation.baselines`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from segue.evaluation.baselines import VoiceMarkov
from segue.models.lstm import TokenLSTM
from segue.pipeline.continuation import continue_primes
from segue.pipeline.model import SegueModel
from segue.pipeline.sampling import key_profiles

SYSTEMS = ("GAN", "Bach (real)", "repeat prime", "other piece", "other piece, untransposed", "Markov")

Continuer = Callable[[np.ndarray, int], np.ndarray]
"""A system: (W, V, K*bar) primes and a seed -> (W, V, N*bar) continuations."""


def model_system(
    model: SegueModel,
    bars: int,
    temperature: float = 1.0,
    key_strength: float = 0.0,
    truncation: float | None = None,
) -> Continuer:
    """A GAN (or CVAE) generator as a system, sampled at ``temperature`` (its noise z within
    ±``truncation``); with ``key_strength``, under the key prior of each prime's last bars, as
    ``segue generate`` draws."""
    config = model.config

    def run(primes: np.ndarray, seed: int) -> np.ndarray:
        key = key_profiles(primes, config.lowest, config.steps_per_bar) if key_strength else None
        return continue_primes(
            primes,
            bars,
            model,
            seed,
            truncation=truncation,
            temperature=temperature,
            key=key,
            key_strength=key_strength,
        )

    return run


def lstm_system(net: TokenLSTM, bars: int, bar_steps: int) -> Continuer:
    """The autoregressive LSTM baseline as a system (it reads the whole prime)."""

    def run(primes: np.ndarray, seed: int) -> np.ndarray:
        generator = torch.Generator().manual_seed(seed)
        prime = torch.from_numpy(np.ascontiguousarray(primes)).long()
        chunks = [
            net.continue_tokens(prime[i : i + 256], bars * bar_steps, generator).numpy()
            for i in range(0, len(prime), 256)
        ]
        return np.concatenate(chunks)

    return run


def markov_system(train_grids: Sequence[np.ndarray], bars: int, bar_steps: int) -> Continuer:
    """A per-voice Markov chain of order 4, fitted on the train split's (V, S) grids, as a system."""
    markov = VoiceMarkov(order=4).fit(train_grids)
    steps = bars * bar_steps

    def markov_run(primes: np.ndarray, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return np.stack([markov.continue_tokens(p, steps, rng) for p in primes])

    return markov_run
