"""A voice-leading prior for sampling: how each voice moves from one step to the next.

The generator scores every (voice, step) cell on its own, so independent draws from
its softmax can jump between two good notes of a chord from one step to the next.
:class:`LinePrior` is a first-order chain per voice, counted on the training data,
over the states "rest", "pitch p starts" and "pitch p goes on"; :func:`sample_lines`
draws each voice's line from the product of the generator's per-cell distribution and
the chain's *dependence* term, log P(s | s') - log P(token(s)) (so the tokens'
frequencies, which the generator already knows, are not counted twice), with weight
``strength``:

    p(s_1..s_n) ∝ Π_t softmax(logits_t / T)[token(s_t)] · (P(s_t | s_t-1) / P(token(s_t)))^strength

drawn exactly by forward filtering and backward sampling. Strength 0 is the plain
independent draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from segue.music.tokens import FIRST_PITCH, HOLD, REST


def state_tokens(pitches: int) -> torch.Tensor:
    """The token of each state: rest, then ``pitches`` onsets, then ``pitches`` holds."""
    return torch.cat(
        [torch.tensor([REST]), FIRST_PITCH + torch.arange(pitches), torch.full((pitches,), HOLD)]
    ).long()


def to_states(tokens: np.ndarray, pitches: int) -> np.ndarray:
    """(..., S) tokens -> (..., S) states; a hold carries the pitch sounding before it (rest after a rest)."""
    tokens = np.asarray(tokens)
    states = np.zeros(tokens.shape, dtype=np.int64)
    sounding = np.full(tokens.shape[:-1], -1, dtype=np.int64)  # pitch index, -1 for silence
    for t in range(tokens.shape[-1]):
        token = tokens[..., t]
        onset = token >= FIRST_PITCH
        sounding = np.where(onset, token - FIRST_PITCH, np.where(token == REST, -1, sounding))
        held = (token == HOLD) & (sounding >= 0)
        states[..., t] = np.where(onset, 1 + sounding, np.where(held, 1 + pitches + sounding, 0))
    return states


class LinePrior:
    """Per-voice step-to-step log-potentials, (V, 2P+1, 2P+1): log P(s | s') - log P(token(s)),
    and how strongly to use them: ``strength`` for the lines, ``parallels`` for the penalty on
    parallel fifths and octaves (see :func:`sample_lines`)."""

    def __init__(self, potentials: torch.Tensor, strength: float = 1.0, parallels: float = 5.0) -> None:
        if (
            potentials.dim() != 3
            or potentials.shape[1] != potentials.shape[2]
            or potentials.shape[1] % 2 != 1
        ):
            raise ValueError("potentials must have shape (voices, 2P+1, 2P+1)")
        if not (0 <= strength <= 10 and 0 <= parallels <= 100):
            raise ValueError("need 0 <= strength <= 10 and 0 <= parallels <= 100")
        self.potentials = potentials.float()
        self.strength, self.parallels = float(strength), float(parallels)

    def sample(
        self, logits: torch.Tensor, start: torch.Tensor, generator: torch.Generator, temperature: float = 1.0
    ) -> torch.Tensor:
        """(B, V, S) tokens from (B, V, K, S) logits, continuing from ``start`` states (B, V)."""
        return sample_lines(logits, start, self, generator, temperature, self.strength, self.parallels)

    @property
    def pitches(self) -> int:
        return (self.potentials.shape[1] - 1) // 2

    @classmethod
    def fit(
        cls,
        grids: Sequence[np.ndarray],
        voices: int,
        pitches: int,
        max_shift: int = 5,
        smoothing: float = 0.5,
        pseudo: float = 20.0,
    ) -> LinePrior:
        """Count step-to-step moves in (V, S) token grids, in every transposition up to ``max_shift``."""
        size = 2 * pitches + 1
        counts = np.zeros((voices, size, size))
        for grid in grids:
            states = to_states(grid, pitches)  # (V, S)
            for shift in range(-max_shift, max_shift + 1):
                moved = _shift(states, shift, pitches)
                if moved is None:
                    continue
                for v in range(voices):
                    np.add.at(counts[v], (moved[v, :-1], moved[v, 1:]), 1)
        allowed = allowed_moves(pitches).numpy()
        counts = counts * allowed
        # P(s): how often each state follows any other (smoothed so that no state is impossible)
        marginal = counts.sum(axis=1) + smoothing
        marginal /= marginal.sum(axis=1, keepdims=True)  # (V, size)
        # P(s | s'), shrunk towards P(s) with the weight of ``pseudo`` moves: a rare s' says little
        prior = marginal[:, None, :] * allowed
        prior /= prior.sum(axis=2, keepdims=True)
        transition = (counts + pseudo * prior) / (counts.sum(axis=2, keepdims=True) + pseudo)
        # divide by how often each state's *token* occurs, which is what the generator predicts:
        # every "goes on" state has the token HOLD
        token_marginal = marginal.copy()
        token_marginal[:, 1 + pitches :] = marginal[:, 1 + pitches :].sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore"):
            potentials = np.log(transition) - np.log(token_marginal)[:, None, :]
        potentials[:, ~allowed] = -np.inf
        return cls(torch.from_numpy(potentials))


def _shift(states: np.ndarray, shift: int, pitches: int) -> np.ndarray | None:
    """States transposed by ``shift`` semitones, or None if a pitch leaves the range."""
    if shift == 0:
        return states
    pitch = np.where(states > pitches, states - pitches - 1, states - 1)  # -1 for rest
    sounding = states > 0
    moved = pitch + shift
    if ((moved < 0) | (moved >= pitches))[sounding].any():
        return None
    return np.where(~sounding, 0, np.where(states > pitches, 1 + pitches + moved, 1 + moved))


def allowed_moves(pitches: int) -> torch.Tensor:
    """(2P+1, 2P+1) bool: "pitch p goes on" follows only "p starts" or "p goes on"."""
    size = 2 * pitches + 1
    allowed = torch.ones(size, size, dtype=torch.bool)
    allowed[:, 1 + pitches :] = False
    index = torch.arange(pitches)
    allowed[1 + index, 1 + pitches + index] = True
    allowed[1 + pitches + index, 1 + pitches + index] = True
    return allowed


def last_states(prime: torch.Tensor, pitches: int) -> torch.Tensor:
    """The state of each voice at the prime's last step, (B, V)."""
    return torch.from_numpy(to_states(prime.cpu().numpy(), pitches)[..., -1])


def sample_lines(
    logits: torch.Tensor,
    start: torch.Tensor,
    prior: LinePrior,
    generator: torch.Generator,
    temperature: float = 1.0,
    strength: float = 1.0,
    parallels: float = 0.0,
) -> torch.Tensor:
    """Draw (B, V, S) tokens from (B, V, K, S) logits under the line prior, each voice's line
    continuing from its ``start`` state (B, V).

    With ``parallels`` > 0 the voices are drawn one after another from the top, and a move
    that makes parallel fifths or octaves (unisons) with a voice already drawn has its
    weight divided by e^parallels; with 0 every voice is drawn at once.
    """
    batch, voices, _, steps = logits.shape
    tokens_of = state_tokens(prior.pitches)
    emission = torch.log_softmax(logits.float() / temperature, dim=2)[:, :, tokens_of, :]  # (B, V, N, S)
    moves = torch.where(torch.isinf(prior.potentials), prior.potentials, strength * prior.potentials)
    if parallels <= 0:
        return tokens_of[_ffbs(emission, moves, start, generator)]
    pitch_of = _state_pitches(prior.pitches)
    states = torch.empty(batch, voices, steps, dtype=torch.long)
    for v in range(voices):
        above = pitch_of[torch.cat([start[:, :v, None], states[:, :v]], dim=2)]  # (B, v, S + 1)
        penalty = _ParallelPenalty(above, pitch_of, parallels)
        states[:, v] = _ffbs(
            emission[:, v : v + 1], moves[v : v + 1], start[:, v : v + 1], generator, penalty
        )[:, 0]
    return tokens_of[states]


def _state_pitches(pitches: int) -> torch.Tensor:
    """The pitch index sounding in each state (-1 for rest)."""
    index = torch.arange(pitches)
    return torch.cat([torch.tensor([-1]), index, index]).long()


class _ParallelPenalty:
    """Log-weight of moving s' -> s at step t, for one voice under the voices drawn above it."""

    def __init__(self, above: torch.Tensor, pitch_of: torch.Tensor, weight: float) -> None:
        self.above, self.weight = above, weight  # above: (B, u, S + 1) sounding pitches, -1 for silence
        self.before = pitch_of  # (N,) pitch sounding in state s'
        onset = torch.zeros_like(pitch_of, dtype=torch.bool)
        onset[1 : 1 + (len(pitch_of) - 1) // 2] = True
        self.after = torch.where(onset, pitch_of, torch.full_like(pitch_of, -1))  # new pitch of s, or -1

    def __call__(self, t: int, into: torch.Tensor | None = None) -> torch.Tensor:
        """(B, N, N) penalties at step t, or (B, N) for the moves into the states ``into`` (B,)."""
        a, c = self.above[:, :, t], self.above[:, :, t + 1]  # the upper voices before and at t: (B, u)
        b = self.before  # (N,) this voice before
        d = self.after if into is None else self.after[into]  # (N,) or (B,) this voice at t
        a, c = a[:, :, None, None], c[:, :, None, None]
        b = b[None, None, :, None]
        d = d[None, None, None, :] if into is None else d[:, None, None, None]
        interval = (a - b) % 12
        moving = (a >= 0) & (c >= 0) & (b >= 0) & (d >= 0) & (a != c) & (b != d) & ((c - a) * (d - b) > 0)
        bad = moving & ((interval == 0) | (interval == 7)) & (interval == (c - d) % 12)
        penalty = -self.weight * bad.sum(dim=1).float()  # (B, N, N) or (B, N, 1)
        return penalty if into is None else penalty[..., 0]


def _ffbs(
    emission: torch.Tensor,
    moves: torch.Tensor,
    start: torch.Tensor,
    generator: torch.Generator,
    penalty: _ParallelPenalty | None = None,
) -> torch.Tensor:
    """Forward filtering, backward sampling: (B, V, N, S) emissions and (V, N, N) moves -> states."""
    batch, voices, size, steps = emission.shape
    rows = torch.arange(voices)[None, :]
    alphas = []
    first = moves[rows, start]  # (B, V, N)
    if penalty is not None:
        first = first + penalty(0)[torch.arange(batch), start[:, 0]][:, None]
    alpha = emission[..., 0] + first
    alphas.append(alpha)
    for t in range(1, steps):
        step = alpha[..., :, None] + moves[None]  # (B, V, N, N)
        if penalty is not None:
            step = step + penalty(t)[:, None]
        alpha = emission[..., t] + torch.logsumexp(step, dim=2)
        alphas.append(alpha)
    states = torch.empty(batch, voices, steps, dtype=torch.long)
    states[..., -1] = _draw(alphas[-1], generator)
    every = torch.arange(size)[None, None, :]
    for t in range(steps - 2, -1, -1):
        following = states[..., t + 1]  # (B, V)
        into = moves[rows[..., None], every, following[..., None]]  # (B, V, N)
        if penalty is not None:
            into = into + penalty(t + 1, following[:, 0])[:, None]
        states[..., t] = _draw(alphas[t] + into, generator)
    return states


def _draw(log_weights: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One index per row of (..., N) unnormalized log-weights (Gumbel-max)."""
    uniform = torch.rand(log_weights.shape, generator=generator).clamp_(1e-10, 1.0)
    return (log_weights - torch.log(-torch.log(uniform))).argmax(-1)
