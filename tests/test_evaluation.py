import json
from pathlib import Path

import numpy as np
import pytest
import torch

from segue.baselines import VoiceMarkov, repeat_prime, transpose_tokens
from segue.cli import main
from segue.evaluation import SYSTEMS, classifier_accuracy
from segue.modelfile import SegueModel
from segue.music.tokens import FIRST_PITCH, HOLD, REST
from tests.tiny import TINY_MODEL


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
def tiny_model(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return SegueModel.create(TINY_MODEL).save(tmp_path_factory.mktemp("m") / "tiny")


def test_evaluate_quick_writes_a_report_with_every_system(tiny_model: Path, tmp_path: Path, capsys):
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
    assert main([*args, "--cvae", "none"]) == 0
    assert list(json.loads((out / "report.json").read_text())["table"]) == list(SYSTEMS)
    assert main([*args, "--cvae", str(tiny_model)]) == 0  # the tiny model stands in for the CVAE
    document = json.loads((out / "report.json").read_text())
    assert list(document["table"]) == [*SYSTEMS, "CVAE"]
    for system, row in document["table"].items():
        assert 0.0 <= row["classifier accuracy"] <= 1.0 and "PCP correlation" in row, system
    assert document["table"]["repeat prime"]["PCP correlation"] == pytest.approx(1.0)
    assert "| GAN |" in (out / "report.md").read_text()
    for picture in ("samples.png", "histograms.png"):
        assert (out / picture).read_bytes()[:4] == b"\x89PNG"
    assert main(["evaluate", "--model", str(tiny_model), "--bars", "0", "--out", str(out)]) == 1
