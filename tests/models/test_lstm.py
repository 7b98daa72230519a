import json
from pathlib import Path

import numpy as np
import pytest
import torch

from segue.errors import SegueError
from segue.models.lstm import LSTMConfig, TokenLSTM
from segue.music.tokens import FIRST_PITCH, HOLD, REST
from segue.pipeline.lstm import load_lstm, save_lstm
from segue.pipeline.model import load_model
from segue.training.lstm import lstm_loss
from tests.tiny import TINY_MODEL

SMALL = LSTMConfig(voices=2, vocab=TINY_MODEL.vocab, embed=16, hidden=32, layers=1)


def test_each_token_is_predicted_from_what_comes_before_it_only():
    torch.manual_seed(0)
    net = TokenLSTM(SMALL).eval()
    grid = torch.randint(0, SMALL.vocab, (1, 2, 8))
    changed = grid.clone()
    changed[0, 0, 4] = (grid[0, 0, 4] + 1) % SMALL.vocab  # the upper voice at step 4
    a, b = net(grid), net(changed)
    assert a.shape == (1, 2, 8, SMALL.vocab)
    assert torch.equal(a[:, :, :4], b[:, :, :4]) and torch.equal(a[:, 0, 4], b[:, 0, 4])
    assert not torch.equal(a[:, 1, 4], b[:, 1, 4])  # the lower voice at that step reads it


def test_lstm_learns_and_continues_a_pattern_and_never_holds_a_rest():
    torch.manual_seed(0)
    bar = [FIRST_PITCH + 3, HOLD, FIRST_PITCH + 7, HOLD, FIRST_PITCH + 5, HOLD, HOLD, REST]
    low = [FIRST_PITCH, HOLD, HOLD, HOLD, FIRST_PITCH + 2, HOLD, REST, REST]
    grid = torch.tensor([bar * 6, low * 6])[None].repeat(8, 1, 1)
    net = TokenLSTM(SMALL)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(150):
        loss = lstm_loss(net, grid)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    out = net.continue_tokens(grid[:2, :, :16], 16, torch.Generator().manual_seed(0), temperature=0.3)
    assert out[0].tolist() == [bar * 2, low * 2]
    noisy = net.continue_tokens(grid[:4, :, :16], 32, torch.Generator().manual_seed(1), temperature=3.0)
    previous = torch.cat([grid[:4, :, 15:16], noisy[:, :, :-1]], dim=2)
    assert not ((noisy == HOLD) & (previous == REST)).any()
    again = net.continue_tokens(grid[:4, :, :16], 32, torch.Generator().manual_seed(1), temperature=3.0)
    assert torch.equal(noisy, again)


def test_lstm_folder_round_trip_and_refusals(tmp_path: Path):
    torch.manual_seed(0)
    config = LSTMConfig(voices=TINY_MODEL.voices, vocab=TINY_MODEL.vocab, embed=8, hidden=16)
    net = TokenLSTM(config).eval()
    path = save_lstm(net, TINY_MODEL, tmp_path / "lstm", {"steps": 1})
    loaded, space = load_lstm(path)
    assert space == TINY_MODEL
    prime = torch.randint(2, config.vocab, (3, config.voices, 16))
    one = net.continue_tokens(prime, 8, torch.Generator().manual_seed(2))
    two = loaded.continue_tokens(prime, 8, torch.Generator().manual_seed(2))
    assert torch.equal(one, two)
    with pytest.raises(SegueError, match="lstm baseline"):
        load_model(path)
    document = json.loads((path / "config.json").read_text())
    document["lstm"]["hidden"] = 10**9
    (path / "config.json").write_text(json.dumps(document))
    with pytest.raises(SegueError, match="hidden"):
        load_lstm(path)
    document["lstm"]["hidden"] = 24  # plausible, but not what the weights hold
    (path / "config.json").write_text(json.dumps(document))
    with pytest.raises(SegueError, match="shape"):
        load_lstm(path)
    with torch.no_grad():
        assert np.isfinite(lstm_loss(loaded, prime).item())
