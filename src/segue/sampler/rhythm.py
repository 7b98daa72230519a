"""Choosing among several draws by their notes' lengths: importance resampling towards the
training data's rhythm.

The voice-leading chain is of first order: whether a note goes on at a step depends on the bar
position and the pitch, not on how long the note has sounded, so its lengths come out as a
blend of the lengths it saw (too few whole notes and too many halves in Palestrina's masses,
where a half note started on the beat may end on the half bar or go on to the bar line). A
semi-Markov model of note lengths cannot be drawn as cheaply. Instead the continuation draws K
candidates of each window and keeps one with probability proportional to

    w = (p_real(lengths) / p_drawn(lengths)) ^ weight

where each p is a hazard model of note lengths (the chance that a note started at position m of
the bar ends after k steps, given that it lasted k - 1) times the chance of the number of voices
that strike a note together at each step of each position (Palestrina's voices strike apart more
often than the draw's), counted on the training windows' continuations and on the sampler's own
draws of the same windows. With ``weight`` 1 this is
sampling-importance-resampling of the real lengths from the sampler's draw; below 1, part of the
way there (fewer windows decide on a single long note).
"""

from __future__ import annotations

import numpy as np
import torch

from segue.sampler.states import to_states

LONGEST = 17
"""Note lengths (steps) the hazard tells apart; a longer note goes on with the hazard of this length."""
SMOOTHING = 0.5
"""Notes ending at each (position, length) added to the counts before the hazard is read."""


def note_lengths(tokens: np.ndarray, pitches: int) -> tuple[np.ndarray, ...]:
    """The notes that start in (B, V, S) ``tokens``: their window, start step, length in steps
    (to the end of the window if it is still sounding there) and whether they end inside it.
    A hold at the first steps continues a note struck before the window and is not counted."""
    return _lengths(to_states(np.asarray(tokens), pitches), pitches)


def _onsets(states: np.ndarray, pitches: int) -> np.ndarray:
    """(B, V, S) bool: where a note is struck, in (B, V, S) states (see ``to_states``)."""
    return (states >= 1) & (states <= pitches)


def _lengths(states: np.ndarray, pitches: int) -> tuple[np.ndarray, ...]:
    """:func:`note_lengths` of (B, V, S) states."""
    steps = states.shape[-1]
    breaks = states <= pitches  # a rest or an onset: where the sounding note (if any) ends
    index = np.where(breaks, np.arange(steps), steps)
    # the first break after each step: a running minimum from the right, shifted by one
    after = np.minimum.accumulate(index[..., ::-1], axis=-1)[..., ::-1]
    following = np.concatenate([after[..., 1:], np.full((*after.shape[:-1], 1), steps)], axis=-1)
    onsets = _onsets(states, pitches)
    window, _, start = np.nonzero(onsets)
    end = following[onsets]
    return window, start, end - start, end < steps


def hazards(tokens: np.ndarray, pitches: int, positions: int) -> np.ndarray:
    """(positions, LONGEST + 1) the chance that a note started at each position of the bar ends
    after k steps (column k), given it lasted k - 1, counted on (B, V, S) ``tokens`` that start
    on a bar line (column 0 unused)."""
    _, start, length, ended = note_lengths(tokens, pitches)
    where = start % positions
    last = np.where(ended, length, length - 1)  # the last k at which each note was seen at risk
    ends = np.full((positions, LONGEST + 1), SMOOTHING)
    risk = np.full((positions, LONGEST + 1), 2 * SMOOTHING)
    np.add.at(ends, (where[ended], np.minimum(length[ended], LONGEST)), 1)
    for k in range(1, LONGEST):
        np.add.at(risk[:, k], where[last >= k], 1)
    np.add.at(risk[:, LONGEST], where, np.maximum(last - LONGEST + 1, 0))  # every step past the cap
    return ends / risk


def strikes(tokens: np.ndarray, pitches: int, positions: int) -> np.ndarray:
    """(positions, V + 1) how often 0, 1, ... V voices strike a note together at a step of each
    position of the bar, in (B, V, S) ``tokens`` that start on a bar line (rows sum to 1)."""
    states = to_states(np.asarray(tokens), pitches)
    voices, steps = states.shape[1:]
    struck = _onsets(states, pitches).sum(axis=1)  # (B, S)
    counts = np.full((positions, voices + 1), SMOOTHING)
    where = np.broadcast_to(np.arange(steps) % positions, struck.shape)
    np.add.at(counts, (where, struck), 1)
    return counts / counts.sum(axis=1, keepdims=True)


