"""Music metrics: small pure functions from notes (or pitch sets) to numbers.

Notes are :data:`segue.music.piece.NOTE_DTYPE` arrays on a step grid; "bars" are
``bar_steps`` long from step 0. Each function names its source.
"""

from __future__ import annotations

import numpy as np

from segue.music.tokens import FIRST_PITCH as FIRST_PITCH_TOKEN

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
HARMONIC_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 11)
NATURAL_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)

# Krumhansl & Kessler (1982) key profiles, as used by the Krumhansl-Schmuckler key finder.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def bars_of(notes: np.ndarray, bar_steps: int, n_bars: int) -> list[np.ndarray]:
    """The notes starting in each of ``n_bars`` bars."""
    index = notes["onset"] // bar_steps
    return [notes[index == bar] for bar in range(n_bars)]


def empty_bar_rate(notes: np.ndarray, bar_steps: int, n_bars: int) -> float:
    """Share of bars in which no note sounds (MuseGAN's EB, Dong et al. 2018)."""
    if n_bars == 0:
        return 0.0
    sounding = np.zeros(n_bars * bar_steps, dtype=bool)
    for onset, duration in zip(notes["onset"], notes["duration"]):
        sounding[max(int(onset), 0) : min(int(onset + duration), len(sounding))] = True
    return float((~sounding.reshape(n_bars, bar_steps).any(axis=1)).mean())


def used_pitch_classes(notes: np.ndarray) -> int:
    """Number of distinct pitch classes (MuseGAN's UPC, per bar when given a bar's notes)."""
    return len(np.unique(notes["pitch"] % 12))


def pitch_range(notes: np.ndarray) -> int:
    """Highest minus lowest pitch, in semitones (MusPy's pitch_range); 0 for no notes."""
    return int(notes["pitch"].max()) - int(notes["pitch"].min()) if len(notes) else 0


def polyphony(notes: np.ndarray) -> float:
    """Mean number of notes sounding at the steps where any sounds (MusPy's polyphony)."""
    if not len(notes):
        return 0.0
    end = int((notes["onset"] + notes["duration"]).max())
    counts = np.zeros(end + 1, dtype=np.int64)
    np.add.at(counts, notes["onset"].astype(np.int64), 1)
    np.add.at(counts, (notes["onset"] + notes["duration"]).astype(np.int64), -1)
    sounding = np.cumsum(counts)[:end]
    return float(sounding[sounding > 0].mean())


def qualified_note_rate(notes: np.ndarray, min_steps: int) -> float:
    """Share of notes lasting at least ``min_steps`` steps (MuseGAN's QN; it used 3 of 96 per bar)."""
    return float((notes["duration"] >= min_steps).mean()) if len(notes) else 0.0


def scale_of(tonic: int, minor: bool) -> set[int]:
    """Pitch classes of a key's scale; minor keys take the union of natural and harmonic minor."""
    steps = set(NATURAL_MINOR_SCALE) | set(HARMONIC_MINOR_SCALE) if minor else set(MAJOR_SCALE)
    return {(tonic + s) % 12 for s in steps}


def in_scale_rate(notes: np.ndarray, tonic: int, minor: bool) -> float:
    """Share of notes whose pitch class is in the key's scale (MusPy's scale consistency, for one key)."""
    if not len(notes):
        return 0.0
    scale = np.array(sorted(scale_of(tonic, minor)))
    return float(np.isin(notes["pitch"] % 12, scale).mean())


def pitch_class_profile(notes: np.ndarray, weighted: bool = True) -> np.ndarray:
    """(12,) share of notes (or of duration, if ``weighted``) in each pitch class."""
    weights = notes["duration"].astype(np.float64) if weighted else np.ones(len(notes))
    profile = np.bincount(notes["pitch"] % 12, weights=weights, minlength=12)
    total = profile.sum()
    return profile / total if total else profile


