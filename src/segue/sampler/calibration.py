"""The voice-leading sampler's calibration: log-weights that make its draws match statistics
of the data it would otherwise get wrong, fitted by moment matching (:func:`calibrate`).

The weights (:class:`Calibration`) act on each class of move (rest, entry, hold, stop, or a new
note a given interval away) at each position of the bar, and on striking a note at all there
(rhythm, pooled over the classes); on each new note by how common its pitch class is in the
context the generator was given (its rank in the context's pitch-class profile) and by its
distance from the voice's mean pitch there; on each token that repeats the context's token at
the same step; and on the move from the context's last step into the first drawn one (the seam).
Optional groups weigh a voice's pitch by its interval below the voices above it, a note going on
by how long it has sounded, and a voice striking by how many voices above it strike with it.
Moment matching: draw continuations of real windows, compare how often each class occurs with
how often it occurs in the real continuations, and add part of the log ratio, a few times over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from segue.music.tokens import FIRST_PITCH, HOLD
from segue.sampler.states import (
    MAX_INTERVAL,
    MOVE_CLASSES,
    REGISTER_CLASSES,
    STRIKING,
    TONAL_CLASSES,
    last_states,
    move_classes,
    sounding_lengths,
    sounding_pitches,
    to_states,
)

if TYPE_CHECKING:
    from segue.sampler.voiceleading import VoiceLeadingSampler


MAX_WEIGHT = 4.0
"""The calibration's weights stay within ±MAX_WEIGHT (a factor of about 55)."""
PSEUDO_COUNT = 10.0
"""Added to every class's count, real and drawn, before their shares are compared: a class seen
a few times moves its weight a little, not to the limit."""
GROUPS = ("moves", "tonal", "register", "echo", "onsets", "seam")
"""The groups of weights every calibration has, in the order they are stored."""
OPTIONAL = ("vertical", "ages", "together", "chords")
"""Groups a calibration may have."""
MAX_AGES = 64
"""The most note lengths an ``ages`` group may tell apart."""
UNISON_BIT, CROSSED_BIT = 12, 13
CHORD_SETS = 1 << 14
"""The classes of a ``chords`` group: the pitch classes that the voices above a voice sound at a step,
as intervals (mod 12) above its own, a bit each (bit 0: a voice above doubles it at the octave or
in unison), with bit UNISON_BIT set when a voice above sounds the very same pitch and bit
CROSSED_BIT when one sounds below it (without these two, doubling by unisons and crossing voices
counted as doubling at the octave: the Palestrina model's tenor and bass sounded unisons on 16% of
steps, twice the masses' share, 2026-12-05)."""