class Choice:
    """A choice among ``draws`` candidate continuations of each window, kept with probability
    proportional to exp(:meth:`log_weights`)."""

    draws: int
    weight: float

    def tensors(self) -> dict[str, torch.Tensor]:
        """The tables a model folder stores."""
        raise NotImplementedError

    def log_weights(
        self, tokens: np.ndarray, pitches: int, context: torch.Tensor | None = None
    ) -> np.ndarray:
        """(B,) the log-weight of each of (B, V, S) candidate continuations, starting on a bar
        line, of the (B, V, S') ``context`` (read by a choice that depends on it)."""
        raise NotImplementedError

    def choose(
        self,
        candidates: torch.Tensor,
        pitches: int,
        rng: torch.Generator,
        context: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, V, S) one of the ``draws`` candidates of each window, kept with probability
        proportional to its weight; ``candidates`` is (B * draws, V, S), a window's candidates
        next to each other, and ``context`` (B * draws, V, S') what each continues."""
        rows = len(candidates) // self.draws
        context = None if context is None else context.cpu()
        found = self.log_weights(candidates.cpu().numpy(), pitches, context)
        chances = torch.softmax(torch.from_numpy(found).view(rows, self.draws), dim=1)  # (B, draws)
        kept = torch.multinomial(chances.to(rng.device), 1, generator=rng)[:, 0].to(candidates.device)
        return candidates.view(rows, self.draws, *candidates.shape[1:])[torch.arange(rows), kept]


class RhythmChoice(Choice):
    """Keeps one of ``draws`` candidate continuations of each window, by its notes' lengths (see the
    module's docstring): ``real`` and ``drawn`` are (M, LONGEST + 1) hazards (:func:`hazards`) of the
    training continuations and of the sampler's draws of them, ``real_strikes`` and
    ``drawn_strikes`` (M, V + 1) their voices striking together (:func:`strikes`)."""

    def __init__(
        self,
        real: torch.Tensor,
        drawn: torch.Tensor,
        real_strikes: torch.Tensor,
        drawn_strikes: torch.Tensor,
        draws: int,
        weight: float,
    ) -> None:
        if real.dim() != 2 or real.shape != drawn.shape or real.shape[1] != LONGEST + 1:
            raise ValueError(f"the hazards must both have shape (positions, {LONGEST + 1})")
        if not bool(((real > 0) & (real < 1) & (drawn > 0) & (drawn < 1))[:, 1:].all()):
            raise ValueError("the hazards must lie strictly between 0 and 1")
        together = real_strikes.shape
        if len(together) != 2 or together != drawn_strikes.shape or together[0] != real.shape[0]:
            raise ValueError("the strikes must both have shape (positions, voices + 1)")
        if not bool(((real_strikes > 0) & (drawn_strikes > 0)).all()):
            raise ValueError("the strikes' shares must be above 0")
        if not (2 <= draws <= 64 and 0 < weight <= 1):
            raise ValueError("need 2 <= draws <= 64 and 0 < weight <= 1")
        self.real, self.drawn = real.double(), drawn.double()
        self.real_strikes, self.drawn_strikes = real_strikes.double(), drawn_strikes.double()
        self.draws, self.weight = int(draws), float(weight)
        self._together = np.log(self.real_strikes.numpy()) - np.log(self.drawn_strikes.numpy())  # (M, V + 1)
        self._tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def positions(self) -> int:
        """M: the positions of the bar the hazards tell apart."""
        return int(self.real.shape[0])

    def tensors(self) -> dict[str, torch.Tensor]:
        return {
            "real": self.real.float(),
            "drawn": self.drawn.float(),
            "real_strikes": self.real_strikes.float(),
            "drawn_strikes": self.drawn_strikes.float(),
        }

    def _ratio_tables(self, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """(M, steps + 1) log-likelihood ratios of a note of each length that ends (first) or is
        still sounding at the window's end (second: it lasted at least that long), real over drawn."""
        if steps not in self._tables:
            lengths = np.minimum(np.arange(steps + 1), LONGEST)
            ratios = []
            for hazard in (self.real.numpy(), self.drawn.numpy()):
                goes_on = np.log1p(-hazard[:, lengths])  # (M, steps + 1), column k: lasting past k
                goes_on[:, 0] = 0.0
                lasted = np.cumsum(goes_on, axis=1)  # column k: lasting past 1..k
                ends, sounding = np.zeros_like(lasted), np.zeros_like(lasted)
                ends[:, 1:] = lasted[:, :-1] + np.log(hazard[:, lengths[1:]])
                sounding[:, 1:] = lasted[:, :-1]  # seen for k steps: it lasted past k - 1
                ratios.append((ends, sounding))
            (real_end, real_on), (drawn_end, drawn_on) = ratios
            self._tables[steps] = (real_end - drawn_end, real_on - drawn_on)
        return self._tables[steps]

    def log_weights(
        self, tokens: np.ndarray, pitches: int, context: torch.Tensor | None = None
    ) -> np.ndarray:
        """(B,) the log-weight of each candidate; the context is not read."""
        states = to_states(np.asarray(tokens), pitches)
        steps = states.shape[-1]
        window, start, length, ended = _lengths(states, pitches)
        end_table, on_table = self._ratio_tables(steps)
        where = start % self.positions
        ratio = np.where(ended, end_table[where, length], on_table[where, length])
        lengths = np.bincount(window, weights=ratio, minlength=len(tokens))
        struck = _onsets(states, pitches).sum(axis=1)  # (B, S) voices striking together
        at = np.arange(steps) % self.positions
        return self.weight * (lengths + self._together[at, struck].sum(axis=1))
