"""The voice-leading sampler's chain: the moves counted on the training data."""

from __future__ import annotations

import numpy as np
import torch

from segue.music.tokens import FIRST_PITCH as P0
from segue.sampler import VoiceLeadingSampler
from segue.sampler.chain import fit_chain


def test_fit_learns_stepwise_motion_and_transposes():
    pitches = 12
    line = [P0 + p for p in (4, 5, 4, 5, 4, 5, 4, 5)]  # steps of one semitone, over and over
    grids = [np.array([line])]
    sampler = VoiceLeadingSampler.fit(grids, voices=1, pitches=pitches, max_shift=2)
    assert torch.equal(sampler.potentials, fit_chain(grids, voices=1, pitches=pitches, max_shift=2).float())
    move = sampler.potentials[0, 0]
    onset = 1
    assert move[onset + 4, onset + 5] > move[onset + 4, onset + 9]  # a step beats a leap
    assert move[onset + 6, onset + 7] > move[onset + 6, onset + 11]  # learned two semitones up too
    assert torch.isinf(move[onset + 4, 1 + pitches + 5])  # no hold of a pitch that is not sounding