@dataclass(frozen=True, eq=False)
class Calibration:
    """Log-weights that make the sampler's draws match the data's statistics (fitted by
    :func:`calibrate`), for V voices and M positions in the bar."""

    moves: torch.Tensor
    """(V, M, MOVE_CLASSES): each class of move into each position of the bar."""
    tonal: torch.Tensor
    """(V, TONAL_CLASSES): a new note by the rank of its pitch class in the context."""
    register: torch.Tensor
    """(V, REGISTER_CLASSES): a new note by its distance from the voice's mean pitch in the context."""
    echo: torch.Tensor
    """(V,): a token equal to the context's token at the same step (P bars earlier)."""
    onsets: torch.Tensor
    """(V, M): a new note (or an entry after a rest) at each position of the bar, whatever its
    interval: rhythm, pooled over the move classes, which are too many for rare positions."""
    seam: torch.Tensor
    """(V, MOVE_CLASSES): the move from the context's last step into the first drawn one."""
    vertical: torch.Tensor | None = None
    """(V, V, 12): a voice v's sounding pitch c semitones (mod 12) below what voice u above it
    sounds at the same step ([v, u, c]; u < v); None: not weighed (the voices are then drawn
    from the top only for the parallels)."""

    chords: torch.Tensor | None = None
    """(V, CHORD_SETS): a voice v sounding a pitch above which the voices above it sound the set of
    pitch classes ``m`` (bit i: i semitones above, mod 12) at the same step ([v, m]); the sonority
    the voices make together, which weights on pairs of voices do not pin down (2026-12-05: the
    chorale model wrote root-position major triads on 22% of steps, Bach 33%). None: not weighed."""

    ages: torch.Tensor | None = None
    """(V, M, L): a note going on into position m of the bar when it has sounded a + 1 steps
    ([v, m, a]; notes that have sounded L steps or more share a = L - 1); None: not weighed."""

    together: torch.Tensor | None = None
    """(V, M, V): voice v striking a note at position m of the bar when k of the voices above it
    strike at the same step ([v, m, k], k <= v; log-odds); None: not weighed (the voices are then
    drawn from the top only for the parallels or the vertical weights)."""

    @property
    def lengths(self) -> int:
        """L: the note lengths the ``ages`` weights tell apart (1 without them: every note alike)."""
        return 1 if self.ages is None else int(self.ages.shape[2])

    def check(self, voices: int, positions: int) -> None:
        """Raise ValueError unless every tensor is floating point, shaped for ``voices`` and
        ``positions``, and within ±MAX_WEIGHT."""
        shapes = {
            "moves": (voices, positions, MOVE_CLASSES),
            "tonal": (voices, TONAL_CLASSES),
            "register": (voices, REGISTER_CLASSES),
            "echo": (voices,),
            "onsets": (voices, positions),
            "seam": (voices, MOVE_CLASSES),
            "vertical": (voices, voices, 12),
            "chords": (voices, CHORD_SETS),
            "ages": (voices, positions, self.lengths),
            "together": (voices, positions, voices),
        }
        if self.ages is not None and not 2 <= self.lengths <= MAX_AGES:
            raise ValueError(
                f"calibration ages must tell apart 2 to {MAX_AGES} note lengths, not {self.lengths}"
            )
        for name, shape in shapes.items():
            weights = getattr(self, name)
            if weights is None and name in OPTIONAL:
                continue
            if tuple(weights.shape) != shape:
                raise ValueError(f"calibration {name} must have shape {shape}, not {tuple(weights.shape)}")
            if not weights.is_floating_point():
                raise ValueError(f"calibration {name} must be floating point, not {weights.dtype}")
            if not bool((weights.abs() <= MAX_WEIGHT).all()):  # also false for NaN
                raise ValueError(f"calibration {name} must be finite and within ±{MAX_WEIGHT:g}")

    def tensors(self) -> dict[str, torch.Tensor]:
        """The tensors by name (the optional groups it has too)."""
        return {name: getattr(self, name) for name in (*GROUPS, *OPTIONAL) if getattr(self, name) is not None}


SMOOTHING = {"chords": 0.1}
"""PSEUDO_COUNT is scaled by these for groups of many classes (the chords' 16,384 sets would
otherwise add more pseudo-counts than a calibration has steps)."""
SHARE_OF_STEP = {
    "moves": 1.0,
    "tonal": 0.5,
    "register": 0.5,
    "echo": 1.0,
    "onsets": 0.5,
    "seam": 0.5,
    "vertical": 0.5,
    "chords": 0.125,
    "ages": 0.25,
    "together": 0.25,
}
"""The share of the calibration's step each group of weights takes (tonal and register weights
both act on the pitch of every new note, so each takes half; onsets and the seam act on moves
that the move weights weigh too; a note's age acts on holds, which the move weights and the onset
weights weigh too, and a step on it changes how many notes reach the next ages: a quarter, since
half a step swung the Palestrina model's rounds apart, 2026-12-04)."""


def age_counts(lengths: np.ndarray, tokens: np.ndarray, positions: int, ages: int) -> np.ndarray:
    """(V, M, L, 2) counts of the notes that go on [..., 0] and that stop or give way to another
    [..., 1] at each move into position m of the bar, by how long they had sounded before it
    (a + 1 steps, L or more pooled), in (B, V, S) ``tokens`` that continue from notes that had
    sounded (B, V) ``lengths`` steps (0: a rest)."""
    tokens = np.asarray(tokens)
    _, voices, steps = tokens.shape
    counts = np.zeros((voices, positions, ages, 2))
    length = np.asarray(lengths, dtype=np.int64).copy()
    for t in range(steps):
        token = tokens[:, :, t]
        sounding = length > 0
        goes_on = (token == HOLD) & sounding
        age = np.minimum(length, ages) - 1
        for v in range(voices):
            rows = sounding[:, v]
            np.add.at(counts[v, t % positions], (age[rows, v], (~goes_on[rows, v]).astype(np.int64)), 1)
        length = np.where(goes_on, length + 1, np.where(token >= FIRST_PITCH, 1, 0))
    return counts


