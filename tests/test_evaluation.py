import json
from pathlib import Path

import numpy as np
import pytest
import torch

from segue.cli import main
from segue.evaluation import SYSTEMS, classifier_accuracy, pair_features, repetition_features, telltales
from segue.evaluation.baselines import VoiceMarkov, repeat_prime, transpose_tokens
from segue.evaluation.report import training_grids
from segue.models.lstm import LSTMConfig, TokenLSTM
from segue.music.tokens import FIRST_PITCH, HOLD, REST
from segue.pipeline.lstm import save_lstm
from tests.tiny import TINY_MODEL, pickup_piece, short_last_bar_onsets


def test_classifier_two_sample_test():
    rng = np.random.default_rng(0)
    same = classifier_accuracy(rng.normal(0, 1, (300, 8)), rng.normal(0, 1, (300, 8)))
    assert abs(same - 0.5) < 0.08
    apart = classifier_accuracy(rng.normal(0, 1, (300, 8)), rng.normal(3, 1, (300, 8)))
    assert apart > 0.95


def test_repeat_and_transpose_baselines():
    prime = np.arange(12).reshape(2, 6)
    assert repeat_prime(prime, 4).tolist() == [[2, 3, 4, 5], [8, 9, 10, 11]]
    assert repeat_prime(prime, 8)[0].tolist() == [0, 1, 2, 3, 4, 5, 0, 1]
    tokens = np.array([[REST, HOLD, FIRST_PITCH, FIRST_PITCH + 20]])
    assert transpose_tokens(tokens, 3, FIRST_PITCH + 21).tolist() == [
        [REST, HOLD, FIRST_PITCH + 3, FIRST_PITCH + 11]
    ]


def test_markov_chain_continues_a_pattern_it_has_learned():
    pattern = np.tile([FIRST_PITCH, HOLD, FIRST_PITCH + 4, HOLD, FIRST_PITCH + 7, HOLD], 20)[None, :]
    markov = VoiceMarkov(order=4).fit([pattern])
    out = markov.continue_tokens(pattern[:, :12], 12, np.random.default_rng(0))
    assert out.tolist() == pattern[:, 12:24].tolist()


