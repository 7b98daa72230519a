"""The voice-leading sampler's draw: exact sampling, the parallel-motion penalty, and the
calibration's weights at drawing time."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
import torch

from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST
from segue.sampler import VoiceLeadingSampler
from segue.sampler.calibration import MAX_WEIGHT, echo_counts
from segue.sampler.draw import _ffbs, _parallel_factors, sample_lines
from segue.sampler.states import (
    MAX_INTERVAL,
    MOVE_CLASSES,
    TONAL_CLASSES,
    allowed_moves,
    last_states,
    onset_moves,
    state_tokens,
)
from tests.sampler.exact import exact_lines
from tests.sampler.flat import flat_sampler


def brute_force(
    logits: torch.Tensor,
    start: int,
    sampler: VoiceLeadingSampler,
    strength: float,
    blocks: dict[int, np.ndarray] | None = None,
    emission_shift: torch.Tensor | None = None,
) -> dict[tuple, float]:
    """The exact distribution of one voice's line by enumerating every state sequence;
    ``blocks`` maps a step to (P, P) factors on moving from a sounding pitch x to a new pitch y;
    ``emission_shift`` (N,) log-weights added to each state at every step."""
    tokens_of = state_tokens(sampler.pitches)
    pitches = sampler.pitches
    emission = torch.log_softmax(logits[0, 0], dim=0)[tokens_of]  # (N, S)
    if emission_shift is not None:
        emission = emission + emission_shift[:, None]

    def log_weight(path: tuple[int, ...]) -> float:
        total, previous = 0.0, start
        for t, s in enumerate(path):
            move = sampler.potentials[0, 0, previous, s]
            total += emission[s, t].item() + (move.item() if torch.isinf(move) else strength * move.item())
            if blocks and t in blocks and previous > 0 and 1 <= s <= pitches:
                x = (previous - 1) % pitches  # "x starts" or "x goes on"
                total += math.log(blocks[t][x, s - 1])
            previous = s
        return total

    return exact_lines(tokens_of, emission.shape[1], log_weight)


def random_sampler(pitches: int, voices: int = 1) -> VoiceLeadingSampler:
    """A sampler with random potentials on the allowed moves."""
    size = 2 * pitches + 1
    return VoiceLeadingSampler(
        torch.randn(voices, 1, size, size).masked_fill(~allowed_moves(pitches), -math.inf)
    )


def test_forward_filtering_backward_sampling_draws_the_exact_distribution():
    torch.manual_seed(0)
    pitches, steps = 2, 3
    sampler = random_sampler(pitches)
    logits = torch.randn(1, 1, P0 + pitches, steps)
    start = torch.tensor([[1]])  # pitch 0 just started
    exact = brute_force(logits, 1, sampler, strength=0.7)
    draws = 20_000
    batch_logits = logits.expand(draws, -1, -1, -1)
    tokens = sample_lines(
        batch_logits, start.expand(draws, 1), sampler, torch.Generator().manual_seed(1), strength=0.7
    )
    seen = Counter(tuple(row) for row in tokens[:, 0].tolist())
    for key, p in exact.items():
        assert seen[key] / draws == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / draws) + 1e-3), key
    assert set(seen) <= set(exact)


def test_the_draw_is_exact_under_parallel_factors():
    torch.manual_seed(3)
    pitches, steps, draws = 2, 3, 20_000
    sampler = random_sampler(pitches)
    logits = torch.randn(1, 1, P0 + pitches, steps)
    rng = np.random.default_rng(0)
    blocks = {t: rng.uniform(0.05, 3.0, size=(pitches, pitches)) for t in (0, 2)}
    exact = brute_force(logits, 1, sampler, strength=1.0, blocks=blocks)
    emission = torch.softmax(logits[0, 0], dim=0)[state_tokens(pitches)]  # the states' weights
    states = _ffbs(
        emission[None].expand(draws, -1, -1),
        sampler.move_weights(1.0),
        torch.ones(draws, dtype=torch.long),
        torch.rand(draws, steps, generator=torch.Generator().manual_seed(1)).numpy(),
        {t: torch.from_numpy(f).float().expand(draws, -1, -1) for t, f in blocks.items()},
    )
    seen = Counter(tuple(row) for row in state_tokens(pitches)[states].tolist())
    for key, p in exact.items():
        assert seen[key] / draws == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / draws) + 1e-3), key
    assert set(seen) <= set(exact)


def test_parallel_factors_follow_the_definition():
    pitches, weight = 26, 2.0
    rng = np.random.default_rng(5)
    above = torch.from_numpy(rng.integers(-1, pitches, size=(3, 2, 13)))  # (b, u, S + 1), -1 silent
    factors = _parallel_factors(above, pitches, weight)
    for t in range(12):
        expected = np.ones((3, pitches, pitches))
        for b, u, x, y in itertools.product(range(3), range(2), range(pitches), range(pitches)):
            a, c = int(above[b, u, t]), int(above[b, u, t + 1])
            if min(a, c) < 0 or a == c or x == y or (c - a) * (y - x) <= 0:
                continue
            if (a - x) % 12 in (0, 7) and (a - x) % 12 == (c - y) % 12:  # a fifth or octave to the same
                expected[b, x, y] *= math.exp(-weight)
        if t in factors:
            assert np.allclose(factors[t].numpy(), expected, rtol=1e-6), t
        else:
            assert (expected == 1).all(), t  # a step is left out only where nothing is parallel
    assert len(factors) > 3


def test_strength_zero_keeps_the_generators_odds_between_notes():
    torch.manual_seed(0)
    pitches, steps = 3, 4
    sampler = random_sampler(pitches)
    logits = torch.randn(1, 1, P0 + pitches, steps)
    draws = 40_000
    tokens = sample_lines(
        logits.expand(draws, -1, -1, -1),
        torch.zeros(draws, 1, dtype=torch.long),
        sampler,
        torch.Generator().manual_seed(2),
        strength=0.0,
    )
    # with no chain, every note's onset keeps its softmax share among the notes at that step
    probs = torch.softmax(logits[0, 0], dim=0)[P0:]  # (pitches, S)
    for t in range(steps):
        counts = torch.bincount(tokens[:, 0, t], minlength=P0 + pitches)[P0:].float()
        assert torch.allclose(counts / counts.sum(), probs[:, t] / probs[:, t].sum(), atol=0.02)


def test_the_parallel_penalty_removes_parallel_fifths():
    """Two voices whose logits ask for parallel fifths (C-G then D-A) step by step."""
    pitches = 24
    size = 2 * pitches + 1
    sampler = VoiceLeadingSampler(
        torch.zeros(2, 1, size, size).masked_fill(~allowed_moves(pitches), -math.inf)
    )
    steps = 4
    logits = torch.full((1, 2, P0 + pitches, steps), -4.0)
    upper, lower = [19, 21, 19, 21], [12, 14, 12, 14]  # a fifth apart, moving together
    for t in range(steps):
        logits[0, 0, P0 + upper[t], t] = 4.0
        logits[0, 1, P0 + lower[t], t] = 4.0
        logits[0, 1, P0 + lower[t] - 3, t] = 3.0  # a third below is nearly as good
    start = torch.tensor([[1 + 21, 1 + 14]])  # both sounding, a fifth apart
    draws = 500
    args = (logits.expand(draws, -1, -1, -1), start.expand(draws, 2), sampler)

    def parallel_fifths(tokens: torch.Tensor) -> float:
        """Moves of both voices, the same way, from a fifth to a fifth, per draw."""
        high = torch.cat([torch.full((draws, 1), 21), tokens[:, 0] - P0], dim=1)
        low = torch.cat([torch.full((draws, 1), 14), tokens[:, 1] - P0], dim=1)
        fifth = (high - low) % 12 == 7
        same_way = (high.diff() * low.diff()) > 0
        return float((fifth[:, 1:] & fifth[:, :-1] & same_way).sum(dim=1).float().mean())

    plain = sample_lines(*args, torch.Generator().manual_seed(0), strength=0.0, parallels=0.0)
    careful = sample_lines(*args, torch.Generator().manual_seed(0), strength=0.0, parallels=20.0)
    assert parallel_fifths(plain) > 1.0
    assert parallel_fifths(careful) < 0.05
    assert (careful[:, 0] - P0 == torch.tensor(upper)).float().mean() > 0.9  # the upper voice is left alone


def test_echo_weights_pull_draws_towards_or_away_from_the_context():
    torch.manual_seed(0)
    voices, pitches, steps = 2, 8, 16
    context = torch.from_numpy(
        np.random.default_rng(1).choice([REST, HOLD, P0 + 2, P0 + 5], (20, voices, steps))
    )
    logits = torch.zeros(20, voices, 2 + pitches, steps)
    start = last_states(context, pitches)

    def share(echo: float) -> float:
        sampler = flat_sampler(voices, pitches, echo=torch.full((voices,), echo))
        drawn = sample_lines(logits, start, sampler, torch.Generator().manual_seed(0), context=context)
        counts = echo_counts(context.numpy(), drawn.numpy())
        return float(counts[:, 0].sum() / counts.sum())

    plain, towards, away = share(0.0), share(4.0), share(-4.0)
    assert towards > plain + 0.3 and away < plain - 0.05
    # without the context, the calibration's context weights are not used
    sampler = flat_sampler(voices, pitches, echo=torch.full((voices,), 4.0))
    drawn = sample_lines(logits, start, sampler, torch.Generator().manual_seed(0))
    unweighted = sample_lines(logits, start, flat_sampler(voices, pitches), torch.Generator().manual_seed(0))
    assert torch.equal(drawn, unweighted)


def test_tonal_weights_favour_the_context_pitch_classes():
    voices, pitches, steps = 1, 24, 16
    context = torch.tensor([[[P0 + 0, HOLD, HOLD, HOLD, P0 + 7, HOLD] * 2]])
    context = context.repeat(30, 1, 1)
    logits = torch.zeros(30, voices, 2 + pitches, steps)
    tonal = torch.full((voices, TONAL_CLASSES), -3.0)
    tonal[:, 0] = 3.0  # the most heard pitch class
    sampler = flat_sampler(voices, pitches, tonal=tonal)
    drawn = sample_lines(
        logits, last_states(context, pitches), sampler, torch.Generator().manual_seed(0), context=context
    )
    notes = drawn[drawn >= P0] - P0
    assert len(notes) > 0 and (notes % 12 == 0).float().mean() > 0.9


def test_onset_weights_set_where_in_the_bar_notes_start():
    voices, pitches, positions, steps = 2, 8, 4, 16
    logits = torch.zeros(40, voices, 2 + pitches, steps)
    start = torch.zeros(40, voices, dtype=torch.long)

    def onsets_at(position: int, weight: float) -> float:
        onsets = torch.zeros(voices, positions)
        onsets[:, position] = weight
        sampler = flat_sampler(voices, pitches, positions, onsets=onsets)
        drawn = sample_lines(logits, start, sampler, torch.Generator().manual_seed(0))
        struck = (drawn >= P0)[..., position::positions]
        return float(struck.float().mean())

    plain = onsets_at(1, 0.0)
    assert onsets_at(1, -MAX_WEIGHT) < 0.2 * plain
    assert onsets_at(1, 2.0) > plain + 0.1
    assert onset_moves(pitches).sum() == (1 + 2 * pitches) * pitches  # from every struck or silent state


def test_seam_weights_act_on_the_first_step_only():
    voices, pitches, steps = 1, 8, 8
    logits = torch.zeros(200, voices, 2 + pitches, steps)
    start = torch.full((200, voices), 1 + 3)  # the context ends striking pitch 3
    seam = torch.zeros(voices, MOVE_CLASSES)
    seam[:, 4 + MAX_INTERVAL] = MAX_WEIGHT  # strike the same pitch again
    samplers = {"plain": flat_sampler(voices, pitches), "seam": flat_sampler(voices, pitches, seam=seam)}
    drawn = {
        name: sample_lines(logits, start, sampler, torch.Generator().manual_seed(0))
        for name, sampler in samplers.items()
    }
    again = {name: float((d[:, 0, 0] == P0 + 3).float().mean()) for name, d in drawn.items()}
    assert again["seam"] > 0.8 and again["plain"] < 0.3
    later = {name: float((d[:, 0, 1:] == P0 + 3).float().mean()) for name, d in drawn.items()}
    assert abs(later["seam"] - later["plain"]) < 0.05
