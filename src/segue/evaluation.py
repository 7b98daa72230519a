"""Measure continuations against the real ones and honest baselines.

For every test piece and several windows per piece: prime with K bars, let each system
continue N bars, and measure (see :mod:`segue.metrics`). The systems: the GAN, the real
continuation (the reference), the prime's last bars repeated, another test piece's real
continuation transposed into the prime's key, and a per-voice Markov chain fitted on the
train split. A classifier two-sample test asks how well (prime, continuation) pairs of a
system can be told from real pairs: 0.5 means indistinguishable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from segue import metrics
from segue.baselines import VoiceMarkov, repeat_prime, transpose_tokens
from segue.continuation import continue_primes
from segue.data.windows import as_voices, piece_tokens
from segue.modelfile import SegueModel
from segue.music.piece import Piece
from segue.music.tokens import from_tokens

SYSTEMS = ("GAN", "Bach (real)", "repeat prime", "other piece", "Markov")


@dataclass
class Windows:
    """Test windows: primes (W, V, K*bar), real continuations (W, V, N*bar), their pieces."""

    primes: np.ndarray
    reals: np.ndarray
    pieces: np.ndarray
    bar_steps: int


def test_windows(
    pieces: Sequence[Piece], model: SegueModel, prime_bars: int, bars: int, per_piece: int
) -> Windows:
    """Up to ``per_piece`` windows of K + N bars from each piece, N bars apart, from its first bar."""
    config = model.config
    bar = config.steps_per_bar
    primes, reals, owners = [], [], []
    for index, piece in enumerate(pieces):
        if str(piece.meter) != config.meter or piece.steps_per_beat != config.steps_per_beat:
            continue
        grid = piece_tokens(as_voices(piece, config), config)
        for w in range(per_piece):
            start = (piece.first_bar + w * bars) * bar
            end = start + (prime_bars + bars) * bar
            if end > (piece.first_bar + piece.complete_bars) * bar:
                break
            primes.append(grid[:, start : start + prime_bars * bar])
            reals.append(grid[:, start + prime_bars * bar : end])
            owners.append(index)
    if not primes:
        raise ValueError(f"no test piece has {prime_bars + bars} complete bars in {config.meter}")
    return Windows(np.stack(primes), np.stack(reals), np.array(owners), bar)


def continuation_notes(prime: np.ndarray, continuation: np.ndarray, lowest: int) -> np.ndarray:
    """The notes that start in the continuation, decoded together with the prime, re-based to 0."""
    seam = prime.shape[1]
    notes = from_tokens(np.concatenate([prime, continuation], axis=1), lowest)
    notes = notes[notes["onset"] >= seam].copy()
    notes["onset"] -= seam
    return notes


def other_piece(windows: Windows, lowest: int, vocab: int) -> np.ndarray:
    """For each window, the real continuation of the next window from another piece, in its key."""
    count = len(windows.primes)
    out = np.empty_like(windows.reals)
    for i in range(count):
        j = next(
            (k % count for k in range(i + 1, i + count) if windows.pieces[k % count] != windows.pieces[i]), i
        )
        own = metrics.estimate_key(from_tokens(windows.primes[i], lowest))[0]
        theirs = metrics.estimate_key(from_tokens(windows.reals[j], lowest))[0]
        shift = (own - theirs + 6) % 12 - 6
        out[i] = transpose_tokens(windows.reals[j], shift, vocab)
    return out


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


def pair_features(prime: np.ndarray, continuation: np.ndarray, lowest: int, bar_steps: int) -> np.ndarray:
    """Hand-made features of a (prime, continuation) pair for the classifier two-sample test."""
    prime_notes = from_tokens(prime, lowest)
    notes = continuation_notes(prime, continuation, lowest)
    a, b = metrics.pitch_class_profile(prime_notes), metrics.pitch_class_profile(notes)
    voices = continuation.shape[0]
    per_voice = []
    for v in range(voices):
        mine = notes[notes["track"] == v]
        pitches = mine["pitch"].astype(np.float64)
        last = prime_notes["pitch"][prime_notes["track"] == v]
        seam = abs(float(pitches[0]) - float(last[-1])) if len(pitches) and len(last) else 0.0
        per_voice += [
            len(mine) / max(1, continuation.shape[1] // bar_steps),
            float(mine["duration"].mean()) if len(mine) else 0.0,
            float(np.abs(np.diff(pitches)).mean()) if len(pitches) > 1 else 0.0,
            float(pitches.mean()) if len(pitches) else 0.0,
            float(np.ptp(pitches)) if len(pitches) else 0.0,
            seam,
        ]
    faults = metrics.voice_leading_faults(notes, voices, continuation.shape[1])
    return np.concatenate([a, b, a * b * 12, per_voice, list(faults.values())])


def classifier_accuracy(real: np.ndarray, fake: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """Held-out accuracy of a logistic-regression classifier telling ``real`` rows from ``fake``.

    Balanced classes, ``folds``-fold cross-validation, standardized features, L2 penalty.
    0.5 means the two sets cannot be told apart by these features.
    """
    rng = np.random.default_rng(seed)
    count = min(len(real), len(fake))
    x = np.concatenate([real[rng.permutation(len(real))[:count]], fake[rng.permutation(len(fake))[:count]]])
    y = np.concatenate([np.ones(count), np.zeros(count)])
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    correct = 0
    for fold in range(folds):
        test = np.arange(len(x)) % folds == fold
        mean, std = x[~test].mean(0), x[~test].std(0) + 1e-9
        weights = _fit_logistic((x[~test] - mean) / std, y[~test])
        predicted = _logistic((x[test] - mean) / std, weights) > 0.5
        correct += int((predicted == (y[test] > 0.5)).sum())
    return correct / len(x)


def _logistic(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ weights[:-1] + weights[-1])))


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 500) -> np.ndarray:
    weights = np.zeros(x.shape[1] + 1)
    for _ in range(steps):
        p = _logistic(x, weights)
        grad = np.concatenate([x.T @ (p - y) / len(y) + l2 * weights[:-1], [(p - y).mean()]])
        weights -= 0.5 * grad
    return weights


@dataclass
class Report:
    """The table (system -> metric -> value) and what else the report shows."""

    table: dict[str, dict[str, float]]
    windows: int
    pieces: int
    continuations: dict[str, np.ndarray]
    primes: np.ndarray
    bar_stats: dict[str, dict[str, list[float]]]  # system -> per-bar statistic -> values


def evaluate(
    model: SegueModel,
    test_pieces: Sequence[Piece],
    train_pieces: Sequence[Piece],
    *,
    prime_bars: int = 4,
    bars: int = 4,
    per_piece: int = 3,
    seed: int = 0,
    others: dict[str, SegueModel] | None = None,
) -> Report:
    """Every system on every test window; returns the table of means.

    ``others`` adds generators to compare, by name (e.g. the conditional-VAE baseline).
    """
    config = model.config
    windows = test_windows(test_pieces, model, prime_bars, bars, per_piece)
    train_grids = [
        piece_tokens(as_voices(p, config), config)
        for p in train_pieces
        if str(p.meter) == config.meter and p.steps_per_beat == config.steps_per_beat
    ]
    markov = VoiceMarkov(order=4).fit(train_grids)
    rng = np.random.default_rng(seed)
    steps = bars * config.steps_per_bar
    outputs = {
        "GAN": continue_primes(windows.primes, bars, model, seed),
        "Bach (real)": windows.reals,
        "repeat prime": np.stack([repeat_prime(p, steps) for p in windows.primes]),
        "other piece": other_piece(windows, config.lowest, config.vocab),
        "Markov": np.stack([markov.continue_tokens(p, steps, rng) for p in windows.primes]),
    }
    for name, other in (others or {}).items():
        if other.config.steps_per_bar != config.steps_per_bar or other.config.voices != config.voices:
            raise ValueError(f"{name}: a model of another meter or voice count than the GAN's")
        outputs[name] = continue_primes(windows.primes, bars, other, seed)
    second = continue_primes(windows.primes, bars, model, seed + 1)
    train_bars = [metrics.bar_keys(g, config.steps_per_bar) for g in train_grids]
    train_set = {bar for piece in train_bars for bar in piece}
    real_features = np.stack(
        [
            pair_features(p, c, config.lowest, config.steps_per_bar)
            for p, c in zip(windows.primes, windows.reals)
        ]
    )
    reference = score_system(windows, windows.reals, config.lowest)
    halves = windows.pieces % 2 == 0  # real pairs of half the pieces against those of the other half
    table: dict[str, dict[str, float]] = {}
    bar_stats: dict[str, dict[str, list[float]]] = {}
    for name, continuations in outputs.items():
        scores = reference if name == "Bach (real)" else score_system(windows, continuations, config.lowest)
        row = {metric: scores.mean(metric) for metric in scores.values}
        for stat, values in scores.bar_stats.items():
            row[f"overlap: {stat}"] = metrics.overlap_area(
                np.array(values), np.array(reference.bar_stats[stat])
            )
        keys = [metrics.bar_keys(c, config.steps_per_bar) for c in continuations]
        row["copied bars"] = float(np.mean([metrics.copied_bar_rate(k, train_set) for k in keys]))
        row["longest copied span"] = float(max(metrics.longest_copied_span(k, train_bars) for k in keys))
        bar_stats[name] = scores.bar_stats
        features = np.stack(
            [
                pair_features(p, c, config.lowest, config.steps_per_bar)
                for p, c in zip(windows.primes, continuations)
            ]
        )
        if name == "Bach (real)":
            row["classifier accuracy"] = classifier_accuracy(
                real_features[halves], real_features[~halves], seed=seed
            )
        else:
            row["classifier accuracy"] = classifier_accuracy(real_features, features, seed=seed)
        table[name] = row
    table["GAN"]["differs across seeds"] = float(
        np.mean([(a != b).any() for a, b in zip(outputs["GAN"], second)])
    )
    return Report(
        table, len(windows.primes), len(set(windows.pieces.tolist())), outputs, windows.primes, bar_stats
    )
