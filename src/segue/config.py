"""Typed, frozen configuration: one dataclass per concern, saved as TOML or JSON.

Every field has a docstring (the text below it), which the CLI and the docs reuse.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from segue.errors import SegueError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

T = TypeVar("T")

LOSSES = ("hinge", "nonsaturating", "wgan-gp")
METHODS = ("gan", "cvae")
PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class ModelConfig:
    """The shape of the generator and discriminator; saved in every model folder."""

    voices: int = 4
    """Monophonic voices (tracks), e.g. 4 for soprano, alto, tenor and bass."""
    voice_names: tuple[str, ...] = ("Soprano", "Alto", "Tenor", "Bass")
    """Names of the voices, written as track names."""
    lowest: int = 36
    """Lowest MIDI pitch the model writes."""
    highest: int = 84
    """Highest MIDI pitch the model writes."""
    meter: str = "4/4"
    """The meter the model knows."""
    steps_per_beat: int = 4
    """Grid steps per quarter note."""
    prior_bars: int = 4
    """P: bars of prior the generator reads."""
    continuation_bars: int = 4
    """C: bars the generator writes in one step."""
    z_dim: int = 64
    """Size of the latent noise z."""
    embed_dim: int = 16
    """Size of each voice's token embedding."""
    channels: int = 128
    """Width of the generator and the conditioner."""
    d_channels: int = 128
    """Width of the discriminator."""
    spectral_norm: bool = True
    """Spectral normalization of the discriminator's layers."""
    minibatch_std: bool = True
    """Give the discriminator the batch's standard deviation (helps against mode collapse)."""
    d_intervals: bool = False
    """Give the discriminator each voice's melodic intervals and the intervals between adjacent
    voices (see :class:`segue.models.discriminator.IntervalFeatures`), and how common each new
    note's pitch class is in the prior."""

    def __post_init__(self) -> None:
        _check(1 <= self.voices <= 16, "voices must be between 1 and 16")
        _check(len(self.voice_names) == self.voices, "voice_names must name every voice")
        _check(0 <= self.lowest < self.highest <= 127, "need 0 <= lowest < highest <= 127")
        _check(self.prior_bars >= 1 and self.continuation_bars >= 1, "bar counts must be positive")
        _check(self.prior_bars <= 16 and self.continuation_bars <= 16, "at most 16 bars per step")
        _check(self.steps_per_beat in (2, 4, 8), "steps_per_beat must be 2, 4 or 8")
        numerator, _, denominator = self.meter.partition("/")
        _check(
            numerator.isdigit() and denominator in ("1", "2", "4", "8", "16") and 1 <= int(numerator) <= 32,
            f"meter must look like 4/4 or 6/8, not {self.meter!r}",
        )
        _check(self.steps_per_bar % self.steps_per_beat == 0, "a bar must hold whole beats")
        # Caps that bound any model to about 100M parameters, checked before anything is allocated.
        for name in ("z_dim", "embed_dim", "channels", "d_channels"):
            value = getattr(self, name)
            _check(isinstance(value, int) and 1 <= value <= 1024, f"{name} must be between 1 and 1024")
        for name in ("channels", "d_channels"):
            _check(getattr(self, name) % 16 == 0, f"{name} must be a multiple of 16")

    @property
    def steps_per_bar(self) -> int:
        """Steps in one bar of the model's meter."""
        numerator, denominator = (int(x) for x in self.meter.split("/"))
        return numerator * self.steps_per_beat * 4 // denominator

    @property
    def vocab(self) -> int:
        """Tokens per voice and step: rest, hold and one per pitch."""
        return 2 + self.highest - self.lowest + 1

    @property
    def prior_steps(self) -> int:
        """Steps of the prior."""
        return self.prior_bars * self.steps_per_bar

    @property
    def continuation_steps(self) -> int:
        """Steps of one generated continuation."""
        return self.continuation_bars * self.steps_per_bar


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained; saved in every run directory."""

    method: str = "gan"
    """gan, or cvae: the conditional-VAE baseline (the same generator trained by maximum likelihood)."""
    steps: int = 8000
    """Generator updates."""
    batch_size: int = 64
    """Windows per batch."""
    lr_g: float = 1e-4
    """Generator learning rate (Adam)."""
    lr_d: float = 4e-4
    """Discriminator learning rate (Adam)."""
    beta1: float = 0.0
    """Adam's first beta."""
    beta2: float = 0.9
    """Adam's second beta."""
    loss: str = "hinge"
    """GAN objective: hinge, nonsaturating or wgan-gp."""
    gp_weight: float = 10.0
    """Gradient-penalty weight for wgan-gp."""
    r1_gamma: float = 0.0
    """R1 penalty on real pairs (0 disables it)."""
    feature_matching: float = 0.0
    """Weight of a feature-matching term in the generator's loss (0 disables it)."""
    mismatch: float = 0.5
    """Weight of real continuations paired with another window's prior, shown to D as fakes."""
    d_steps: int = 1
    """Discriminator updates per generator update."""
    ema_decay: float = 0.999
    """Decay of the exponential moving average of G's weights, used for sampling."""
    tau_start: float = 1.0
    """Gumbel-softmax temperature at the start."""
    tau_end: float = 0.3
    """Gumbel-softmax temperature at the end (annealed geometrically)."""
    reconstruction: float = 0.0
    """gan: weight of an auxiliary conditional-VAE term in G's loss (an encoder reads the real
    continuation; G must rebuild it from the encoder's z); 0 disables it."""
    init: str = ""
    """A model folder whose generator starts G (and its moving average), e.g. a CVAE trained by
    maximum likelihood, which the GAN then sharpens; its discriminator too when it was trained as
    a GAN. Its model settings must be this run's. Empty: start from random weights."""
    kl_warmup: float = 0.3
    """cvae: the share of the steps over which the KL weight rises from 0 to 1."""
    line_strength: float = 1.0
    """Sampling: weight of the voice-leading prior counted on the training data (each voice's
    step-to-step moves), stored in the model; 0 with ``parallels`` 0: no prior."""
    parallels: float = 5.0
    """Sampling: how strongly parallel fifths and octaves between voices are avoided (the weight
    of such a move is divided by e^parallels); stored in the model."""
    calibration_rounds: int = 16
    """Sampling: rounds of moment matching that fit the prior's calibration (how often each class
    of move, each new note by its pitch class's rank and its register in the context, echoes of
    the context, notes struck at each position of the bar and each move at the seam should
    occur; see :meth:`segue.models.lineprior.LinePrior.calibrate`); 0: none."""
    calibration_windows: int = 1000
    """Sampling: how many training windows the calibration continues in each round (besides
    every window of the validation pieces)."""
    max_transpose: int = 5
    """Largest random transposition, in semitones, that keeps every voice in its range."""
    precision: str = "bf16"
    """fp32 or bf16 (autocast; CUDA always uses bf16 autocast where supported)."""
    seed: int = 0
    """Seed of every random choice in training."""
    deterministic: bool = False
    """Use only deterministic algorithms (bit-exact resume on CPU; slower on CUDA)."""
    log_every: int = 20
    """Steps between lines in metrics.csv and TensorBoard."""
    checkpoint_every: int = 500
    """Steps between checkpoints."""
    sample_every: int = 2000
    """Steps between sample continuations (MIDI and PNG)."""

    def __post_init__(self) -> None:
        _check(1 <= self.steps <= 10_000_000, "steps must be between 1 and 10,000,000")
        _check(1 <= self.batch_size <= 65_536, "batch_size must be between 1 and 65,536")
        _check(self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}")
        _check(self.method in METHODS, f"method must be one of {', '.join(METHODS)}")
        _check(self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}")
        _check(0 <= self.ema_decay < 1, "ema_decay must be in [0, 1)")
        _check(0 < self.tau_end <= self.tau_start, "need 0 < tau_end <= tau_start")
        _check(self.d_steps >= 1, "d_steps must be at least 1")
        _check(0 <= self.line_strength <= 10, "line_strength must be between 0 and 10")
        _check(0 <= self.parallels <= 100, "parallels must be between 0 and 100")
        _check(0 <= self.calibration_rounds <= 100, "calibration_rounds must be between 0 and 100")
        _check(1 <= self.calibration_windows <= 100_000, "calibration_windows must be between 1 and 100,000")
        _check(self.batch_size >= 2 or self.mismatch == 0, "mismatched pairs need batch_size >= 2")
        for name in ("log_every", "checkpoint_every", "sample_every"):
            _check(getattr(self, name) >= 1, f"{name} must be at least 1")


