"""The compiled draw (segue.sampler.kernel): the same draws as the NumPy reference from the same
random numbers, the exact distribution of voices drawn top down under the parallel penalty, and
when a sampler uses it."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
import torch

from segue.data.chorales import load_chorales, split_indices
from segue.models.blocks import onehot
from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST
from segue.pipeline.model import load_model
from segue.pipeline.pieces import piece_tokens
from segue.pipeline.sampling import latent
from segue.sampler import VoiceLeadingSampler, kernel, voiceleading
from segue.sampler.calibration import CHORD_SETS, Calibration, chord_bits
from segue.sampler.draw import _parallel_factors, _parallel_table, sample_chained, sample_lines
from segue.sampler.states import (
    MOVE_CLASSES,
    REGISTER_CLASSES,
    TONAL_CLASSES,
    allowed_moves,
    last_states,
    state_pitches,
    state_tokens,
)
from tests.sampler.flat import zero_calibration
from tests.sampler.test_draw import brute_force

pytestmark = pytest.mark.skipif(not kernel.AVAILABLE, reason="Numba is not installed")


def random_sampler(
    voices: int,
    pitches: int,
    positions: int,
    parallels: float,
    seed: int,
    vertical: bool = False,
    chords: bool = False,
) -> VoiceLeadingSampler:
    """Random potentials on the allowed moves and a random calibration (with vertical weights, with
    weights on the pitch classes sounding above)."""
    g = torch.Generator().manual_seed(seed)
    size = 2 * pitches + 1
    potentials = torch.randn(voices, positions, size, size, generator=g)
    calibration = Calibration(
        moves=torch.randn(voices, positions, MOVE_CLASSES, generator=g),
        tonal=torch.randn(voices, TONAL_CLASSES, generator=g),
        register=torch.randn(voices, REGISTER_CLASSES, generator=g),
        echo=torch.randn(voices, generator=g),
        onsets=torch.randn(voices, positions, generator=g),
        seam=torch.randn(voices, MOVE_CLASSES, generator=g),
        vertical=torch.randn(voices, voices, 12, generator=g).clamp(-4, 4) if vertical else None,
        chords=torch.randn(voices, CHORD_SETS, generator=g).clamp(-4, 4) if chords else None,
    )
    masked = potentials.masked_fill(~allowed_moves(pitches), -math.inf)
    return VoiceLeadingSampler(masked, 1.0, parallels, calibration)


def random_windows(
    windows: int, voices: int, pitches: int, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random logits (B, V, K, S), random contexts (B, V, 16) of rests, holds and notes, and the
    states the contexts leave each voice in."""
    g = torch.Generator().manual_seed(7)
    logits = 2 * torch.randn(windows, voices, P0 + pitches, steps, generator=g)
    tokens = torch.tensor([REST, HOLD, HOLD, *range(P0, P0 + pitches)])
    context = tokens[torch.randint(len(tokens), (windows, voices, 16), generator=g)]
    return logits, context, last_states(context, pitches)


def both_draws(logits, start, sampler, temperature, parallels, context, lengths=None) -> list[torch.Tensor]:
    """The reference draw and the compiled one of the same windows from the same random numbers."""
    return [
        sample_lines(
            logits,
            start,
            sampler,
            torch.Generator().manual_seed(3),
            temperature,
            sampler.strength,
            parallels,
            context,
            compiled=compiled,
            lengths=lengths,
        )
        for compiled in (False, True)
    ]


@pytest.mark.parametrize("vertical", [False, True])
@pytest.mark.parametrize("parallels", [0.0, 2.0, 30.0])
@pytest.mark.parametrize("windows", [1, 5, 37])  # 37: shared among threads
def test_the_compiled_draw_is_the_reference_draw(parallels, windows, vertical):
    voices, pitches, steps = 3, 25, 20  # 25 pitches: fifths and octaves can be parallel
    sampler = random_sampler(voices, pitches, 4, parallels, seed=windows, vertical=vertical)
    logits, context, start = random_windows(windows, voices, pitches, steps)
    for temperature in (1.0, 0.7):
        draws = both_draws(logits, start, sampler, temperature, parallels, context)
        assert torch.equal(draws[0], draws[1])


@pytest.mark.parametrize(("parallels", "vertical"), [(0.0, False), (2.0, True)])
@pytest.mark.parametrize("windows", [1, 37])
def test_chord_weights_are_drawn_the_same_compiled_and_not(parallels, vertical, windows):
    voices, pitches, steps = 4, 25, 12
    sampler = random_sampler(voices, pitches, 4, parallels, seed=windows, vertical=vertical, chords=True)
    logits, context, start = random_windows(windows, voices, pitches, steps)
    draws = both_draws(logits, start, sampler, 1.0, parallels, context)
    assert torch.equal(draws[0], draws[1])


