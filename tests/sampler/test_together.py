"""Weights on a voice striking by how many voices above it strike at the same step (the
calibration's ``together``): counted right, drawn exactly (the compiled draw as the reference),
fitted towards the data's voices striking together, and checked with the calibration."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch

from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST
from segue.sampler import VoiceLeadingSampler, kernel
from segue.sampler.calibration import calibrate, together_counts
from segue.sampler.draw import sample_lines
from segue.sampler.states import allowed_moves, last_states, sounding_lengths, state_tokens
from tests.sampler.exact import exact_lines
from tests.sampler.flat import flat_potentials, zero_calibration
from tests.sampler.test_ages import aged_sampler
from tests.sampler.test_kernel import both_draws, random_sampler, random_windows

compiled_too = pytest.mark.parametrize(
    "compiled", [False, pytest.param(True, marks=pytest.mark.skipif(not kernel.AVAILABLE, reason="no Numba"))]
)


def test_together_counts_count_strikes_by_the_voices_above_that_strike():
    n = P0 + 1
    tokens = np.array(
        [
            [
                [n, HOLD, n, REST],  # the top voice: nothing above it
                [n, n, HOLD, REST],
                [n, HOLD, n, n],
            ]
        ]
    )
    counts = together_counts(tokens, positions=2)
    # top voice: position 0 (steps 0, 2) strikes twice; position 1 (steps 1, 3) never
    assert counts[0, 0, 0].tolist() == [2, 0] and counts[0, 1, 0].tolist() == [0, 2]
    # middle voice: step 0 with 1 above striking (strikes), step 2 with 1 (holds); step 1 with 0
    # (strikes), step 3 with 0 (rests)
    assert counts[1, 0].tolist() == [[0, 0], [1, 1], [0, 0]]
    assert counts[1, 1].tolist() == [[1, 1], [0, 0], [0, 0]]
    # bottom voice: step 0 with 2 above (strikes), step 1 with 1 (holds), step 2 with 1 (strikes),
    # step 3 with 0 (strikes)
    assert counts[2, 0].tolist() == [[0, 0], [1, 0], [1, 0]]
    assert counts[2, 1].tolist() == [[1, 0], [0, 1], [0, 0]]


def with_together(sampler: VoiceLeadingSampler, seed: int) -> VoiceLeadingSampler:
    """``sampler`` whose calibration also has random weights on striking together."""
    calibration = sampler.calibration
    assert calibration is not None
    voices, positions = calibration.onsets.shape
    g = torch.Generator().manual_seed(seed + 200)
    together = (2 * torch.randn(voices, positions, voices, generator=g)).clamp(-4, 4)
    groups = {**calibration.tensors(), "together": together}
    return sampler.with_calibration(zero_calibration(voices, positions, **groups))


@pytest.mark.skipif(not kernel.AVAILABLE, reason="Numba is not installed")
@pytest.mark.parametrize(("parallels", "vertical"), [(0.0, False), (2.0, False), (0.0, True), (2.0, True)])
@pytest.mark.parametrize("windows", [1, 37])
def test_the_compiled_draw_is_the_reference_draw_with_together(parallels, vertical, windows):
    voices, pitches, steps = 4, 13, 16
    sampler = with_together(random_sampler(voices, pitches, 4, parallels, windows + 1, vertical), windows)
    logits, context, start = random_windows(windows, voices, pitches, steps)
    draws = both_draws(logits, start, sampler, 1.0, parallels, context)
    assert torch.equal(draws[0], draws[1])


@pytest.mark.skipif(not kernel.AVAILABLE, reason="Numba is not installed")
def test_the_compiled_draw_is_the_reference_draw_with_together_and_ages():
    voices, pitches, steps, windows = 3, 13, 20, 9
    sampler = with_together(aged_sampler(voices, pitches, 4, 5, 2.0, seed=3, vertical=True), 3)
    logits, context, start = random_windows(windows, voices, pitches, steps)
    draws = both_draws(logits, start, sampler, 1.0, 2.0, context, sounding_lengths(context.numpy()))
    assert torch.equal(draws[0], draws[1])


@compiled_too
def test_together_gives_the_exact_distribution_of_the_lower_voice_given_the_upper(compiled):
    """Two voices; the upper voice strikes at step 0 and holds (almost always); the lower voice's
    line, given that, follows the enumeration with the weight of striking with one voice above at
    step 0 and with none at steps 1 and 2."""
    torch.manual_seed(4)
    pitches, steps, draws = 2, 3, 40_000
    size = 2 * pitches + 1
    potentials = torch.randn(2, 1, size, size).masked_fill(~allowed_moves(pitches), -math.inf)
    together = torch.zeros(2, 1, 2)
    together[1, 0] = torch.tensor([-1.5, 2.0])  # the lower voice: alone -1.5, with the upper +2
    sampler = VoiceLeadingSampler(potentials, 1.0, 0.0, zero_calibration(2, together=together))
    logits = torch.randn(1, 2, P0 + pitches, steps)
    logits[0, 0, P0 + 1, 0] += 8.0  # the upper voice strikes pitch 1 at step 0
    logits[0, 0, HOLD, 1:] += 8.0  # and holds it
    start = torch.tensor([[0, 0]])  # both resting before
    rng = torch.Generator().manual_seed(5)
    tokens = sample_lines(
        logits.expand(draws, -1, -1, -1), start.expand(draws, -1), sampler, rng, compiled=compiled
    )
    given = tokens[(tokens[:, 0] == torch.tensor([P0 + 1, HOLD, HOLD])).all(1), 1]
    tokens_of = state_tokens(pitches)
    emission = torch.log_softmax(logits[0, 1], dim=0)[tokens_of]  # (N, S)
    moves = sampler.log_moves(1.0)[1, 0]

    def log_weight(path: tuple[int, ...]) -> float:
        total, previous = 0.0, 0
        for t, s in enumerate(path):
            total += emission[s, t].item() + moves[previous, s].item()
            if 1 <= s <= pitches:
                total += together[1, 0, 1 if t == 0 else 0].item()
            previous = s
        return total

    exact = exact_lines(tokens_of, steps, log_weight)
    seen = Counter(tuple(row) for row in given.tolist())
    total = len(given)
    assert total > draws * 0.9
    for key, p in exact.items():
        assert seen[key] / total == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / total) + 1e-3), key
    struck_first = sum(p for key, p in exact.items() if key[0] >= P0)
    assert struck_first > 0.5  # the weights matter: striking with the upper voice is favoured


def test_calibrating_together_draws_the_voices_striking_together():
    """Two voices that always strike together in the data (at random steps): a chain of moves
    and onset weights, one voice at a time, draws the lower voice striking with the upper about
    as often as at any step; with the weights on striking together, mostly with it."""
    voices, pitches, steps, batch = 2, 6, 16, 128
    rng = np.random.default_rng(0)
    strikes = rng.random((batch, steps)) < 0.4
    reals = np.full((batch, voices, steps), HOLD)
    for v in range(voices):
        reals[:, v][strikes] = P0 + rng.integers(0, pitches, size=int(strikes.sum()))
    contexts = np.full((batch, voices, 8), HOLD)
    contexts[:, :, 0] = P0 + 2
    logits = torch.zeros(batch, voices, P0 + pitches, steps)
    logits[:, :, REST] = -8.0
    sampler = VoiceLeadingSampler(flat_potentials(voices, pitches), 1.0, 0.0)
    start = last_states(torch.from_numpy(contexts), pitches)

    def draw(under: VoiceLeadingSampler, round_: int) -> np.ndarray:
        return sample_lines(logits, start, under, torch.Generator().manual_seed(round_)).numpy()

    def together_share(tokens: np.ndarray) -> float:  # of the lower voice's strikes, those with the upper's
        struck = tokens >= P0
        return float((struck[:, 0] & struck[:, 1]).sum() / max(struck[:, 1].sum(), 1))

    assert together_share(reals) == 1.0
    without = calibrate(sampler, draw, contexts, reals, rounds=10)
    with_together = calibrate(sampler, draw, contexts, reals, rounds=10, together=True)
    calibration = with_together.calibration
    assert calibration is not None and calibration.together is not None
    assert float(calibration.together[0].abs().max()) == 0.0  # the top voice has none above
    assert together_share(draw(without, 99)) < 0.6
    assert together_share(draw(with_together, 99)) > 0.85
    # the onset weights still match how often the lower voice strikes at all
    assert (draw(with_together, 99)[:, 1] >= P0).mean() == pytest.approx(strikes.mean(), abs=0.05)


def test_together_travels_with_the_calibration_and_is_checked():
    calibration = zero_calibration(3, 4, together=torch.zeros(3, 4, 3))
    calibration.check(3, 4)
    assert "together" in calibration.tensors()
    with pytest.raises(ValueError, match="together must have shape"):
        zero_calibration(3, 4, together=torch.zeros(3, 4, 2)).check(3, 4)
    with pytest.raises(ValueError, match="within"):
        zero_calibration(3, 4, together=torch.full((3, 4, 3), 9.0)).check(3, 4)