@dataclass(frozen=True)
class LSTMConfig:
    """Sizes of the autoregressive LSTM baseline (:class:`segue.models.lstm.TokenLSTM`)."""

    voices: int = 4
    """Voices, read soprano to bass within each step."""
    vocab: int = 51
    """Tokens per voice (rest, hold and the pitches)."""
    embed: int = 64
    """Size of the token and voice embeddings."""
    hidden: int = 256
    """Units per LSTM layer."""
    layers: int = 2
    """LSTM layers."""
    dropout: float = 0.1
    """Dropout between LSTM layers (with more than one)."""

    def __post_init__(self) -> None:
        for name, high in (("voices", 16), ("vocab", 256), ("embed", 1024), ("hidden", 2048), ("layers", 8)):
            value = getattr(self, name)
            _check(isinstance(value, int) and 1 <= value <= high, f"lstm {name} must be between 1 and {high}")
        _check(0.0 <= self.dropout < 1.0, "lstm dropout must be in [0, 1)")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SegueError(f"config: {message}")


def from_dict(cls: type[T], data: dict[str, Any], where: str = "config") -> T:
    """Build a config dataclass from a dict, refusing unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise SegueError(f"{where}: expected a table of settings")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SegueError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    values = {}
    defaults = cls()
    for name, value in data.items():
        default = getattr(defaults, name)
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            raise SegueError(f"{where}: {name} must be {type(default).__name__}, not {type(value).__name__}")
        values[name] = value
    return cls(**values)


def to_dict(config: Any) -> dict[str, Any]:
    """A config as a plain dict (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def toml_dumps(tables: dict[str, dict[str, Any]]) -> str:
    """Write tables of scalars and lists of scalars as TOML."""
    lines = []
    for table, values in tables.items():
        lines.append(f"[{table}]")
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    return "\n".join(lines)


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, with a one-line error if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SegueError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SegueError(f"{path}: not valid TOML ({error})") from None