def together_counts(tokens: np.ndarray, positions: int) -> np.ndarray:
    """(V, M, V, 2) counts of the steps at position m of the bar where voice v strikes a note
    [..., 0] and where it does not [..., 1], by how many voices above it strike at that step
    ([v, m, k]; zeros where k > v), in (B, V, S) ``tokens``."""
    struck = np.asarray(tokens) >= FIRST_PITCH  # (B, V, S)
    _, voices, steps = struck.shape
    above: np.ndarray = np.cumsum(struck, axis=1) - struck  # voices above each that strike there
    where = np.broadcast_to(np.arange(steps) % positions, struck[:, 0].shape)
    counts = np.zeros((voices, positions, voices, 2))
    for v in range(voices):
        np.add.at(counts[v], (where, above[:, v], (~struck[:, v]).astype(np.int64)), 1)
    return counts


def move_counts(start: np.ndarray, states: np.ndarray, pitches: int, positions: int) -> np.ndarray:
    """(V, M, MOVE_CLASSES) counts of the classes of moves into each position of the bar, in
    (B, V, S) state lines that continue from (B, V) ``start`` states."""
    batch, voices, steps = states.shape
    full = np.concatenate([start[:, :, None], states], axis=2)
    classes = move_classes(pitches).numpy()[full[:, :, :-1], full[:, :, 1:]]  # (B, V, S)
    where = np.broadcast_to(np.arange(steps) % positions, (batch, steps))
    counts = np.zeros((voices, positions, MOVE_CLASSES))
    for v in range(voices):
        np.add.at(counts[v], (where, classes[:, v]), 1)
    return counts


def tonal_ranks(context: np.ndarray, pitches: int, sounding: np.ndarray | None = None) -> np.ndarray:
    """(B, P) tonal class of each pitch index given (B, V, S) context tokens: the rank of its
    pitch class among the context's pitch classes, by how many steps they sound (``sounding``:
    the context's :func:`sounding_pitches`, if already known)."""
    pitch = sounding_pitches(context, pitches) if sounding is None else sounding
    batch = len(pitch)
    sounding = pitch >= 0
    rows = np.broadcast_to(np.arange(batch)[:, None, None], pitch.shape)[sounding]
    # index mod 12: a pitch class, up to an offset
    profile = (
        np.bincount(rows * 12 + pitch[sounding] % 12, minlength=batch * 12).reshape(batch, 12).astype(float)
    )
    order = np.argsort(-profile, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(batch)[:, None], order] = np.arange(12)
    rank = np.where(profile > 0, rank, 12)
    return rank[:, np.arange(pitches) % 12]


