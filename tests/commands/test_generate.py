"""`segue generate` end to end, on synthetic and bundled MIDI, with a tiny model for speed."""

from pathlib import Path

import numpy as np
import pytest
import symusic
import torch

import segue
from segue import load_model
from segue.cli import main
from segue.data.chorales import load_chorales, split_indices
from segue.music.midi import midi_bytes, read_midi
from segue.pipeline.model import SegueModel
from segue.render import wav_stats
from tests.smf import TrackBuilder, smf
from tests.tiny import TINY_MODEL

BAR = 1920  # ticks per 4/4 bar at 480 per quarter


UPBEAT = 480 - BAR  # the band's bar b starts at b * BAR + UPBEAT: bar 0 is a one-beat pickup


@pytest.fixture(scope="module")
def band(tmp_path_factory) -> Path:
    """Piano chords and a melody on two channels of one track, drums, a tempo change and a pickup
    (written as notation programs do: one bar of 1/4 before the 4/4)."""
    track = (
        TrackBuilder()
        .meter(0, 1, 4)
        .meter(480, 4, 4)
        .tempo(0, 500_000)
        .tempo(2 * BAR + UPBEAT, 400_000)
        .program(0, 0, 0)
        .program(0, 73, 1)
    )
    track.note(0, 480, 67, 90, channel=1)  # the pickup
    for bar in range(1, 7):
        start = bar * BAR + UPBEAT
        for beat in range(4):
            track.note(start + beat * 480, 240, 72 + (bar + beat) % 5, 100, channel=1)
        for pitch in (48, 55, 64):
            track.note(start, BAR, pitch + bar % 3, 70, channel=0)
        for beat in range(4):
            track.note(start + beat * 480, 120, 36 if beat % 2 == 0 else 38, 110, channel=9)
    path = tmp_path_factory.mktemp("midi") / "band.mid"
    path.write_bytes(smf([track]))
    return path


def notes_of(score: symusic.Score, before: int | None = None, after: int | None = None) -> list[tuple]:
    rows = []
    for track in score.tracks:
        for note in track.notes:
            if (before is None or note.time < before) and (after is None or note.time >= after):
                rows.append(
                    (track.program, track.is_drum, note.time, note.duration, note.pitch, note.velocity)
                )
    return sorted(rows)


def generate(prime: Path, out: Path, model: Path, *extra: str) -> int:
    return main(["generate", str(prime), "--out", str(out), "--model", str(model), *extra])


def test_prime_is_kept_note_for_note_and_the_continuation_starts_after_bar_k(band, tiny_model, tmp_path):
    out = tmp_path / "out.mid"
    assert generate(band, out, tiny_model, "--bars", "3", "--prime-bars", "4", "--seed", "1") == 0
    original, result = symusic.Score.from_midi(band.read_bytes()), symusic.Score.from_midi(out.read_bytes())
    cut = 5 * BAR + UPBEAT  # the pickup bar, then 4 complete bars
    kept = [
        (p, d, t, min(dur, cut - t), pitch, v) for p, d, t, dur, pitch, v in notes_of(original, before=cut)
    ]
    assert notes_of(result, before=cut) == sorted(kept)
    assert [(t.time, t.mspq) for t in result.tempos] == [(t.time, t.mspq) for t in original.tempos]
    assert [(s.time, s.numerator, s.denominator) for s in result.time_signatures] == [(0, 1, 4), (480, 4, 4)]
    after = notes_of(result, after=cut)
    assert after, "nothing was generated"
    drums = sorted((t - cut, d, pitch, v) for _, drum, t, d, pitch, v in after if drum)
    groove = [(beat * 480, 120, 36 if beat % 2 == 0 else 38, 110) for beat in range(4)]
    assert drums == sorted(
        (bar * BAR + t, d, p, v) for bar in range(3) for t, d, p, v in groove
    )  # drums go on
    assert max(t + d for _, _, t, d, *_ in after) <= cut + 3 * BAR
    assert {p for p, *_ in after} <= {0, 73}  # written in the prime's instruments


def test_same_seed_same_bytes_other_seed_other_music(band, tiny_model, tmp_path):
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        assert generate(band, tmp_path / f"{name}.mid", tiny_model, "--seed", seed, "--bars", "4") == 0
    a, b, c = ((tmp_path / f"{n}.mid").read_bytes() for n in "abc")
    assert a == b and a != c


