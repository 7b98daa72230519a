"""A voice-leading sampler whose chain gives every allowed move the same weight, for tests of
the calibration's weights."""

from __future__ import annotations

import math

import torch

from segue.sampler import Calibration, VoiceLeadingSampler
from segue.sampler.states import MOVE_CLASSES, REGISTER_CLASSES, TONAL_CLASSES, allowed_moves


def flat_potentials(voices: int, pitches: int, positions: int = 1) -> torch.Tensor:
    """(V, M, 2P+1, 2P+1) potentials: 0 for every allowed move, -inf for the others."""
    size = 2 * pitches + 1
    return torch.zeros(voices, positions, size, size).masked_fill(~allowed_moves(pitches), -math.inf)


def zero_calibration(voices: int, positions: int = 1, **groups: torch.Tensor) -> Calibration:
    """A calibration of zeros but for the groups given."""
    weights = {
        "moves": torch.zeros(voices, positions, MOVE_CLASSES),
        "tonal": torch.zeros(voices, TONAL_CLASSES),
        "register": torch.zeros(voices, REGISTER_CLASSES),
        "echo": torch.zeros(voices),
        "onsets": torch.zeros(voices, positions),
        "seam": torch.zeros(voices, MOVE_CLASSES),
    }
    return Calibration(**{**weights, **groups})


def flat_sampler(
    voices: int, pitches: int, positions: int = 1, **calibration: torch.Tensor
) -> VoiceLeadingSampler:
    """A flat sampler (strength 1, no parallels) with a calibration of zeros but for the groups given."""
    potentials = flat_potentials(voices, pitches, positions)
    return VoiceLeadingSampler(potentials, 1.0, 0.0, zero_calibration(voices, positions, **calibration))
