"""The voice-leading sampler's draw compiled with Numba: forward filtering, backward sampling of
every voice's line, voices top down, in one call per stretch of steps.

The same arithmetic as the NumPy reference in :mod:`segue.sampler.draw`, with the same random
numbers, using the structure of the state space: "pitch p goes on" follows only "p starts" or
"p goes on", so the moves into the P hold states cost 2P products instead of N·P, and the
parallel-motion factors are applied only to the moves they touch. The windows of a step are
filtered together, four at a time, so that each weight read serves four. The kernel releases
the GIL, so that a batch's windows are shared among threads.

Numba is imported, and the kernel loaded from its cache (compiled on first use), only by
:func:`load`: that costs about 0.4 s, more than a short continuation's whole draw, so the
sampler decides when to (see :attr:`segue.sampler.voiceleading.VoiceLeadingSampler.compiled`).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from segue.music.tokens import FIRST_PITCH, HOLD, REST

if TYPE_CHECKING:
    from segue.sampler.draw import Emission

AVAILABLE = importlib.util.find_spec("numba") is not None
"""Whether the compiled draw can run here (Numba is installed)."""


def _draw_windows(
    probs: np.ndarray,
    onset: np.ndarray,
    echo: np.ndarray,
    context: np.ndarray,
    seam: np.ndarray,
    inward: np.ndarray,
    holds: np.ndarray,
    start: np.ndarray,
    uniform: np.ndarray,
    pair_start: np.ndarray,
    pair_x: np.ndarray,
    pair_y: np.ndarray,
    into_start: np.ndarray,
    into_x: np.ndarray,
    factor: float,
    parallels: bool,
    vertical: np.ndarray,
    chords: np.ndarray,
    ages: np.ndarray,
    start_length: np.ndarray,
    together: np.ndarray,
    first: int,
    last: int,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled; run through draw_states
    """Draw (B, V, S) states into ``out``.

    probs (B, V, K, S), onset (B, V, P), echo (V,), context (B, V, O), seam (B, V, N): the factors
    of :class:`segue.sampler.draw.Emission`, multiplied into each state's weight in the order of
    :func:`segue.sampler.draw.state_weights`; inward (V, M, N, N): the
    weights of the moves into each position of the bar, as [to, from] (rows read whole);
    holds (V, M, 2, P): the weights of "p starts" -> "p goes on" and "p goes on" -> "p goes on"
    (the only moves into a hold); start (B, V): each line's state before the first step;
    uniform (B, V, S): the random numbers of the backward picks; pair_start, pair_x, pair_y: for
    an upper voice moving from pitch a to c, pairs pair_start[a * P + c] to pair_start[a * P + c
    + 1] list the moves x -> y of this voice that make parallels with it, and into_start, into_x
    the same by (a, c, y): the x of into_start[(a * P + c) * P + y] to the next; factor: e^-parallels,
    applied once per upper voice to a move that makes parallels with it (if ``parallels``);
    vertical (V, V, 12): factors on a state of voice v sounding a pitch c semitones (mod 12) below
    what voice u above sounds at the same step ([v, u, c]), or (0, 0, 0) for none; chords (V,
    CHORD_SETS): factors on a state of voice v by the set of pitch classes the voices above sound
    over it (bit i: i semitones above, mod 12; bit 12: a unison, bit 13: a voice above sounds
    below it: :func:`segue.sampler.calibration.chord_sets`), or (0, 0) for none. With parallels, vertical or
    chord factors the voices are drawn from the top, each against those above.
    ages (V, M, L): factors on a note going on into each position of the bar by how long it has
    sounded (a + 1 steps, L or more pooled), with L = 1 and (V, M, 1) ones for none; with L > 1
    each hold state's forward weight is also kept by the note's age (``aged``: the chain on the
    states (rest, p starts, p goes on at age a), of which the hold states' sum is ``alphas``, so
    that the moves out of a note read it once whatever its age), and a note's age is drawn with
    it; start_length (B, V): how many steps the note of the ``start`` state has sounded.
    together (V, M, V): factors on voice v striking a note at position m of the bar when k voices
    above it strike at the same step ([v, m, k]), or (0, 0, 0) for none.
    Only voices ``first`` to ``last`` (excluded) are drawn; those above ``first`` are read from ``out``.
    """
    windows, voices, _, steps = probs.shape
    positions = inward.shape[1]
    size = inward.shape[2]
    pitches = (size - 1) // 2
    overlap = context.shape[2]
    alphas = np.empty((windows, steps, size))  # the forward messages of the voice being drawn
    lengths = ages.shape[2]
    aging = lengths > 1
    aged = np.zeros((windows if aging else 0, steps, pitches, lengths))  # hold states by age
    top = lengths - 1
    column = np.empty(size)
    classes = np.ones(12)  # vertical factors by pitch class at one step
    chorded = np.ones(pitches)  # with chord factors: the vertical and chord factors by pitch
    sets = np.zeros(pitches, dtype=np.int64)  # the CHORD_SETS class above each pitch
    counts = np.zeros((pitches, pitches), dtype=np.int64)
    most = 1  # the most parallel moves one upper move can make
    for key in range(pitches * pitches):
        most = max(most, pair_start[key + 1] - pair_start[key])
    touched = np.empty(most * max(voices - 1, 1), dtype=np.int64)
    powers = factor ** np.arange(voices + 1).astype(np.float64)
    picked = np.zeros(2, dtype=np.int64)  # a state and its note's age (-1: none)
    age = -1
    striking = together.shape[0] > 0
    for v in range(first, last):
        upper = v if parallels else 0
        weighs_vertical, weighs_chords = vertical.shape[0] > 0, chords.shape[0] > 0
        above = v if weighs_vertical or weighs_chords else 0  # the voices above that weigh this one's pitches
        # forward filtering, step by step for all windows at once, so that the moves into a
        # step (``into[s, r]``: from state r into state s) are read once and used for every window
        for t in range(steps):
            into = inward[v, t % positions]  # (N, N) to, from
            hold = holds[v, t % positions]  # (2, P)
            grow = ages[v, t % positions]  # (L,)
            if t == 0:
                for b in range(windows):
                    for s in range(size):
                        alphas[b, 0, s] = into[s, start[b, v]]
                    if aging:
                        aged[b, 0] = 0.0
                        if start[b, v] > 0:
                            p = _pitch(start[b, v], pitches)
                            least = 2 if start[b, v] > pitches else 1  # a note going on has sounded 2 steps
                            age = min(max(start_length[b, v], least), lengths) - 1
                            aged[b, 0, p, age] = alphas[b, 0, 1 + pitches + p] * grow[age]
                            alphas[b, 0, 1 + pitches + p] = aged[b, 0, p, age]
            else:
                first = 0
                while first + 4 <= windows:  # four windows at a time share each weight read
                    p0, p1 = alphas[first, t - 1], alphas[first + 1, t - 1]
                    p2, p3 = alphas[first + 2, t - 1], alphas[first + 3, t - 1]
                    s = 0
                    while s + 2 <= pitches + 1:  # into rest and the onsets, two at a time
                        row, row2 = into[s], into[s + 1]
                        a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = 0.0
                        for r in range(size):
                            w, w2 = row[r], row2[r]
                            a0 += p0[r] * w
                            a1 += p1[r] * w
                            a2 += p2[r] * w
                            a3 += p3[r] * w
                            b0 += p0[r] * w2
                            b1 += p1[r] * w2
                            b2 += p2[r] * w2
                            b3 += p3[r] * w2
                        alphas[first, t, s], alphas[first + 1, t, s] = a0, a1
                        alphas[first + 2, t, s], alphas[first + 3, t, s] = a2, a3
                        alphas[first, t, s + 1], alphas[first + 1, t, s + 1] = b0, b1
                        alphas[first + 2, t, s + 1], alphas[first + 3, t, s + 1] = b2, b3
                        s += 2
                    paired = s
                    for s in range(paired, pitches + 1):
                        row = into[s]
                        a0 = a1 = a2 = a3 = 0.0
                        for r in range(size):
                            w = row[r]
                            a0 += p0[r] * w
                            a1 += p1[r] * w
                            a2 += p2[r] * w
                            a3 += p3[r] * w
                        alphas[first, t, s], alphas[first + 1, t, s] = a0, a1
                        alphas[first + 2, t, s], alphas[first + 3, t, s] = a2, a3
                    first += 4
                for b in range(first, windows):  # the rest one by one, four targets at a time
                    previous = alphas[b, t - 1]
                    s = 0
                    while s + 4 <= pitches + 1:
                        r0, r1, r2, r3 = into[s], into[s + 1], into[s + 2], into[s + 3]
                        a0 = a1 = a2 = a3 = 0.0
                        for r in range(size):
                            a = previous[r]
                            a0 += a * r0[r]
                            a1 += a * r1[r]
                            a2 += a * r2[r]
                            a3 += a * r3[r]
                        alphas[b, t, s], alphas[b, t, s + 1] = a0, a1
                        alphas[b, t, s + 2], alphas[b, t, s + 3] = a2, a3
                        s += 4
                    grouped = s
                    for s in range(grouped, pitches + 1):
                        row = into[s]
                        acc = 0.0
                        for r in range(size):
                            acc += previous[r] * row[r]
                        alphas[b, t, s] = acc
                for b in range(windows):
                    for p in range(pitches):  # into the holds: only from p's onset or hold
                        if not aging:
                            alphas[b, t, 1 + pitches + p] = (
                                alphas[b, t - 1, 1 + p] * hold[0, p]
                                + alphas[b, t - 1, 1 + pitches + p] * hold[1, p]
                            )
                            continue
                        now, before = aged[b, t, p], aged[b, t - 1, p]
                        now[0] = alphas[b, t - 1, 1 + p] * hold[0, p] * grow[0]
                        for a in range(1, lengths):
                            now[a] = before[a - 1] * hold[1, p] * grow[a]
                        now[top] += before[top] * hold[1, p] * grow[top]
                        held = 0.0
                        for a in range(lengths):
                            held += now[a]
                        alphas[b, t, 1 + pitches + p] = held
            for b in range(windows):
                alpha = alphas[b, t]
                if upper > 0:  # weigh down the moves that make parallels with an upper voice
                    n = _count_pairs(
                        b, t, upper, out, start, pitches, pair_start, pair_x, pair_y, counts, touched
                    )
                    x0 = _pitch(start[b, v], pitches)
                    for i in range(n):
                        x, y = touched[i] // pitches, touched[i] % pitches
                        k = counts[x, y]
                        if k == 0:
                            continue  # listed twice
                        counts[x, y] = 0
                        if t == 0:
                            if x0 == x:  # the line starts from a sounding x
                                alpha[1 + y] *= powers[k]
                            continue
                        source = (
                            alphas[b, t - 1, 1 + x] * into[1 + y, 1 + x]
                            + alphas[b, t - 1, 1 + pitches + x] * into[1 + y, 1 + pitches + x]
                        )
                        alpha[1 + y] = max(alpha[1 + y] + source * (powers[k] - 1.0), 0.0)
                echoed = context[b, v, t] if t < overlap else -1  # the context's token here
                if above > 0:  # the vertical factor of each pitch class against the voices above
                    for c in range(12):
                        classes[c] = 1.0
                    if weighs_chords:
                        for p in range(pitches):
                            sets[p] = 0
                    for u in range(above):
                        sounding = _pitch(out[b, u, t], pitches)
                        if sounding < 0:
                            continue
                        if weighs_vertical:
                            for c in range(12):
                                classes[c] *= np.float64(vertical[v, u, (sounding - c) % 12])
                        if weighs_chords:  # the pitch classes sounding above each pitch
                            for p in range(pitches):
                                interval = sounding - p
                                sets[p] |= 1 << (interval % 12)
                                if interval == 0:
                                    sets[p] |= 1 << 12  # UNISON_BIT
                                elif interval < 0:
                                    sets[p] |= 1 << 13  # CROSSED_BIT
                    if weighs_chords:
                        for p in range(pitches):
                            chorded[p] = classes[p % 12] * np.float64(chords[v, sets[p]])
                strike = 1.0  # the factor on striking, by the voices above that strike here
                if striking:
                    k = 0
                    for u in range(v):
                        if 1 <= out[b, u, t] <= pitches:
                            k += 1
                    strike = together[v, t % positions, k]
                total = 0.0
                for s in range(size):
                    if s == 0:
                        token = REST
                        w = np.float64(probs[b, v, REST, t])
                    elif s <= pitches:
                        token = FIRST_PITCH + s - 1
                        w = np.float64(probs[b, v, token, t]) * np.float64(onset[b, v, s - 1])
                    else:
                        token = HOLD
                        w = np.float64(probs[b, v, HOLD, t])
                    if token == echoed:
                        w *= np.float64(echo[v])
                    if t == 0:
                        w *= np.float64(seam[b, v, s])
                    if above > 0 and s > 0:  # its pitch's (class's) factor
                        w *= chorded[(s - 1) % pitches] if weighs_chords else classes[(s - 1) % pitches % 12]
                    if striking and 0 < s <= pitches:
                        w *= strike
                    alpha[s] *= w
                    total += alpha[s]
                    if aging and s > pitches:
                        for a in range(lengths):
                            aged[b, t, s - 1 - pitches, a] *= w
                if total > 0.0:
                    for s in range(size):
                        alpha[s] /= total
                    if aging:
                        for p in range(pitches):
                            for a in range(lengths):
                                aged[b, t, p, a] /= total
                else:
                    alpha[:] = 0.0
                    if aging:
                        aged[b, t] = 0.0
        # backward sampling
        for b in range(windows):
            if aging:
                last_step = alphas[b, steps - 1]
                _pick_aged(last_step, last_step, aged[b, steps - 1], uniform[b, v, steps - 1], picked)
                out[b, v, steps - 1], age = picked[0], picked[1]
            else:
                out[b, v, steps - 1] = _pick(alphas[b, steps - 1], uniform[b, v, steps - 1])
            for t in range(steps - 2, -1, -1):
                after = out[b, v, t + 1]
                if aging and after > pitches:  # a note going on at age ``age``: whence it came
                    p = after - 1 - pitches
                    hold = holds[v, (t + 1) % positions]
                    if age == 0:  # from its onset
                        state, weight, before = 1 + p, alphas[b, t, 1 + p] * hold[0, p], -1
                    else:  # from itself, a step younger
                        state, weight, before = after, aged[b, t, p, age - 1] * hold[1, p], age - 1
                    if age == top:  # the pooled lengths: it may have been as old already
                        pooled = aged[b, t, p, top] * hold[1, p]
                        threshold = uniform[b, v, t] * (weight + pooled)
                        if not threshold > 0.0:
                            state, before = 0, -1  # as a pick over every state would: the first
                        elif weight < threshold:
                            state, before = after, top
                    elif not uniform[b, v, t] * weight > 0.0:
                        state, before = 0, -1  # as a pick over every state would, at a uniform of 0
                    out[b, v, t], age = state, before
                    continue
                into_after = inward[v, (t + 1) % positions, after]  # (N,) from every state
                for s in range(size):
                    column[s] = alphas[b, t, s] * into_after[s]
                if upper > 0 and 1 <= after <= pitches:  # moves into this onset parallel to an upper voice
                    for u in range(upper):
                        a, c = _pitch(out[b, u, t], pitches), _pitch(out[b, u, t + 1], pitches)
                        if a < 0 or c < 0 or a == c:
                            continue
                        key = (a * pitches + c) * pitches + after - 1
                        for i in range(into_start[key], into_start[key + 1]):
                            column[1 + into_x[i]] *= factor
                            column[1 + pitches + into_x[i]] *= factor
                if aging:
                    _pick_aged(column, alphas[b, t], aged[b, t], uniform[b, v, t], picked)
                    out[b, v, t], age = picked[0], picked[1]
                else:
                    out[b, v, t] = _pick(column, uniform[b, v, t])


def _pitch(state: int, pitches: int) -> int:  # pragma: no cover - compiled
    """The pitch index sounding in a state, -1 for rest."""
    if state == 0:
        return -1
    return state - 1 if state <= pitches else state - 1 - pitches


def _count_pairs(
    b: int,
    t: int,
    upper: int,
    out: np.ndarray,
    start: np.ndarray,
    pitches: int,
    pair_start: np.ndarray,
    pair_x: np.ndarray,
    pair_y: np.ndarray,
    counts: np.ndarray,
    touched: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Count, in ``counts``, the upper voices with which each move x -> y into step t makes
    parallels; list the (x, y) counted in ``touched`` (as x * P + y); return how many."""
    n = 0
    for u in range(upper):
        a = _pitch(start[b, u] if t == 0 else out[b, u, t - 1], pitches)
        c = _pitch(out[b, u, t], pitches)
        if a < 0 or c < 0 or a == c:
            continue
        key = a * pitches + c
        for i in range(pair_start[key], pair_start[key + 1]):
            x, y = pair_x[i], pair_y[i]
            counts[x, y] += 1
            touched[n] = x * pitches + y
            n += 1
    return n


