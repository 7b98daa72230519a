"""The columns of the report and the per-window scores of one system.

:data:`METRICS` names every column with its table and definition (:data:`TABLES`);
:func:`score_system` measures each window's continuation against its prime (see
:mod:`segue.metrics`) and collects the per-bar statistics the overlap columns compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from segue import harmony, metrics
from segue.evaluation.windows import Windows, continuation_notes
from segue.music.tokens import from_tokens

METRICS: dict[str, tuple[str, str]] = {
    # name: (table it belongs to, what it is and where it comes from)
    "empty bars": ("notes", "share of bars in which nothing sounds (MuseGAN's EB, Dong et al. 2018)"),
    "notes per bar": ("notes", "notes starting per bar, all voices"),
    "in scale": ("notes", "share of notes in the scale of the prime's key (MusPy's scale consistency)"),
    "PCP correlation": (
        "notes",
        "correlation of the pitch-class profiles of prime and continuation (duration-weighted)",
    ),
    "key agreement": (
        "notes",
        "share of windows whose continuation has the prime's key (Krumhansl-Schmuckler)",
    ),
    "tonal distance": (
        "notes",
        "distance of the tonal centroids of prime and continuation (Harte et al. 2006; MuseGAN's TD)",
    ),
    "voice-leading faults per bar": (
        "notes",
        "parallel fifths and octaves, voice crossings and leaps beyond a major sixth (not octaves), per bar",
    ),
    "overlap: UPC": ("overlap", "used pitch classes per bar (MuseGAN's UPC)"),
    "overlap: pitch range": ("overlap", "pitch range per bar (MusPy)"),
    "overlap: polyphony": ("overlap", "mean number of sounding notes per bar (MusPy)"),
    "overlap: notes": ("overlap", "notes per bar"),
    "copied bars": (
        "novelty",
        "share of bars equal to a training bar, in any transposition, that is not a common formula",
    ),
    "formula bars": (
        "novelty",
        "share of bars equal to a common formula: a bar found in 3 or more training chorales "
        "(cadences, held chords); not counted as copies",
    ),
    "longest copied span": ("novelty", "most consecutive bars also consecutive in one training piece"),
    "distinct bars": ("novelty", "distinct bars over all bars of non-overlapping windows (mode collapse)"),
    "differs across seeds": ("novelty", "share of primes whose continuations differ between two seeds"),
    "seed difference": ("novelty", "share of (voice, step) tokens that differ between two seeds"),
    "classifier accuracy": (
        "novelty",
        "held-out accuracy of a classifier telling (prime, real) from (prime, this system) pairs "
        "(logistic regression on hand-made features, folds by pair of pieces; 0.5 = indistinguishable; "
        "Lopez-Paz & Oquab 2017)",
    ),
    "learned critic": (
        "critic",
        "held-out accuracy of a small network trained afresh on the raw grids of (prime, continuation) "
        "pairs to tell Bach's from this system's, folds by pair of pieces, mean over seeds "
        "(0.5 = indistinguishable)",
    ),
    "learned critic sd": ("critic", "its standard deviation over the seeds"),
    "consonance": (
        "harmony",
        "share of simultaneously sounding voice pairs, every step, a unison, third, fifth, sixth or "
        "octave (or a fourth between upper voices)",
    ),
    "non-chord tones": (
        "harmony",
        "share of the notes on the strong beats (each half bar) outside the best-fitting triad",
    ),
    "adjacent intervals vs Bach": (
        "harmony",
        "total variation distance of the interval classes between adjacent voices from Bach's (0 = the same)",
    ),
    "intervals above bass vs Bach": (
        "harmony",
        "total variation distance of the interval classes above the bass from Bach's (0 = the same)",
    ),
    "sounding share": ("harmony", "share of the steps at which a voice sounds, mean over voices"),
    "sounding share, furthest voice": (
        "harmony",
        "the largest relative difference of one voice's sounding share from Bach's voice, over the voices "
        "Bach's continuations sound in at least a tenth of their steps (0 = the same)",
    ),
    "note length": ("harmony", "mean note length in steps, mean over voices"),
    "note length, furthest voice": (
        "harmony",
        "the largest relative difference of one voice's mean note length from Bach's voice (0 = the same)",
    ),
}
"""Every column of the report: the table it belongs to and its definition."""

TABLES = {
    "critic": "The learned critic (the headline: a network trained afresh to tell each system from Bach)",
    "harmony": "How the voices sound together, and their lines",
    "notes": "Notes and tonality (prime vs continuation)",
    "overlap": "Overlap with Bach's per-bar distributions (Yang & Lerch 2020: 1 = the same distribution)",
    "novelty": "Novelty, diversity and the classifier two-sample test",
}


@dataclass
class SystemScores:
    """Per-window values of every metric for one system."""

    values: dict[str, list[float]] = field(default_factory=dict)
    bar_stats: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(float(value))

    def mean(self, name: str) -> float:
        return float(np.mean(self.values[name]))


def score_system(windows: Windows, continuations: np.ndarray, lowest: int) -> SystemScores:
    """Every per-window metric of one system's continuations."""
    scores = SystemScores()
    voices = continuations.shape[1]
    n_bars = continuations.shape[2] // windows.bar_steps
    for prime, continuation in zip(windows.primes, continuations):
        prime_notes = from_tokens(prime, lowest)
        notes = continuation_notes(prime, continuation, lowest)
        tonic, minor = metrics.estimate_key(prime_notes)
        prime_profile, profile = metrics.pitch_class_profile(prime_notes), metrics.pitch_class_profile(notes)
        scores.add("empty bars", metrics.empty_bar_rate(notes, windows.bar_steps, n_bars))
        scores.add("notes per bar", len(notes) / n_bars)
        scores.add("in scale", metrics.in_scale_rate(notes, tonic, minor))
        scores.add("PCP correlation", metrics.profile_correlation(prime_profile, profile))
        scores.add("key agreement", float(len(notes) > 0 and metrics.estimate_key(notes) == (tonic, minor)))
        scores.add("tonal distance", metrics.tonal_distance(prime_profile, profile))
        faults = metrics.voice_leading_faults(notes, voices, continuation.shape[1])
        scores.add("voice-leading faults per bar", sum(faults.values()) / n_bars)
        for bar in metrics.bars_of(notes, windows.bar_steps, n_bars):
            for name, value in (
                ("UPC", metrics.used_pitch_classes(bar)),
                ("pitch range", metrics.pitch_range(bar)),
                ("polyphony", metrics.polyphony(bar)),
                ("notes", len(bar)),
            ):
                scores.bar_stats.setdefault(name, []).append(float(value))
    return scores


