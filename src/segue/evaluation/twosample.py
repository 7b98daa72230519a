"""The classifier two-sample test (Lopez-Paz & Oquab 2017): how well (prime, continuation)
pairs of a system can be told from real pairs; 0.5 means indistinguishable.

Hand-made features of a pair (:func:`named_pair_features`), the held-out accuracy of a
logistic regression with folds by group of test pieces (:func:`classifier_accuracy`) and the features
that give a system away most (:func:`telltales`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segue import metrics
from segue.evaluation.windows import continuation_notes
from segue.music.tokens import REST, from_tokens

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
    Rows with the same group (the test pieces they come from: see
    :attr:`~segue.evaluation.windows.Windows.groups`) stay in one fold, so the classifier is
    always tested on pieces it was not fitted on. 0.5 means the two sets cannot be told apart
    by these features; NaN that no fold could be tested (fewer than two groups).
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
    correct, tested = 0, 0
    for test in held_out_folds(groups, y, folds, rng):
        mean, std = x[~test].mean(0), x[~test].std(0) + 1e-9
        weights = _fit_logistic((x[~test] - mean) / std, y[~test])
        predicted = _logistic((x[test] - mean) / std, weights) > 0.5
        correct += int((predicted == (y[test] > 0.5)).sum())
        tested += int(test.sum())
    return correct / tested if tested else float("nan")


def held_out_folds(
    groups: np.ndarray, labels: np.ndarray, folds: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """The held-out rows of each fold, as boolean masks: whole groups dealt at random into
    ``folds`` folds. A fold is left out when the other rows cannot train a two-class test (none
    left, or one class only); with fewer than two groups there is none (the accuracy is then NaN).
    """
    names = np.unique(groups)
    fold_of = dict(zip(names.tolist(), (rng.permutation(len(names)) % folds).tolist()))
    fold = np.array([fold_of[g] for g in groups.tolist()])
    masks = [fold == k for k in range(folds)]
    return [m for m in masks if m.any() and len(np.unique(labels[~m])) == 2]


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
