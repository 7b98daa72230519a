from segue.music.piece import make_notes
from segue.training.windows import voice_ranges


def test_voice_ranges_span_every_piece_of_each_track():
    soprano_alto = make_notes([0, 0, 4, 4], [4] * 4, [72, 64, 79, 60], track=[0, 1, 0, 1])
    ranges = voice_ranges([soprano_alto, make_notes([0, 0], [1, 1], [60, 81], track=[1, 0])], 2)
    assert ranges.tolist() == [[72, 81], [60, 64]]
    assert voice_ranges([make_notes([0], [1], [60], track=[0])], 2).tolist() == [[60, 60], [127, 0]]