def test_samples_png_and_wav(band, tiny_model, tmp_path, capsys):
    args = [
        "--samples",
        "3",
        "--bars",
        "2",
        "--png",
        str(tmp_path / "o.png"),
        "--wav",
        str(tmp_path / "o.wav"),
    ]
    assert generate(band, tmp_path / "o.mid", tiny_model, *args) == 0
    outs = [(tmp_path / f"o-{i}.mid").read_bytes() for i in (1, 2, 3)]
    assert len(set(outs)) == 3
    printed = capsys.readouterr().out
    for i in (1, 2, 3):
        assert str(tmp_path / f"o-{i}.png") in printed
        assert (tmp_path / f"o-{i}.png").read_bytes()[:4] == b"\x89PNG"
        stats = wav_stats(tmp_path / f"o-{i}.wav")
        assert 10 < stats["seconds"] < 30 and stats["peak"] > 0.01
    assert not (tmp_path / "o.mid").exists()


def test_a_bundled_chorale_with_the_shipped_model(tmp_path):
    chorales = load_chorales()
    piece = chorales[split_indices(chorales, "test")[0]]
    prime = tmp_path / "chorale.mid"
    prime.write_bytes(midi_bytes(piece))
    (result,) = segue.continue_midi(prime, bars=8, prime_bars=4, seed=0)
    back = read_midi(result.midi).pieces[0]
    model = load_model()
    bar = back.bar_steps
    cut = (back.first_bar + 4) * bar
    expected = piece.notes[piece.notes["onset"] < cut]
    got = back.notes[back.notes["onset"] < cut]
    assert np.array_equal(got[["onset", "pitch", "track"]], expected[["onset", "pitch", "track"]])
    generated = back.notes[back.notes["onset"] >= cut]
    assert len(generated) > 0 and int((generated["onset"] + generated["duration"]).max()) <= cut + 8 * bar
    assert model.config.voices == len(back.parts) and back.parts == piece.parts


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"", [], "empty file"),
        (b"not a midi file at all", [], "not a MIDI file"),
        (smf([TrackBuilder().note(0, 960, 60)]), [], "no complete bar"),
        (smf([TrackBuilder().note(0, 4 * BAR, 36, channel=9)]), [], "only drum notes"),
        (smf([TrackBuilder().meter(0, 7, 8).note(0, 4 * BAR, 60)]), [], "the model knows only 4/4"),
        (smf([TrackBuilder().note(0, 2 * BAR, 60)]), ["--prime-bars", "5"], "fewer than the 5"),
        (smf([TrackBuilder().note(0, 2 * BAR, 60)]), ["--bars", "0"], "bars must be between"),
        (smf([TrackBuilder().note(0, 2 * BAR, 60)]), ["--bars", "10001"], "bars must be between"),
        (smf([TrackBuilder().note(0, 2 * BAR, 60)]), ["--samples", "65"], "samples must be between"),
        (smf([TrackBuilder().note(0, 2 * BAR, 60)]), ["--truncation", "-1"], "truncation"),
        (smf([TrackBuilder().note(0, 2 * BAR, 60)]), ["--temperature", "0"], "temperature"),
        (smf([TrackBuilder().note(0, 2 * BAR, 60)]), ["--key-strength", "-1"], "--key-strength -1.0"),
        (smf([TrackBuilder().note(0, 2 * BAR, 60)]), ["--key-strength", "nan"], "--key-strength nan"),
    ],
)
def test_bad_input_is_refused_with_one_line_and_no_output(
    content, args, message, tiny_model, tmp_path, capsys
):
    prime = tmp_path / "prime.mid"
    prime.write_bytes(content)
    assert generate(prime, tmp_path / "out.mid", tiny_model, *args) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prime.mid"]


def test_python_api_continue_roll(tiny_model):
    model = load_model(tiny_model)
    voices = np.zeros((4, 16), dtype=np.int64)
    voices[:, 0] = [40, 35, 30, 20]
    out = segue.continue_roll(voices, bars=3, model=model, seed=0, samples=2)
    assert out.shape == (2, 4, 48) and out.min() >= 0 and out.max() < model.config.vocab
    assert not np.array_equal(out[0], out[1])


