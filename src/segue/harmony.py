"""How voices sound together and how each line moves: pure functions of a sounding grid.

A sounding grid is (V, S): the MIDI pitch each voice sounds at each step, -1 where it is
silent, voices from the highest (see :func:`segue.metrics.sounding_grid`). Every step counts
once, so the measures are weighted by duration. None of these is used to fit or calibrate a
model: they judge continuations, beside the learned critic.
"""

from __future__ import annotations

import numpy as np

CONSONANT = frozenset({0, 3, 4, 7, 8, 9})
"""Interval classes (semitones mod 12) consonant in every pair of voices: unison and octave,
thirds, the fifth, sixths."""
FOURTH = 5
"""The perfect fourth: consonant between two upper voices, dissonant above the bass."""

TRIADS = tuple(
    (root, frozenset((root + third) % 12 for third in shape))
    for shape in ((0, 4, 7), (0, 3, 7), (0, 3, 6))  # major, minor, diminished
    for root in range(12)
)
"""(root, pitch classes) of the 36 major, minor and diminished triads."""


def _bass(grid: np.ndarray) -> np.ndarray:
    """(S,) the lowest sounding pitch at each step, -1 where nothing sounds."""
    sounding = np.where(grid >= 0, grid, 1_000)
    low = sounding.min(axis=0)
    return np.where(low < 1_000, low, -1)


def consonance(grid: np.ndarray) -> float:
    """Share of the pairs of simultaneously sounding voices, over all steps, whose interval is
    consonant (:data:`CONSONANT`, and the fourth between two upper voices); NaN if no two voices
    ever sound together."""
    bass = _bass(grid)
    consonant = total = 0
    voices = grid.shape[0]
    for i in range(voices):
        for j in range(i + 1, voices):
            both = (grid[i] >= 0) & (grid[j] >= 0)
            high, low = np.maximum(grid[i], grid[j])[both], np.minimum(grid[i], grid[j])[both]
            interval = (high - low) % 12
            good = np.isin(interval, list(CONSONANT)) | ((interval == FOURTH) & (low != bass[both]))
            consonant += int(good.sum())
            total += int(both.sum())
    return consonant / total if total else float("nan")


def adjacent_intervals(grid: np.ndarray) -> np.ndarray:
    """(12,) counts of the interval classes between each sounding voice and the next sounding
    voice below it, over all steps."""
    counts = np.zeros(12, dtype=np.int64)
    for t in range(grid.shape[1]):
        pitches = np.sort(grid[:, t][grid[:, t] >= 0])[::-1]
        np.add.at(counts, (pitches[:-1] - pitches[1:]) % 12, 1)
    return counts


def intervals_above_bass(grid: np.ndarray) -> np.ndarray:
    """(12,) counts of the interval classes of every other sounding note above the bass (the
    lowest sounding note), over all steps."""
    bass = _bass(grid)
    above = (grid >= 0) & (grid > bass[None, :])
    return np.bincount(((grid - bass[None, :]) % 12)[above], minlength=12)


def non_chord_tones(grid: np.ndarray, bar_steps: int) -> float:
    """Share of the notes sounding on the strong beats (the first step of each half bar) that
    are outside the triad that holds the most of them (ties: the one whose root is in the bass);
    NaN if nothing sounds on a strong beat."""
    outside = sounding = 0
    bass = _bass(grid)
    for t in range(0, grid.shape[1], max(1, bar_steps // 2)):
        classes = grid[:, t][grid[:, t] >= 0] % 12
        if not len(classes):
            continue

        def fit(
            triad: tuple[int, frozenset[int]], classes: np.ndarray = classes, t: int = t
        ) -> tuple[int, bool]:
            root, members = triad
            return int(np.isin(classes, list(members)).sum()), root == bass[t] % 12

        _, best = max(TRIADS, key=fit)
        outside += int((~np.isin(classes, list(best))).sum())
        sounding += len(classes)
    return outside / sounding if sounding else float("nan")


def sounding_share(grid: np.ndarray) -> np.ndarray:
    """(V,) the share of the steps at which each voice sounds."""
    return (grid >= 0).mean(axis=1)


def mean_durations(notes: np.ndarray, voices: int) -> np.ndarray:
    """(V,) the mean duration in steps of each voice's notes (NaN for a voice without notes)."""
    out = np.full(voices, np.nan)
    for v in range(voices):
        durations = notes["duration"][notes["track"] == v]
        if len(durations):
            out[v] = float(np.mean(durations))
    return out


def interval_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance between two interval-class histograms (0: the same shares,
    1: nothing in common); NaN if either is empty."""
    if a.sum() == 0 or b.sum() == 0:
        return float("nan")
    return 0.5 * float(np.abs(a / a.sum() - b / b.sum()).sum())
