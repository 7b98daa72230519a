"""The voice-leading sampler's calibration: its classes, its checks, and moment matching."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST
from segue.sampler import VoiceLeadingSampler, calibrate
from segue.sampler.calibration import MAX_WEIGHT, move_counts, register_classes, tonal_ranks
from segue.sampler.draw import sample_lines
from segue.sampler.states import (
    MAX_INTERVAL,
    MOVE_CLASSES,
    REGISTER_CLASSES,
    TONAL_CLASSES,
    last_states,
    to_states,
)
from tests.sampler.flat import flat_potentials, flat_sampler


def test_move_counts_include_the_move_from_the_context():
    pitches = 10
    start = np.array([[1 + pitches + 4]])  # the context ends holding pitch 4
    tokens = np.array([[[P0 + 6, HOLD, REST, P0 + 6]]])
    counts = move_counts(start, to_states(tokens, pitches), pitches, positions=2)
    up_two = 4 + MAX_INTERVAL + 2
    assert counts[0, 0, up_two] == 1  # 4 -> 6 into position 0
    assert counts[0, 1, 2] == 1  # goes on, position 1
    assert counts[0, 0, 3] == 1  # stops, position 0
    assert counts[0, 1, 1] == 1  # enters after a rest, position 1
    assert counts.sum() == 4


def test_tonal_ranks_order_pitch_classes_by_how_long_they_sound():
    pitches = 24
    # pitch index 0 sounds 3 steps, 4 sounds 2 steps, 7 sounds 1 step; index 12 is index 0 an octave up
    context = np.array([[[P0 + 0, HOLD, HOLD, P0 + 4, HOLD, P0 + 7]]])
    ranks = tonal_ranks(context, pitches)[0]
    assert ranks[0] == 0 and ranks[12] == 0
    assert ranks[4] == 1 and ranks[16] == 1
    assert ranks[7] == 2
    assert ranks[1] == 12 and ranks[11] == 12  # never heard


def test_register_classes_measure_from_the_voice_mean():
    pitches = 40
    context = np.array([[[P0 + 10, HOLD, P0 + 14, HOLD], [REST, REST, REST, REST]]])
    classes = register_classes(context, pitches)[0]
    assert classes[0, 12] == MAX_INTERVAL  # the mean, 12
    assert classes[0, 15] == MAX_INTERVAL + 3
    assert classes[0, 0] == 0 and classes[0, 39] == 2 * MAX_INTERVAL  # clipped
    assert (classes[1] == REGISTER_CLASSES - 1).all()  # a silent voice


def test_calibration_moves_the_drawn_shares_to_the_real_ones():
    voices, pitches, steps, batch = 2, 12, 16, 64
    rng = np.random.default_rng(0)
    contexts = rng.choice([HOLD, *range(P0 + 3, P0 + 9)], size=(batch, voices, steps))
    # real continuations: stepwise lines, a new note every other step
    reals = np.full((batch, voices, steps), HOLD)
    walk = 5 + np.cumsum(rng.choice([-1, 1], size=(batch, voices, steps // 2)), axis=2)
    reals[:, :, ::2] = P0 + np.clip(walk, 0, pitches - 1)
    logits = torch.from_numpy(rng.normal(size=(batch, voices, 2 + pitches, steps))).float()
    sampler = VoiceLeadingSampler(flat_potentials(voices, pitches), 1.0, 0.0)

    def draw(under: VoiceLeadingSampler, round_: int) -> np.ndarray:
        return under.draw(logits, torch.from_numpy(contexts), torch.Generator().manual_seed(round_)).numpy()

    gaps: list[float] = []
    calibrated = calibrate(sampler, draw, contexts, reals, rounds=5, report=lambda _, gap: gaps.append(gap))
    assert calibrated.calibration is not None and sampler.calibration is None
    for weights in calibrated.calibration.tensors().values():
        assert weights.abs().max() <= MAX_WEIGHT
    assert (calibrated.calibration.register[:, -1] == 0).all()  # a silent voice in the context: not weighed
    assert len(gaps) == 5 and gaps[-1] < 0.5 * gaps[0]
    drawn = draw(calibrated, 99)
    start = last_states(torch.from_numpy(contexts), pitches).numpy()
    real_moves = move_counts(start, to_states(reals, pitches), pitches, 1)
    drawn_moves = move_counts(start, to_states(drawn, pitches), pitches, 1)
    steps_share = lambda c: c[..., [4 + MAX_INTERVAL - 1, 4 + MAX_INTERVAL + 1]].sum() / c.sum()  # noqa: E731
    before = move_counts(start, to_states(draw(sampler, 99), pitches), pitches, 1)
    assert abs(steps_share(drawn_moves) - steps_share(real_moves)) < 0.5 * abs(
        steps_share(before) - steps_share(real_moves)
    )


def test_calibration_moves_onsets_towards_the_real_rhythm():
    voices, pitches, positions, steps, batch = 1, 12, 2, 16, 128
    rng = np.random.default_rng(0)
    contexts = rng.choice([HOLD, *range(P0 + 3, P0 + 9)], size=(batch, voices, steps))
    reals = np.full((batch, voices, steps), HOLD)  # a note on every even step, never on an odd one
    reals[:, :, ::2] = P0 + rng.integers(2, 10, size=(batch, voices, steps // 2))
    logits = torch.zeros(batch, voices, 2 + pitches, steps)
    potentials = flat_potentials(voices, pitches, positions)
    sampler = VoiceLeadingSampler(potentials, 1.0, 0.0)
    start = last_states(torch.from_numpy(contexts), pitches)

    def draw(under: VoiceLeadingSampler, round_: int) -> np.ndarray:
        """A draw that continues from the contexts without reading them (no context weights)."""
        drawn = sample_lines(
            logits, start, under, torch.Generator().manual_seed(round_), 1.0, under.strength, under.parallels
        )
        return drawn.numpy()

    calibrated = calibrate(sampler, draw, contexts, reals, rounds=8)
    fitted = calibrated.calibration
    assert fitted is not None
    assert (fitted.onsets[:, 1] < -0.5).all() and (fitted.onsets[:, 1] < fitted.onsets[:, 0]).all()
    odd = lambda tokens: float((tokens[..., 1::2] >= P0).mean())  # noqa: E731
    assert odd(draw(calibrated, 99)) < 0.5 * odd(draw(sampler, 99))
    # the onset weights do part of that: without them (the rest as fitted) more odd steps strike
    without = dataclasses.replace(fitted, onsets=torch.zeros_like(fitted.onsets))
    unweighted = VoiceLeadingSampler(potentials, 1.0, 0.0, without)
    assert odd(draw(unweighted, 99)) > 1.5 * odd(draw(calibrated, 99))


def test_calibration_shapes_are_checked():
    pitches = 4
    with pytest.raises(ValueError, match="calibration moves must have shape"):
        flat_sampler(2, pitches, moves=torch.zeros(2, 3, MOVE_CLASSES))
    with pytest.raises(ValueError, match="calibration echo must be finite"):
        flat_sampler(2, pitches, echo=torch.tensor([0.0, math.nan]))
    with pytest.raises(ValueError, match="calibration onsets must have shape"):
        flat_sampler(2, pitches, 4, onsets=torch.zeros(2, 3))
    with pytest.raises(ValueError, match="calibration seam must have shape"):
        flat_sampler(2, pitches, seam=torch.zeros(2, MOVE_CLASSES - 1))


def test_calibration_values_are_checked():
    pitches = 4
    with pytest.raises(ValueError, match="floating point"):
        flat_sampler(2, pitches, tonal=torch.zeros(2, TONAL_CLASSES, dtype=torch.bool))
    with pytest.raises(ValueError, match="within"):
        flat_sampler(2, pitches, register=torch.full((2, REGISTER_CLASSES), 1e38))


def test_the_shipped_calibration_keeps_a_voice_silent_in_the_context_from_chattering():
    from segue import load_model
    from segue.data.chorales import load_chorales, split_indices
    from segue.evaluation import test_windows
    from segue.pipeline.sampling import continue_tokens

    model = load_model(None)
    shipped = model.sampler
    assert isinstance(shipped, VoiceLeadingSampler) and shipped.calibration is not None
    chorales = load_chorales()
    windows = test_windows([chorales[i] for i in split_indices(chorales, "test")[:16]], model, 4, 4, 1)
    plain = VoiceLeadingSampler(shipped.potentials, shipped.strength, shipped.parallels)
    for voice in range(model.config.voices):
        contexts = torch.from_numpy(windows.primes).clone()
        contexts[:, voice] = REST  # a voice that sits out the context, as in a user's file with three parts
        notes = {}
        for name, sampler in (("calibrated", shipped), ("plain", plain)):
            rng = torch.Generator().manual_seed(0)
            out = continue_tokens(model.generator, contexts, 4, rng, sampler=sampler)
            notes[name] = int((out[:, voice] >= P0).sum())
        assert notes["calibrated"] <= 1.25 * notes["plain"] + 4, (voice, notes)


def test_vertical_counts_count_each_voice_below_each_voice_above():
    from segue.sampler.calibration import vertical_counts

    tokens = np.array([[[P0 + 7, HOLD, REST], [P0 + 3, P0 + 0, HOLD]]])  # (1, 2, 3)
    counts = vertical_counts(tokens, 12)
    assert counts[1, 0, 4] == 1 and counts[1, 0, 7] == 1  # a third, then a fifth below
    assert counts.sum() == 2 and counts[0].sum() == 0  # the rest is silence; only u < v is counted
