"""How a continuation compares with a file's own next bars, whatever the file's texture.

The measures of the real-world check (``benchmarks/realworld.py``): for a window of bars in a
continued file and the same window in the original, which parts play, whether the drums go on,
how many notes there are per bar and how many sound at once, and whether the key stays related
to the prime's. Notes are :data:`~segue.music.piece.NOTE_DTYPE` arrays whose ``track`` is the
*file* track, so that the two files' parts can be matched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segue.metrics import estimate_key, pitch_class_profile, polyphony, profile_correlation


def in_window(notes: np.ndarray, start: int, end: int) -> np.ndarray:
    """The notes that start in [start, end), cut at ``end``, with onsets from ``start``."""
    chunk = notes[(notes["onset"] >= start) & (notes["onset"] < end)].copy()
    chunk["duration"] = np.minimum(chunk["onset"] + chunk["duration"], end) - chunk["onset"]
    chunk["onset"] -= start
    return chunk


def related_keys(a: tuple[int, bool], b: tuple[int, bool]) -> bool:
    """Whether two keys ``(tonic pitch class, minor)`` are the same, relative (C major and A
    minor) or a fifth apart in the same mode (C major and G or F major)."""
    (tonic_a, minor_a), (tonic_b, minor_b) = a, b
    if minor_a == minor_b:
        return (tonic_a - tonic_b) % 12 in (0, 5, 7)
    major, minor = (tonic_a, tonic_b) if minor_b else (tonic_b, tonic_a)
    return (major - minor) % 12 == 3


@dataclass(frozen=True)
class WindowComparison:
    """One continued window against the real one, both after the same prime."""

    prime_drums: bool
    drums: bool  # the continuation has drum notes
    real_parts: int  # pitched and drum tracks that play in the real window
    kept_parts: int  # of those, the tracks that play in the continuation too
    known_parts: int  # the real window's tracks that also play in the prime's last bars
    kept_known: int  # of those, the tracks that play in the continuation too
    notes_ratio: float  # pitched notes, continuation / real (NaN when the real window has none)
    polyphony_ratio: float  # pitched notes sounding at once, continuation / real
    key_related: bool  # the continuation's key is related to the prime's
    real_key_related: bool  # the real window's key is related to the prime's
    profile_correlation: float  # continuation's pitch-class profile against the prime's
    real_profile_correlation: float
    register_offset: float  # |mean pitch of the continuation - mean pitch of the real window|


def compare_window(
    prime: np.ndarray, prime_drums: np.ndarray, real: np.ndarray, continued: np.ndarray, drum_tracks: set[int]
) -> WindowComparison:
    """Compare a continued window with the real one.

    ``prime`` holds the pitched notes of the prime's last bars, ``prime_drums`` its drum notes; ``real`` and
    ``continued`` all notes of the windows (drums included, told apart by ``drum_tracks``).
    """

    def pitched(notes: np.ndarray) -> np.ndarray:
        return notes[~np.isin(notes["track"], list(drum_tracks))] if drum_tracks else notes

    real_pitched, continued_pitched = pitched(real), pitched(continued)
    real_tracks = set(np.unique(real["track"]).tolist())
    continued_tracks = set(np.unique(continued["track"]).tolist())
    known = real_tracks & set(np.unique(np.concatenate([prime["track"], prime_drums["track"]])).tolist())
    prime_key = estimate_key(prime)
    prime_profile = pitch_class_profile(prime)
    nan = float("nan")

    def ratio(a: float, b: float) -> float:
        return a / b if b else nan

    return WindowComparison(
        prime_drums=bool(len(prime_drums)),
        drums=bool(np.isin(continued["track"], list(drum_tracks)).any()) if drum_tracks else False,
        real_parts=len(real_tracks),
        kept_parts=len(real_tracks & continued_tracks),
        known_parts=len(known),
        kept_known=len(known & continued_tracks),
        notes_ratio=ratio(len(continued_pitched), len(real_pitched)),
        polyphony_ratio=ratio(polyphony(continued_pitched), polyphony(real_pitched)),
        key_related=bool(len(continued_pitched)) and related_keys(prime_key, estimate_key(continued_pitched)),
        real_key_related=bool(len(real_pitched)) and related_keys(prime_key, estimate_key(real_pitched)),
        profile_correlation=profile_correlation(prime_profile, pitch_class_profile(continued_pitched)),
        real_profile_correlation=profile_correlation(prime_profile, pitch_class_profile(real_pitched)),
        register_offset=(
            abs(float(continued_pitched["pitch"].mean()) - float(real_pitched["pitch"].mean()))
            if len(continued_pitched) and len(real_pitched)
            else nan
        ),
    )


def summarize(rows: list[WindowComparison]) -> dict[str, float]:
    """The figures of the check over many windows (medians of ratios, shares of files)."""

    def median(values: list[float]) -> float:
        values = [v for v in values if np.isfinite(v)]
        return float(np.median(values)) if values else float("nan")

    with_drums = [r for r in rows if r.prime_drums]
    parts = sum(r.real_parts for r in rows)
    known = sum(r.known_parts for r in rows)
    return {
        "windows": len(rows),
        "windows_with_drums": len(with_drums),
        "drums_kept": float(np.mean([r.drums for r in with_drums])) if with_drums else float("nan"),
        "parts_kept": sum(r.kept_parts for r in rows) / parts if parts else float("nan"),
        "known_parts_kept": sum(r.kept_known for r in rows) / known if known else float("nan"),
        "notes_ratio": median([r.notes_ratio for r in rows]),
        "polyphony_ratio": median([r.polyphony_ratio for r in rows]),
        "key_related": float(np.mean([r.key_related for r in rows])) if rows else float("nan"),
        "real_key_related": float(np.mean([r.real_key_related for r in rows])) if rows else float("nan"),
        "profile_correlation": median([r.profile_correlation for r in rows]),
        "real_profile_correlation": median([r.real_profile_correlation for r in rows]),
        "register_offset": median([r.register_offset for r in rows]),
    }
