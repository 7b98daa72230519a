"""The voice-leading sampler's draw: each voice's line drawn exactly, by forward filtering and
backward sampling, from the generator's per-cell softmax times the sampler's move weights, voices
drawn top down with parallel fifths and octaves against the voices already drawn weighed down.

The draw runs compiled (:mod:`segue.sampler.kernel`) where Numba is installed; the NumPy code
here is the reference it is tested against, with the same random numbers, and runs elsewhere.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from segue.models.generator import VoiceLogits
from segue.sampler import kernel
from segue.sampler.calibration import chord_bits, register_classes, tonal_ranks
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
    lengths: np.ndarray | None = None,
) -> torch.Tensor:
    """Draw (B, V, S) tokens from (B, V, K, S) logits with the voice-leading sampler, each voice's
    line continuing from its ``start`` state (B, V), whose note has sounded ``lengths`` (B, V)
    steps (default: just struck; read only by a calibration that weighs notes by their age).
    With the sampler's calibration and the ``context`` (B, V, S') the logits were conditioned on,
    each new note is also weighed by its pitch class's rank and its register in the context, and
    each token by whether it echoes the context's token at the same step. The calibration's seam
    weights (with or without the context) weigh the move from ``start`` into the first step: the
    seam between the context and what is drawn, at every chunk of an autoregressive continuation.

    With ``parallels`` > 0 the voices are drawn one after another from the top, and a move
    that makes parallel fifths or octaves (unisons) with a voice already drawn has its
    weight divided by e^parallels; with 0 every voice is drawn at once.

    ``compiled``: draw with the compiled kernel (:mod:`segue.sampler.kernel`, Numba) instead of
    the NumPy reference here; both give the same draws from the same ``rng``.
    """
    batch, voices, _, steps = logits.shape
    emission = _emission(logits, start, sampler, temperature, context)
    # voices drawn from the top: for the parallels, and for weights that read the voices above
    ordered = (
        parallels > 0
        or _vertical(sampler) is not None
        or _together(sampler) is not None
        or _chords(sampler) is not None
    )
    uniform = _uniforms(batch, voices, steps, ordered, rng)
    return _draw(emission, start, sampler, uniform, strength, parallels, compiled, lengths=lengths)


def _ages(sampler: VoiceLeadingSampler) -> np.ndarray | None:
    """The (V, M, L) factors of the calibration's weights on a note going on by its age, if any."""
    ages = sampler.calibration.ages if sampler.calibration is not None else None
    return None if ages is None else np.exp(ages.numpy().astype(np.float64))


def _vertical(sampler: VoiceLeadingSampler) -> np.ndarray | None:
    """The (V, V, 12) factors of the calibration's vertical weights, if it has them."""
    vertical = sampler.calibration.vertical if sampler.calibration is not None else None
    return None if vertical is None else np.exp(vertical.numpy())


def _together(sampler: VoiceLeadingSampler) -> np.ndarray | None:
    """The (V, M, V) factors of the calibration's weights on striking by the voices above that
    strike at the same step, if it has them."""
    together = sampler.calibration.together if sampler.calibration is not None else None
    return None if together is None else np.exp(together.numpy().astype(np.float64))


def _chords(sampler: VoiceLeadingSampler) -> np.ndarray | None:
    """The (V, CHORD_SETS) factors of the calibration's weights on the sets the voices above sound, if any."""
    chords = sampler.calibration.chords if sampler.calibration is not None else None
    return None if chords is None else np.exp(chords.numpy())


def _draw(
    emission: Emission,
    start: torch.Tensor,
    sampler: VoiceLeadingSampler,
    uniform: np.ndarray,
    strength: float,
    parallels: float,
    compiled: bool,
    voices: tuple[int, int] | None = None,
    states: np.ndarray | None = None,
    lengths: np.ndarray | None = None,
) -> torch.Tensor:
    """(B, V, S) tokens drawn from the ``emission`` factors with the (B, V, S) random numbers of
    :func:`_uniforms`, by the compiled kernel or the NumPy reference. ``voices``: draw only voices
    first to last (excluded) into the (B, V, S) ``states``, which hold the voices above them;
    ``lengths``: as :func:`sample_lines` takes them."""
    tokens_of = state_tokens(sampler.pitches)
    factors = _vertical(sampler)
    chords = _chords(sampler)
    ages = _ages(sampler)
    together = _together(sampler)
    if lengths is None:
        lengths = np.ones(tuple(start.shape), dtype=np.int64)
    if compiled:
        drawn = kernel.draw_states(
            emission,
            *sampler.kernel_weights(strength),
            start.numpy(),
            uniform,
            _pairs(sampler.pitches),
            parallels,
            threads=torch.get_num_threads(),
            vertical=factors,
            chords=chords,
            voices=voices,
            out=states,
            ages=ages,
            lengths=lengths,
            together=together,
        )
        return tokens_of[torch.from_numpy(drawn)]
    first, last = (0, uniform.shape[1]) if voices is None else voices
    weights = state_weights(_voices_of(emission, first, last), sampler.pitches)  # (B, last - first, N, S)
    moves = sampler.move_weights(strength)
    shared = None if states is None else torch.from_numpy(states)  # the reference draws into it
    return _reference_draw(
        weights,
        moves,
        start,
        uniform,
        parallels,
        sampler.pitches,
        factors,
        voices,
        shared,
        None if ages is None else (ages, lengths),
        together,
        chords,
    )


