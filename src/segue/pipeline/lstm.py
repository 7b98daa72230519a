"""The LSTM baseline's model folder: ``config.json`` (``"baseline": "lstm"``) + ``model.safetensors``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from segue.configfile import from_dict, to_dict
from segue.errors import SegueError
from segue.models.config import LSTMConfig, ModelConfig
from segue.models.lstm import TokenLSTM
from segue.pipeline.folder import CONFIG_NAME, WEIGHTS_NAME, load_into, with_prefix, write_model_folder
from segue.pipeline.model import read_config
from segue.version import __version__
from segue.weights import read_weights


def save_lstm(net: TokenLSTM, model_config: ModelConfig, path: str | Path, info: dict[str, Any]) -> Path:
    """Write the LSTM baseline as a model folder; ``model_config`` gives the token space
    (voices, pitch range, meter) it was trained in."""
    document = {
        **info,
        "segue_version": __version__,
        "baseline": "lstm",
        "model": to_dict(model_config),
        "lstm": to_dict(net.config),
    }
    tensors = {f"lstm.{k}": v for k, v in net.state_dict().items()}
    return write_model_folder(Path(path), (tensors, document))


def load_lstm(path: str | Path) -> tuple[TokenLSTM, ModelConfig]:
    """Load the LSTM baseline written by :func:`save_lstm`, and its token space."""
    path = Path(path)
    model_config, info = read_config(path)
    if info.get("baseline") != "lstm":
        raise SegueError(f"{path}: not an LSTM baseline folder")
    config = from_dict(LSTMConfig, info.get("lstm", {}), where=f"{path / CONFIG_NAME} [lstm]")
    if config.voices != model_config.voices or config.vocab != model_config.vocab:
        raise SegueError(f"{path}: the LSTM's voices or vocabulary do not match its model settings")
    weights_path = path / WEIGHTS_NAME
    net = TokenLSTM(config)
    load_into(net, with_prefix(read_weights(weights_path), "lstm."), weights_path)
    return net.eval(), model_config
