"""Each metric on hand-made notes whose right answer is known."""

import numpy as np
import pytest

from segue import metrics
from segue.music.piece import make_notes

C_MAJOR_SCALE = make_notes(np.arange(8) * 4, 4, [60, 62, 64, 65, 67, 69, 71, 72])


def test_a_c_major_scale_is_fully_in_c_major_and_found_as_c_major():
    assert metrics.in_scale_rate(C_MAJOR_SCALE, 0, False) == 1.0
    assert metrics.in_scale_rate(C_MAJOR_SCALE, 6, False) == pytest.approx(
        2 / 8
    )  # F# major shares only F (E#) and B
    assert metrics.estimate_key(C_MAJOR_SCALE) == (0, False)
    a_minor = make_notes(np.arange(6) * 4, 4, [57, 60, 64, 69, 68, 57])
    assert metrics.estimate_key(a_minor) == (9, True)
    assert metrics.in_scale_rate(a_minor, 9, True) == 1.0


def test_empty_bars_pitch_classes_range_and_polyphony():
    notes = make_notes([0, 0, 32], [16, 8, 4], [60, 64, 72])
    assert metrics.empty_bar_rate(notes, 16, 4) == 0.5  # bars 1 and 3 are silent
    assert metrics.empty_bar_rate(make_notes([0], [32], [60]), 16, 2) == 0.0  # a held note fills bar 2
    assert metrics.used_pitch_classes(notes) == 2  # C and E
    assert metrics.pitch_range(notes) == 12
    assert metrics.polyphony(notes) == pytest.approx((8 * 2 + 8 * 1 + 4 * 1) / 20)


def test_qualified_notes():
    notes = make_notes([0, 1, 2, 8], [1, 1, 6, 8], 60)
    assert metrics.qualified_note_rate(notes, 3) == 0.5


def test_profiles_correlate_with_themselves_and_tonal_distance():
    profile = metrics.pitch_class_profile(C_MAJOR_SCALE)
    assert profile.sum() == pytest.approx(1.0)
    assert metrics.profile_correlation(profile, profile) == pytest.approx(1.0)
    f_sharp = metrics.pitch_class_profile(make_notes(C_MAJOR_SCALE["onset"], 4, C_MAJOR_SCALE["pitch"] + 6))
    assert metrics.profile_correlation(profile, f_sharp) < 0
    assert metrics.tonal_distance(profile, profile) == 0.0
    g_major = metrics.pitch_class_profile(make_notes(C_MAJOR_SCALE["onset"], 4, C_MAJOR_SCALE["pitch"] + 7))
    assert metrics.tonal_distance(profile, g_major) < metrics.tonal_distance(profile, f_sharp)


def test_overlap_area_of_identical_and_disjoint_samples():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 500)
    assert metrics.overlap_area(a, a) == pytest.approx(1.0, abs=0.02)
    assert metrics.overlap_area(a, rng.normal(0, 1, 500)) > 0.85
    assert metrics.overlap_area(a, a + 20) < 0.01
    assert metrics.overlap_area(np.full(10, 3.0), np.full(10, 3.0)) == pytest.approx(1.0, abs=0.02)


def test_parallel_fifths_and_octaves_crossing_and_leaps():
    # Soprano G4 -> A4 over bass C3 -> D3: parallel fifths (octave-compound).
    fifths = make_notes([0, 4, 0, 4], 4, [67, 69, 48, 50], 80, [0, 0, 1, 1])
    assert metrics.voice_leading_faults(fifths, 2, 8)["parallel_fifths"] == 1
    octaves = make_notes([0, 4, 0, 4], 4, [60, 62, 48, 50], 80, [0, 0, 1, 1])
    assert metrics.voice_leading_faults(octaves, 2, 8)["parallel_octaves"] == 1
    contrary = make_notes([0, 4, 0, 4], 4, [67, 65, 48, 50], 80, [0, 0, 1, 1])  # fifth to third, contrary
    assert metrics.voice_leading_faults(contrary, 2, 8) == {
        "parallel_fifths": 0,
        "parallel_octaves": 0,
        "crossings": 0,
        "leaps": 0,
    }
    crossed = make_notes([0, 0], 4, [55, 60], 80, [0, 1])
    assert metrics.voice_leading_faults(crossed, 2, 4)["crossings"] == 4
    leaps = make_notes([0, 4, 8, 12], 4, [60, 71, 59, 60], 80, 0)  # a major seventh up, an octave down
    assert metrics.voice_leading_faults(leaps, 1, 16)["leaps"] == 1


def test_a_bar_copied_from_training_counts_as_a_copy():
    rng = np.random.default_rng(0)
    training = rng.integers(0, 50, (4, 16 * 6))
    train_keys = metrics.bar_keys(training, 16)
    generated = np.concatenate([training[:, 32:64], rng.integers(0, 50, (4, 32))], axis=1)  # 2 copied, 2 new
    gen_keys = metrics.bar_keys(generated, 16)
    assert metrics.copied_bar_rate(gen_keys, set(train_keys)) == 0.5
    assert metrics.longest_copied_span(gen_keys, [train_keys]) == 2
    assert metrics.longest_copied_span(metrics.bar_keys(rng.integers(0, 50, (4, 32)), 16), [train_keys]) == 0


def test_a_transposed_copy_is_a_copy_and_common_formulas_are_counted_apart():
    rng = np.random.default_rng(1)
    pieces = [rng.integers(2, 40, (4, 64)) for _ in range(4)]
    cadence = rng.integers(2, 40, (4, 16))
    for piece in pieces[:3]:  # a bar three pieces share: a formula
        piece[:, 48:64] = cadence
    keys = [metrics.bar_keys(p, 16, relative=True) for p in pieces]
    formulas = metrics.formula_bars(keys)
    training = {k for piece in keys for k in piece}
    assert formulas == {metrics.bar_keys(cadence, 16, relative=True)[0]}
    moved = pieces[3][:, :16] + 5  # bar 1 of the fourth piece, a fourth higher
    generated = np.concatenate([moved, cadence, rng.integers(2, 40, (4, 32))], axis=1)
    gen = metrics.bar_keys(generated, 16, relative=True)
    assert metrics.copied_bar_rate(gen, training, formulas) == 0.25  # the transposed bar only
    assert metrics.copied_bar_rate(gen, training) == 0.5  # without the formula rule
    assert metrics.bar_keys(moved, 16) != metrics.bar_keys(pieces[3][:, :16], 16)  # exact keys differ


def test_distinct_rate_and_token_difference():
    assert metrics.distinct_rate([b"a", b"b", b"a", b"a"]) == 0.5
    assert metrics.distinct_rate([b"a", b"b"]) == 1.0
    a = np.zeros((4, 16), dtype=np.int64)
    b = a.copy()
    b[0, :8] = 5
    assert metrics.token_difference(a, a) == 0.0
    assert metrics.token_difference(a, b) == 8 / 64