@pytest.fixture(scope="module")
def tiny_lstm(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    config = LSTMConfig(voices=TINY_MODEL.voices, vocab=TINY_MODEL.vocab, embed=8, hidden=16)
    return save_lstm(TokenLSTM(config), TINY_MODEL, tmp_path_factory.mktemp("m") / "lstm", {})


def test_the_markov_chain_learns_pieces_up_to_their_last_complete_bar():
    # a pickup of one beat and a final bar of three beats: the chain and the copy count read the
    # piece as the models' training windows do, without that bar padded with rests
    (grid,) = training_grids([pickup_piece(short_last_bar_onsets())], TINY_MODEL)
    assert grid.shape == (TINY_MODEL.voices, 4 * TINY_MODEL.steps_per_bar)
    assert grid[0, -1] != REST  # the soprano sounds to the end


def test_pair_features_see_repetition_and_classifier_folds_keep_pieces_apart():
    rng = np.random.default_rng(0)
    prime = rng.integers(FIRST_PITCH, FIRST_PITCH + 40, (4, 64))
    fresh = rng.integers(FIRST_PITCH, FIRST_PITCH + 40, (4, 32))
    assert pair_features(prime, fresh, 36, 16).shape == pair_features(prime, prime[:, -32:], 36, 16).shape
    # the prime's last two bars again: the music two bars back agrees everywhere, both bars recur
    lag1, lag2, lag4, recurring = repetition_features(prime, prime[:, -32:], 16)
    assert lag2 == 1.0 and recurring == 1.0 and lag1 < 0.2 and lag4 < 0.2
    assert max(repetition_features(prime, fresh, 16)) < 0.2
    noise = rng.normal(0, 1, (60, 3))
    shifted = noise + np.array([0.0, 0.0, 3.0])
    assert telltales(noise, shifted, ["a", "b", "c"], top=1) == ["higher: c"]
    assert telltales(shifted, noise, ["a", "b", "c"], top=1) == ["lower: c"]
    # rows that differ only by piece: grouped folds test on unseen pieces, so the
    # classifier cannot use a piece's identity
    groups = np.repeat(np.arange(40), 5)
    offsets = rng.normal(0, 3, (40, 6))[groups]
    real = offsets + rng.normal(0, 0.1, (200, 6))
    fake = offsets + rng.normal(0, 0.1, (200, 6))
    assert abs(classifier_accuracy(real, fake, real_groups=groups, fake_groups=groups) - 0.5) < 0.1


def test_evaluate_quick_writes_a_report_with_every_system(
    tiny_model: Path, tiny_lstm: Path, tmp_path: Path, capsys
):
    out = tmp_path / "report"
    args = [
        "evaluate",
        "--model",
        str(tiny_model),
        "--quick",
        "--out",
        str(out),
        "--prime-bars",
        "2",
        "--bars",
        "2",
    ]
    assert main([*args, "--cvae", "none", "--lstm", "none"]) == 0  # with the critic, one seed
    first = json.loads((out / "report.json").read_text())
    assert list(first["table"]) == list(SYSTEMS) and first["seed"] == 0
    assert all(
        0 <= row["learned critic"] <= 1 and row["learned critic sd"] == 0 for row in first["table"].values()
    )
    assert 0.6 < first["table"]["Bach (real)"]["consonance"] <= 1
    assert "The learned critic" in (out / "report.md").read_text()
    args += ["--critic-seeds", "0"]  # the rest without it (it takes seconds per system)
    # another seed draws other continuations (and says so); the same seed the same ones
    assert main([*args, "--cvae", "none", "--lstm", "none", "--seed", "7"]) == 0
    seeded = json.loads((out / "report.json").read_text())
    assert seeded["seed"] == 7 and "; seed 7." in (out / "report.md").read_text()
    assert seeded["table"]["GAN"] != first["table"]["GAN"]
    bach = "Bach (real)"
    assert seeded["table"][bach]["PCP correlation"] == first["table"][bach]["PCP correlation"]
    assert main([*args, "--cvae", "none", "--lstm", "none"]) == 0
    again = json.loads((out / "report.json").read_text())["table"]
    assert again == {
        name: {k: v for k, v in row.items() if not k.startswith("learned critic")}
        for name, row in first["table"].items()
    }
    assert main([*args, "--seed", "-1"]) == 1
    # the tiny model stands in for the CVAE
    assert main([*args, "--cvae", str(tiny_model), "--lstm", str(tiny_lstm), "--seeds", "3"]) == 0
    document = json.loads((out / "report.json").read_text())
    table = document["table"]
    assert list(table) == [*SYSTEMS, "CVAE", "LSTM"]
    for system, row in table.items():
        assert 0.0 <= row["classifier accuracy"] <= 1.0 and "PCP correlation" in row, system
        assert set(row) >= {"copied bars", "formula bars", "distinct bars"}, system
        assert ("differs across seeds" in row) == (system in ("GAN", "Markov", "CVAE", "LSTM")), system
    assert table["repeat prime"]["PCP correlation"] == pytest.approx(1.0)
    assert table["GAN"]["differs across seeds"] > 0.5 and table["LSTM"]["seed difference"] > 0.0
    assert table["Bach (real)"]["copied bars"] < 0.2  # test pieces share few bars with training pieces
    assert set(document["telltales"]) == set(table) - {"Bach (real)"}
    assert all(t.startswith(("higher: ", "lower: ")) for t in document["telltales"]["GAN"])
    assert "| GAN |" in (out / "report.md").read_text()
    for picture in ("samples.png", "histograms.png"):
        assert (out / picture).read_bytes()[:4] == b"\x89PNG"
    assert main(["evaluate", "--model", str(tiny_model), "--bars", "0", "--out", str(out)]) == 1
    missing = tmp_path / "no-report"
    run_args = ["evaluate", "--model", str(tiny_model), "--quick", "--run", str(tmp_path / "no-run")]
    assert main([*run_args, "--out", str(missing)]) == 1
    assert not missing.exists()  # refused before any work: nothing half-written


def test_a_model_with_the_voice_leading_sampler_is_also_reported_without_it(tmp_path: Path):
    from segue.evaluation.report import PLAIN
    from segue.pipeline.model import SegueModel
    from tests.conftest import TINY_RANGES
    from tests.sampler.flat import flat_sampler

    torch.manual_seed(0)
    model = SegueModel.create(TINY_MODEL)
    model.voice_ranges = TINY_RANGES
    model.sampler = flat_sampler(TINY_MODEL.voices, TINY_MODEL.vocab - 2)
    folder = model.save(tmp_path / "lined")
    out = tmp_path / "report"
    args = [
        "evaluate",
        "--model",
        str(folder),
        "--quick",
        "--out",
        str(out),
        "--cvae",
        "none",
        "--lstm",
        "none",
    ]
    assert main([*args, "--prime-bars", "2", "--bars", "2", "--critic-seeds", "0"]) == 0
    table = json.loads((out / "report.json").read_text())["table"]
    assert list(table) == [*SYSTEMS, PLAIN]
    assert "differs across seeds" in table[PLAIN]
    # a flat chain forbids nothing a plain draw writes, yet the draws differ: the sampler weighs lines
    assert table[PLAIN]["notes per bar"] != table["GAN"]["notes per bar"]
    assert f"| {PLAIN} |" in (out / "report.md").read_text()


def test_other_piece_takes_another_pieces_continuation_in_the_primes_key_or_as_it_is():
    from segue.evaluation.windows import Windows, other_piece
    from segue.music.tokens import FIRST_PITCH, HOLD

    lowest, vocab = 40, FIRST_PITCH + 40
    c_major = [0, 4, 7, 12, 7, 4, 0, 2, 4, 5, 7, 9, 11, 12]  # C major from the lowest pitch, 40 (E)
    c, d = ([[FIRST_PITCH + 8 + shift + p, HOLD] for p in c_major] for shift in (0, 2))
    c, d = np.array(c).reshape(1, -1), np.array(d).reshape(1, -1)  # 28 steps each
    primes = np.stack([c, d, c, d])  # pieces 0 and 1: in C, then in D
    reals = primes.copy()
    windows = Windows(primes, reals, np.array([0, 1, 0, 1]), 4, np.zeros(4, dtype=int))
    as_is = other_piece(windows, lowest, vocab, transpose=False)
    assert all(
        (as_is[i] == reals[(i + 2) % 4]).all() or (as_is[i] == reals[(i + 3) % 4]).all() for i in range(4)
    )
    assert all(not (as_is[i] == reals[i]).all() for i in range(4))  # never its own piece's
    in_key = other_piece(windows, lowest, vocab)
    assert (in_key == reals).all()  # the other piece's line moved into the prime's key


def test_other_piece_lends_continuations_only_within_a_fold_group():
    # With folds by piece, "other piece" showed the critic a continuation labelled real in one
    # fold and as another piece's in the next; its pieces must share a fold group instead.
    from segue.evaluation.windows import Windows, other_piece, partner_pieces

    for n_pieces in (1, 2, 3, 4, 5, 6, 7):
        counts = [2 + k % 3 for k in range(n_pieces)]  # pieces with 2 to 4 windows
        pieces = np.repeat(np.arange(n_pieces) * 3, counts)  # piece ids need not be 0..n-1
        reals = np.arange(len(pieces)).reshape(-1, 1, 1) + 2  # every continuation distinct
        windows = Windows(reals.copy(), reals, pieces, 4, np.zeros(len(pieces), dtype=int))
        lent = other_piece(windows, 0, 64, transpose=False)
        source = lent[:, 0, 0] - 2  # the window whose real continuation each window was lent
        groups = windows.groups
        assert (groups[source] == groups).all()
        if n_pieces > 1:
            assert (pieces[source] != pieces).all()  # never its own piece's
            assert len(np.unique(groups)) == n_pieces // 2  # pairs, and one cycle of three
        assert set(partner_pieces(pieces)) == set(pieces.tolist())
        if n_pieces == 6:  # partners of equal window counts: each continuation lent once
            assert len(np.unique(source)) == len(source)


def test_two_sample_tests_fold_by_pairs_of_pieces_and_say_nan_when_none_can_be_held_out():
    from segue.evaluation.critic import roll_features
    from segue.evaluation.report import critic_accuracies
    from segue.evaluation.twosample import classifier_accuracy, held_out_folds
    from segue.evaluation.windows import Windows

    rng = np.random.default_rng(0)
    labels = np.repeat([1, 0], 20)
    # four groups, each holding one label: a fold whose rest has one class only is left out
    masks = held_out_folds(np.repeat([0, 1, 2, 3], 10), labels, 2, np.random.default_rng(1))
    assert all(len(np.unique(labels[~m])) == 2 for m in masks)
    x = rng.normal(size=(40, 3))
    assert np.isnan(classifier_accuracy(x[:20], x[20:], real_groups=np.zeros(20), fake_groups=np.zeros(20)))
    # two pieces are one pair, so the critic has no fold to hold out (by piece it would have two)
    tokens = rng.integers(0, 6, size=(8, 2, 16))
    windows = Windows(tokens, tokens[:, :, ::-1].copy(), np.repeat([0, 1], 4), 8, np.zeros(8, dtype=int))
    real = roll_features(windows.primes, windows.reals, 4)
    (accuracy,) = critic_accuracies(real, windows, windows.primes, None, 2, 4, 1, 0)
    assert np.isnan(accuracy)


def test_the_furthest_voice_is_measured_over_the_voices_the_real_music_plays():
    import warnings

    from segue.evaluation.scores import HarmonyScores

    def scores(sounding: list[float]) -> HarmonyScores:
        return HarmonyScores(
            0.9, 0.1, np.ones(12), np.ones(12), np.array(sounding), np.array([4.0, 4.0, 4.0, 4.0])
        )

    tune = scores([0.9, 0.0, 0.0, 0.0])  # a melody's real continuation: the voices below it silent
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero
        row = scores([0.45, 0.2, 0.0, 0.0]).row(tune)
        assert row["sounding share, furthest voice"] == pytest.approx(0.5)
        assert np.isnan(scores([0.5, 0.5, 0.5, 0.5]).row(scores([0.0] * 4))["sounding share, furthest voice"])
        # a voice the real tunes sound in 1% of their steps is not judged by a relative gap (0.5 / 0.01)
        key, two_voices = "sounding share, furthest voice", scores([0.9, 0.5, 0.0, 0.0])
        assert two_voices.row(scores([0.9, 0.01, 0.0, 0.0]))[key] == 0.0
        assert two_voices.row(scores([0.9, 0.2, 0.0, 0.0]))[key] == pytest.approx(1.5)


def test_each_window_is_drawn_under_its_own_primes_key(tiny_model):
    from segue.evaluation.systems import model_system
    from segue.music.tokens import from_tokens
    from segue.pipeline.model import load_model

    model = load_model(tiny_model)
    config = model.config
    primes = np.zeros((2, config.voices, config.context_steps), dtype=np.int64)  # rests
    primes[0, 0, 0], primes[0, 0, 1:] = 2 + 60 - config.lowest, 1  # a C held through window 0
    primes[1, 0, 0], primes[1, 0, 1:] = 2 + 66 - config.lowest, 1  # an F sharp through window 1

    def in_prime_key(draws: np.ndarray) -> list[float]:
        shares = []
        for draw, pitch_class in zip(draws, (0, 6)):
            pitches = from_tokens(draw, config.lowest)["pitch"]
            shares.append(float(np.mean(pitches % 12 == pitch_class)))
        return shares

    keyed = in_prime_key(model_system(model, 4, key_strength=10.0)(primes, 0))
    free = in_prime_key(model_system(model, 4)(primes, 0))
    assert min(keyed) > 0.9 and max(free) < 0.5


def test_the_critic_reads_a_draw_of_its_own_seed_for_every_generative_system(
    tiny_model: Path, tmp_path: Path, monkeypatch
):
    from segue.evaluation import report

    seen: list[tuple[int, int, bytes]] = []  # (seeds asked, first seed, the continuations read)

    def spy(rolls, windows, continuations, halves, voices, pitches, seeds, seed):
        seen.append((seeds, seed, np.asarray(continuations).tobytes()))
        return [0.5] * seeds

    monkeypatch.setattr(report, "critic_accuracies", spy)
    args = ["evaluate", "--model", str(tiny_model), "--quick", "--out", str(tmp_path / "r")]
    assert (
        main(
            [
                *args,
                "--prime-bars",
                "2",
                "--bars",
                "2",
                "--cvae",
                "none",
                "--lstm",
                "none",
                "--critic-seeds",
                "3",
            ]
        )
        == 0
    )
    by_seed = [(seeds, seed) for seeds, seed, _ in seen]
    # GAN and Markov (generative): three calls of one seed each, seeds 0, 1, 2, on three draws;
    # Bach, the repeated prime and the other pieces: one call of three seeds on their one continuation
    assert by_seed.count((1, 0)) == by_seed.count((1, 1)) == by_seed.count((1, 2)) == 2
    assert by_seed.count((3, 0)) == len(SYSTEMS) - 2
    gan_draws = [data for seeds, _, data in seen[:3]]
    assert seen[0][:2] == (1, 0) and len(set(gan_draws)) == 3  # the GAN's first three calls: three draws