def test_temperature_sharpens_the_draw(tiny_model):
    model = load_model(tiny_model)
    with torch.no_grad():
        for p in model.generator.out.parameters():  # logits that prefer some tokens strongly
            p.normal_(0, 0.5, generator=torch.Generator().manual_seed(3))
    voices = np.full((4, 16), 20, dtype=np.int64)
    kinds = []
    for temperature in (0.05, 1.0, 5.0):
        out = segue.continue_roll(voices, bars=2, model=model, seed=0, samples=8, temperature=temperature)
        kinds.append(np.mean([len(np.unique(out[:, v, t])) for v in range(4) for t in range(32)]))
    assert kinds[0] < kinds[1] < kinds[2]  # distinct tokens per cell across samples grow with temperature
    same = segue.continue_roll(voices, bars=2, model=model, seed=0, samples=8, temperature=1.0)
    assert np.array_equal(same, segue.continue_roll(voices, bars=2, model=model, seed=0, samples=8))


def test_the_voice_leading_sampler_is_used_unless_plain(band, tmp_path):
    import math

    from segue.sampler import VoiceLeadingSampler
    from segue.sampler.states import allowed_moves

    torch.manual_seed(0)
    model = SegueModel.create(TINY_MODEL, {"voice_ranges": [[60, 81], [53, 74], [48, 69], [36, 62]]})
    pitches = TINY_MODEL.vocab - 2
    potentials = torch.randn(TINY_MODEL.voices, 1, 2 * pitches + 1, 2 * pitches + 1)
    model.sampler = VoiceLeadingSampler(potentials.masked_fill(~allowed_moves(pitches), -math.inf), 1.0, 5.0)
    folder = model.save(tmp_path / "with-sampler")
    outs = {}
    for name, extra in (("a", []), ("b", []), ("plain", ["--plain"])):
        out = tmp_path / f"{name}.mid"
        assert (
            main(["generate", str(band), "--out", str(out), "--model", str(folder), "--bars", "4", *extra])
            == 0
        )
        outs[name] = out.read_bytes()
    assert outs["a"] == outs["b"]  # the same seed, the same lines
    assert outs["plain"] != outs["a"]


def test_four_bars_that_begin_with_a_rest_prime_four_bars(tiny_model, tmp_path):
    track = TrackBuilder()
    for bar in range(4):  # a quarter rest on every downbeat, the first bar's too
        for beat in (1, 2, 3):
            track.note(bar * BAR + beat * 480, 480, 64 + beat, 90)
    prime = tmp_path / "rest-first.mid"
    prime.write_bytes(smf([track]))
    out = tmp_path / "out.mid"
    assert generate(prime, out, tiny_model, "--prime-bars", "4", "--bars", "2") == 0
    result = symusic.Score.from_midi(out.read_bytes())
    assert notes_of(result, before=4 * BAR) == notes_of(symusic.Score.from_midi(prime.read_bytes()))
    assert max(t for _, _, t, *_ in notes_of(result, after=4 * BAR)) < 6 * BAR  # 2 bars after the 4


def test_drums_go_on_with_the_groove_not_the_fill(tiny_model, tmp_path):
    track = TrackBuilder()
    for bar in range(4):
        track.note(bar * BAR, BAR, 60 + bar, 80)  # a melody to continue
        if bar < 3:  # the groove: kick on 1 and 3, hi-hat on every eighth
            for beat in (0, 2):
                track.note(bar * BAR + beat * 480, 120, 36, 100, channel=9)
            for eighth in range(8):
                track.note(bar * BAR + eighth * 240, 60, 42, 70, channel=9)
        else:  # a fill of sixteenth snares
            for sixteenth in range(16):
                track.note(bar * BAR + sixteenth * 120, 60, 38, 90, channel=9)
    prime = tmp_path / "groove.mid"
    prime.write_bytes(smf([track]))
    out = tmp_path / "out.mid"
    assert generate(prime, out, tiny_model, "--prime-bars", "4", "--bars", "2") == 0
    result = symusic.Score.from_midi(out.read_bytes())
    drums = [(t - 4 * BAR, pitch) for _, drum, t, _, pitch, _ in notes_of(result, after=4 * BAR) if drum]
    first = sorted((t, pitch) for _, drum, t, _, pitch, _ in notes_of(result, before=BAR) if drum)
    assert sorted(drums) == sorted([*first, *((t + BAR, pitch) for t, pitch in first)])


def test_drum_hits_played_a_little_early_keep_their_bar(tiny_model, tmp_path):
    track = TrackBuilder()
    for bar in range(4):
        track.note(bar * BAR, BAR, 60 + bar, 80)
        for beat in range(4):  # a kick on every beat, each 10 ticks early (the first not before 0)
            track.note(max(0, bar * BAR + beat * 480 - 10), 100, 36, 100, channel=9)
    prime = tmp_path / "early.mid"
    prime.write_bytes(smf([track]))
    out = tmp_path / "out.mid"
    assert generate(prime, out, tiny_model, "--prime-bars", "3", "--bars", "1") == 0
    result = symusic.Score.from_midi(out.read_bytes())
    drums = sorted(t - 3 * BAR for _, drum, t, *_ in notes_of(result, after=3 * BAR) if drum)
    assert drums == [0, 480, 960, 1440]  # on the beats, none moved a sixteenth early or doubled


