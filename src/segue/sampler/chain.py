"""The voice-leading sampler's chain: each voice's step-to-step moves, counted on the training
data.

A first-order chain per voice over the states of :mod:`segue.sampler.states`; the sampler uses
its *dependence* term, log P(s | s') - log P(token(s)), so that the tokens' frequencies, which
the generator already knows, are not counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from segue.sampler.states import allowed_moves, shift_states, to_states


def fit_chain(
    grids: Sequence[np.ndarray],
    voices: int,
    pitches: int,
    max_shift: int = 5,
    smoothing: float = 0.5,
    pseudo: float = 20.0,
    positions: int = 1,
) -> torch.Tensor:
    """(V, M, 2P+1, 2P+1) log-potentials of the moves counted in (V, S) token grids, in every
    transposition up to ``max_shift``: log P(s | s') - log P(token(s)).

    With ``positions`` M > 1 (the steps of a bar; grids start on a bar line) the moves into
    each position of the bar are counted apart, shrunk towards the moves at any position.
    """
    size = 2 * pitches + 1
    counts = np.zeros((voices, positions, size, size))
    for grid in grids:
        states = to_states(grid, pitches)  # (V, S)
        where = np.arange(1, states.shape[1]) % positions  # the position of each move's target
        for shift in range(-max_shift, max_shift + 1):
            moved = shift_states(states, shift, pitches)
            if moved is None:
                continue
            for v in range(voices):
                np.add.at(counts[v], (where, moved[v, :-1], moved[v, 1:]), 1)
    allowed = allowed_moves(pitches).numpy()
    counts = counts * allowed
    anywhere = _potentials(counts.sum(axis=1), allowed, pitches, smoothing, pseudo, None)
    if positions == 1:
        return torch.from_numpy(anywhere[1])[:, None]
    overall = anywhere[0]  # (V, N, N) transition probabilities at any position
    out = np.stack(
        [
            _potentials(counts[:, m], allowed, pitches, smoothing, pseudo, overall)[1]
            for m in range(positions)
        ],
        axis=1,
    )
    return torch.from_numpy(out)


def _potentials(
    counts: np.ndarray,
    allowed: np.ndarray,
    pitches: int,
    smoothing: float,
    pseudo: float,
    shrink_to: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Transition probabilities and log-potentials from (V, N, N) counts of moves.

    P(s | s') is shrunk with the weight of ``pseudo`` moves towards ``shrink_to`` (else towards
    P(s)): a rare s' says little. The potentials divide by how often each state's *token*
    occurs, which is what the generator predicts (every "goes on" state has the token HOLD).
    """
    marginal = counts.sum(axis=1) + smoothing  # (V, N): how often each state follows any other
    marginal /= marginal.sum(axis=1, keepdims=True)
    if shrink_to is None:
        shrink_to = marginal[:, None, :] * allowed
        shrink_to = shrink_to / shrink_to.sum(axis=2, keepdims=True)
    transition = (counts + pseudo * shrink_to) / (counts.sum(axis=2, keepdims=True) + pseudo)
    token_marginal = marginal.copy()
    token_marginal[:, 1 + pitches :] = marginal[:, 1 + pitches :].sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        potentials = np.log(transition) - np.log(token_marginal)[:, None, :]
    potentials[:, ~allowed] = -np.inf
    return transition, potentials
