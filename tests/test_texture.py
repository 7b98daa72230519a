"""The real-world check's measures: keys related, parts kept, drums kept, ratios of density."""

from __future__ import annotations

import math

import numpy as np

from segue.evaluation.texture import compare_window, in_window, related_keys, summarize
from segue.music.piece import make_notes

C_MAJOR = [60, 64, 67, 72, 65, 69, 62, 71]


def test_related_keys_are_the_same_the_relative_or_a_fifth_apart():
    c, g, f, d = (0, False), (7, False), (5, False), (2, False)
    a_minor, e_minor, c_minor = (9, True), (4, True), (0, True)
    assert related_keys(c, c) and related_keys(c, g) and related_keys(c, f)
    assert related_keys(c, a_minor) and related_keys(a_minor, c)
    assert related_keys(a_minor, e_minor)  # minor keys a fifth apart
    assert not related_keys(c, d) and not related_keys(c, c_minor) and not related_keys(c, e_minor)


def test_in_window_keeps_the_notes_that_start_there_cut_at_its_end():
    notes = make_notes([0, 10, 14, 20], [4, 8, 2, 4], [60, 62, 64, 65])
    chunk = in_window(notes, 8, 16)
    assert chunk["onset"].tolist() == [2, 6] and chunk["duration"].tolist() == [6, 2]


def _bars(pitches: list[int], track: int = 0, step: int = 4) -> np.ndarray:
    return make_notes(np.arange(len(pitches)) * step, step, pitches, 80, track)


def test_a_window_that_drops_a_part_and_the_drums_is_told_from_one_that_keeps_them():
    melody, bass, drums = _bars(C_MAJOR), _bars([48, 43] * 4, 1), _bars([36, 42] * 4, 2, 2)
    prime = np.concatenate([melody, bass])
    real = np.concatenate([melody, bass, drums])
    kept = compare_window(prime, drums, real, real, {2})
    assert kept.drums and kept.kept_parts == kept.real_parts == 3
    assert kept.notes_ratio == 1.0 and kept.polyphony_ratio == 1.0 and kept.key_related
    dropped = compare_window(prime, drums, real, melody, {2})
    assert not dropped.drums and dropped.kept_parts == 1 and dropped.real_parts == 3
    assert dropped.known_parts == 3 and dropped.kept_known == 1
    entering = compare_window(melody, drums[:0], real, melody, {2})  # bass and drums enter after the prime
    assert entering.real_parts == 3 and entering.known_parts == 1 and entering.kept_known == 1
    assert dropped.notes_ratio == 0.5 and dropped.polyphony_ratio == 0.5  # the bass is missing
    far = compare_window(prime, drums, real, _bars([61, 63, 66, 68, 70, 73, 75, 66]), {2})  # F# major
    assert not far.key_related and far.real_key_related
    figures = summarize([kept, dropped, far])
    assert figures["windows"] == 3 and figures["windows_with_drums"] == 3
    assert math.isclose(figures["drums_kept"], 1 / 3)
    assert math.isclose(figures["parts_kept"], 5 / 9)
    assert figures["notes_ratio"] == 0.5 and math.isclose(figures["key_related"], 2 / 3)


def test_an_empty_real_window_gives_no_ratio():
    prime = _bars(C_MAJOR)
    empty = prime[:0]
    result = compare_window(prime, empty, empty, prime, set())
    assert math.isnan(result.notes_ratio) and math.isnan(result.register_offset)
    assert not result.prime_drums and not result.drums and result.real_parts == 0