def profile_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two pitch-class profiles (0 when either is flat)."""
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def estimate_key(notes: np.ndarray) -> tuple[int, bool]:
    """(tonic pitch class, minor) by the Krumhansl-Schmuckler algorithm on duration-weighted profiles."""
    profile = pitch_class_profile(notes)
    best = max(
        (
            (profile_correlation(profile, np.roll(template, tonic)), tonic, minor)
            for minor, template in ((False, MAJOR_PROFILE), (True, MINOR_PROFILE))
            for tonic in range(12)
        ),
    )
    return best[1], best[2]


def tonal_centroid(profile: np.ndarray) -> np.ndarray:
    """The 6-d tonal centroid of a pitch-class profile (Harte, Sandler & Gasser 2006)."""
    pcs = np.arange(12)
    phi = np.stack(
        [
            np.sin(pcs * 7 * np.pi / 6),
            np.cos(pcs * 7 * np.pi / 6),
            np.sin(pcs * 3 * np.pi / 2),
            np.cos(pcs * 3 * np.pi / 2),
            0.5 * np.sin(pcs * 2 * np.pi / 3),
            0.5 * np.cos(pcs * 2 * np.pi / 3),
        ]
    )  # (6, 12): circles of fifths, minor thirds and major thirds
    total = profile.sum()
    return phi @ profile / total if total else np.zeros(6)


def tonal_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between the tonal centroids of two profiles (MuseGAN's TD)."""
    return float(np.linalg.norm(tonal_centroid(a) - tonal_centroid(b)))


def overlap_area(a: np.ndarray, b: np.ndarray, points: int = 512) -> float:
    """Overlapping area of two samples' Gaussian kernel density estimates (Yang & Lerch 2020).

    1 for identical distributions, near 0 for disjoint ones.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not len(a) or not len(b):
        return 0.0
    low = min(a.min(), b.min())
    high = max(a.max(), b.max())
    spread = max(high - low, 1e-9)
    grid = np.linspace(low - 0.25 * spread, high + 0.25 * spread, points)
    fa, fb = _kde(a, grid), _kde(b, grid)
    return float(np.minimum(fa, fb).sum() * (grid[1] - grid[0]))


def _kde(sample: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A Gaussian KDE with Scott's bandwidth, never narrower than two grid steps (so that a
    constant sample still gives a density the grid resolves)."""
    scott = (sample.std(ddof=1) if len(sample) > 1 else 0.0) * len(sample) ** (-1 / 5)
    bandwidth = max(scott, 2 * (grid[1] - grid[0]))
    z = (grid[:, None] - sample[None, :]) / bandwidth
    return np.exp(-0.5 * z**2).sum(axis=1) / (len(sample) * bandwidth * np.sqrt(2 * np.pi))


def sounding_grid(notes: np.ndarray, n_voices: int, n_steps: int) -> np.ndarray:
    """(V, S) the pitch each voice (track) sounds at each step, -1 where it is silent."""
    grid = np.full((n_voices, n_steps), -1, dtype=np.int64)
    for onset, duration, pitch, track in zip(
        notes["onset"], notes["duration"], notes["pitch"], notes["track"]
    ):
        if track < n_voices:
            grid[track, max(int(onset), 0) : min(int(onset + duration), n_steps)] = pitch
    return grid


LEAP_LIMIT = 9
"""Melodic intervals larger than a major sixth, other than the octave, count as leap faults."""


