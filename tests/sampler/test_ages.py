"""Weights on a note going on by how long it has sounded (the calibration's ``ages``): counted
right, drawn exactly (the compiled draw as the reference), fitted towards the data's note
lengths, and kept with the model folder."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
import torch

from segue.errors import SegueError
from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST
from segue.sampler import VoiceLeadingSampler, kernel
from segue.sampler.calibration import age_counts, calibrate
from segue.sampler.config import SamplerConfig
from segue.sampler.draw import sample_lines
from segue.sampler.states import last_states, move_classes, sounding_lengths, state_tokens
from tests.sampler.exact import exact_lines
from tests.sampler.flat import flat_potentials, zero_calibration
from tests.sampler.test_kernel import both_draws, random_sampler, random_windows

compiled_too = pytest.mark.parametrize(
    "compiled", [False, pytest.param(True, marks=pytest.mark.skipif(not kernel.AVAILABLE, reason="no Numba"))]
)


def test_sounding_lengths_count_the_steps_since_the_note_struck():
    n = P0 + 3
    history = np.array([[[n, HOLD, HOLD], [HOLD, HOLD, n], [n, REST, HOLD], [HOLD, HOLD, HOLD]]])
    assert sounding_lengths(history).tolist() == [[3, 1, 0, 0]]


def test_age_counts_count_notes_going_on_and_stopping_by_their_age():
    n, m = P0 + 1, P0 + 2
    tokens = np.array([[[HOLD, n, HOLD, HOLD, m, REST, HOLD]]])  # the start's note had sounded 2 steps
    counts = age_counts(np.array([[2]]), tokens, positions=1, ages=3)
    # the start's note goes on at 2 and gives way to n at 3; n goes on at 1 and 2 and gives way to
    # m at 3 (L = 3: 3 or more); m stops at 1; the rest after it is no note
    assert counts[0, 0].tolist() == [[1, 1], [2, 0], [0, 2]]


def aged_sampler(voices, pitches, positions, lengths, parallels, seed, vertical=False):
    """A random sampler whose random calibration also weighs notes by their age."""
    sampler = random_sampler(voices, pitches, positions, parallels, seed, vertical)
    g = torch.Generator().manual_seed(seed + 100)
    ages = (2 * torch.randn(voices, positions, lengths, generator=g)).clamp(-4, 4)
    calibration = sampler.calibration
    assert calibration is not None
    return sampler.with_calibration(
        zero_calibration(voices, positions, **{**calibration.tensors(), "ages": ages})
    )


@pytest.mark.skipif(not kernel.AVAILABLE, reason="Numba is not installed")
@pytest.mark.parametrize("vertical", [False, True])
@pytest.mark.parametrize("parallels", [0.0, 2.0])
@pytest.mark.parametrize("windows", [1, 5, 37])
def test_the_compiled_draw_is_the_reference_draw_with_ages(parallels, windows, vertical):
    voices, pitches, steps = 3, 13, 20
    sampler = aged_sampler(voices, pitches, 4, 5, parallels, seed=windows, vertical=vertical)
    logits, context, start = random_windows(windows, voices, pitches, steps)
    for lengths in (sounding_lengths(context.numpy()), None):  # None: as if each note had just struck
        draws = both_draws(logits, start, sampler, 1.0, parallels, context, lengths)
        assert torch.equal(draws[0], draws[1])


def exact_aged(logits, start, length, sampler: VoiceLeadingSampler) -> dict[tuple, float]:
    """The exact distribution of one voice's line under the sampler's moves and its calibration's
    seam and age weights (no context: no tonal, register or echo weights), by enumerating every
    state sequence."""
    pitches, calibration = sampler.pitches, sampler.calibration
    assert calibration is not None and calibration.ages is not None
    tokens_of = state_tokens(pitches)
    emission = torch.log_softmax(logits[0, 0], dim=0)[tokens_of]  # (N, S)
    moves, ages = sampler.log_moves(1.0)[0], calibration.ages[0]
    seam = calibration.seam[0][move_classes(pitches)[start].clamp_min(0)]  # (N,): the move from the start
    positions, lengths = moves.shape[0], ages.shape[1]

    def log_weight(path: tuple[int, ...]) -> float:
        total, previous, sounded = 0.0, start, length
        for t, s in enumerate(path):
            total += emission[s, t].item() + moves[t % positions, previous, s].item()
            if t == 0:
                total += seam[s].item()
            if s > pitches:  # a note going on: weighed by how long it had sounded
                total += ages[t % positions, min(sounded, lengths) - 1].item()
            sounded = sounded + 1 if s > pitches else int(s > 0)
            previous = s
        return total

    return exact_lines(tokens_of, emission.shape[1], log_weight)


@compiled_too
def test_ages_give_the_exact_distribution_of_a_line(compiled):
    torch.manual_seed(2)
    pitches, steps, draws = 2, 4, 40_000
    sampler = aged_sampler(1, pitches, 2, 3, 0.0, seed=5)
    logits = torch.randn(1, 1, P0 + pitches, steps)
    logits[:, :, HOLD] += 1.0  # notes going on often, so that their ages matter
    start, length = 1 + pitches, 2  # pitch 0 going on, sounded for 2 steps
    exact = exact_aged(logits, start, length, sampler)
    rng = torch.Generator().manual_seed(9)
    drawn = sample_lines(
        logits.expand(draws, -1, -1, -1),
        torch.full((draws, 1), start),
        sampler,
        rng,
        compiled=compiled,
        lengths=np.full((draws, 1), length),
    )
    seen = Counter(tuple(line[0]) for line in drawn.tolist())
    assert set(seen) <= set(exact)
    for key, p in exact.items():
        assert seen[key] / draws == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / draws) + 1e-3), key
    # the ages matter here: with them all zero the distribution is another
    calibration = sampler.calibration
    assert calibration is not None and calibration.ages is not None
    flat = {**calibration.tensors(), "ages": torch.zeros_like(calibration.ages)}
    plain = exact_aged(logits, start, length, sampler.with_calibration(zero_calibration(1, 2, **flat)))
    assert sum(abs(plain.get(k, 0.0) - p) for k, p in exact.items()) > 0.05


def lengths_of(tokens: np.ndarray) -> Counter[int]:
    """How many notes of each length (in steps) a (B, V, S) grid holds, those cut by its ends left out."""
    found: Counter[int] = Counter()
    for line in tokens.reshape(-1, tokens.shape[-1]).tolist():
        onsets = [t for t, token in enumerate(line) if token >= P0]
        for a, b in itertools.pairwise(onsets):
            if all(token == HOLD for token in line[a + 1 : b]):
                found[b - a] += 1
    return found


def test_calibrating_ages_draws_the_data_note_lengths():
    """Notes of exactly three steps at any position (one position in the bar): a chain of moves
    alone draws lengths spread geometrically (15% of three steps); with the age weights, mostly
    three (76%)."""
    voices, pitches, steps, batch = 1, 8, 24, 96
    rng = np.random.default_rng(0)
    reals = np.full((batch, voices, steps), HOLD)
    offsets = rng.integers(0, 3, size=batch)
    for b, offset in enumerate(offsets):
        reals[b, 0, offset::3] = P0 + rng.integers(0, pitches, size=len(range(offset, steps, 3)))
    contexts = np.full((batch, voices, 8), HOLD)  # each ends on a note that goes on for 3 in all
    contexts[:, 0, 0] = P0 + 5
    for b, offset in enumerate(offsets):
        contexts[b, 0, offset - 3] = P0 + 2
    logits = torch.zeros(batch, voices, P0 + pitches, steps)
    logits[:, :, REST] = -8.0
    sampler = VoiceLeadingSampler(flat_potentials(voices, pitches), 1.0, 0.0)
    start = last_states(torch.from_numpy(contexts), pitches)

    def draw(under: VoiceLeadingSampler, round_: int) -> np.ndarray:
        rng = torch.Generator().manual_seed(round_)
        return sample_lines(
            logits, start, under, rng, 1.0, 1.0, 0.0, lengths=sounding_lengths(contexts)
        ).numpy()

    share = lambda tokens: lengths_of(tokens)[3] / max(sum(lengths_of(tokens).values()), 1)  # noqa: E731
    assert share(reals) == 1.0
    without = calibrate(sampler, draw, contexts, reals, rounds=8)
    with_ages = calibrate(sampler, draw, contexts, reals, rounds=8, ages=4)
    assert with_ages.calibration is not None and with_ages.calibration.ages is not None
    assert share(draw(without, 99)) < 0.3
    assert share(draw(with_ages, 99)) > 0.7  # the weights' bound (±4) leaves some notes short


def test_ages_travel_with_the_calibration_and_are_checked():
    sampler = aged_sampler(2, 5, 4, 6, 0.0, seed=1)
    calibration = sampler.calibration
    assert calibration is not None and calibration.lengths == 6
    assert "ages" in calibration.tensors()
    with pytest.raises(ValueError, match="ages must have shape"):
        zero_calibration(2, 4, ages=torch.zeros(2, 3, 6)).check(2, 4)
    with pytest.raises(ValueError, match="2 to 64 note lengths"):
        zero_calibration(2, 4, ages=torch.zeros(2, 4, 1)).check(2, 4)
    with pytest.raises(SegueError, match="ages must be 0 or between 2"):
        SamplerConfig(ages=1)