@dataclass
class HarmonyScores:
    """How one system's voices sound together (see :mod:`segue.harmony`)."""

    consonance: float
    non_chord_tones: float
    adjacent: np.ndarray  # (12,) interval-class counts
    above_bass: np.ndarray  # (12,)
    sounding: np.ndarray  # (V,) share of steps
    lengths: np.ndarray  # (V,) mean note length in steps

    def row(self, bach: HarmonyScores) -> dict[str, float]:
        """The report's harmony columns, against ``bach``'s."""
        return {
            "consonance": self.consonance,
            "non-chord tones": self.non_chord_tones,
            "adjacent intervals vs Bach": harmony.interval_distance(self.adjacent, bach.adjacent),
            "intervals above bass vs Bach": harmony.interval_distance(self.above_bass, bach.above_bass),
            "sounding share": float(np.mean(self.sounding)),
            "sounding share, furthest voice": _furthest(self.sounding, bach.sounding),
            "note length": float(np.nanmean(self.lengths)),
            "note length, furthest voice": float(np.nanmax(np.abs(self.lengths / bach.lengths - 1))),
        }


PLAYED_SHARE = 0.1
"""A voice counts in "sounding share, furthest voice" when the real continuations sound it in at least
this share of their steps: a tune's real continuation leaves the voices below it silent, or nearly
(a second voice in 0.7% of a 2/4 tune's steps), and a relative gap on such a voice says nothing."""


def _furthest(shares: np.ndarray, bach: np.ndarray) -> float:
    """The largest relative difference of a voice's sounding share from Bach's voice, over the voices
    Bach's continuations play in at least :data:`PLAYED_SHARE` of their steps; NaN when they play
    none that much."""
    played = bach >= PLAYED_SHARE
    return float(np.max(np.abs(shares[played] / bach[played] - 1))) if played.any() else float("nan")


def _mean_of_defined(values: list[float]) -> float:
    """The mean of the values that are not NaN; NaN (without a warning) when none is."""
    defined = [v for v in values if not np.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")


def score_harmony(continuations: np.ndarray, lowest: int, bar_steps: int) -> HarmonyScores:
    """The harmony and line measures of (W, V, S) continuations, over all windows."""
    voices, steps = continuations.shape[1:]
    consonance, outside, sounding, every_note = [], [], [], []
    adjacent, above = np.zeros(12, dtype=np.int64), np.zeros(12, dtype=np.int64)
    for continuation in continuations:
        notes = from_tokens(continuation, lowest)
        grid = metrics.sounding_grid(notes, voices, steps)
        consonance.append(harmony.consonance(grid))
        outside.append(harmony.non_chord_tones(grid, bar_steps))
        sounding.append(harmony.sounding_share(grid))
        adjacent += harmony.adjacent_intervals(grid)
        above += harmony.intervals_above_bass(grid)
        every_note.append(notes)
    lengths = harmony.mean_durations(np.concatenate(every_note), voices)  # over all windows' notes
    return HarmonyScores(
        _mean_of_defined(consonance),  # NaN for one voice: no pairs sound together
        _mean_of_defined(outside),
        adjacent,
        above,
        np.mean(sounding, 0),
        lengths,
    )