def test_the_general_models_continue_a_tune_as_one_melody_and_a_mass_in_4_2_and_3_2(tmp_path, capsys):
    from segue.data.splits import split_pieces
    from segue.pipeline.catalog import shipped_dir

    assets = shipped_dir().parent
    tunes = split_pieces(assets / "folk" / "dataset", "test")
    sections = split_pieces(assets / "palestrina" / "dataset", "test")
    chosen = [next(p for p in tunes if str(p.meter) == meter) for meter in ("4/4", "3/4", "2/4")]
    chosen += [
        next(p for p in sections if str(p.meter) == meter and p.complete_bars >= 8)
        for meter in ("4/2", "3/2")
    ]
    chorales = load_chorales()
    chosen.append(chorales[split_indices(chorales, "test")[0]])  # a chorale in 4/4
    for piece in chosen:
        prime = tmp_path / f"{piece.name}.mid"
        prime.write_bytes(midi_bytes(piece))
        cut = (piece.first_bar + 4) * piece.bar_steps
        parts = len(np.unique(piece.notes["track"][piece.notes["onset"] < cut]))  # play in the prime
        out = tmp_path / f"{piece.name}-continued.mid"
        args = [
            "generate",
            str(prime),
            "--style",
            "general",
            "--prime-bars",
            "4",
            "--bars",
            "4",
            "--out",
            str(out),
        ]
        assert main(args) == 0
        back = read_midi(out).pieces[0]
        assert str(back.meter) == str(piece.meter)
        # the prime's parts go on, a part of the file that comes in later may join them, no new track
        assert parts <= len(back.parts) <= len(piece.parts)
        assert {p.name for p in back.parts} <= {p.name for p in piece.parts}
        cut = (back.first_bar + 4) * back.bar_steps
        assert (back.notes["onset"] >= cut).sum() > 0
    printed = capsys.readouterr().out
    assert "model: general (style general asked for, the file is in 4/4)" in printed
    assert "model: general-3-4 (style general asked for, the file is in 3/4)" in printed
    assert "model: general-2-4 (style general asked for, the file is in 2/4)" in printed
    assert printed.count("voices: one line: the top voice") == 3
    assert "model: general (style general asked for, the file is in 4/2, read as 4/4" in printed
    assert "model: general-3-4 (style general asked for, the file is in 3/2, read as 3/4" in printed
    # the 4/4 general model's sampler reads the corpus of the part music and says so; not of a melody
    assert "sampler: the prime's part music read as palestrina" in printed
    assert "sampler: the prime's part music read as chorales" in printed
    assert printed.count("sampler:") == 2


def test_a_model_you_name_reads_the_same_beats_at_another_note_value(tiny_model, tmp_path):
    # four half-note beats a bar (4/2) for a 4/4 model: read on a grid half as fine, written in 4/2
    track = TrackBuilder().meter(0, 4, 2)
    for beat in range(6 * 4):
        track.note(beat * 960, 960, 60 + beat % 5).note(beat * 960, 960, 48, channel=1)
    prime = tmp_path / "four-two.mid"
    prime.write_bytes(smf([track]))
    out = tmp_path / "out.mid"
    assert generate(prime, out, tiny_model, "--prime-bars", "4", "--bars", "2") == 0
    back = read_midi(out).pieces[0]
    assert str(back.meter) == "4/2" and back.complete_bars == 6
    assert (back.notes["onset"] >= (back.first_bar + 4) * back.bar_steps).sum() > 0
    seven = tmp_path / "seven.mid"
    seven.write_bytes(smf([TrackBuilder().meter(0, 7, 8).note(0, 4 * BAR, 60)]))
    assert generate(seven, tmp_path / "no.mid", tiny_model) == 1 and not (tmp_path / "no.mid").exists()


@pytest.mark.parametrize("command", ["generate", "evaluate"])
def test_the_key_prior_s_default_in_the_help_is_the_one_drawn_with(command: str, capsys):
    from segue.sampler.config import KEY_STRENGTH

    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    assert f"(default {KEY_STRENGTH}; 0:" in help_text
