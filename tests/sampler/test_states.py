"""The voice-leading sampler's state space: states, their tokens, and the classes of moves."""

from __future__ import annotations

import numpy as np
import torch

from segue.music.tokens import FIRST_PITCH as P0
from segue.music.tokens import HOLD, REST
from segue.sampler.states import (
    MAX_INTERVAL,
    MOVE_CLASSES,
    allowed_moves,
    last_states,
    move_classes,
    state_tokens,
    to_states,
)


def test_states_follow_the_sounding_pitch():
    tokens = np.array([[P0 + 3, HOLD, HOLD, REST, HOLD, P0 + 1, P0 + 1, HOLD]])
    pitches = 5
    states = to_states(tokens, pitches)
    onset, held = 1, 1 + pitches
    assert states.tolist() == [[onset + 3, held + 3, held + 3, 0, 0, onset + 1, onset + 1, held + 1]]
    assert state_tokens(pitches)[torch.from_numpy(states)].tolist() == [
        [P0 + 3, HOLD, HOLD, REST, REST, P0 + 1, P0 + 1, HOLD]
    ]
    assert last_states(torch.from_numpy(tokens), pitches).tolist() == [held + 1]


def test_states_of_random_lines_match_a_walk_along_them():
    rng = np.random.default_rng(1)
    pitches = 6
    tokens = rng.choice([REST, HOLD, HOLD, HOLD, *range(P0, P0 + pitches)], size=(30, 3, 20))
    tokens[0, 0, :3] = HOLD  # holds before anything was struck
    walked = np.zeros(tokens.shape, dtype=np.int64)
    for index in np.ndindex(tokens.shape[:-1]):
        sounding = -1
        for t, token in enumerate(tokens[index]):
            if token >= P0:
                sounding = token - P0
                walked[(*index, t)] = 1 + sounding
            elif token == REST:
                sounding = -1
            elif sounding >= 0:
                walked[(*index, t)] = 1 + pitches + sounding
    assert (to_states(tokens, pitches) == walked).all()


def test_last_states_are_the_states_at_the_last_step():
    rng = np.random.default_rng(0)
    pitches = 6
    tokens = rng.choice([REST, HOLD, HOLD, HOLD, *range(P0, P0 + pitches)], size=(50, 4, 12))
    tokens[0, 0] = HOLD  # nothing struck at all
    tokens[1, 0, -3:] = [REST, HOLD, HOLD]  # holds after a rest
    expected = to_states(tokens, pitches)[..., -1]
    assert last_states(torch.from_numpy(tokens), pitches).tolist() == expected.tolist()


def test_a_hold_follows_only_its_own_note():
    allowed = allowed_moves(3)
    onset, held = 1, 4
    assert allowed[onset + 2, held + 2] and allowed[held + 2, held + 2]
    assert not allowed[onset + 1, held + 2] and not allowed[0, held + 0]
    assert allowed[held + 1, onset + 2] and allowed[0, onset + 0]


def test_move_classes_name_each_kind_of_move():
    pitches = 30
    classes = move_classes(pitches)
    onset, held = 1, 1 + pitches
    assert classes[0, 0] == 0  # rest to rest
    assert classes[0, onset + 7] == 1  # a note after a rest
    assert classes[onset + 7, held + 7] == 2 and classes[held + 7, held + 7] == 2  # goes on
    assert classes[held + 7, 0] == 3  # stops
    assert classes[held + 7, onset + 9] == 4 + MAX_INTERVAL + 2  # up a tone
    assert classes[onset + 7, onset + 7] == 4 + MAX_INTERVAL  # struck again
    assert classes[onset + 0, onset + 29] == MOVE_CLASSES - 1  # a leap past an octave shares the top class
    assert classes[held + 29, onset + 0] == 4
    assert classes[onset + 7, held + 8] == -1 and classes[0, held + 7] == -1  # impossible
