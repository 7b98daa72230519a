"""Model folders: ``config.json`` + ``model.safetensors`` (the Hugging Face convention).

A folder holds the model's configuration and the weights of the generator (its
exponential moving average, used for sampling) and of the discriminator. Loading never
unpickles: safetensors holds only tensors, and the config is checked before any
tensor is allocated.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from segue import __version__
from segue.config import LSTMConfig, ModelConfig, from_dict, to_dict
from segue.errors import SegueError
from segue.files import make_ordinary
from segue.models import Discriminator, Generator
from segue.models.lineprior import Calibration, LinePrior
from segue.models.lstm import TokenLSTM

CONFIG_NAME = "config.json"
LINES_KEY = "line_prior.potentials"
CALIBRATION_PREFIX = "line_prior.calibration."
WEIGHTS_NAME = "model.safetensors"


def default_model_dir() -> Path:
    """The model shipped inside the package."""
    return Path(str(resources.files("segue") / "assets" / "model"))


def baseline_model_dir(name: str = "cvae") -> Path:
    """A baseline model shipped inside the package (the conditional VAE)."""
    return Path(str(resources.files("segue") / "assets" / "baselines" / name))


@dataclass
class SegueModel:
    """A generator with its discriminator and config, ready to sample or to evaluate."""

    config: ModelConfig
    generator: Generator
    discriminator: Discriminator
    info: dict[str, Any]
    lines: LinePrior | None = None
    """The voice-leading prior used when sampling (None: every cell drawn on its own)."""

    @classmethod
    def create(cls, config: ModelConfig, info: dict[str, Any] | None = None) -> SegueModel:
        """A freshly initialised model."""
        return cls(config, Generator(config), Discriminator(config), dict(info or {}))

    def save(self, path: str | Path) -> Path:
        """Write the folder (config.json and model.safetensors); see :func:`write_model_folder`."""
        tensors = {
            f"{prefix}.{k}": v
            for prefix, module in (("generator", self.generator), ("discriminator", self.discriminator))
            for k, v in module.state_dict().items()
        }
        document = {**self.info, "segue_version": __version__, "model": to_dict(self.config)}
        document.pop("sampling", None)
        if self.lines is not None:
            tensors[LINES_KEY] = self.lines.potentials
            if self.lines.calibration is not None:
                for name, weights in self.lines.calibration.tensors().items():
                    tensors[CALIBRATION_PREFIX + name] = weights
            document["sampling"] = {"line_strength": self.lines.strength, "parallels": self.lines.parallels}
        return write_model_folder(Path(path), tensors, document)

    def to(self, device: torch.device | str) -> SegueModel:
        """Move both networks to ``device``."""
        self.generator.to(device)
        self.discriminator.to(device)
        return self

    def eval(self) -> SegueModel:
        """Put both networks in inference mode."""
        self.generator.eval()
        self.discriminator.eval()
        return self


def write_model_folder(path: Path, tensors: dict[str, torch.Tensor], document: dict[str, Any]) -> Path:
    """Write config.json and model.safetensors into ``path`` as a whole, atomically.

    Both files are written into a temporary folder beside ``path``, which then replaces
    ``path``; an existing folder is replaced only if it holds nothing but a model's two
    files.
    """
    names = {p.name for p in path.iterdir()} if path.is_dir() else set()
    if path.exists() and (not path.is_dir() or names - {CONFIG_NAME, WEIGHTS_NAME}):
        raise SegueError(f"{path}: exists and is not a model folder; refusing to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        save_file(tensors, str(tmp / WEIGHTS_NAME), metadata={"format": "pt"})
        (tmp / CONFIG_NAME).write_text(json.dumps(document, indent=2) + "\n")
        for item in (tmp, *tmp.iterdir()):
            make_ordinary(item)
        old = path.with_name(f".{path.name}.old")
        if path.exists():
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def read_config(path: Path) -> tuple[ModelConfig, dict[str, Any]]:
    """The model config of a folder (checked), and the rest of config.json."""
    config_path = path / CONFIG_NAME
    if not config_path.is_file():
        raise SegueError(f"{path}: not a segue model folder (no {CONFIG_NAME})")
    try:
        document = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SegueError(f"{config_path}: unreadable ({error})") from None
    if not isinstance(document, dict) or "model" not in document:
        raise SegueError(f"{config_path}: no model settings")
    config = from_dict(ModelConfig, document.pop("model"), where=str(config_path))
    return config, document


def load_model(path: str | Path, device: str | torch.device = "cpu") -> SegueModel:
    """Load a model folder written by :meth:`SegueModel.save`."""
    path = Path(path)
    config, info = read_config(path)
    if "baseline" in info and info["baseline"] != "cvae":
        raise SegueError(f"{path}: holds the {info['baseline']} baseline, not a GAN or CVAE generator")
    weights_path, tensors = _read_weights(path, device)
    sampling = info.pop("sampling", None)
    model = SegueModel.create(config, info).to(device)  # sizes are capped by the config's checks
    for prefix, module in (("generator.", model.generator), ("discriminator.", model.discriminator)):
        _load_into(
            module, {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}, weights_path
        )
    prefix = CALIBRATION_PREFIX
    calibration = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    model.lines = _line_prior(tensors.get(LINES_KEY), calibration, sampling, config, weights_path)
    return model.eval()


def _line_prior(
    potentials: torch.Tensor | None,
    calibration: dict[str, torch.Tensor],
    settings: object,
    config: ModelConfig,
    where: Path,
) -> LinePrior | None:
    """The folder's line prior, checked against the config, or None if it has none."""
    if potentials is None:
        if calibration:
            raise SegueError(f"{where}: a line prior calibration without {LINES_KEY}")
        return None
    size = 2 * (config.vocab - 2) + 1
    anywhere, per_position = (config.voices, size, size), (config.voices, config.steps_per_bar, size, size)
    if tuple(potentials.shape) not in (anywhere, (config.voices, 1, size, size), per_position):
        raise SegueError(
            f"{where}: {LINES_KEY} has shape {tuple(potentials.shape)}, the config needs "
            f"{anywhere} or {per_position}"
        )
    settings = settings if isinstance(settings, dict) else {}
    try:
        return LinePrior(
            potentials.cpu(),
            strength=float(settings.get("line_strength", 1.0)),
            parallels=float(settings.get("parallels", 5.0)),
            calibration=Calibration(**{k: v.cpu() for k, v in calibration.items()}) if calibration else None,
        )
    except (TypeError, ValueError) as error:
        raise SegueError(f"{where.parent}: bad sampling settings or line prior ({error})") from None


