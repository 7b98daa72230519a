import torch

from segue.music.piece import make_notes
from segue.music.tokens import REST
from segue.training.windows import WindowSampler, voice_ranges
from tests.tiny import TINY_MODEL, pickup_piece, short_last_bar_onsets


def test_voice_ranges_span_every_piece_of_each_track():
    soprano_alto = make_notes([0, 0, 4, 4], [4] * 4, [72, 64, 79, 60], track=[0, 1, 0, 1])
    ranges = voice_ranges([soprano_alto, make_notes([0, 0], [1, 1], [60, 81], track=[1, 0])], 2)
    assert ranges.tolist() == [[72, 81], [60, 64]]
    assert voice_ranges([make_notes([0], [1], [60], track=[0])], 2).tolist() == [[60, 60], [127, 0]]


def test_windows_end_at_the_last_complete_bar():
    # a pickup of one beat, three bars after it and a final bar of three beats (the pickup's
    # complement): padded with a rest, that bar would teach a model to end on a rest
    bar, beat = TINY_MODEL.steps_per_bar, TINY_MODEL.steps_per_beat
    onsets = short_last_bar_onsets()
    piece = pickup_piece(onsets)
    assert piece.n_bars == 5 and piece.first_bar + piece.complete_bars == 4
    windows = WindowSampler([piece], TINY_MODEL, 0)
    # windows of 2 bars starting at bars 0, 1 and 2; one starting at bar 3 would reach the cut bar
    assert len(windows) == 3
    _, continuations = windows.windows(torch.arange(len(windows)))
    assert bool((continuations[:, 0] != REST).all())  # the soprano sounds to the end of every window
    assert windows.piece_grids()[0].shape[1] == 4 * bar
    whole = pickup_piece([*onsets, 5 * bar - beat])  # a last bar that is whole is kept
    assert len(WindowSampler([whole], TINY_MODEL, 0)) == 4
