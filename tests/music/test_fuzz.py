"""A short fuzzing run of the MIDI reader and the representation (benchmarks/fuzz_midi.py runs long)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import exercise, mutants, seeds

SEEDS = seeds()


def test_seed_files_are_read():
    assert all(exercise(data) == "read" for data in SEEDS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**63 - 1))
def test_mutated_midi_is_read_or_refused_cleanly(seed):
    exercise(mutants(np.random.default_rng(seed), SEEDS))  # its assertions, and no other exception


def test_the_mutants_reach_both_outcomes():
    """The fuzzer is worth running only if its mutants are sometimes read and sometimes refused."""
    outcomes = {exercise(mutants(np.random.default_rng(seed), SEEDS)) for seed in range(60)}
    assert outcomes == {"read", "refused"}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_after_a_header_are_read_or_refused_cleanly(tail):
    exercise(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0" + tail)  # its assertions, no other exception
