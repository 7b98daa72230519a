"""A model: the generator, its discriminator and the sampler that draws tokens from the
generator's output, with the config that built them; saved as a model folder
(:mod:`segue.pipeline.folder`): ``config.json`` + ``model.safetensors`` for the networks,
``sampler/`` for the sampler."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from segue.configfile import from_dict, to_dict
from segue.errors import SegueError
from segue.models import Discriminator, Generator
from segue.models.config import ModelConfig
from segue.pipeline.folder import CONFIG_NAME, WEIGHTS_NAME, load_into, with_prefix, write_model_folder
from segue.sampler import PlainSampler, Sampler
from segue.sampler.folder import SECTION, load_sampler, sampler_files
from segue.sampler.folder import WEIGHTS_NAME as SAMPLER_WEIGHTS
from segue.version import __version__
from segue.weights import read_document, read_weights

VoiceRanges = tuple[tuple[int, int], ...]


def default_model_dir() -> Path:
    """The default shipped model: the chorales in 4/4 (the others: :mod:`segue.pipeline.catalog`)."""
    return Path(str(resources.files("segue") / "assets" / "models" / "chorales"))


def baseline_model_dir(name: str = "cvae") -> Path:
    """A baseline model shipped inside the package (the conditional VAE, the LSTM)."""
    return Path(str(resources.files("segue") / "assets" / "baselines" / name))


@dataclass
class SegueModel:
    """A generator with its discriminator, sampler and config, ready to sample or to evaluate."""

    config: ModelConfig
    generator: Generator
    discriminator: Discriminator
    info: dict[str, Any] = field(default_factory=dict)
    """What config.json says of how the model was made (method, steps, data, training settings)."""
    sampler: Sampler = field(default_factory=PlainSampler)
    """How tokens are drawn from the generator's output (the plain draw by default)."""
    voice_ranges: VoiceRanges | None = None
    """Each voice's (lowest, highest) pitch in the training data (None: unknown)."""

    @classmethod
    def create(cls, config: ModelConfig, info: dict[str, Any] | None = None) -> SegueModel:
        """A freshly initialised model."""
        return cls(config, Generator(config), Discriminator(config), dict(info or {}))

    def ranges(self) -> VoiceRanges:
        """Each voice's (lowest, highest) pitch in the training data, else the model's range."""
        if self.voice_ranges is not None:
            return self.voice_ranges
        return ((self.config.lowest, self.config.highest),) * self.config.voices

    def save(self, path: str | Path) -> Path:
        """Write the model folder (see :func:`segue.pipeline.folder.write_model_folder`)."""
        tensors = {
            f"{prefix}.{k}": v
            for prefix, module in (("generator", self.generator), ("discriminator", self.discriminator))
            for k, v in module.state_dict().items()
        }
        document = {**self.info, "segue_version": __version__, "model": to_dict(self.config)}
        if self.voice_ranges is not None:
            document["voice_ranges"] = [list(r) for r in self.voice_ranges]
        files = sampler_files(self.sampler)
        sections = {SECTION: (SAMPLER_WEIGHTS, files)} if files is not None else {}
        return write_model_folder(Path(path), (tensors, document), sections, section_names=(SECTION,))

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


def read_config(path: Path) -> tuple[ModelConfig, dict[str, Any]]:
    """The model config of a folder (checked), and the rest of config.json."""
    if not (path / CONFIG_NAME).is_file():
        raise SegueError(f"{path}: not a segue model folder (no {CONFIG_NAME})")
    document = read_document(path / CONFIG_NAME)
    if "model" not in document:
        raise SegueError(f"{path / CONFIG_NAME}: no model settings")
    config = from_dict(ModelConfig, document.pop("model"), where=str(path / CONFIG_NAME))
    return config, document


def load_model(path: str | Path | None = None, device: str | torch.device = "cpu") -> SegueModel:
    """Load a model folder written by :meth:`SegueModel.save` (default: the shipped model)."""
    path = Path(path) if path is not None else default_model_dir()
    config, info = read_config(path)
    if "baseline" in info and info["baseline"] != "cvae":
        raise SegueError(f"{path}: holds the {info['baseline']} baseline, not a GAN or CVAE generator")
    ranges = _voice_ranges(info.pop("voice_ranges", None), config, path)
    weights_path = path / WEIGHTS_NAME
    tensors = read_weights(weights_path, device)
    model = SegueModel.create(config, info).to(device)  # sizes are capped by the config's checks
    load_into(model.generator, with_prefix(tensors, "generator."), weights_path)
    load_into(model.discriminator, with_prefix(tensors, "discriminator."), weights_path)
    model.sampler = load_sampler(path, config.voices, config.steps_per_bar, config.vocab - 2)
    model.voice_ranges = ranges
    return model.eval()


def _voice_ranges(value: object, config: ModelConfig, path: Path) -> VoiceRanges | None:
    """The voice ranges of config.json, checked, or None when it has none."""
    if value is None:
        return None
    try:
        ranges = tuple((int(low), int(high)) for low, high in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        ranges = ()
    if len(ranges) != config.voices or any(not 0 <= lo <= hi <= 127 for lo, hi in ranges):
        raise SegueError(f"{path / CONFIG_NAME}: voice_ranges must give (lowest, highest) for every voice")
    return ranges
