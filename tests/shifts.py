"""Transpositions that keep every voice in its range: a check the chorale tests use."""

from __future__ import annotations

import numpy as np


def allowed_shifts(notes: np.ndarray, ranges: np.ndarray, max_shift: int = 6) -> list[int]:
    """Semitone shifts in ``[-max_shift, max_shift]`` that keep every track within its
    (lowest, highest) row of ``ranges``."""
    low, high = -max_shift, max_shift
    for track in np.unique(notes["track"]):
        pitches = notes["pitch"][notes["track"] == track].astype(np.int64)
        low = max(low, int(ranges[track, 0] - pitches.min()))
        high = min(high, int(ranges[track, 1] - pitches.max()))
    return list(range(low, high + 1))
