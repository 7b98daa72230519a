"""The voice-leading sampler as a whole: its settings, its draw, and its use in a continuation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST
from segue.sampler import VoiceLeadingSampler
from segue.sampler.states import allowed_moves
from tests.sampler.flat import flat_sampler


def test_same_seed_same_lines_and_bad_settings_refused():
    sampler = VoiceLeadingSampler(torch.zeros(2, 1, 7, 7).masked_fill(~allowed_moves(3), -math.inf))
    logits = torch.randn(3, 2, P0 + 3, 8)
    context = torch.full((3, 2, 8), REST)
    one = sampler.draw(logits, context, torch.Generator().manual_seed(5))
    two = sampler.draw(logits, context, torch.Generator().manual_seed(5))
    assert torch.equal(one, two)
    with pytest.raises(ValueError, match="not allowed"):
        VoiceLeadingSampler(torch.zeros(2, 1, 7, 7))  # a hold after a rest, or after another note
    with pytest.raises(ValueError):
        VoiceLeadingSampler(torch.zeros(2, 1, 6, 6))
    with pytest.raises(ValueError):
        VoiceLeadingSampler(torch.zeros(2, 7, 7))  # potentials are (V, M, N, N)
    with pytest.raises(ValueError):
        VoiceLeadingSampler(torch.zeros(2, 1, 7, 7), strength=-1)


def test_continuing_uses_the_context_weights():
    from segue.models import Generator
    from segue.pipeline.sampling import continue_tokens
    from tests.tiny import TINY_MODEL as config

    torch.manual_seed(0)
    net = Generator(config).eval()
    pitches = config.vocab - 2
    shape = (6, config.voices, config.context_steps)
    context = torch.from_numpy(np.random.default_rng(0).choice([HOLD, P0 + 20, P0 + 24, P0 + 27], shape))

    def echoes(echo: float) -> float:
        sampler = flat_sampler(config.voices, pitches, echo=torch.full((config.voices,), echo))
        out = continue_tokens(net, context, 1, torch.Generator().manual_seed(0), sampler=sampler)
        return float((out == context).float().mean())

    assert echoes(3.0) > echoes(0.0) + 0.2
