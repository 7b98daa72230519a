"""The learned critic: it tells apart what differs, not what does not, and the same seed gives
the same accuracy."""

import numpy as np

from segue.evaluation.critic import critic_accuracy, roll_features
from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST

PITCHES, VOICES = 16, 2


def test_the_critic_hears_a_prime_repeated():
    rng = np.random.default_rng(1)
    primes = chords(120, rng, 4)
    groups = np.arange(120) // 4
    real = roll_features(primes, chords(120, rng, 4), PITCHES)
    repeated = roll_features(primes, primes, PITCHES)
    assert critic_accuracy(real, repeated, groups, groups, VOICES, 32, epochs=8) > 0.9


def chords(count: int, rng: np.random.Generator, interval: int) -> np.ndarray:
    """(count, 2, 32) windows of two voices holding notes ``interval`` semitones apart, a new pair
    every 4 steps."""
    out = np.full((count, VOICES, 32), HOLD)
    low = rng.integers(0, PITCHES - 8, size=(count, 8))
    out[:, 1, ::4] = P0 + low
    out[:, 0, ::4] = P0 + low + interval
    return out


def test_roll_features_mark_sounding_pitches_and_onsets():
    prime = np.array([[[P0 + 3, HOLD, REST, HOLD]]])
    continuation = np.array([[[P0 + 1, HOLD]]])
    roll = roll_features(prime, continuation, 4).numpy()[0]  # (1 * (4 + 1), 6)
    assert roll[3].tolist() == [1, 1, 0, 0, 0, 0]  # pitch 3 sounds, then a rest (and a hold after it)
    assert roll[1].tolist() == [0, 0, 0, 0, 1, 1]
    assert roll[4].tolist() == [1, 0, 0, 0, 1, 0]  # the onsets


def test_the_critic_hears_a_vertical_difference_and_not_a_difference_of_pieces():
    rng = np.random.default_rng(0)
    primes = chords(160, rng, 4)  # primes in thirds
    thirds, seconds, also_thirds = chords(160, rng, 4), chords(160, rng, 2), chords(160, rng, 4)
    groups = np.arange(160) // 4  # 40 "pieces" of 4 windows
    real = roll_features(primes, thirds, PITCHES)
    told = critic_accuracy(
        real, roll_features(primes, seconds, PITCHES), groups, groups, VOICES, 32, epochs=8
    )
    same = critic_accuracy(
        real, roll_features(primes, also_thirds, PITCHES), groups, groups, VOICES, 32, epochs=8
    )
    assert told > 0.9
    assert same < 0.65
    again = critic_accuracy(
        real, roll_features(primes, also_thirds, PITCHES), groups, groups, VOICES, 32, epochs=8
    )
    assert again == same