def test_the_shipped_sampler_draws_the_same_compiled_and_not():
    model = load_model()
    config, sampler = model.config, model.sampler
    chorales = load_chorales()
    grids = [piece_tokens(chorales[i], config) for i in split_indices(chorales, "test")[:12]]
    context = torch.from_numpy(
        np.stack([g[:, : config.context_steps] for g in grids if g.shape[1] >= 64])
    ).long()
    with torch.no_grad():
        written = model.generator.writer(  # logits, or the voice head's logits voice by voice
            onehot(context, config.vocab), latent(len(context), config.z_dim, torch.Generator())
        )
    draws = []
    for compiled in (False, True):
        sampler.compiled = compiled
        with torch.no_grad():
            draws.append(sampler.draw(written, context, torch.Generator().manual_seed(11)))
    assert torch.equal(draws[0], draws[1])


def exact_pair(logits, start, sampler: VoiceLeadingSampler, weight: float) -> dict[tuple, float]:
    """The exact distribution of two voices' lines drawn top down: voice 0 on its own, voice 1
    given voice 0 with every move parallel to it weighed by e^-weight."""
    pitches = sampler.pitches
    upper = VoiceLeadingSampler(sampler.potentials[:1])
    lower = VoiceLeadingSampler(sampler.potentials[1:])
    pitch_of = state_pitches(pitches)
    joint = {}
    for line, p in brute_force(logits[:, :1], int(start[0]), upper, 1.0).items():
        states = [int(start[0])]
        for token in line:  # the states of voice 0's line, for its sounding pitches
            if token >= P0:
                states.append(1 + token - P0)
            elif token == HOLD and states[-1] > 0:
                states.append(1 + pitches + (states[-1] - 1) % pitches)
            else:
                states.append(0)
        above = pitch_of[torch.tensor(states)][None, None]  # (1, 1, S + 1)
        blocks = {t: f[0].numpy() for t, f in _parallel_factors(above, pitches, weight).items()}
        for below, q in brute_force(logits[:, 1:], int(start[1]), lower, 1.0, blocks).items():
            joint[(line, below)] = p * q
    return joint


def _draw_repeatedly(logits, start, sampler, draws, parallels, compiled, seed):
    """``draws`` lines of one window's logits and start, at temperature and strength 1."""
    rng = torch.Generator().manual_seed(seed)
    expanded = logits.expand(draws, -1, -1, -1), start.expand(draws, len(start))
    return sample_lines(*expanded, sampler, rng, 1.0, 1.0, parallels, compiled=compiled)


@pytest.mark.parametrize("compiled", [False, True])
def test_voices_drawn_top_down_follow_the_exact_distribution_under_the_parallel_penalty(compiled):
    torch.manual_seed(4)
    pitches, steps, weight, draws = 2, 3, 1.5, 40_000  # two pitches: parallel unisons
    size = 2 * pitches + 1
    potentials = torch.randn(2, 1, size, size).masked_fill(~allowed_moves(pitches), -math.inf)
    sampler = VoiceLeadingSampler(potentials, 1.0, weight)
    logits = torch.randn(1, 2, P0 + pitches, steps)
    logits[:, :, P0:] += 1.5  # mostly notes, so that the voices often move together
    start = torch.tensor([1, 1])  # both on pitch 0
    exact = exact_pair(logits, start, sampler, weight)
    tokens = _draw_repeatedly(logits, start, sampler, draws, weight, compiled, seed=9)
    seen = Counter((tuple(a), tuple(b)) for a, b in tokens.tolist())
    assert set(seen) <= set(exact)
    for key, p in exact.items():
        assert seen[key] / draws == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / draws) + 1e-3), key
    # the penalty matters here: without it the distribution is another
    free = exact_pair(logits, start, sampler, 0.0)
    assert sum(abs(free[k] - exact[k]) for k in exact) > 0.05


def test_a_sampler_loads_the_compiled_kernel_once_the_reference_draw_has_taken_long_enough(monkeypatch):
    used = []

    def spy(*args, compiled=False, **kwargs):
        used.append(compiled)
        return real(*args, compiled=compiled, **kwargs)

    real = voiceleading.sample_lines
    monkeypatch.setattr(voiceleading, "sample_lines", spy)
    monkeypatch.setattr(kernel, "loaded", lambda: False)
    monkeypatch.setattr(voiceleading, "LOAD_AFTER", 0.05)
    pitches = 6
    size = 2 * pitches + 1
    sampler = VoiceLeadingSampler(
        torch.zeros(2, 1, size, size).masked_fill(~allowed_moves(pitches), -math.inf)
    )
    logits = torch.randn(2, 2, P0 + pitches, 8)
    context = torch.full((2, 2, 8), REST)
    while not any(used) and len(used) < 10_000:
        sampler.draw(logits, context, torch.Generator().manual_seed(0))
    assert used[0] is False and used[-1] is True
    assert sum(used) == 1 and len(used) > 1
    sampler.compiled = False
    sampler.draw(logits, context, torch.Generator())
    assert used[-1] is False
    monkeypatch.setattr(kernel, "loaded", lambda: True)
    fresh = VoiceLeadingSampler(sampler.potentials)
    fresh.draw(logits, context, torch.Generator())
    assert used[-1] is True  # the kernel is loaded already: used from the first draw