def _read_weights(path: Path, device: str | torch.device = "cpu") -> tuple[Path, dict[str, torch.Tensor]]:
    """The folder's safetensors file and its tensors (never unpickled), or a one-line error."""
    weights_path = path / WEIGHTS_NAME
    if not weights_path.is_file():
        raise SegueError(f"{path}: no {WEIGHTS_NAME}")
    try:
        return weights_path, load_file(str(weights_path), device=str(device))
    except Exception as error:
        raise SegueError(f"{weights_path}: unreadable safetensors file ({error})") from None


def _load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], where: Path) -> None:
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise SegueError(f"{where}: weights do not match the config ({detail})")
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            needed = tuple(expected[name].shape)
            raise SegueError(f"{where}: {name} has shape {tuple(tensor.shape)}, the config needs {needed}")
    module.load_state_dict(tensors)


def save_lstm(net: TokenLSTM, model_config: ModelConfig, path: str | Path, info: dict[str, Any]) -> Path:
    """Write the LSTM baseline as a model folder (``"baseline": "lstm"`` in config.json).

    ``model_config`` gives the token space (voices, pitch range, meter) it was trained in.
    """
    document = {
        **info,
        "segue_version": __version__,
        "baseline": "lstm",
        "model": to_dict(model_config),
        "lstm": to_dict(net.config),
    }
    return write_model_folder(Path(path), {f"lstm.{k}": v for k, v in net.state_dict().items()}, document)


def load_lstm(path: str | Path) -> tuple[TokenLSTM, ModelConfig]:
    """Load the LSTM baseline written by :func:`save_lstm`, and its token space."""
    path = Path(path)
    model_config, info = read_config(path)
    if info.get("baseline") != "lstm":
        raise SegueError(f"{path}: not an LSTM baseline folder")
    config = from_dict(LSTMConfig, info.get("lstm", {}), where=f"{path / CONFIG_NAME} [lstm]")
    if config.voices != model_config.voices or config.vocab != model_config.vocab:
        raise SegueError(f"{path}: the LSTM's voices or vocabulary do not match its model settings")
    weights_path, tensors = _read_weights(path)
    net = TokenLSTM(config)
    _load_into(net, {k[len("lstm.") :]: v for k, v in tensors.items() if k.startswith("lstm.")}, weights_path)
    return net.eval(), model_config
