"""The voice-leading sampler's state space: what a voice does at one step, and the classes of
its moves from one step to the next.

A voice at a step is in one of 2P+1 states over the model's P pitches: "rest", "pitch p
starts" and "pitch p goes on". Each state has a token (rest, the pitch, or hold); a move
between two states falls into one of MOVE_CLASSES classes (rest to rest, entry, hold, stop, or
a new note a given interval away), which the calibration weighs.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from segue.music.tokens import FIRST_PITCH, HOLD, REST


@functools.lru_cache(maxsize=8)  # shared: read it, never write to it
def state_tokens(pitches: int) -> torch.Tensor:
    """The token of each state: rest, then ``pitches`` onsets, then ``pitches`` holds."""
    return torch.cat(
        [torch.tensor([REST]), FIRST_PITCH + torch.arange(pitches), torch.full((pitches,), HOLD)]
    ).long()


MAX_INTERVAL = 12
"""Moves of more than this many semitones share a class with the largest one."""
MOVE_CLASSES = 4 + 2 * MAX_INTERVAL + 1
"""rest to rest, rest to a note, a note going on, a note to rest, then new notes -12..+12 semitones away."""
TONAL_CLASSES = 13
"""Ranks 0-11 of a pitch class in the window's profile (0: the most heard), 12: not heard at all."""
REGISTER_CLASSES = 2 * MAX_INTERVAL + 2
"""A new note -12..+12 semitones from the voice's mean pitch in the window, or: the voice was silent
there (that class is not weighed: too few windows have a silent voice to learn from)."""


@functools.lru_cache(maxsize=8)  # shared: read it, never write to it
def state_pitches(pitches: int) -> torch.Tensor:
    """The pitch index sounding in each state (-1 for rest)."""
    index = torch.arange(pitches)
    return torch.cat([torch.tensor([-1]), index, index]).long()


@functools.lru_cache(maxsize=8)  # shared: read it, never write to it
def allowed_moves(pitches: int) -> torch.Tensor:
    """(2P+1, 2P+1) bool: "pitch p goes on" follows only "p starts" or "p goes on"."""
    size = 2 * pitches + 1
    allowed = torch.ones(size, size, dtype=torch.bool)
    allowed[:, 1 + pitches :] = False
    index = torch.arange(pitches)
    allowed[1 + index, 1 + pitches + index] = True
    allowed[1 + pitches + index, 1 + pitches + index] = True
    return allowed


@functools.lru_cache(maxsize=8)  # shared: read it, never write to it
def move_classes(pitches: int) -> torch.Tensor:
    """(2P+1, 2P+1) class of each move between states (see MOVE_CLASSES), -1 where impossible."""
    pitch = state_pitches(pitches)
    held = torch.cat([torch.zeros(1 + pitches, dtype=torch.bool), torch.ones(pitches, dtype=torch.bool)])
    before, after = pitch[:, None], pitch[None, :]
    interval = (after - before).clamp(-MAX_INTERVAL, MAX_INTERVAL)
    classes = torch.where(held[None, :], 2, 4 + MAX_INTERVAL + interval)  # going on, or a new note
    classes = torch.where(after < 0, 3, classes)  # a note stops
    classes = torch.where(before < 0, torch.where(after < 0, 0, 1), classes)  # from a rest
    return classes.masked_fill(~allowed_moves(pitches), -1)


STRIKING = np.isin(np.arange(MOVE_CLASSES), (0, 2, 3), invert=True)  # not rest, hold or stop
"""(MOVE_CLASSES,) bool: the classes of move that strike a note (an entry after a rest, or a new note)."""
STRIKING.flags.writeable = False


@functools.lru_cache(maxsize=8)  # shared: read it, never write to it
def onset_moves(pitches: int) -> torch.Tensor:
    """(2P+1, 2P+1) bool: the moves that strike a note."""
    classes = move_classes(pitches)
    return torch.tensor(STRIKING)[classes.clamp_min(0)] & (classes >= 0)


def to_states(tokens: np.ndarray, pitches: int) -> np.ndarray:
    """(..., S) tokens -> (..., S) states; a hold carries the pitch sounding before it (rest after a rest)."""
    tokens = np.asarray(tokens).astype(np.int64, copy=False)
    onset = tokens >= FIRST_PITCH
    struck = onset | (tokens == REST)  # where what sounds changes
    last = np.maximum.accumulate(np.where(struck, np.arange(tokens.shape[-1]), -1), axis=-1)
    before = np.take_along_axis(tokens, np.maximum(last, 0), axis=-1)  # the last onset or rest
    sounding = np.where((last >= 0) & (before >= FIRST_PITCH), before - FIRST_PITCH, -1)
    held = (tokens == HOLD) & (sounding >= 0)
    return np.where(onset, 1 + tokens - FIRST_PITCH, np.where(held, 1 + pitches + sounding, 0))


def sounding_pitches(tokens: np.ndarray, pitches: int) -> np.ndarray:
    """(B, V, S) pitch index sounding at each step of (B, V, S) tokens, -1 for silence."""
    return state_pitches(pitches).numpy()[to_states(np.asarray(tokens), pitches)]


def last_states(history: torch.Tensor, pitches: int) -> torch.Tensor:
    """The state of each voice at the last step of (B, V, S) ``history`` tokens, (B, V): what
    ``to_states`` gives there, found from the last token that is not a hold instead of walking
    the whole history."""
    tokens = history.cpu().long().numpy()  # in NumPy, on one thread (see segue.sampler.draw)
    last, token, sounding = _last_struck(tokens)
    pitch = token - FIRST_PITCH
    held = 1 + pitches + pitch
    return torch.from_numpy(np.where(sounding, np.where(last == tokens.shape[-1] - 1, 1 + pitch, held), 0))


def sounding_lengths(history: np.ndarray) -> np.ndarray:
    """(B, V) how many steps the note sounding at the last step of (B, V, S) ``history`` tokens
    has sounded there (1: it starts there), 0 where the voice rests: the length of the note of
    :func:`last_states`."""
    tokens = np.asarray(history)
    last, _, sounding = _last_struck(tokens)
    return np.where(sounding, tokens.shape[-1] - last, 0).astype(np.int64)


def _last_struck(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For (..., S) tokens: the step of the last token that is not a hold (a rest or an onset),
    that token, and whether a note sounds from it to the end."""
    steps = tokens.shape[-1]
    struck = tokens != HOLD
    last = steps - 1 - struck[..., ::-1].argmax(-1)
    token = np.take_along_axis(tokens, last[..., None], -1)[..., 0]
    return last, token, struck.any(-1) & (token >= FIRST_PITCH)


def shift_states(states: np.ndarray, shift: int, pitches: int) -> np.ndarray | None:
    """States transposed by ``shift`` semitones, or None if a pitch leaves the range."""
    if shift == 0:
        return states
    pitch = np.where(states > pitches, states - pitches - 1, states - 1)  # -1 for rest
    sounding = states > 0
    moved = pitch + shift
    if ((moved < 0) | (moved >= pitches))[sounding].any():
        return None
    return np.where(~sounding, 0, np.where(states > pitches, 1 + pitches + moved, 1 + moved))