def _voices_of(emission: Emission, first: int, last: int) -> Emission:
    """The factors of voices first to last (excluded) only."""
    probs, onset, echo, context, seam = emission
    rows = slice(first, last)
    return Emission(probs[:, rows], onset[:, rows], echo[rows], context[:, rows], seam[:, rows])


def _reference_draw(
    weights: np.ndarray,
    moves: np.ndarray,
    start: torch.Tensor,
    uniform: np.ndarray,
    parallels: float,
    pitches: int,
    vertical: np.ndarray | None = None,
    voices: tuple[int, int] | None = None,
    states: torch.Tensor | None = None,
    aging: tuple[np.ndarray, np.ndarray] | None = None,
    together: np.ndarray | None = None,
    chords: np.ndarray | None = None,
) -> torch.Tensor:
    """(B, V, S) tokens from (B, V, N, S) weights of the states by the NumPy reference draw, with
    the (B, V, S) random numbers of :func:`_uniforms`; ``vertical``: (V, V, 12) factors on a
    voice's pitch by its interval below each voice above at the same step. ``voices``: draw only
    voices first to last (excluded), whose weights ``weights`` holds, into ``states``, which holds
    the voices above them. ``aging``: (V, M, L) factors on a note going on by its age and how many
    steps (B, V) the start states' notes have sounded: each line is then drawn on the states with
    the ages apart (:func:`aged_states`) and read back. ``together``: (V, M, V) factors on a
    voice striking a note by how many voices above it strike at the same step. ``chords``:
    (V, CHORD_SETS) factors on a voice's pitch by the set of pitch classes the voices above sound
    over it (:func:`segue.sampler.calibration.chord_sets`)."""
    batch, _, size, steps = weights.shape
    tokens_of = state_tokens(pitches)
    low, high = (0, weights.shape[1]) if voices is None else voices
    ages = 1 if aging is None else aging[0].shape[2]  # L: the ages a hold is told apart at
    if aging is not None:
        base_of = aged_states(pitches, ages)
        weights = weights[:, :, base_of]
        aged_moves = [_aged_moves(moves[v], aging[0][v], pitches) for v in range(low, high)]
        aged_start = _aged_start(start, aging[1], pitches, ages)
    # without ages, parallels, vertical or together weights every (window, voice) line is its own chain
    alone = vertical is None and together is None and chords is None
    if aging is None and voices is None and parallels <= 0 and alone:
        chains = _ffbs(
            weights.reshape(batch * high, size, steps),
            np.tile(moves, (batch, 1, 1, 1)),
            start.reshape(-1),
            uniform.reshape(batch * high, steps),
        )
        return tokens_of[chains.view(batch, high, steps)]
    pitch_of = state_pitches(pitches)
    if states is None:
        states = torch.empty(batch, uniform.shape[1], steps, dtype=torch.long)
    own_pitch = pitch_of.numpy() if aging is None else pitch_of.numpy()[base_of]
    own_state = np.arange(size) if aging is None else base_of
    own_onset = (own_state >= 1) & (own_state <= pitches)  # the states that strike a note
    for v in range(low, high):
        for first in range(0, batch, CHUNK):
            rows = slice(first, first + CHUNK)
            above = pitch_of[torch.cat([start[rows, :v, None], states[rows, :v]], dim=2)]  # (b, v, S + 1)
            blocks = _parallel_factors(above, pitches, parallels) if parallels > 0 else {}
            line = weights[rows, v - low]
            if vertical is not None:
                line = line * _vertical_factors(above[:, :, 1:].numpy(), own_pitch, vertical[v])
            if together is not None:
                line = line * _together_factors(states[rows, :v].numpy(), own_onset, together[v], pitches)
            if chords is not None and v > 0:  # nothing sounds above the top voice
                line = line * _chord_factors(above[:, :, 1:].numpy(), own_pitch, chords[v])
            if aging is None:
                states[rows, v] = _ffbs(line, moves[v][None], start[rows, v], uniform[rows, v], blocks)
                continue
            drawn = _ffbs(
                line, aged_moves[v - low][None], aged_start[rows, v], uniform[rows, v], blocks, ages
            )
            states[rows, v] = torch.from_numpy(base_of)[drawn]
    return tokens_of[states]