def voice_leading_faults(notes: np.ndarray, n_voices: int, n_steps: int) -> dict[str, int]:
    """Counts of classic four-part-writing faults (voices are tracks, highest first).

    * ``parallel_fifths`` / ``parallel_octaves``: two voices move in the same direction from
      a perfect fifth (or octave/unison) to another, between consecutive chords;
    * ``crossings``: steps where a voice sounds below the voice under it;
    * ``leaps``: melodic intervals within a voice larger than :data:`LEAP_LIMIT` semitones,
      other than an octave.
    """
    grid = sounding_grid(notes, n_voices, n_steps)
    changes = [t for t in range(1, n_steps) if (grid[:, t] != grid[:, t - 1]).any()]
    faults = {"parallel_fifths": 0, "parallel_octaves": 0, "crossings": 0, "leaps": 0}
    previous = grid[:, 0]
    for t in changes:
        current = grid[:, t]
        for i in range(n_voices):
            for j in range(i + 1, n_voices):
                a, b, c, d = previous[i], previous[j], current[i], current[j]
                if min(a, b, c, d) < 0 or a == c or b == d or (c - a) * (d - b) <= 0:
                    continue
                if (a - b) % 12 == 7 and (c - d) % 12 == 7:
                    faults["parallel_fifths"] += 1
                elif (a - b) % 12 == 0 and (c - d) % 12 == 0:
                    faults["parallel_octaves"] += 1
        previous = current
    both = (grid[:-1] >= 0) & (grid[1:] >= 0)
    faults["crossings"] = int((both & (grid[:-1] < grid[1:])).sum())
    for voice in range(n_voices):
        pitches = notes["pitch"][notes["track"] == voice].astype(np.int64)
        steps = np.abs(np.diff(pitches))
        faults["leaps"] += int(((steps > LEAP_LIMIT) & (steps != 12)).sum())
    return faults


def bar_keys(tokens: np.ndarray, bar_steps: int, relative: bool = False) -> list[bytes]:
    """One hashable key per bar of (V, S) tokens: the bar's exact content.

    With ``relative``, pitch tokens are taken relative to the bar's lowest one, so a bar and
    its transpositions share a key (training data is augmented by transposition, so a
    transposed copy is still a copy).
    """
    n_bars = tokens.shape[1] // bar_steps
    keys = []
    for b in range(n_bars):
        bar = np.array(tokens[:, b * bar_steps : (b + 1) * bar_steps], dtype=np.int64)
        pitched = bar >= FIRST_PITCH_TOKEN
        if relative and pitched.any():
            bar[pitched] -= bar[pitched].min()
            bar[pitched] += FIRST_PITCH_TOKEN
        keys.append(np.ascontiguousarray(bar).tobytes())
    return keys


FORMULA_PIECES = 3
"""A bar found in at least this many different training pieces is a common formula (a cadence,
a held chord), not a memorised bar: see :func:`formula_bars`."""


def formula_bars(training_pieces: list[list[bytes]], min_pieces: int = FORMULA_PIECES) -> set[bytes]:
    """Bar keys that occur in at least ``min_pieces`` different pieces.

    Chorales share cadence formulas and held final chords; writing one of those is what the
    style asks for, so the copy rate counts them apart from bars that only one or two
    training pieces contain.
    """
    owners: dict[bytes, int] = {}
    for piece in training_pieces:
        for key in set(piece):
            owners[key] = owners.get(key, 0) + 1
    return {key for key, count in owners.items() if count >= min_pieces}


def copied_bar_rate(
    generated: list[bytes], training: set[bytes], formulas: set[bytes] | None = None
) -> float:
    """Share of generated bars identical to some training bar that is not a common formula
    (memorisation; 0 for none)."""
    formulas = formulas or set()
    return (
        float(np.mean([bar in training and bar not in formulas for bar in generated])) if generated else 0.0
    )


def distinct_rate(keys: list[bytes]) -> float:
    """Distinct keys over all keys: near 1 for varied bars, low when a system repeats itself
    across primes (mode collapse)."""
    return len(set(keys)) / len(keys) if keys else 0.0


def token_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Share of (voice, step) cells whose token differs between two grids of one shape."""
    return float((np.asarray(a) != np.asarray(b)).mean())


def longest_copied_span(generated: list[bytes], training_pieces: list[list[bytes]]) -> int:
    """The most consecutive generated bars that also follow each other in one training piece."""
    spans: set[tuple[bytes, ...]] = set()
    best = 0
    for length in range(1, len(generated) + 1):
        spans = {
            tuple(piece[i : i + length]) for piece in training_pieces for i in range(len(piece) - length + 1)
        }
        if not any(tuple(generated[i : i + length]) in spans for i in range(len(generated) - length + 1)):
            break
        best = length
    return best
