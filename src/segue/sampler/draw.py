"""The voice-leading sampler's draw: each voice's line drawn exactly, by forward filtering and
backward sampling, from the generator's per-cell softmax times the sampler's move weights, voices
drawn top down with parallel fifths and octaves against the voices already drawn weighed down.

The draw runs compiled (:mod:`segue.sampler.kernel`) where Numba is installed; the NumPy code
here is the reference it is tested against, with the same random numbers, and runs elsewhere.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import torch

from segue.music.tokens import FIRST_PITCH, HOLD, REST
from segue.sampler import kernel
from segue.sampler.calibration import Calibration, register_classes, tonal_ranks
from segue.sampler.states import move_classes, sounding_pitches, state_pitches, state_tokens

if TYPE_CHECKING:
    from segue.sampler.voiceleading import VoiceLeadingSampler


def sample_lines(
    logits: torch.Tensor,
    start: torch.Tensor,
    sampler: VoiceLeadingSampler,
    rng: torch.Generator,
    temperature: float = 1.0,
    strength: float = 1.0,
    parallels: float = 0.0,
    context: torch.Tensor | np.ndarray | None = None,
    compiled: bool = False,
) -> torch.Tensor:
    """Draw (B, V, S) tokens from (B, V, K, S) logits with the voice-leading sampler, each voice's
    line continuing from its ``start`` state (B, V). With the sampler's calibration and the
    ``context`` (B, V, S') the logits were conditioned on, each new note is also weighed by its
    pitch class's rank and its register in the context, and each token by whether it echoes
    the context's token at the same step. The calibration's seam weights (with or without the
    context) weigh the move from ``start`` into the first step: the seam between the context and
    what is drawn, at every chunk of an autoregressive continuation.

    With ``parallels`` > 0 the voices are drawn one after another from the top, and a move
    that makes parallel fifths or octaves (unisons) with a voice already drawn has its
    weight divided by e^parallels; with 0 every voice is drawn at once.

    ``compiled``: draw with the compiled kernel (:mod:`segue.sampler.kernel`, Numba) instead of
    the NumPy reference here; both give the same draws from the same ``rng``.
    """
    batch, voices, _, steps = logits.shape
    tokens_of = state_tokens(sampler.pitches)
    log_weights = _log_emission(logits, start, sampler, temperature, context)  # (B, V, N, S)
    if compiled:
        states = kernel.draw_states(
            _scaled_weights(log_weights, axis=2),  # (B, V, N, S) float32
            *sampler.kernel_weights(strength),
            start.numpy(),
            _uniforms(batch, voices, steps, parallels, rng),
            _pairs(sampler.pitches),
            parallels,
            threads=torch.get_num_threads(),
        )
        return tokens_of[torch.from_numpy(states)]
    moves = sampler.move_weights(strength)  # (V, M, N, N)
    return _reference_draw(torch.from_numpy(log_weights), moves, start, rng, parallels, sampler.pitches)


def _reference_draw(
    emission: torch.Tensor,
    moves: np.ndarray,
    start: torch.Tensor,
    rng: torch.Generator,
    parallels: float,
    pitches: int,
) -> torch.Tensor:
    """(B, V, S) tokens from (B, V, N, S) log-weights by the NumPy reference draw."""
    batch, voices, size, steps = emission.shape
    tokens_of = state_tokens(pitches)
    if parallels <= 0:  # every (window, voice) line is its own chain
        chains = _ffbs(
            emission.reshape(batch * voices, size, steps),
            np.tile(moves, (batch, 1, 1, 1)),
            start.reshape(-1),
            rng,
        )
        return tokens_of[chains.view(batch, voices, steps)]
    pitch_of = state_pitches(pitches)
    states = torch.empty(batch, voices, steps, dtype=torch.long)
    chunk = CHUNK
    for v in range(voices):
        for first in range(0, batch, chunk):
            rows = slice(first, first + chunk)
            above = pitch_of[torch.cat([start[rows, :v, None], states[rows, :v]], dim=2)]  # (b, v, S + 1)
            blocks = _parallel_factors(above, pitches, parallels)
            states[rows, v] = _ffbs(
                emission[rows, v],
                moves[v][None],  # shared by the chunk's windows
                start[rows, v],
                rng,
                blocks,
            )
    return tokens_of[states]


def _scaled_weights(log_weights: np.ndarray, axis: int) -> np.ndarray:
    """exp(log-weights), scaled so that the largest along ``axis`` is 1."""
    log = torch.from_numpy(log_weights)
    return torch.exp(log - log.amax(dim=axis, keepdim=True)).numpy()


CHUNK = 16
"""Windows drawn at a time by the reference draw with parallels (their random numbers come in
that order)."""


def _uniforms(batch: int, voices: int, steps: int, parallels: float, rng: torch.Generator) -> np.ndarray:
    """(B, V, S) the random numbers of the backward picks, drawn in the reference draw's order:
    all lines at once without parallels; with them, voice after voice, CHUNK windows at a time."""
    if parallels <= 0:
        return (
            torch.rand(batch * voices, steps, 1, generator=rng)
            .numpy()
            .astype(np.float64)
            .reshape(batch, voices, steps)
        )
    uniform = np.empty((batch, voices, steps))
    for v in range(voices):
        for first in range(0, batch, CHUNK):
            rows = min(CHUNK, batch - first)
            drawn = torch.rand(rows, steps, 1, generator=rng).numpy().astype(np.float64)
            uniform[first : first + rows, v] = drawn[..., 0]
    return uniform


@functools.lru_cache(maxsize=4)
def _pairs(pitches: int) -> tuple[np.ndarray, ...]:
    """The parallel moves of :func:`_parallel_table` as the kernel's lists."""
    return kernel.parallel_pairs(_parallel_table(pitches).numpy())


def _log_emission(
    logits: torch.Tensor,
    start: torch.Tensor,
    sampler: VoiceLeadingSampler,
    temperature: float,
    context: torch.Tensor | np.ndarray | None,
) -> np.ndarray:
    """(B, V, N, S) float32 log-weights of each state at each step: the generator's log-softmax
    at ``temperature``, plus the calibration's context weights (with a ``context``) and its seam
    weights on the move from ``start`` into the first step."""
    tokens_of = state_tokens(sampler.pitches)
    emission = torch.log_softmax(logits.float() / temperature, dim=2).index_select(2, tokens_of).numpy()
    calibration = sampler.calibration
    if calibration is None:
        return emission
    if context is not None:
        tokens = context.cpu().numpy() if isinstance(context, torch.Tensor) else np.asarray(context)
        _add_context_weights(emission, calibration, tokens, tokens_of)
    # (B, V, N): the class of the move from the start into each state; an impossible move
    # (class -1) takes class 0's weight, harmless since the moves give it no weight at all
    into = move_classes(sampler.pitches)[start].clamp_min(0).numpy()
    seam = calibration.seam.numpy()[np.arange(emission.shape[1])[None, :, None], into]
    emission[..., 0] += seam
    return emission


def _add_context_weights(
    emission: np.ndarray, calibration: Calibration, context: np.ndarray, tokens_of: torch.Tensor
) -> None:
    """Add to (B, V, N, S) log-weights of each state at each step the weights from the (B, V, S')
    context: the tonal and register weights of the new note a state starts, the echo weight if
    its token is the context's at the same step."""
    voices = context.shape[1]
    pitches = (len(tokens_of) - 1) // 2
    sounding = sounding_pitches(context, pitches)
    ranks = tonal_ranks(context, pitches, sounding)  # (B, P)
    registers = register_classes(context, pitches, sounding)  # (B, V, P)
    onset = calibration.tonal.numpy()[:, ranks].transpose(1, 0, 2)  # (B, V, P)
    onset = onset + calibration.register.numpy()[np.arange(voices)[None, :, None], registers]
    emission[:, :, 1 : 1 + pitches] += onset[..., None]
    # the echo weight, on the states whose token is the context's at the same step: the rest,
    # the one onset, or every hold
    overlap = min(emission.shape[3], context.shape[2])
    echo = calibration.echo.numpy()
    same = context[:, :, :overlap]
    emission[:, :, 0, :overlap] += (same == REST) * echo[None, :, None]
    emission[:, :, 1 + pitches :, :overlap] += (same == HOLD)[:, :, None, :] * echo[None, :, None, None]
    b, v, t = np.nonzero(same >= FIRST_PITCH)
    emission[b, v, 1 + same[b, v, t] - FIRST_PITCH, t] += echo[v]


@functools.lru_cache(maxsize=4)
def _parallel_table(pitches: int) -> torch.Tensor:
    """(P, P, P, P) bool: whether an upper voice moving from pitch a to c (indices [a, c]) and
    this voice moving from x to y ([..., x, y]) make parallel fifths or octaves (unisons): both
    move the same way, from a fifth (or octave, unison) to the same interval."""
    index = np.arange(pitches)
    x, y = index[:, None], index[None, :]
    table = np.zeros((pitches, pitches, pitches, pitches), dtype=bool)
    for a in range(pitches):
        c = index[:, None, None]  # (P, 1, 1): where the upper voice goes
        interval = (a - x) % 12  # (P, 1)
        table[a] = (
            (c != a)
            & (x != y)
            & ((c - a) * (y - x) > 0)
            & ((interval == 0) | (interval == 7))
            & (interval == (c - y) % 12)
        )
    return torch.from_numpy(table)


def _parallel_factors(above: torch.Tensor, pitches: int, weight: float) -> dict[int, torch.Tensor]:
    """For the steps where moving this voice can make parallels with a voice ``above``: (b, P, P)
    factors on moving from pitch x to a new pitch y, e^-weight once per upper voice that makes
    parallel fifths or octaves with it (see :func:`_parallel_table`).

    ``above`` is (b, u, S + 1): the upper voices' sounding pitch indices (-1 for silence), from
    the step before the first.
    """
    before, after = above[:, :, :-1], above[:, :, 1:]  # (b, u, S) before and at each step
    moving = (before >= 0) & (after >= 0) & (before != after)
    rows, _, steps = moving.nonzero(as_tuple=True)  # one event per (window, upper voice, step)
    pairs = _parallel_table(pitches)[before[moving], after[moving]]  # (E, P, P)
    found = pairs.flatten(1).any(1)
    if not bool(found.any()):
        return {}
    rows, steps, pairs = rows[found], steps[found], pairs[found]
    where, slot = torch.unique(steps, return_inverse=True)
    count = torch.zeros(len(above), len(where), pitches, pitches)
    count.index_put_((rows, slot), pairs.float(), accumulate=True)
    factors = torch.exp(-weight * count)  # (b, m, P, P)
    return {int(t): factors[:, i] for i, t in enumerate(where.tolist())}


def _ffbs(
    emission: torch.Tensor,
    moves: np.ndarray,
    start: torch.Tensor,
    rng: torch.Generator,
    blocks: dict[int, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Forward filtering, backward sampling of C chains: (C, N, S) log-emissions, weights of the
    moves (C, M, N, N) into each of M positions of the bar (or (1, M, N, N) shared by all chains;
    see :meth:`VoiceLeadingSampler.move_weights`), start states (C,) -> (C, S) states. ``blocks`` maps a
    step to (C, P, P) factors on the moves from a sounding pitch into a new one at that step.

    Works in probabilities, rescaled at every step, so each step is one batched
    vector-matrix product.
    """
    chains, size, steps = emission.shape
    pitches = (size - 1) // 2
    uniform = torch.rand(chains, steps, 1, generator=rng).numpy().astype(np.float64)
    # the step loops run in NumPy: per step they are a few small operations, where NumPy's
    # overhead per call is a fraction of PyTorch's
    weights = _scaled_weights(emission.numpy(), axis=1).astype(np.float64)
    static = np.broadcast_to(moves, (chains, *moves.shape[1:]))  # (C, M, N, N), not copied
    positions = static.shape[1]  # step t of the continuation is at position t mod M of its bar
    factors = {t: f.numpy().astype(np.float64) for t, f in (blocks or {}).items()}
    row = np.arange(chains)
    pitch_rows = slice(1, 1 + pitches), slice(1 + pitches, size)  # "x starts", "x goes on"
    scratch: dict[int, np.ndarray] = {}  # a (C, N, N) buffer per position in the bar

    def transitions(t: int) -> np.ndarray:
        """The (C, N, N) moves into step t (valid until the next call)."""
        factor, position = factors.get(t), t % positions
        if factor is None:
            return static[:, position]
        if position not in scratch:
            scratch[position] = static[:, position].copy()
        out = scratch[position]
        for rows in pitch_rows:  # from "x starts" or "x goes on" to "y starts"
            np.multiply(static[:, position, rows, 1 : 1 + pitches], factor, out=out[:, rows, 1 : 1 + pitches])
        return out

    def into(t: int, state: np.ndarray) -> np.ndarray:
        """(C, N): the moves from every state into each chain's ``state`` at step t."""
        column = static[row, t % positions, :, state]
        factor = factors.get(t)
        if factor is not None:
            new_note = ((state >= 1) & (state <= pitches))[:, None]
            towards = np.where(new_note, factor[row, :, np.clip(state - 1, 0, pitches - 1)], 1.0)  # (C, P)
            for rows in pitch_rows:
                column[:, rows] *= towards
        return column

    alpha = weights[..., 0] * transitions(0)[row, start.numpy()]  # (C, N)
    alpha /= alpha.sum(1, keepdims=True)
    alphas = [alpha]
    for t in range(1, steps):
        alpha = np.matmul(alpha[:, None, :], transitions(t))[:, 0] * weights[..., t]
        alpha /= alpha.sum(1, keepdims=True)
        alphas.append(alpha)
    states = np.empty((chains, steps), dtype=np.int64)
    states[:, -1] = _pick(alphas[-1], uniform[:, -1])
    for t in range(steps - 2, -1, -1):
        states[:, t] = _pick(alphas[t] * into(t + 1, states[:, t + 1]), uniform[:, t])
    return torch.from_numpy(states)


def _pick(weights: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """One index per row of (C, N) non-negative weights, by inverting the cumulative sum at ``uniform``."""
    cumulative = weights.cumsum(1)
    return np.minimum((cumulative < uniform * cumulative[:, -1:]).sum(1), weights.shape[1] - 1)
