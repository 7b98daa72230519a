"""The voice-leading prior: states, counting, exact sampling, and the parallel-motion penalty."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
import torch

from segue.models.lineprior import (
    LinePrior,
    _ffbs,
    _parallel_factors,
    allowed_moves,
    last_states,
    sample_lines,
    state_tokens,
    to_states,
)
from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST


def test_states_follow_the_sounding_pitch():
    tokens = np.array([[P0 + 3, HOLD, HOLD, REST, HOLD, P0 + 1, P0 + 1, HOLD]])
    pitches = 5
    states = to_states(tokens, pitches)
    onset, held = 1, 1 + pitches
    assert states.tolist() == [[onset + 3, held + 3, held + 3, 0, 0, onset + 1, onset + 1, held + 1]]
    assert state_tokens(pitches)[torch.from_numpy(states)].tolist() == [
        [P0 + 3, HOLD, HOLD, REST, REST, P0 + 1, P0 + 1, HOLD]
    ]
    assert last_states(torch.from_numpy(tokens), pitches).tolist() == [held + 1]


def test_last_states_are_the_states_at_the_last_step():
    rng = np.random.default_rng(0)
    pitches = 6
    tokens = rng.choice([REST, HOLD, HOLD, HOLD, *range(P0, P0 + pitches)], size=(50, 4, 12))
    tokens[0, 0] = HOLD  # nothing struck at all
    tokens[1, 0, -3:] = [REST, HOLD, HOLD]  # holds after a rest
    expected = to_states(tokens, pitches)[..., -1]
    assert last_states(torch.from_numpy(tokens), pitches).tolist() == expected.tolist()


def test_a_hold_follows_only_its_own_note():
    allowed = allowed_moves(3)
    onset, held = 1, 4
    assert allowed[onset + 2, held + 2] and allowed[held + 2, held + 2]
    assert not allowed[onset + 1, held + 2] and not allowed[0, held + 0]
    assert allowed[held + 1, onset + 2] and allowed[0, onset + 0]


def test_fit_learns_stepwise_motion_and_transposes():
    pitches = 12
    line = [P0 + p for p in (4, 5, 4, 5, 4, 5, 4, 5)]  # steps of one semitone, over and over
    prior = LinePrior.fit([np.array([line])], voices=1, pitches=pitches, max_shift=2)
    move = prior.potentials[0, 0]
    onset = 1
    assert move[onset + 4, onset + 5] > move[onset + 4, onset + 9]  # a step beats a leap
    assert move[onset + 6, onset + 7] > move[onset + 6, onset + 11]  # learned two semitones up too
    assert torch.isinf(move[onset + 4, 1 + pitches + 5])  # no hold of a pitch that is not sounding


def brute_force(
    logits: torch.Tensor,
    start: int,
    prior: LinePrior,
    strength: float,
    blocks: dict[int, np.ndarray] | None = None,
) -> dict[tuple, float]:
    """The exact distribution of one voice's line by enumerating every state sequence;
    ``blocks`` maps a step to (P, P) factors on moving from a sounding pitch x to a new pitch y."""
    tokens_of = state_tokens(prior.pitches)
    pitches = prior.pitches
    emission = torch.log_softmax(logits[0, 0], dim=0)[tokens_of]  # (N, S)
    size, steps = emission.shape
    weights = {}
    for path in itertools.product(range(size), repeat=steps):
        total, previous = 0.0, start
        for t, s in enumerate(path):
            move = prior.potentials[0, 0, previous, s]
            total += emission[s, t].item() + (move.item() if torch.isinf(move) else strength * move.item())
            if blocks and t in blocks and previous > 0 and 1 <= s <= pitches:
                x = (previous - 1) % pitches  # "x starts" or "x goes on"
                total += math.log(blocks[t][x, s - 1])
            previous = s
        if total > -math.inf:
            key = tuple(tokens_of[list(path)].tolist())
            weights[key] = weights.get(key, 0.0) + math.exp(total)
    norm = sum(weights.values())
    return {k: w / norm for k, w in weights.items()}


def test_forward_filtering_backward_sampling_draws_the_exact_distribution():
    torch.manual_seed(0)
    pitches, steps = 2, 3
    size = 2 * pitches + 1
    potentials = torch.randn(1, size, size)
    potentials[:, ~allowed_moves(pitches)] = -math.inf
    prior = LinePrior(potentials)
    logits = torch.randn(1, 1, P0 + pitches, steps)
    start = torch.tensor([[1]])  # pitch 0 just started
    exact = brute_force(logits, 1, prior, strength=0.7)
    draws = 20_000
    batch_logits = logits.expand(draws, -1, -1, -1)
    tokens = sample_lines(
        batch_logits, start.expand(draws, 1), prior, torch.Generator().manual_seed(1), strength=0.7
    )
    seen = Counter(tuple(row) for row in tokens[:, 0].tolist())
    for key, p in exact.items():
        assert seen[key] / draws == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / draws) + 1e-3), key
    assert set(seen) <= set(exact)


def test_the_sampler_draws_the_exact_distribution_under_parallel_factors():
    torch.manual_seed(3)
    pitches, steps, draws = 2, 3, 20_000
    size = 2 * pitches + 1
    potentials = torch.randn(1, size, size).masked_fill(~allowed_moves(pitches), -math.inf)
    prior = LinePrior(potentials)
    logits = torch.randn(1, 1, P0 + pitches, steps)
    rng = np.random.default_rng(0)
    blocks = {t: rng.uniform(0.05, 3.0, size=(pitches, pitches)) for t in (0, 2)}
    exact = brute_force(logits, 1, prior, strength=1.0, blocks=blocks)
    emission = torch.log_softmax(logits[0, 0], dim=0)[state_tokens(pitches)]
    states = _ffbs(
        emission[None].expand(draws, -1, -1),
        prior.move_weights(1.0),
        torch.ones(draws, dtype=torch.long),
        torch.Generator().manual_seed(1),
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
    potentials = torch.randn(1, 2 * pitches + 1, 2 * pitches + 1).masked_fill(
        ~allowed_moves(pitches), -math.inf
    )
    prior = LinePrior(potentials)
    logits = torch.randn(1, 1, P0 + pitches, steps)
    draws = 40_000
    tokens = sample_lines(
        logits.expand(draws, -1, -1, -1),
        torch.zeros(draws, 1, dtype=torch.long),
        prior,
        torch.Generator().manual_seed(2),
        strength=0.0,
    )
    # with no prior, every note's onset keeps its softmax share among the notes at that step
    probs = torch.softmax(logits[0, 0], dim=0)[P0:]  # (pitches, S)
    for t in range(steps):
        counts = torch.bincount(tokens[:, 0, t], minlength=P0 + pitches)[P0:].float()
        assert torch.allclose(counts / counts.sum(), probs[:, t] / probs[:, t].sum(), atol=0.02)


def test_the_parallel_penalty_removes_parallel_fifths():
    """Two voices whose logits ask for parallel fifths (C-G then D-A) step by step."""
    pitches = 24
    size = 2 * pitches + 1
    prior = LinePrior(torch.zeros(2, size, size).masked_fill(~allowed_moves(pitches), -math.inf))
    steps = 4
    logits = torch.full((1, 2, P0 + pitches, steps), -4.0)
    upper, lower = [19, 21, 19, 21], [12, 14, 12, 14]  # a fifth apart, moving together
    for t in range(steps):
        logits[0, 0, P0 + upper[t], t] = 4.0
        logits[0, 1, P0 + lower[t], t] = 4.0
        logits[0, 1, P0 + lower[t] - 3, t] = 3.0  # a third below is nearly as good
    start = torch.tensor([[1 + 21, 1 + 14]])  # both sounding, a fifth apart
    draws = 500
    args = (logits.expand(draws, -1, -1, -1), start.expand(draws, 2), prior)

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


def test_same_seed_same_lines_and_bad_settings_refused():
    prior = LinePrior(torch.zeros(2, 7, 7).masked_fill(~allowed_moves(3), -math.inf))
    logits = torch.randn(3, 2, P0 + 3, 8)
    start = torch.zeros(3, 2, dtype=torch.long)
    one = prior.sample(logits, start, torch.Generator().manual_seed(5))
    two = prior.sample(logits, start, torch.Generator().manual_seed(5))
    assert torch.equal(one, two)
    with pytest.raises(ValueError):
        LinePrior(torch.zeros(2, 6, 6))
    with pytest.raises(ValueError):
        LinePrior(torch.zeros(2, 7, 7), strength=-1)
