"""What gives a model's continuations away, on the choice half of the validation pieces: the
learned critic on reduced views of the windows, and the feature classifier on families of
statistics of the continuation's own sounding pitches. A lab tool for choosing what to mend next;
nothing is fitted to what it prints.

    .venv/bin/python scripts/telltales.py NAME=FOLDER[:plain|:key] ... [--data DATASET] [--windows 20]
        [--views] [--families] [--rhythm]

FOLDER is a model folder or a shipped model's name; ``:plain`` draws without the sampler, ``:key``
under the key prior (strength 0.5) as ``segue generate`` draws. Draws of seeds 0-4; critic seed k
(or classifier seed k) reads draw k, so the spreads hold the draws' too. ``--views`` (the default
with neither flag): the critic on the full image, with the prime blanked (the continuation alone),
and on the continuation alone by pitch only (no onsets) and by rhythm only (each voice sounding or
not). ``--families``: the logistic-regression classifier on each family of statistics below, of
the continuation alone; for each, its accuracy and the three features furthest from the real side
(in standard errors). ``--rhythm``: the same on families of the continuation's rhythm (onsets by
voice and position, how many voices strike together at each position, note lengths by voice and
by where the note starts, rests), whatever its pitches. The windows are cut in the first system's
meter and grid.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable

import numpy as np
import torch
from system_spec import GRAMMAR, parse_system

from segue.data.splits import split_pieces
from segue.evaluation.critic import critic_accuracy, roll_features
from segue.evaluation.twosample import classifier_accuracy
from segue.evaluation.windows import test_windows
from segue.music.tokens import FIRST_PITCH
from segue.sampler.rhythm import note_lengths
from segue.sampler.states import sounding_pitches
from segue.training.calibration import validation_half

VIEWS = ("full", "continuation", "continuation, pitch only", "continuation, rhythm only")
SEEDS = 5


def view(rolls: torch.Tensor, voices: int, prime_steps: int, kind: str) -> torch.Tensor:
    """``rolls`` (W, V * (P + 1), S) of :func:`roll_features` reduced to one of :data:`VIEWS`."""
    roll = rolls.view(len(rolls), voices, -1, rolls.shape[2]).clone()  # (W, V, P + 1, S)
    pitches = roll.shape[2] - 1
    if kind != "full":
        roll[..., :prime_steps] = 0.0
    if kind.endswith("pitch only"):
        roll[:, :, pitches] = 0.0
    if kind.endswith("rhythm only"):
        sounding = roll[:, :, :pitches].sum(2)
        roll[:, :, :pitches] = 0.0
        roll[:, :, pitches // 2] = sounding
    return roll.view_as(rolls)


def chord(column: np.ndarray) -> tuple[int, ...]:
    """The pitch classes sounding at one step, as intervals above the lowest sounding pitch."""
    pitches = column[column >= 0]
    return () if len(pitches) == 0 else tuple(sorted(set(((pitches - pitches.min()) % 12).tolist())))


def chord_counts(sounding: np.ndarray) -> Counter[tuple[int, ...]]:
    """How many steps of (W, V, C) sounding pitches sound each :func:`chord`."""
    return Counter(chord(window[:, t]) for window in sounding for t in range(window.shape[1]))


def _histogram(values: np.ndarray, low: int, high: int) -> list[float]:
    counts = np.bincount(np.clip(values, low, high) - low, minlength=high - low + 1).astype(float)
    return list(counts / max(counts.sum(), 1.0))


def families(sounding: np.ndarray, bar: int, chords: list[tuple[int, ...]]) -> dict[str, np.ndarray]:
    """(W, F) features of each family from (W, V, C) sounding pitches (-1: silent) of continuations."""
    voices = sounding.shape[1]
    pairs = [(u, v) for v in range(voices) for u in range(v)]

    def per_window(function: Callable[[np.ndarray], list[float]]) -> np.ndarray:
        return np.array([function(window) for window in sounding])

    def gaps(w: np.ndarray) -> list[np.ndarray]:  # each pair's semitones where both sound
        out = []
        for u, v in pairs:
            both = (w[u] >= 0) & (w[v] >= 0)
            out.append(w[u][both] - w[v][both])
        return out

    def spacing(w: np.ndarray) -> list[float]:  # crossed as -1
        return [share for gap in gaps(w) for share in _histogram(gap, -1, 25)]

    def classes(w: np.ndarray) -> list[float]:
        return [share for gap in gaps(w) for share in _histogram(gap % 12, 0, 11)]

    def melodic(w: np.ndarray) -> list[float]:  # each change of pitch, and how often
        out: list[float] = []
        for v in range(voices):
            a, b = w[v][:-1], w[v][1:]
            changes = (a >= 0) & (b >= 0) & (a != b)
            out += [*_histogram(b[changes] - a[changes], -13, 13), float(changes.mean())]
        return out

    def motion(w: np.ndarray) -> list[float]:  # oblique, parallel, similar, contrary
        out: list[float] = []
        for u, v in pairs:
            ok = (w[u][:-1] >= 0) & (w[u][1:] >= 0) & (w[v][:-1] >= 0) & (w[v][1:] >= 0)
            du, dv = np.diff(w[u])[ok], np.diff(w[v])[ok]
            moving = (du != 0) | (dv != 0)
            du, dv = du[moving], dv[moving]
            n = max(len(du), 1)
            still = (du == 0) | (dv == 0)
            out += [
                still.sum() / n,
                ((du == dv) & ~still).sum() / n,
                ((np.sign(du) == np.sign(dv)) & (du != dv) & ~still).sum() / n,
                ((np.sign(du) == -np.sign(dv)) & ~still).sum() / n,
            ]
        return out

    def sonorities(w: np.ndarray) -> list[float]:
        counts = chord_counts(w[None])
        total = sum(counts.values())
        return [counts.get(c, 0) / total for c in chords] + [
            sum(n for c, n in counts.items() if c not in chords) / total
        ]

    def changes(w: np.ndarray) -> list[float]:  # how often the sounding pitches change, by position
        changed = (w[:, 1:] != w[:, :-1]).any(0).astype(float)
        position = np.arange(1, w.shape[1]) % bar
        return [float(changed[position == q].mean()) for q in range(bar)]

    return {
        "spacing of each pair": per_window(spacing),
        "interval classes of each pair": per_window(classes),
        "melodic intervals": per_window(melodic),
        "motion of each pair": per_window(motion),
        "sonorities": per_window(sonorities),
        "changes by position": per_window(changes),
    }


def _runs(row: np.ndarray) -> list[tuple[bool, int, int]]:
    """(value, start, length) of each run of equal values in a boolean row."""
    edges = np.flatnonzero(np.diff(row.astype(np.int8))) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(row)]])
    return [(bool(row[a]), int(a), int(b - a)) for a, b in zip(starts, ends)]


def rhythm_families(
    tokens: np.ndarray, sounding: np.ndarray, bar: int, pitches: int
) -> dict[str, np.ndarray]:
    """(W, F) features of each rhythm family from (W, V, C) continuation tokens and their sounding
    pitches: when the voices strike, hold and rest, whatever their pitches."""
    voices, steps = tokens.shape[1], tokens.shape[2]
    position = np.arange(steps) % bar
    bins = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32]  # lengths up to each bound (the last pools the rest)

    def length_bin(n: int) -> int:
        return min(int(np.searchsorted(bins, n)), len(bins) - 1)

    # (window, start, length) of each voice's notes that end inside the continuation
    ended = []
    for v in range(voices):
        window, start, length, inside = note_lengths(tokens[:, v : v + 1], pitches)
        ended.append((window[inside], start[inside], length[inside]))
    rows: dict[str, list[list[float]]] = {
        name: []
        for name in (
            "onsets by voice and position",
            "voices striking together by position",
            "note lengths by voice",
            "note lengths by onset position",
            "rests by voice",
        )
    }
    for i, (w, s) in enumerate(zip(tokens, sounding)):
        struck = w >= FIRST_PITCH
        rows["onsets by voice and position"].append(
            [float(struck[v][position == q].mean()) for v in range(voices) for q in range(bar)]
        )
        count = struck.sum(0)
        rows["voices striking together by position"].append(
            [float((count[position == q] == n).mean()) for q in range(bar) for n in range(voices + 1)]
        )
        lengths: list[float] = []
        by_position = np.zeros((bar, len(bins)))
        for window, start, length in ended:
            hist = np.zeros(len(bins))
            for a, n in zip(start[window == i], length[window == i]):
                hist[length_bin(n)] += 1
                by_position[a % bar, length_bin(n)] += 1
            lengths += list(hist / max(hist.sum(), 1.0))
        rows["note lengths by voice"].append(lengths)
        rows["note lengths by onset position"].append(
            list((by_position / np.maximum(by_position.sum(1, keepdims=True), 1.0)).ravel())
        )
        rests: list[float] = []
        for v in range(voices):
            runs = [(a, n) for on, a, n in _runs(s[v] >= 0) if not on]
            hist = np.zeros(len(bins))
            for _, n in runs:
                hist[length_bin(n)] += 1
            rests += [float((s[v] < 0).mean()), float(len(runs)), *hist]
        rows["rests by voice"].append(rests)
    return {name: np.array(values) for name, values in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("systems", nargs="+", metavar=GRAMMAR)
    parser.add_argument("--data", default=None, help="a dataset (default: the bundled chorales)")
    parser.add_argument("--windows", type=int, default=20, help="most windows per piece")
    parser.add_argument("--views", action="store_true", help="the critic on reduced views")
    parser.add_argument("--families", action="store_true", help="the classifier on families of statistics")
    parser.add_argument("--rhythm", action="store_true", help="the classifier on rhythm families")
    args = parser.parse_args()
    show_views = args.views or not (args.families or args.rhythm)
    parsed = [parse_system(spec) for spec in args.systems]
    models = [spec.load() for spec in parsed]
    reference = models[0]
    config = reference.config
    pieces = validation_half(split_pieces(args.data, "valid"), config, "choice")
    windows = test_windows(pieces, reference, 4, 4, args.windows, 1)
    voices, pitches, prime_steps = config.voices, config.vocab - 2, windows.primes.shape[2]
    groups = windows.groups
    print(f"choice half: {len(pieces)} pieces, {len(groups)} windows")
    real_rolls = roll_features(windows.primes, windows.reals, pitches)

    def sounding(continuations: np.ndarray) -> np.ndarray:
        both = np.concatenate([windows.primes, continuations], axis=2)
        return sounding_pitches(both, pitches)[:, :, prime_steps:]

    real_sounding = sounding(windows.reals)
    real_chords = chord_counts(real_sounding)
    common = real_chords.most_common(40)
    chords = [c for c, _ in common]
    real_families = families(real_sounding, config.steps_per_bar, chords)
    real_views = {kind: view(real_rolls, voices, prime_steps, kind) for kind in VIEWS}
    real_rhythm = rhythm_families(windows.reals, real_sounding, config.steps_per_bar, pitches)

    def report(reals: dict[str, np.ndarray], drawn: list[dict[str, np.ndarray]]) -> None:
        """The classifier on each family, draw k read by classifier seed k, and the features
        furthest from the real side in the first draw (in standard errors)."""
        for family, real in reals.items():
            accuracies = [
                classifier_accuracy(real, d[family], seed=k, real_groups=groups, fake_groups=groups)
                for k, d in enumerate(drawn)
            ]
            fake = drawn[0][family]
            z = (fake.mean(0) - real.mean(0)) / np.sqrt(
                real.var(0) / len(real) + fake.var(0) / len(fake) + 1e-12
            )
            furthest = ", ".join(f"#{i} {z[i]:+.1f}" for i in np.argsort(-np.abs(z))[:3])
            print(
                f"  classifier, {family}: {np.mean(accuracies):.3f} "
                f"(sd {np.std(accuracies):.3f}); furthest {furthest}",
                flush=True,
            )

    for spec, model in zip(parsed, models, strict=True):
        name, system = spec.name, spec.continuer(model)
        draws = [system(windows.primes, seed) for seed in range(SEEDS)]
        print(name)
        if show_views:
            rolls = [roll_features(windows.primes, draw, pitches) for draw in draws]
            for kind, real in real_views.items():
                accuracies = [
                    critic_accuracy(
                        real, view(r, voices, prime_steps, kind), groups, groups, voices, prime_steps, k
                    )
                    for k, r in enumerate(rolls)
                ]
                print(
                    f"  critic, {kind}: {np.mean(accuracies):.3f} (sd {np.std(accuracies):.3f})", flush=True
                )
        sounded = [sounding(draw) for draw in draws]
        if args.families:
            drawn = [families(s, config.steps_per_bar, chords) for s in sounded]
            report(real_families, drawn)
        if args.rhythm:
            report(
                real_rhythm,
                [rhythm_families(d, s, config.steps_per_bar, pitches) for d, s in zip(draws, sounded)],
            )
        if args.families:
            shares = chord_counts(sounded[0])
            total, real_total = sum(shares.values()), sum(real_chords.values())
            top = ", ".join(
                f"{c}: {n / real_total:.3f} / {shares.get(c, 0) / total:.3f}" for c, n in common[:6]
            )
            print(f"  commonest sonorities, real / drawn (share of the steps): {top}")


if __name__ == "__main__":
    main()
