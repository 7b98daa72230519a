"""The exact distribution of one voice's line, by enumerating every state sequence: what the
sampler's draws are checked against."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import torch


def exact_lines(
    tokens_of: torch.Tensor, steps: int, log_weight: Callable[[tuple[int, ...]], float]
) -> dict[tuple, float]:
    """Each token sequence's probability over every sequence of ``steps`` states (``tokens_of``
    maps a state to its token), a state sequence weighed by exp(``log_weight(path)``)."""
    weights: dict[tuple, float] = {}
    for path in itertools.product(range(len(tokens_of)), repeat=steps):
        total = log_weight(path)
        if total > -math.inf:
            key = tuple(tokens_of[list(path)].tolist())
            weights[key] = weights.get(key, 0.0) + math.exp(total)
    norm = sum(weights.values())
    return {k: w / norm for k, w in weights.items()}