def aged_states(pitches: int, lengths: int) -> np.ndarray:
    """(1 + P + P·L,) the state (of 2P+1) of each state with a note's age apart: rest, the P
    onsets, then each pitch's hold at ages 0 to L - 1 (pitch by pitch)."""
    return np.concatenate(
        [np.arange(1 + pitches), 1 + pitches + np.repeat(np.arange(pitches), lengths)]
    ).astype(np.int64)


def _aged_moves(moves: np.ndarray, ages: np.ndarray, pitches: int) -> np.ndarray:
    """(M, N', N') [from, to] moves between the states with the ages apart, from (M, N, N) moves
    and (M, L) factors on a note going on by its age: a note going on at age a comes from its
    onset (a = 0) or from itself at age a - 1, and at the last age also from itself."""
    lengths = ages.shape[1]
    base_of = aged_states(pitches, lengths)
    out = moves[:, base_of][:, :, base_of].copy()
    first_hold = 1 + pitches
    out[:, :, first_hold:] = 0.0
    p = np.arange(pitches)
    hold, onset = first_hold + p, 1 + p
    at = first_hold + p[:, None] * lengths + np.arange(lengths)[None, :]  # (P, L): each hold's aged state
    out[:, onset, at[:, 0]] = moves[:, onset, hold] * ages[:, :1]
    going_on = moves[:, hold, hold]  # (M, P)
    for a in range(1, lengths):
        out[:, at[:, a - 1], at[:, a]] = going_on * ages[:, a : a + 1]
    out[:, at[:, -1], at[:, -1]] += going_on * ages[:, -1:]
    return out


def _aged_start(start: torch.Tensor, lengths: np.ndarray, pitches: int, ages: int) -> torch.Tensor:
    """(B, V) start states with the ages apart: a note going on at the start at the age from
    which it goes on into the first step at its length's age (min(length, L) - 1)."""
    state = start.numpy()
    held = state > pitches
    age = np.minimum(np.maximum(lengths, 2), ages) - 2  # a note going on has sounded 2 steps or more
    aged = np.where(held, 1 + pitches + (state - 1 - pitches) * ages + age, state)
    return torch.from_numpy(aged.astype(np.int64))


def sample_chained(
    voice_logits: VoiceLogits,
    start: torch.Tensor,
    sampler: VoiceLeadingSampler,
    rng: torch.Generator,
    temperature: float = 1.0,
    strength: float = 1.0,
    parallels: float = 0.0,
    context: torch.Tensor | np.ndarray | None = None,
    compiled: bool = False,
    lengths: np.ndarray | None = None,
) -> torch.Tensor:
    """:func:`sample_lines` for a generator whose logits for each voice depend on the voices drawn
    above it (:class:`segue.models.generator.VoiceHead`): the voices drawn from the top, each
    voice's logits asked for once the voices above it are drawn."""
    batch, voices = start.shape
    tokens_of = state_tokens(sampler.pitches)
    top = voice_logits(0, None).float().cpu()  # (B, K, S)
    logits = top.new_zeros(batch, voices, *top.shape[1:])
    logits[:, 0] = top
    emission = _emission(logits, start, sampler, temperature, context)
    uniform = _uniforms(batch, voices, top.shape[-1], True, rng)
    states = np.zeros(uniform.shape, dtype=np.int64)
    for v in range(voices):
        if v > 0:
            voice = voice_logits(v, tokens_of[torch.from_numpy(states[:, :v])]).float().cpu()
            emission.probs[:, v] = torch.softmax(voice / temperature, dim=1).numpy()
        tokens = _draw(
            emission, start, sampler, uniform, strength, parallels, compiled, (v, v + 1), states, lengths
        )
    return tokens


