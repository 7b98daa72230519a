from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from segue.music.piece import make_notes
from segue.music.tokens import FIRST_PITCH, HOLD, REST, from_tokens, to_tokens, vocabulary_size
from tests.strategies import note_tuples


@st.composite
def monophonic_notes(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    n_steps = draw(st.integers(1, 48))
    rows = []
    for voice in range(draw(st.integers(1, 4))):
        step = draw(st.integers(0, n_steps))
        while step < n_steps:
            length = draw(st.integers(1, n_steps - step))
            if draw(st.booleans()):
                rows.append((step, length, draw(st.integers(40, 80)), voice))
            step += length + draw(st.integers(0, 3))
    if not rows:
        return make_notes([], [], []), n_steps
    onset, duration, pitch, track = zip(*rows)
    return make_notes(onset, duration, pitch, 80, track), n_steps


@settings(max_examples=200, deadline=None)
@given(monophonic_notes())
def test_monophonic_voices_round_trip_exactly(case):
    notes, n_steps = case
    tokens = to_tokens(notes, 4, n_steps, 40, 80)
    assert tokens.shape == (4, n_steps) and tokens.max() < vocabulary_size(40, 80)
    assert note_tuples(from_tokens(tokens, 40)) == note_tuples(notes)


def test_repeated_pitch_stays_two_notes_and_rules_are_counted():
    notes = make_notes(
        [0, 2, 4, 4, 0, 0], [2, 2, 4, 2, 3, 3], [60, 60, 62, 67, 40, 43], 80, [0, 0, 0, 0, 1, 1]
    )
    counts = Counter()
    tokens = to_tokens(notes, 2, 8, 36, 84, counts)
    p = FIRST_PITCH - 36
    assert tokens[0].tolist() == [60 + p, HOLD, 60 + p, HOLD, 67 + p, HOLD, REST, REST]
    assert tokens[1].tolist() == [
        40 + p,
        HOLD,
        HOLD,
        REST,
        REST,
        REST,
        REST,
        REST,
    ]  # the bass keeps the low note
    assert counts["chord_in_voice"] == 2
    overlapping = make_notes([0, 2], [4, 2], [60, 62])
    counts = Counter()
    assert note_tuples(from_tokens(to_tokens(overlapping, 1, 4, 36, 84, counts), 36)) == [
        (0, 60, 0, 2),
        (0, 62, 2, 2),
    ]
    assert counts["cut_by_next"] == 1


def test_hold_after_rest_is_silence():
    tokens = np.array([[REST, HOLD, FIRST_PITCH + 3, HOLD]])
    assert note_tuples(from_tokens(tokens, 50)) == [(0, 53, 2, 2)]
