"""The line prior's calibration: its classes, its weights at sampling time, and moment matching."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from segue.models.lineprior import (
    MAX_INTERVAL,
    MAX_WEIGHT,
    MOVE_CLASSES,
    REGISTER_CLASSES,
    TONAL_CLASSES,
    Calibration,
    LinePrior,
    allowed_moves,
    echo_counts,
    last_states,
    move_classes,
    move_counts,
    onset_moves,
    register_classes,
    sample_lines,
    to_states,
    tonal_ranks,
)
from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST


def flat_prior(voices: int, pitches: int, positions: int = 1, **calibration: torch.Tensor) -> LinePrior:
    size = 2 * pitches + 1
    potentials = torch.zeros(voices, positions, size, size).masked_fill(~allowed_moves(pitches), -math.inf)
    weights = {
        "moves": torch.zeros(voices, positions, MOVE_CLASSES),
        "tonal": torch.zeros(voices, TONAL_CLASSES),
        "register": torch.zeros(voices, REGISTER_CLASSES),
        "echo": torch.zeros(voices),
    }
    weights.update(calibration)
    return LinePrior(potentials, 1.0, 0.0, Calibration(**weights))


def test_move_classes_name_each_kind_of_move():
    pitches = 30
    classes = move_classes(pitches)
    onset, held = 1, 1 + pitches
    assert classes[0, 0] == 0  # rest to rest
    assert classes[0, onset + 7] == 1  # a note after a rest
    assert classes[onset + 7, held + 7] == 2 and classes[held + 7, held + 7] == 2  # goes on
    assert classes[held + 7, 0] == 3  # stops
    assert classes[held + 7, onset + 9] == 4 + MAX_INTERVAL + 2  # up a tone
    assert classes[onset + 7, onset + 7] == 4 + MAX_INTERVAL  # struck again
    assert classes[onset + 0, onset + 29] == MOVE_CLASSES - 1  # a leap past an octave shares the top class
    assert classes[held + 29, onset + 0] == 4
    assert classes[onset + 7, held + 8] == -1 and classes[0, held + 7] == -1  # impossible


def test_move_counts_include_the_move_from_the_prime():
    pitches = 10
    start = np.array([[1 + pitches + 4]])  # the prime ends holding pitch 4
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
    window = np.array([[[P0 + 0, HOLD, HOLD, P0 + 4, HOLD, P0 + 7]]])
    ranks = tonal_ranks(window, pitches)[0]
    assert ranks[0] == 0 and ranks[12] == 0
    assert ranks[4] == 1 and ranks[16] == 1
    assert ranks[7] == 2
    assert ranks[1] == 12 and ranks[11] == 12  # never heard


def test_register_classes_measure_from_the_voice_mean():
    pitches = 40
    window = np.array([[[P0 + 10, HOLD, P0 + 14, HOLD], [REST, REST, REST, REST]]])
    classes = register_classes(window, pitches)[0]
    assert classes[0, 12] == MAX_INTERVAL  # the mean, 12
    assert classes[0, 15] == MAX_INTERVAL + 3
    assert classes[0, 0] == 0 and classes[0, 39] == 2 * MAX_INTERVAL  # clipped
    assert (classes[1] == REGISTER_CLASSES - 1).all()  # a silent voice


def test_echo_weights_pull_draws_towards_or_away_from_the_window():
    torch.manual_seed(0)
    voices, pitches, steps = 2, 8, 16
    window = torch.from_numpy(
        np.random.default_rng(1).choice([REST, HOLD, P0 + 2, P0 + 5], (20, voices, steps))
    )
    logits = torch.zeros(20, voices, 2 + pitches, steps)
    start = last_states(window, pitches)

    def share(echo: float) -> float:
        prior = flat_prior(voices, pitches, echo=torch.full((voices,), echo))
        drawn = sample_lines(logits, start, prior, torch.Generator().manual_seed(0), window=window)
        counts = echo_counts(window.numpy(), drawn.numpy())
        return float(counts[:, 0].sum() / counts.sum())

    plain, towards, away = share(0.0), share(4.0), share(-4.0)
    assert towards > plain + 0.3 and away < plain - 0.05
    # without the window, the calibration's context weights are not used
    prior = flat_prior(voices, pitches, echo=torch.full((voices,), 4.0))
    drawn = sample_lines(logits, start, prior, torch.Generator().manual_seed(0))
    unweighted = sample_lines(logits, start, flat_prior(voices, pitches), torch.Generator().manual_seed(0))
    assert torch.equal(drawn, unweighted)


def test_tonal_weights_favour_the_window_pitch_classes():
    voices, pitches, steps = 1, 24, 16
    window = torch.tensor([[[P0 + 0, HOLD, HOLD, HOLD, P0 + 7, HOLD] * 2]])
    window = window.repeat(30, 1, 1)
    logits = torch.zeros(30, voices, 2 + pitches, steps)
    tonal = torch.full((voices, TONAL_CLASSES), -3.0)
    tonal[:, 0] = 3.0  # the most heard pitch class
    prior = flat_prior(voices, pitches, tonal=tonal)
    drawn = sample_lines(
        logits, last_states(window, pitches), prior, torch.Generator().manual_seed(0), window=window
    )
    notes = drawn[drawn >= P0] - P0
    assert len(notes) > 0 and (notes % 12 == 0).float().mean() > 0.9


def test_calibration_moves_the_drawn_shares_to_the_real_ones():
    voices, pitches, steps, batch = 2, 12, 16, 64
    rng = np.random.default_rng(0)
    windows = rng.choice([HOLD, *range(P0 + 3, P0 + 9)], size=(batch, voices, steps))
    # real continuations: stepwise lines, a new note every other step
    reals = np.full((batch, voices, steps), HOLD)
    walk = 5 + np.cumsum(rng.choice([-1, 1], size=(batch, voices, steps // 2)), axis=2)
    reals[:, :, ::2] = P0 + np.clip(walk, 0, pitches - 1)
    logits = torch.from_numpy(rng.normal(size=(batch, voices, 2 + pitches, steps))).float()
    size = 2 * pitches + 1
    potentials = torch.zeros(voices, 1, size, size).masked_fill(~allowed_moves(pitches), -math.inf)
    prior = LinePrior(potentials, 1.0, 0.0)

    def draw(under: LinePrior, round_: int) -> np.ndarray:
        start = last_states(torch.from_numpy(windows), pitches)
        generator = torch.Generator().manual_seed(round_)
        return under.sample(logits, start, generator, window=torch.from_numpy(windows)).numpy()

    gaps: list[float] = []
    calibrated = prior.calibrate(draw, windows, reals, rounds=5, report=lambda _, gap: gaps.append(gap))
    assert calibrated.calibration is not None and prior.calibration is None
    for weights in calibrated.calibration.tensors().values():
        assert weights.abs().max() <= MAX_WEIGHT
    assert (calibrated.calibration.register[:, -1] == 0).all()  # a silent voice in the window: not weighed
    assert len(gaps) == 5 and gaps[-1] < 0.5 * gaps[0]
    drawn = draw(calibrated, 99)
    start = last_states(torch.from_numpy(windows), pitches).numpy()
    real_moves = move_counts(start, to_states(reals, pitches), pitches, 1)
    drawn_moves = move_counts(start, to_states(drawn, pitches), pitches, 1)
    steps_share = lambda c: c[..., [4 + MAX_INTERVAL - 1, 4 + MAX_INTERVAL + 1]].sum() / c.sum()  # noqa: E731
    before = move_counts(start, to_states(draw(prior, 99), pitches), pitches, 1)
    assert abs(steps_share(drawn_moves) - steps_share(real_moves)) < 0.5 * abs(
        steps_share(before) - steps_share(real_moves)
    )


def test_onset_weights_set_where_in_the_bar_notes_start():
    voices, pitches, positions, steps = 2, 8, 4, 16
    logits = torch.zeros(40, voices, 2 + pitches, steps)
    start = torch.zeros(40, voices, dtype=torch.long)

    def onsets_at(position: int, weight: float) -> float:
        onsets = torch.zeros(voices, positions)
        onsets[:, position] = weight
        prior = flat_prior(voices, pitches, positions, onsets=onsets)
        drawn = sample_lines(logits, start, prior, torch.Generator().manual_seed(0))
        struck = (drawn >= P0)[..., position::positions]
        return float(struck.float().mean())

    plain = onsets_at(1, 0.0)
    assert onsets_at(1, -MAX_WEIGHT) < 0.2 * plain
    assert onsets_at(1, 2.0) > plain + 0.1
    assert onset_moves(pitches).sum() == (1 + 2 * pitches) * pitches  # from every struck or silent state


def test_seam_weights_act_on_the_first_step_only():
    voices, pitches, steps = 1, 8, 8
    logits = torch.zeros(200, voices, 2 + pitches, steps)
    start = torch.full((200, voices), 1 + 3)  # the prime ends striking pitch 3
    seam = torch.zeros(voices, MOVE_CLASSES)
    seam[:, 4 + MAX_INTERVAL] = MAX_WEIGHT  # strike the same pitch again
    priors = {"plain": flat_prior(voices, pitches), "seam": flat_prior(voices, pitches, seam=seam)}
    drawn = {
        name: sample_lines(logits, start, prior, torch.Generator().manual_seed(0))
        for name, prior in priors.items()
    }
    again = {name: float((d[:, 0, 0] == P0 + 3).float().mean()) for name, d in drawn.items()}
    assert again["seam"] > 0.8 and again["plain"] < 0.3
    later = {name: float((d[:, 0, 1:] == P0 + 3).float().mean()) for name, d in drawn.items()}
    assert abs(later["seam"] - later["plain"]) < 0.05


def test_calibration_moves_onsets_towards_the_real_rhythm():
    voices, pitches, positions, steps, batch = 1, 12, 2, 16, 128
    rng = np.random.default_rng(0)
    windows = rng.choice([HOLD, *range(P0 + 3, P0 + 9)], size=(batch, voices, steps))
    reals = np.full((batch, voices, steps), HOLD)  # a note on every even step, never on an odd one
    reals[:, :, ::2] = P0 + rng.integers(2, 10, size=(batch, voices, steps // 2))
    logits = torch.zeros(batch, voices, 2 + pitches, steps)
    size = 2 * pitches + 1
    potentials = torch.zeros(voices, positions, size, size).masked_fill(~allowed_moves(pitches), -math.inf)
    prior = LinePrior(potentials, 1.0, 0.0)
    start = last_states(torch.from_numpy(windows), pitches)

    def draw(under: LinePrior, round_: int) -> np.ndarray:
        return under.sample(logits, start, torch.Generator().manual_seed(round_)).numpy()

    calibrated = prior.calibrate(draw, windows, reals, rounds=8)
    fitted = calibrated.calibration
    assert fitted is not None and fitted.onsets is not None and fitted.seam is not None
    assert (fitted.onsets[:, 1] < -0.5).all() and (fitted.onsets[:, 1] < fitted.onsets[:, 0]).all()
    odd = lambda tokens: float((tokens[..., 1::2] >= P0).mean())  # noqa: E731
    assert odd(draw(calibrated, 99)) < 0.5 * odd(draw(prior, 99))
    # the onset weights do part of that: without them (the rest as fitted) more odd steps strike
    without = dataclasses.replace(fitted, onsets=torch.zeros_like(fitted.onsets))
    unweighted = LinePrior(potentials, 1.0, 0.0, without)
    assert odd(draw(unweighted, 99)) > 1.5 * odd(draw(calibrated, 99))


def test_calibration_shapes_are_checked():
    pitches = 4
    with pytest.raises(ValueError, match="calibration moves must have shape"):
        flat_prior(2, pitches, moves=torch.zeros(2, 3, MOVE_CLASSES))
    with pytest.raises(ValueError, match="calibration echo must be finite"):
        flat_prior(2, pitches, echo=torch.tensor([0.0, math.nan]))
    with pytest.raises(ValueError, match="calibration onsets must have shape"):
        flat_prior(2, pitches, 4, onsets=torch.zeros(2, 3))
    with pytest.raises(ValueError, match="calibration seam must have shape"):
        flat_prior(2, pitches, seam=torch.zeros(2, MOVE_CLASSES - 1))


def test_calibration_values_are_checked():
    pitches = 4
    with pytest.raises(ValueError, match="floating point"):
        flat_prior(2, pitches, tonal=torch.zeros(2, TONAL_CLASSES, dtype=torch.bool))
    with pytest.raises(ValueError, match="within"):
        flat_prior(2, pitches, register=torch.full((2, REGISTER_CLASSES), 1e38))


def test_continuing_uses_the_context_weights():
    from segue.models import Generator
    from segue.pipeline.sampling import continue_tokens
    from tests.tiny import TINY_MODEL as config

    torch.manual_seed(0)
    net = Generator(config).eval()
    pitches = config.vocab - 2
    shape = (6, config.voices, config.context_steps)
    prime = torch.from_numpy(np.random.default_rng(0).choice([HOLD, P0 + 20, P0 + 24, P0 + 27], shape))

    def echoes(echo: float) -> float:
        prior = flat_prior(config.voices, pitches, echo=torch.full((config.voices,), echo))
        out = continue_tokens(net, prime, 1, torch.Generator().manual_seed(0), lines=prior)
        return float((out == prime).float().mean())

    assert echoes(3.0) > echoes(0.0) + 0.2


def test_the_shipped_calibration_keeps_a_voice_silent_in_the_prime_from_chattering():
    from segue import load_model
    from segue.data.chorales import load_chorales, split_indices
    from segue.evaluation import test_windows
    from segue.pipeline.sampling import continue_tokens

    model = load_model(None)
    assert model.lines is not None and model.lines.calibration is not None
    chorales = load_chorales()
    windows = test_windows([chorales[i] for i in split_indices(chorales, "test")[:16]], model, 4, 4, 1)
    plain = LinePrior(model.lines.potentials, model.lines.strength, model.lines.parallels)
    for voice in range(model.config.voices):
        primes = torch.from_numpy(windows.primes).clone()
        primes[:, voice] = REST  # a voice that sits out the prime, as in a user's file with three parts
        notes = {}
        for name, lines in (("calibrated", model.lines), ("plain", plain)):
            out = continue_tokens(model.generator, primes, 4, torch.Generator().manual_seed(0), lines=lines)
            notes[name] = int((out[:, voice] >= P0).sum())
        assert notes["calibrated"] <= 1.25 * notes["plain"] + 4, (voice, notes)