def _vertical_factors(above: np.ndarray, pitch_of: np.ndarray, vertical: np.ndarray) -> np.ndarray:
    """(b, N, S) the factors on each state of a voice at each step from the (b, u, S) pitches the
    voices above it sound (-1: silent), ``vertical`` (V, 12) the factors by interval class below
    voice u; the voices' factors multiplied together from the top, then onto the state's weight,
    as the compiled draw does."""
    out = np.ones((above.shape[0], len(pitch_of), above.shape[2]))
    own = pitch_of[None, :, None]  # (1, N, 1)
    for u in range(above.shape[1]):
        sounding = above[:, u][:, None, :]  # (b, 1, S)
        both = (sounding >= 0) & (own >= 0)
        out *= np.where(both, vertical[u].astype(np.float64)[(sounding - own) % 12], 1.0)
    return out


def _together_factors(above: np.ndarray, onset: np.ndarray, together: np.ndarray, pitches: int) -> np.ndarray:
    """(b, N, S) the factors on each state of a voice at each step from the (b, u, S) states of
    the voices above it: ``together`` (M, V) by position in the bar and how many of them strike
    there, on the states that strike a note (``onset``, (N,) bool)."""
    striking = ((above >= 1) & (above <= pitches)).sum(1)  # (b, S)
    steps = above.shape[2]
    factor = together[np.arange(steps) % together.shape[0], striking]  # (b, S)
    return np.where(onset[None, :, None], factor[:, None, :], 1.0)


def _chord_factors(above: np.ndarray, pitch_of: np.ndarray, chords: np.ndarray) -> np.ndarray:
    """(b, N, S) the factors on each state of a voice at each step from the (b, u, S) pitches the
    voices above it sound (-1: silent), ``chords`` (CHORD_SETS,) the factors by the set of pitch
    classes they sound above it (:func:`~segue.sampler.calibration.chord_sets`; a rest: 1), as the
    compiled draw applies them."""
    own = pitch_of[None, :, None]  # (1, N, 1)
    sets = np.zeros((above.shape[0], len(pitch_of), above.shape[2]), dtype=np.int64)
    for u in range(above.shape[1]):
        sets |= chord_bits(above[:, u][:, None, :], own)  # (b, N, S)
    return np.where(own >= 0, chords.astype(np.float64)[sets], 1.0)


CHUNK = 16
"""Windows drawn at a time by the reference draw with parallels (their random numbers come in
that order)."""


def _uniforms(batch: int, voices: int, steps: int, ordered: bool, rng: torch.Generator) -> np.ndarray:
    """(B, V, S) the random numbers of the backward picks, in the order the reference draw used
    to draw them: all lines at once, or (``ordered``: voices from the top) voice after voice,
    CHUNK windows at a time."""
    if not ordered:
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


class Emission(NamedTuple):
    """What weighs each state at each step, as factors (the compiled draw multiplies them as it
    goes; :func:`state_weights` multiplies them out for the reference draw, in the same order)."""

    probs: np.ndarray
    """(B, V, K, S) float32: the generator's softmax at the temperature, per token."""
    onset: np.ndarray
    """(B, V, P) float32: the calibration's tonal and register factor on a new note of each pitch."""
    echo: np.ndarray
    """(V,) float32: the echo factor on a state whose token is the context's at the same step."""
    context: np.ndarray
    """(B, V, O) int64: the context's first O tokens, O = 0 without a context or calibration."""
    seam: np.ndarray
    """(B, V, N) float32: the seam factor on the move from the start into each state."""


def _emission(
    logits: torch.Tensor,
    start: torch.Tensor,
    sampler: VoiceLeadingSampler,
    temperature: float,
    context: torch.Tensor | np.ndarray | None,
) -> Emission:
    """The factors that weigh each state: the generator's softmax at ``temperature``; with a
    calibration, its seam weights on the move from ``start`` into the first step and, with a
    ``context``, its tonal, register and echo weights (each the exponential of its log-weight)."""
    probs = torch.softmax(logits.float() / temperature, dim=2).numpy()
    batch, voices, _, steps = probs.shape
    pitches = sampler.pitches
    onset = np.ones((batch, voices, pitches), dtype=np.float32)
    echo = np.ones(voices, dtype=np.float32)
    same = np.zeros((batch, voices, 0), dtype=np.int64)
    seam = np.ones((batch, voices, 2 * pitches + 1), dtype=np.float32)
    calibration = sampler.calibration
    if calibration is None:
        return Emission(probs, onset, echo, same, seam)
    if context is not None:
        tokens = context.cpu().numpy() if isinstance(context, torch.Tensor) else np.asarray(context)
        sounding = sounding_pitches(tokens, pitches)
        ranks = tonal_ranks(tokens, pitches, sounding)  # (B, P)
        registers = register_classes(tokens, pitches, sounding)  # (B, V, P)
        weight = calibration.tonal.numpy()[:, ranks].transpose(1, 0, 2)  # (B, V, P)
        onset = np.exp(weight + calibration.register.numpy()[np.arange(voices)[None, :, None], registers])
        echo = np.exp(calibration.echo.numpy())
        same = np.ascontiguousarray(tokens[:, :, :steps], dtype=np.int64)
    # (B, V, N): the class of the move from the start into each state; an impossible move
    # (class -1) takes class 0's weight, harmless since the moves give it no weight at all
    into = move_classes(pitches)[start].clamp_min(0).numpy()
    seam = np.exp(calibration.seam.numpy()[np.arange(voices)[None, :, None], into])
    return Emission(probs, onset, echo, same, seam)