def test_parallel_pairs_list_the_table():
    pitches = 14
    table = _parallel_table(pitches).numpy()
    start, xs, ys, by_y, into_x = kernel.parallel_pairs(table)
    for a, c in itertools.product(range(pitches), repeat=2):
        key = a * pitches + c
        listed = set(zip(xs[start[key] : start[key + 1]].tolist(), ys[start[key] : start[key + 1]].tolist()))
        assert listed == set(zip(*(i.tolist() for i in np.nonzero(table[a, c]))))
        for y in range(pitches):
            into = by_y[key * pitches + y], by_y[key * pitches + y + 1]
            assert set(into_x[into[0] : into[1]].tolist()) == set(np.nonzero(table[a, c, :, y])[0].tolist())


@pytest.mark.parametrize("group", ["vertical", "chords"])
@pytest.mark.parametrize("compiled", [False, True])
def test_vertical_weights_give_the_exact_distribution_of_the_lower_voice_given_the_upper(compiled, group):
    """Two voices; the lower voice's pitch weighed by its interval below the upper one at the same
    step (as an interval class, or as the set of pitch classes sounding above it, here one): its
    line, given the upper line, follows brute_force with those weights as emission."""
    torch.manual_seed(6)
    pitches, steps, draws = 3, 3, 40_000
    size = 2 * pitches + 1
    potentials = torch.randn(2, 1, size, size).masked_fill(~allowed_moves(pitches), -math.inf)
    vertical = torch.zeros(2, 2, 12)
    vertical[1, 0] = torch.tensor([2.0, -2.0, 1.0, 0, 0, 0, 0, 0, 0, 0, 0, 0])  # unison up, a step down
    if group == "vertical":
        weights = {"vertical": vertical}
    else:  # the same weights on the sets of one voice above, pitch 2, over each pitch of the lower
        chords = torch.zeros(2, CHORD_SETS)
        for pitch in range(pitches):
            chords[1, int(chord_bits(np.array(2), np.array(pitch)))] = vertical[1, 0, (2 - pitch) % 12]
        weights = {"chords": chords}
    sampler = VoiceLeadingSampler(potentials, 1.0, 0.0, zero_calibration(2, **weights))
    logits = torch.randn(1, 2, P0 + pitches, steps)
    logits[0, 0, P0 + 2] += 6.0  # the upper voice holds to pitch 2 almost always
    start = torch.tensor([3, 1])
    tokens = _draw_repeatedly(logits, start, sampler, draws, 0.0, compiled, seed=3)
    upper = [P0 + 2, P0 + 2, P0 + 2]
    given = tokens[(tokens[:, 0] == torch.tensor(upper)).all(1), 1]
    # the lower voice's emission times e^vertical of its interval below pitch 2, at every step
    tokens_of = state_tokens(pitches)
    factor = torch.zeros(len(tokens_of))
    for s in range(1, len(tokens_of)):
        pitch = (s - 1) % pitches
        factor[s] = vertical[1, 0, (2 - pitch) % 12]
    weighted = logits[:, 1:].clone()
    lower = VoiceLeadingSampler(potentials[1:])
    exact = brute_force(weighted, 1, lower, 1.0, emission_shift=factor)
    seen = Counter(tuple(row) for row in given.tolist())
    total = len(given)
    assert total > draws * 0.5
    for key, p in exact.items():
        assert seen[key] / total == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / total) + 1e-3), key


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize(("parallels", "vertical"), [(2.0, False), (0.0, True), (30.0, True)])
def test_a_generator_that_writes_voice_after_voice_is_drawn_as_its_logits_are(compiled, parallels, vertical):
    """A chained generator whose logits ignore the voices above draws what its logits given at
    once draw (the same random numbers, voices from the top); each voice's logits are asked for
    with the voices drawn above it."""
    voices, pitches, steps, windows = 3, 25, 20, 9
    sampler = random_sampler(voices, pitches, 4, parallels, seed=4, vertical=vertical)
    g = torch.Generator().manual_seed(8)
    logits = 2 * torch.randn(windows, voices, P0 + pitches, steps, generator=g)
    tokens = torch.tensor([REST, HOLD, *range(P0, P0 + pitches)])
    context = tokens[torch.randint(len(tokens), (windows, voices, 16), generator=g)]
    start = last_states(context, pitches)
    seen: dict[int, torch.Tensor | None] = {}

    def voice_logits(v: int, above: torch.Tensor | None) -> torch.Tensor:
        seen[v] = above
        return logits[:, v]

    at_once = sample_lines(
        logits, start, sampler, torch.Generator().manual_seed(3), 0.8, 1.0, parallels, context, compiled
    )
    chained = sample_chained(
        voice_logits, start, sampler, torch.Generator().manual_seed(3), 0.8, 1.0, parallels, context, compiled
    )
    assert torch.equal(at_once, chained)
    assert seen[0] is None and all(torch.equal(seen[v], chained[:, :v]) for v in range(1, voices))
