"""The checks every way into continuation shares: absurd arguments are refused before any work."""

from __future__ import annotations

from segue.errors import SegueError

MAX_BARS = 10_000
MAX_SAMPLES = 64


def check_temperature(temperature: float) -> None:
    """Refuse a sampling temperature outside (0, 10]."""
    if not 0 < temperature <= 10:
        raise SegueError(f"temperature must be in (0, 10], not {temperature}")


def check_key_strength(strength: float) -> None:
    """Refuse a key prior's strength outside [0, 10]."""
    if not 0 <= strength <= 10:
        raise SegueError(f"--key-strength {strength}: must be between 0 and 10")


def check_arguments(
    bars: int, samples: int, truncation: float | None, prime_bars: int | None, temperature: float = 1.0
) -> None:
    """Refuse absurd arguments before any work."""
    check_temperature(temperature)
    if not 1 <= bars <= MAX_BARS:
        raise SegueError(f"bars must be between 1 and {MAX_BARS:,}, not {bars}")
    if not 1 <= samples <= MAX_SAMPLES:
        raise SegueError(f"samples must be between 1 and {MAX_SAMPLES}, not {samples}")
    if truncation is not None and not 0 < truncation <= 10:
        raise SegueError(f"truncation must be in (0, 10], not {truncation}")
    if prime_bars is not None and prime_bars < 1:
        raise SegueError(f"prime bars must be at least 1, not {prime_bars}")