def _pick_aged(
    column: np.ndarray, alphas: np.ndarray, aged: np.ndarray, uniform: float, picked: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Pick a state, and for a note going on its age, into ``picked``, as :func:`_pick` would over
    the states with the ages apart (rest, onsets, then each pitch's hold at each age): ``column``
    (N,) the states' weights, of which a hold's is its ``alphas`` (N,) weight times a factor that
    its ``aged`` (P, L) weights by age share."""
    size, lengths = column.shape[0], aged.shape[1]
    pitches = (size - 1) // 2
    total = 0.0
    for s in range(size):
        total += column[s]
    threshold = uniform * total
    cumulative = 0.0
    for s in range(size):
        if s > pitches and column[s] > 0.0 and cumulative + column[s] >= threshold:
            p = s - 1 - pitches
            scale = column[s] / alphas[s] if alphas[s] > 0.0 else 0.0
            last = lengths - 1
            for a in range(lengths):
                share = aged[p, a] * scale
                if share > 0.0:
                    last = a
                    cumulative += share
                    if not cumulative < threshold:
                        break
            picked[0], picked[1] = s, last
            return
        cumulative += column[s]
        if not cumulative < threshold:
            picked[0], picked[1] = s, -1
            return
    picked[0], picked[1] = size - 1, lengths - 1


def _pick(weights: np.ndarray, uniform: float) -> int:  # pragma: no cover - compiled
    """An index drawn from non-negative weights by inverting their cumulative sum at ``uniform``."""
    total = 0.0
    for s in range(weights.shape[0]):
        total += weights[s]
    threshold = uniform * total
    cumulative = 0.0
    for s in range(weights.shape[0]):
        cumulative += weights[s]
        if not cumulative < threshold:
            return s
    return weights.shape[0] - 1


@functools.lru_cache(maxsize=1)
def load() -> Callable[..., None]:
    """The compiled kernel: Numba imported, the functions compiled or loaded from Numba's cache."""
    global _pitch, _count_pairs, _pick, _pick_aged  # the kernel calls the compiled helpers
    import numba

    _pitch = numba.njit(cache=True, nogil=True)(_pitch)
    _count_pairs = numba.njit(cache=True, nogil=True)(_count_pairs)
    _pick = numba.njit(cache=True, nogil=True)(_pick)
    _pick_aged = numba.njit(cache=True, nogil=True)(_pick_aged)
    # fastmath lets the sums of the forward step run in SIMD lanes (in another order than
    # NumPy's: the same numbers to within rounding)
    return numba.njit(cache=True, nogil=True, fastmath=True)(_draw_windows)  # type: ignore[no-any-return]


def loaded() -> bool:
    """Whether :func:`load` has run in this process."""
    return load.cache_info().currsize > 0


def draw_states(
    emission: Emission,
    inward: np.ndarray,
    holds: np.ndarray,
    start: np.ndarray,
    uniform: np.ndarray,
    pairs: tuple[np.ndarray, ...],
    parallels: float,
    threads: int = 1,
    vertical: np.ndarray | None = None,
    chords: np.ndarray | None = None,
    voices: tuple[int, int] | None = None,
    out: np.ndarray | None = None,
    ages: np.ndarray | None = None,
    lengths: np.ndarray | None = None,
    together: np.ndarray | None = None,
) -> np.ndarray:
    """(B, V, S) states drawn by the compiled kernel (see :func:`_draw_windows` for the shapes)
    from the ``emission`` factors; ``pairs``: the lists of
    :func:`parallel_pairs`; ``vertical``: the (V, V, 12) vertical factors, if any; ``chords``:
    the (V, CHORD_SETS) factors by the pitch classes sounding above, if any. With ``threads``
    > 1 the windows are shared among that many threads. ``voices``: draw only voices first to
    last (excluded) into ``out``, which holds the voices above them (default: every voice);
    ``ages``: the (V, M, L) factors on a note going on by its age, if any, and ``lengths`` (B, V)
    how long the start states' notes have sounded (default: as if just struck); ``together``: the
    (V, M, V) factors on striking by the voices above that strike at the same step, if any."""
    out = np.empty(uniform.shape, dtype=np.int64) if out is None else out
    first, last = (0, uniform.shape[1]) if voices is None else voices
    probs, onset, echo, context, seam = (np.ascontiguousarray(a) for a in emission)
    start = np.ascontiguousarray(start, dtype=np.int64)
    uniform = np.ascontiguousarray(uniform, dtype=np.float64)
    factor = float(np.exp(-parallels))
    vertical = np.zeros((0, 0, 0), dtype=np.float32) if vertical is None else np.ascontiguousarray(vertical)
    chords = np.zeros((0, 0), dtype=np.float32) if chords is None else np.ascontiguousarray(chords)
    if ages is None:
        ages = np.ones((inward.shape[0], inward.shape[1], 1))
    ages = np.ascontiguousarray(ages, dtype=np.float64)
    together = np.zeros((0, 0, 0)) if together is None else np.ascontiguousarray(together, dtype=np.float64)
    lengths = (
        np.ones(start.shape, dtype=np.int64)
        if lengths is None
        else np.ascontiguousarray(lengths, dtype=np.int64)
    )
    kernel = load()

    def draw(rows: slice) -> None:
        kernel(
            probs[rows],
            onset[rows],
            echo,
            context[rows],
            seam[rows],
            inward,
            holds,
            start[rows],
            uniform[rows],
            *pairs,
            factor,
            parallels > 0,
            vertical,
            chords,
            ages,
            lengths[rows],
            together,
            first,
            last,
            out[rows],
        )

    windows = len(out)
    threads = max(1, min(threads, windows // MIN_WINDOWS_PER_THREAD))
    if threads == 1:
        draw(slice(None))
        return out
    # the windows in parts of a few, taken in turn by whichever thread is free: a thread that
    # shares its core (with PyTorch's threads, still spinning after the generator) takes fewer
    size = 4 * max(1, windows // (16 * threads))
    parts = iter([slice(a, a + size) for a in range(0, windows, size)])
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for rows in parts:  # next() on a list iterator is atomic under the GIL
                draw(rows)
        except BaseException as error:  # raised again on the calling thread
            failures.append(error)

    helpers = [threading.Thread(target=work) for _ in range(threads - 1)]
    for helper in helpers:
        helper.start()
    work()
    for helper in helpers:
        helper.join()
    if failures:
        raise failures[0]
    return out


MIN_WINDOWS_PER_THREAD = 8
"""Fewer windows than this per thread are drawn on one: starting threads would cost more."""


def hold_weights(inward: np.ndarray) -> np.ndarray:
    """(V, M, 2, P) the weights of the moves into "p goes on" from "p starts" and from itself,
    out of (V, M, N, N) [to, from] move weights."""
    pitches = (inward.shape[2] - 1) // 2
    p = np.arange(pitches)
    hold = 1 + pitches + p
    return np.ascontiguousarray(np.stack([inward[:, :, hold, 1 + p], inward[:, :, hold, hold]], axis=2))


def parallel_pairs(table: np.ndarray) -> tuple[np.ndarray, ...]:
    """The (P, P, P, P) table of parallel moves (upper a -> c, this voice x -> y) as lists: for
    each upper move a -> c (key a * P + c), offsets into the x and y of its parallel moves; and
    for each (a, c, y) (key (a * P + c) * P + y), offsets into the x that move to y in parallel."""
    pitches = table.shape[0]
    keys, moves = np.nonzero(table.reshape(pitches * pitches, pitches * pitches))
    by_y, x = np.nonzero(table.transpose(0, 1, 3, 2).reshape(pitches**3, pitches))
    return (
        _offsets(keys, pitches * pitches),
        (moves // pitches).astype(np.int64),
        (moves % pitches).astype(np.int64),
        _offsets(by_y, pitches**3),
        x.astype(np.int64),
    )


def _offsets(keys: np.ndarray, count: int) -> np.ndarray:
    """CSR offsets of sorted ``keys`` in range(count): key k's entries are offsets[k] to offsets[k + 1]."""
    return np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=count))]).astype(np.int64)
