"""Measure continuations against the real ones and honest baselines.

For every test piece and several windows per piece: prime with K bars, let each system
continue N bars, and measure (see :mod:`segue.metrics`). The systems: the GAN, the real
continuation (the reference), the prime's last bars repeated, another test piece's real
continuation transposed into the prime's key, a per-voice Markov chain fitted on the
train split, and any others the caller adds (the conditional VAE, the LSTM). A classifier
two-sample test asks how well (prime, continuation) pairs of a system can be told from
real pairs: 0.5 means indistinguishable.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from segue import metrics
from segue.evaluation.baselines import VoiceMarkov, repeat_prime, transpose_tokens
from segue.pipeline.continuation import continue_primes
from segue.training.windows import as_voices, piece_tokens
from segue.pipeline.model import SegueModel
from segue.models.lstm import TokenLSTM
from segue.music.piece import Piece
from segue.music.tokens import REST, from_tokens

SYSTEMS = ("GAN", "Bach (real)", "repeat prime", "other piece", "Markov")

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
        "(logistic regression on hand-made features, folds by piece; 0.5 = indistinguishable; "
        "Lopez-Paz & Oquab 2017)",
    ),
}
"""Every column of the report: the table it belongs to and its definition."""

TABLES = {
    "notes": "Notes and tonality (prime vs continuation)",
    "overlap": "Overlap with Bach's per-bar distributions (Yang & Lerch 2020: 1 = the same distribution)",
    "novelty": "Novelty, diversity and the classifier two-sample test",
}


@dataclass
class Windows:
    """Test windows: primes (W, V, K*bar), real continuations (W, V, N*bar), their pieces,
    and the bar each window starts at (counted from the piece's first bar)."""

    primes: np.ndarray
    reals: np.ndarray
    pieces: np.ndarray
    bar_steps: int
    starts: np.ndarray


def test_windows(
    pieces: Sequence[Piece],
    model: SegueModel,
    prime_bars: int,
    bars: int,
    per_piece: int,
    stride: int | None = None,
) -> Windows:
    """Up to ``per_piece`` windows of K + N bars from each piece, ``stride`` bars apart (N by
    default), from its first bar."""
    config = model.config
    bar = config.steps_per_bar
    stride = bars if stride is None else stride
    primes, reals, owners, starts = [], [], [], []
    for index, piece in enumerate(pieces):
        if str(piece.meter) != config.meter or piece.steps_per_beat != config.steps_per_beat:
            continue
        grid = piece_tokens(as_voices(piece, config), config)
        for w in range(per_piece):
            start = (piece.first_bar + w * stride) * bar
            end = start + (prime_bars + bars) * bar
            if end > (piece.first_bar + piece.complete_bars) * bar:
                break
            primes.append(grid[:, start : start + prime_bars * bar])
            reals.append(grid[:, start + prime_bars * bar : end])
            owners.append(index)
            starts.append(w * stride)
    if not primes:
        raise ValueError(f"no test piece has {prime_bars + bars} complete bars in {config.meter}")
    return Windows(np.stack(primes), np.stack(reals), np.array(owners), bar, np.array(starts))


def continuation_notes(prime: np.ndarray, continuation: np.ndarray, lowest: int) -> np.ndarray:
    """The notes that start in the continuation, decoded together with the prime, re-based to 0."""
    seam = prime.shape[1]
    notes = from_tokens(np.concatenate([prime, continuation], axis=1), lowest)
    notes = notes[notes["onset"] >= seam].copy()
    notes["onset"] -= seam
    return notes


def other_piece(windows: Windows, lowest: int, vocab: int) -> np.ndarray:
    """For each window, the real continuation of a window of another piece, in the prime's key.

    Window i takes window (i + W // 2) mod W (the next one of another piece if that is the
    same piece), so each real continuation is used about once.
    """
    count = len(windows.primes)
    out = np.empty_like(windows.reals)
    for i in range(count):
        j = next(
            (
                k % count
                for k in range(i + count // 2, i + count // 2 + count)
                if windows.pieces[k % count] != windows.pieces[i]
            ),
            i,
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


INTERVAL_BINS = (0, 1, 3, 5, 8, 13, 128)  # unisons, steps, thirds, fourths/fifths, sixths-octave, more
DURATION_BINS = (1, 2, 3, 4, 5, 8, 9, 16, 17, 10**6)


def pair_features(prime: np.ndarray, continuation: np.ndarray, lowest: int, bar_steps: int) -> np.ndarray:
    """Hand-made features of a (prime, continuation) pair for the classifier two-sample test,
    in the order of :func:`named_pair_features`."""
    return np.array(list(named_pair_features(prime, continuation, lowest, bar_steps).values()))


def named_pair_features(
    prime: np.ndarray, continuation: np.ndarray, lowest: int, bar_steps: int
) -> dict[str, float]:
    """The classifier's features of a (prime, continuation) pair, by name.

    Tonality (both pitch-class profiles, relative to the prime's tonic, and their product),
    per voice (notes per bar, mean duration, mean interval, mean pitch, range, the interval
    at the seam, rests), histograms of melodic intervals and of durations, where in the beat
    notes start, repetition (agreement with the music one, two and four bars before; bars
    equal to an earlier bar), spacing between adjacent voices and voice-leading faults.
    """
    prime_notes = from_tokens(prime, lowest)
    notes = continuation_notes(prime, continuation, lowest)
    tonic = metrics.estimate_key(prime_notes)[0]
    a = np.roll(metrics.pitch_class_profile(prime_notes), -tonic)
    b = np.roll(metrics.pitch_class_profile(notes), -tonic)
    out: dict[str, float] = {}
    for k in range(12):
        out[f"prime pitch class +{k}"] = float(a[k])
        out[f"continuation pitch class +{k}"] = float(b[k])
        out[f"shared pitch class +{k}"] = float(a[k] * b[k] * 12)
    voices, steps = continuation.shape
    n_bars = max(1, steps // bar_steps)
    intervals = []
    for v in range(voices):
        mine = notes[notes["track"] == v]
        pitches = mine["pitch"].astype(np.float64)
        last = prime_notes["pitch"][prime_notes["track"] == v]
        intervals.append(np.abs(np.diff(pitches)))
        out[f"voice {v + 1} notes per bar"] = len(mine) / n_bars
        out[f"voice {v + 1} mean duration"] = float(mine["duration"].mean()) if len(mine) else 0.0
        out[f"voice {v + 1} mean interval"] = float(intervals[-1].mean()) if len(pitches) > 1 else 0.0
        out[f"voice {v + 1} mean pitch"] = float(pitches.mean()) if len(pitches) else 0.0
        out[f"voice {v + 1} range"] = float(np.ptp(pitches)) if len(pitches) else 0.0
        out[f"voice {v + 1} interval at the seam"] = (
            abs(float(pitches[0]) - float(last[-1])) if len(pitches) and len(last) else 0.0
        )
        out[f"voice {v + 1} rests"] = float((continuation[v] == REST).mean())
    for name, values, edges in (
        ("interval", np.concatenate(intervals), INTERVAL_BINS),
        ("duration", notes["duration"], DURATION_BINS),
    ):
        for low, high, share in zip(edges[:-1], edges[1:], _histogram(values, edges)):
            out[f"{name}s {low}-{high - 1}"] = float(share)
    position = notes["onset"] % 4
    for k in range(4):
        out[f"onsets at sixteenth {k} of the beat"] = float((position == k).mean()) if len(notes) else 0.0
    out["onsets on the downbeat"] = float((notes["onset"] % bar_steps == 0).mean()) if len(notes) else 0.0
    names = ("same as a bar before", "same as two bars before", "same as four bars before", "recurring bars")
    out.update(zip(names, repetition_features(prime, continuation, bar_steps)))
    sounding = metrics.sounding_grid(notes, voices, steps)
    for v in range(voices - 1):
        both = (sounding[v] >= 0) & (sounding[v + 1] >= 0)
        gap = float((sounding[v] - sounding[v + 1])[both].mean()) if both.any() else 0.0
        out[f"spacing of voices {v + 1} and {v + 2}"] = gap
    for name, value in metrics.voice_leading_faults(notes, voices, steps).items():
        out[f"{name.replace('_', ' ')} per bar"] = value / n_bars
    return out


def repetition_features(prime: np.ndarray, continuation: np.ndarray, bar_steps: int) -> list[float]:
    """How much a continuation repeats: the share of its tokens equal to the tokens one, two
    and four bars earlier (0 where the prime is too short), and the share of its bars equal to
    an earlier bar of prime or continuation."""
    full = np.concatenate([prime, continuation], axis=1)
    seam = prime.shape[1]
    out = []
    for lag in (1, 2, 4):
        back = lag * bar_steps
        out.append(
            float((full[:, seam:] == full[:, seam - back : full.shape[1] - back]).mean())
            if back <= seam
            else 0.0
        )
    keys = metrics.bar_keys(full, bar_steps)
    first = seam // bar_steps
    out.append(
        float(np.mean([keys[i] in keys[:i] for i in range(first, len(keys))])) if len(keys) > first else 0.0
    )
    return out


def _histogram(values: np.ndarray, edges: tuple[int, ...]) -> np.ndarray:
    counts = np.histogram(values, bins=edges)[0].astype(np.float64)
    return counts / counts.sum() if counts.sum() else counts


def classifier_accuracy(
    real: np.ndarray,
    fake: np.ndarray,
    folds: int = 5,
    seed: int = 0,
    real_groups: np.ndarray | None = None,
    fake_groups: np.ndarray | None = None,
) -> float:
    """Held-out accuracy of a logistic-regression classifier telling ``real`` rows from ``fake``.

    Balanced classes, ``folds``-fold cross-validation, standardized features, L2 penalty.
    Rows with the same group (the test piece they come from) stay in one fold, so the
    classifier is always tested on pieces it was not fitted on. 0.5 means the two sets
    cannot be told apart by these features.
    """
    rng = np.random.default_rng(seed)
    count = min(len(real), len(fake))
    pick_real, pick_fake = rng.permutation(len(real))[:count], rng.permutation(len(fake))[:count]
    x = np.concatenate([real[pick_real], fake[pick_fake]])
    y = np.concatenate([np.ones(count), np.zeros(count)])
    if real_groups is None or fake_groups is None:
        groups = rng.permutation(len(x))
    else:
        groups = np.concatenate([real_groups[pick_real], fake_groups[pick_fake]])
    names = np.unique(groups)
    fold_of = dict(zip(names.tolist(), (rng.permutation(len(names)) % folds).tolist()))
    fold = np.array([fold_of[g] for g in groups.tolist()])
    correct = 0
    for k in range(folds):
        test = fold == k
        if not test.any() or test.all():
            continue
        mean, std = x[~test].mean(0), x[~test].std(0) + 1e-9
        weights = _fit_logistic((x[~test] - mean) / std, y[~test])
        predicted = _logistic((x[test] - mean) / std, weights) > 0.5
        correct += int((predicted == (y[test] > 0.5)).sum())
    return correct / len(x)


def telltales(real: np.ndarray, fake: np.ndarray, names: Sequence[str], top: int = 4) -> list[str]:
    """The features that weigh most in telling ``fake`` rows from ``real`` ones, worded as
    "higher: NAME" or "lower: NAME" (in the fake rows), strongest first.

    A logistic regression on all rows, standardized, so that the weights compare.
    """
    x = np.concatenate([real, fake])
    y = np.concatenate([np.zeros(len(real)), np.ones(len(fake))])
    mean, std = x.mean(0), x.std(0)
    usable = std > 1e-9
    weights = _fit_logistic((x[:, usable] - mean[usable]) / std[usable], y)[:-1]
    kept = [name for name, keep in zip(names, usable) if keep]
    order = np.argsort(-np.abs(weights))[:top]
    return [f"{'higher' if weights[i] > 0 else 'lower'}: {kept[i]}" for i in order]


def _logistic(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ weights[:-1] + weights[-1])))


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 3e-2, steps: int = 500) -> np.ndarray:
    weights = np.zeros(x.shape[1] + 1)
    for _ in range(steps):
        p = _logistic(x, weights)
        grad = np.concatenate([x.T @ (p - y) / len(y) + l2 * weights[:-1], [(p - y).mean()]])
        weights -= 0.5 * grad
    return weights


Continuer = Callable[[np.ndarray, int], np.ndarray]
"""A system: (W, V, K*bar) primes and a seed -> (W, V, N*bar) continuations."""


def model_system(model: SegueModel, bars: int, temperature: float = 1.0) -> Continuer:
    """A GAN (or CVAE) generator as a system, sampled at ``temperature``."""
    return lambda primes, seed: continue_primes(primes, bars, model, seed, temperature=temperature)


def lstm_system(net: TokenLSTM, bars: int, bar_steps: int) -> Continuer:
    """The autoregressive LSTM baseline as a system (it reads the whole prime)."""

    def run(primes: np.ndarray, seed: int) -> np.ndarray:
        generator = torch.Generator().manual_seed(seed)
        prime = torch.from_numpy(np.ascontiguousarray(primes)).long()
        chunks = [
            net.continue_tokens(prime[i : i + 256], bars * bar_steps, generator).numpy()
            for i in range(0, len(prime), 256)
        ]
        return np.concatenate(chunks)

    return run


@dataclass
class Report:
    """The table (system -> metric -> value) and what else the report shows."""

    table: dict[str, dict[str, float]]
    continuations: dict[str, np.ndarray]
    primes: np.ndarray
    bar_stats: dict[str, dict[str, list[float]]]  # system -> per-bar statistic -> values
    telltales: dict[str, list[str]]  # system -> the features that give it away most
    owners: np.ndarray  # the test piece of each window

    @property
    def windows(self) -> int:
        """How many test windows were scored."""
        return len(self.owners)

    @property
    def pieces(self) -> int:
        """How many test pieces they come from."""
        return len(np.unique(self.owners))


def evaluate(
    model: SegueModel,
    test_pieces: Sequence[Piece],
    train_pieces: Sequence[Piece],
    *,
    prime_bars: int = 4,
    bars: int = 4,
    per_piece: int = 3,
    stride: int | None = None,
    seeds: int = 2,
    seed: int = 0,
    others: dict[str, Continuer] | None = None,
    temperature: float = 1.0,
) -> Report:
    """Every system on every test window; returns the table of means.

    ``others`` adds systems to compare, by name (the conditional VAE, the LSTM); each
    generative system is run with ``seeds`` seeds for the diversity columns, and its
    first seed's continuations are scored.
    """
    config = model.config
    windows = test_windows(test_pieces, model, prime_bars, bars, per_piece, stride)
    train_grids = [
        piece_tokens(as_voices(p, config), config)
        for p in train_pieces
        if str(p.meter) == config.meter and p.steps_per_beat == config.steps_per_beat
    ]
    markov = VoiceMarkov(order=4).fit(train_grids)
    steps = bars * config.steps_per_bar

    def markov_run(primes: np.ndarray, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return np.stack([markov.continue_tokens(p, steps, rng) for p in primes])

    generative: dict[str, Continuer] = {"GAN": model_system(model, bars, temperature), "Markov": markov_run}
    generative.update(others or {})
    outputs = {
        "GAN": generative["GAN"](windows.primes, seed),
        "Bach (real)": windows.reals,
        "repeat prime": np.stack([repeat_prime(p, steps) for p in windows.primes]),
        "other piece": other_piece(windows, config.lowest, config.vocab),
        "Markov": markov_run(windows.primes, seed),
    }
    for name, system in (others or {}).items():
        outputs[name] = system(windows.primes, seed)
        if outputs[name].shape != windows.reals.shape:
            raise ValueError(
                f"{name}: continuations of shape {outputs[name].shape}, not {windows.reals.shape}"
            )
    extra_seeds = {
        name: [system(windows.primes, seed + k) for k in range(1, seeds)]
        for name, system in generative.items()
    }
    train_bars = [metrics.bar_keys(g, config.steps_per_bar, relative=True) for g in train_grids]
    train_set = {bar for piece in train_bars for bar in piece}
    formulas = metrics.formula_bars(train_bars)
    apart = windows.starts % bars == 0  # windows whose continuations do not overlap
    lowest, bar_steps = config.lowest, config.steps_per_bar
    real_named = [named_pair_features(p, c, lowest, bar_steps) for p, c in zip(windows.primes, windows.reals)]
    names = list(real_named[0])
    real_features = np.array([list(features.values()) for features in real_named])
    reference = score_system(windows, windows.reals, lowest)
    halves = windows.pieces % 2 == 0  # real pairs of half the pieces against those of the other half
    table: dict[str, dict[str, float]] = {}
    bar_stats: dict[str, dict[str, list[float]]] = {}
    tells: dict[str, list[str]] = {}
    for name, continuations in outputs.items():
        scores = reference if name == "Bach (real)" else score_system(windows, continuations, lowest)
        row = {metric: scores.mean(metric) for metric in scores.values}
        for stat, values in scores.bar_stats.items():
            row[f"overlap: {stat}"] = metrics.overlap_area(
                np.array(values), np.array(reference.bar_stats[stat])
            )
        keys = [metrics.bar_keys(c, bar_steps, relative=True) for c in continuations]
        row["copied bars"] = float(np.mean([metrics.copied_bar_rate(k, train_set, formulas) for k in keys]))
        row["formula bars"] = float(np.mean([[bar in formulas for bar in k] for k in keys]))
        row["longest copied span"] = float(max(metrics.longest_copied_span(k, train_bars) for k in keys))
        row["distinct bars"] = metrics.distinct_rate(
            [bar for k, keep in zip(keys, apart) if keep for bar in k]
        )
        if extra_seeds.get(name):
            runs = [continuations, *extra_seeds[name]]
            pairs = list(itertools.pairwise(runs))
            row["differs across seeds"] = float(np.mean([(x != y).any(axis=(1, 2)).mean() for x, y in pairs]))
            row["seed difference"] = float(
                np.mean([metrics.token_difference(x[i], y[i]) for x, y in pairs for i in range(len(x))])
            )
        bar_stats[name] = scores.bar_stats
        if name == "Bach (real)":
            row["classifier accuracy"] = classifier_accuracy(
                real_features[halves],
                real_features[~halves],
                seed=seed,
                real_groups=windows.pieces[halves],
                fake_groups=windows.pieces[~halves],
            )
        else:
            features = np.stack(
                [pair_features(p, c, lowest, bar_steps) for p, c in zip(windows.primes, continuations)]
            )
            row["classifier accuracy"] = classifier_accuracy(
                real_features, features, seed=seed, real_groups=windows.pieces, fake_groups=windows.pieces
            )
            tells[name] = telltales(real_features, features, names)
        table[name] = row
    return Report(table, outputs, windows.primes, bar_stats, tells, windows.pieces)