def register_classes(context: np.ndarray, pitches: int, sounding: np.ndarray | None = None) -> np.ndarray:
    """(B, V, P) register class of each pitch index for each voice of (B, V, S) context tokens:
    its distance in semitones from the voice's mean sounding pitch there (clipped to ±12),
    or the last class if the voice is silent in the context."""
    pitch = (sounding_pitches(context, pitches) if sounding is None else sounding).astype(np.float64)
    sounding = pitch >= 0
    steps = sounding.sum(2)
    mean = np.where(sounding, pitch, 0).sum(2) / np.maximum(steps, 1)  # (B, V)
    distance = np.rint(np.arange(pitches)[None, None] - mean[..., None]).astype(np.int64)
    classes = np.clip(distance, -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL
    return np.where(steps[..., None] > 0, classes, REGISTER_CLASSES - 1)


def onset_counts(classes: np.ndarray, tokens: np.ndarray, size: int) -> np.ndarray:
    """(V, size) counts of the new notes in (B, V, S) ``tokens`` by the class of their pitch,
    ``classes`` being (B, P) or (B, V, P)."""
    voices = tokens.shape[1]
    counts = np.zeros((voices, size))
    for v in range(voices):
        rows, steps = np.nonzero(tokens[:, v] >= FIRST_PITCH)
        pitch = tokens[rows, v, steps] - FIRST_PITCH
        found = classes[rows, pitch] if classes.ndim == 2 else classes[rows, v, pitch]
        np.add.at(counts[v], found, 1)
    return counts


def vertical_counts(tokens: np.ndarray, pitches: int) -> np.ndarray:
    """(V, V, 12) counts, over all steps, of voice v sounding c semitones (mod 12) below voice u
    ([v, u, c], u < v; zeros elsewhere)."""
    sounding = sounding_pitches(np.asarray(tokens), pitches)  # (B, V, S)
    voices = sounding.shape[1]
    counts = np.zeros((voices, voices, 12))
    for v in range(voices):
        for u in range(v):
            both = (sounding[:, v] >= 0) & (sounding[:, u] >= 0)
            counts[v, u] = np.bincount((sounding[:, u] - sounding[:, v])[both] % 12, minlength=12)
    return counts


def chord_sets(sounding: np.ndarray) -> np.ndarray:
    """(B, V, S) the :data:`CHORD_SETS` class of each voice at each step of (B, V, S) sounding
    pitches (-1: silent): the pitch classes the voices above it sound there, as bits of their
    intervals (mod 12) above its own; -1 where the voice is silent."""
    sets = np.zeros(sounding.shape, dtype=np.int64)
    for v in range(1, sounding.shape[1]):
        for u in range(v):
            sets[:, v] |= chord_bits(sounding[:, u], sounding[:, v])
    return np.where(sounding >= 0, sets, -1)


def chord_bits(above: np.ndarray, own: np.ndarray) -> np.ndarray:
    """The :data:`CHORD_SETS` bits that a voice sounding the pitches ``above`` sets for one sounding
    ``own`` (-1: silent, no bits), elementwise."""
    interval = above - own
    bits = (
        (1 << (interval % 12))
        | np.where(interval == 0, 1 << UNISON_BIT, 0)
        | np.where(interval < 0, 1 << CROSSED_BIT, 0)
    )
    return np.where((above >= 0) & (own >= 0), bits, 0)


def chord_counts(tokens: np.ndarray, pitches: int) -> np.ndarray:
    """(V, CHORD_SETS) counts, over all steps a voice sounds, of the :func:`chord_sets` class it
    sounds under (the top voice's always 0)."""
    sets = chord_sets(sounding_pitches(np.asarray(tokens), pitches))
    return np.stack(
        [np.bincount(sets[:, v][sets[:, v] >= 0], minlength=CHORD_SETS) for v in range(sets.shape[1])]
    ).astype(np.float64)


def echo_counts(context: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """(V, 2) counts of the tokens equal and not equal to the context's token at the same step."""
    steps = min(tokens.shape[2], context.shape[2])
    same = np.asarray(tokens)[:, :, :steps] == np.asarray(context)[:, :, :steps]
    return np.stack([same.sum((0, 2)), (~same).sum((0, 2))], axis=1).astype(np.float64)


def calibrate(
    sampler: VoiceLeadingSampler,
    draw: Callable[[VoiceLeadingSampler, int], np.ndarray],
    contexts: np.ndarray,
    reals: np.ndarray,
    rounds: int = 10,
    rate: float = 0.5,
    report: Callable[[int, float], None] | None = None,
    vertical: bool = False,
    ages: int = 0,
    together: bool = False,
    chords: bool = False,
) -> VoiceLeadingSampler:
    """``sampler`` with a :class:`Calibration` fitted by moment matching.

    ``contexts`` (B, V, S') are real contexts and ``reals`` (B, V, S) what follows them; ``draw``
    (sampler, round) continues ``contexts`` with a sampler. Each round adds ``rate`` × log(real
    share / drawn share) of every class of move (per voice and position in the bar), half
    that for every tonal and register class of new notes (per voice: the two describe the
    same notes, and full steps on both overshoot), ``rate`` × the gap in log-odds for
    the tokens that echo the context, half that gap for striking a note at each position of
    the bar, and half the log ratio for each class of move at the seam (these two act on
    moves that the move weights weigh too). With ``vertical``, also half the log ratio of every
    interval class between each voice and each voice above it at the same step (the voices are then
    drawn from the top). With ``ages`` (L > 0), also a quarter of the gap in log-odds of a note
    going on into each position of the bar by how long it has sounded (L lengths), less its mean
    over the lengths at that position (the move weights match how often notes go on there). With
    ``together``, also a quarter of the gap in log-odds of a voice striking a note at each position
    of the bar by how many voices above it strike at that step, less its mean over those counts
    (the onset weights match how often the voice strikes there; the voices are then drawn from
    the top). ``chords``, also an eighth of the log ratio of every set of pitch classes the voices above each
    voice sound over it at the same step (:func:`chord_sets`; the voices are drawn from the top).
    ``report`` gets the round and the mean gap, in nats, between the real and drawn shares of the
    moves before that round.
    """
    pitches, positions = sampler.pitches, sampler.positions
    contexts = np.ascontiguousarray(contexts)
    start = last_states(torch.from_numpy(contexts), pitches).numpy()
    sounding = sounding_pitches(contexts, pitches)
    ranks = tonal_ranks(contexts, pitches, sounding)
    registers = register_classes(contexts, pitches, sounding)
    lengths = sounding_lengths(contexts)

    def log_shares(tokens: np.ndarray) -> dict[str, np.ndarray]:
        states = to_states(tokens, pitches)
        moves = move_counts(start, states, pitches, positions)
        struck = moves[..., STRIKING].sum(-1)
        counts = {
            "moves": moves,
            "tonal": onset_counts(ranks, tokens, TONAL_CLASSES),
            "register": onset_counts(registers, tokens, REGISTER_CLASSES),
            "echo": echo_counts(contexts, tokens),
            "onsets": np.stack([struck, moves.sum(-1) - struck], axis=-1),  # (V, M, 2)
            "seam": move_counts(start, states[:, :, :1], pitches, 1)[:, 0],
        }
        if vertical:
            counts["vertical"] = vertical_counts(tokens, pitches)
        if chords:
            counts["chords"] = chord_counts(tokens, pitches)
        if ages:
            counts["ages"] = age_counts(lengths, tokens, positions, ages)
        if together:
            counts["together"] = together_counts(tokens, positions)
        smoothed = {name: c + PSEUDO_COUNT * SMOOTHING.get(name, 1.0) for name, c in counts.items()}
        shares = {name: np.log(c / c.sum(-1, keepdims=True)) for name, c in smoothed.items()}
        for name in ("echo", "onsets", "ages", "together"):  # log-odds of echoing, striking, going on
            if name in shares:
                shares[name] = shares[name][..., 0] - shares[name][..., 1]
        return shares

    real = log_shares(np.asarray(reals))
    weights = {name: np.zeros_like(value) for name, value in real.items()}
    # the real notes sounding at each age and position: the age weights only share out, among
    # the ages, how often notes go on at a position, which the move weights already match (both
    # moving it at once overshoots and the rounds swing)
    exposure: dict[str, np.ndarray] = {}
    if ages:
        exposure["ages"] = age_counts(lengths, np.asarray(reals), positions, ages).sum(-1)
    if together:  # (V, M, V): the real steps with k voices above striking
        exposure["together"] = together_counts(np.asarray(reals), positions).sum(-1)
    drawn_with = sampler
    for round_ in range(rounds):
        drawn = log_shares(draw(drawn_with, round_))
        if report is not None:
            gap = np.abs(real["moves"] - drawn["moves"]) * np.exp(real["moves"])
            report(round_, float(gap.sum(2).mean()))
        for name in weights:
            step = rate * SHARE_OF_STEP[name]
            gap = real[name] - drawn[name]
            if name in exposure:  # centred on each position's mean over the ages (or counts above)
                total = np.maximum(exposure[name].sum(-1, keepdims=True), 1)
                gap = gap - (gap * exposure[name]).sum(-1, keepdims=True) / total
            weights[name] = np.clip(weights[name] + step * gap, -MAX_WEIGHT, MAX_WEIGHT)
        weights["register"][:, -1] = 0.0  # a voice silent in the context: too rare to weigh
        if vertical:
            weights["vertical"] *= np.tril(np.ones((len(weights["vertical"]),) * 2), -1)[..., None]  # u < v
        if together:  # k <= v voices above
            weights["together"] *= np.tril(np.ones((len(weights["together"]),) * 2))[:, None, :]
        if chords:
            weights["chords"][0] = 0.0  # nothing above the top voice
        calibration = Calibration(**{name: torch.from_numpy(w).float() for name, w in weights.items()})
        drawn_with = sampler.with_calibration(calibration)
    return drawn_with