def state_weights(emission: Emission, pitches: int) -> np.ndarray:
    """(B, V, N, S) float64 weight of each state at each step: its token's probability, times
    the onset factor (a new note), the echo factor (its token is the context's) and, at the first
    step, the seam factor, multiplied in this order (as the compiled draw does)."""
    tokens_of = state_tokens(pitches).numpy()
    weights = emission.probs[:, :, tokens_of, :].astype(np.float64)
    weights[:, :, 1 : 1 + pitches] *= emission.onset[..., None].astype(np.float64)
    overlap = emission.context.shape[2]
    if overlap:
        echoed = tokens_of[None, None, :, None] == emission.context[:, :, None, :]  # (B, V, N, O)
        factor = emission.echo.astype(np.float64)[None, :, None, None]
        weights[..., :overlap] = np.where(echoed, weights[..., :overlap] * factor, weights[..., :overlap])
    weights[..., 0] *= emission.seam.astype(np.float64)
    return weights


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
    weights: np.ndarray | torch.Tensor,
    moves: np.ndarray,
    start: torch.Tensor,
    uniform: np.ndarray,
    blocks: dict[int, torch.Tensor] | None = None,
    ages: int = 1,
) -> torch.Tensor:
    """Forward filtering, backward sampling of C chains: (C, N, S) weights of the states, weights of the
    moves (C, M, N, N) into each of M positions of the bar (or (1, M, N, N) shared by all chains;
    see :meth:`VoiceLeadingSampler.move_weights`), start states (C,), the (C, S) random numbers of
    the backward picks -> (C, S) states. ``blocks`` maps a
    step to (C, P, P) factors on the moves from a sounding pitch into a new one at that step;
    ``ages``: the states have each hold at that many ages (:func:`aged_states`), N = 1 + P + P·ages.

    Works in probabilities, rescaled at every step, so each step is one batched
    vector-matrix product.
    """
    chains, size, steps = weights.shape
    pitches = (size - 1) // (1 + ages)
    uniform = np.asarray(uniform, dtype=np.float64)[:, :, None]  # (C, S, 1)
    # the step loops run in NumPy: per step they are a few small operations, where NumPy's
    # overhead per call is a fraction of PyTorch's
    weights = np.asarray(weights, dtype=np.float64)
    static = np.broadcast_to(moves, (chains, *moves.shape[1:]))  # (C, M, N, N), not copied
    positions = static.shape[1]  # step t of the continuation is at position t mod M of its bar
    factors = {t: f.numpy().astype(np.float64) for t, f in (blocks or {}).items()}

    def widen(factor: np.ndarray) -> np.ndarray:
        """Factors by pitch (axis 1) for the hold rows, which hold each pitch at every age."""
        return factor if ages == 1 else np.repeat(factor, ages, axis=1)

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
        # from "x starts" or "x goes on" to "y starts"
        for rows, f in zip(pitch_rows, (factor, widen(factor))):
            np.multiply(static[:, position, rows, 1 : 1 + pitches], f, out=out[:, rows, 1 : 1 + pitches])
        return out

    def into(t: int, state: np.ndarray) -> np.ndarray:
        """(C, N): the moves from every state into each chain's ``state`` at step t."""
        column = static[row, t % positions, :, state]
        factor = factors.get(t)
        if factor is not None:
            new_note = ((state >= 1) & (state <= pitches))[:, None]
            towards = np.where(new_note, factor[row, :, np.clip(state - 1, 0, pitches - 1)], 1.0)  # (C, P)
            for rows, f in zip(pitch_rows, (towards, widen(towards))):
                column[:, rows] *= f
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
