"""The systems the lab scripts compare, as their command lines name them.

    NAME=FOLDER[:plain|:key|:keyS|:plain+key|:plain+keyS][@T]

FOLDER is a model folder or a shipped model's name (``shipped``: the bundled default);
``:plain`` draws without the sampler, ``:key`` under the key prior of each prime's last bars
that ``segue generate`` adds (``:keyS``: of strength S), ``@T`` truncates z at T.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from segue.data.splits import split_pieces
from segue.evaluation.systems import Continuer, model_system
from segue.evaluation.windows import Windows, test_windows
from segue.models.config import ModelConfig
from segue.pipeline.catalog import model_path
from segue.pipeline.model import SegueModel, load_model
from segue.sampler import PlainSampler
from segue.sampler.config import KEY_STRENGTH
from segue.training.calibration import validation_half

GRAMMAR = "NAME=FOLDER[:plain|:key|:keyS|:plain+key|:plain+keyS][@T]"


@dataclass(frozen=True)
class SystemSpec:
    """One system of a lab command line."""

    name: str
    folder: str
    plain: bool = False
    key_strength: float = 0.0
    truncation: float | None = None

    def load(self) -> SegueModel:
        """The model, its sampler taken away when drawn plainly."""
        model = load_model(None if self.folder == "shipped" else model_path(self.folder))
        if self.plain:
            model.sampler = PlainSampler()
        return model

    def continuer(self, model: SegueModel, bars: int = 4) -> Continuer:
        """``model`` (from :meth:`load`) as a system that continues primes by ``bars`` bars."""
        return model_system(model, bars, key_strength=self.key_strength, truncation=self.truncation)


def parse_system(spec: str, key_strength: float = KEY_STRENGTH) -> SystemSpec:
    """``spec`` read by :data:`GRAMMAR` (``:key`` meaning ``key_strength``); a bad one exits
    with a one-line error."""
    name, equals, rest = spec.partition("=")
    folder, _, option = rest.partition(":")
    option, _, cut_at = option.partition("@")
    if not equals or not name or not folder:
        sys.exit(f"error: {spec}: systems look like {GRAMMAR}")
    plain, _, key = option.partition("+") if option.startswith("plain") else ("", "", option)
    if plain not in ("", "plain") or (key and not key.startswith("key")):
        sys.exit(f"error: {spec}: the options are :plain, :key, :keyS, :plain+key and :plain+keyS")
    strength = 0.0
    if key:
        try:
            strength = float(key[3:]) if key[3:] else key_strength
        except ValueError:
            sys.exit(f"error: {spec}: :keyS takes a number (the key prior's strength)")
    try:
        truncation = float(cut_at) if cut_at else None
    except ValueError:
        sys.exit(f"error: {spec}: @T takes a number (the truncation of z)")
    if truncation is not None and not truncation > 0:
        sys.exit(f"error: {spec}: the truncation must be positive")
    return SystemSpec(name, folder, plain == "plain", strength, truncation)


@dataclass(frozen=True)
class ChoiceHalf:
    """The systems of a lab command line and the choice half's windows (4 + 4 bars, every bar
    offset, in the first system's meter and grid), for statistics read real against drawn."""

    specs: list[SystemSpec]
    models: list[SegueModel]
    pieces: int
    windows: Windows
    draws: int

    @property
    def config(self) -> ModelConfig:
        """The first system's model settings (the windows are cut in its grid)."""
        return self.models[0].config

    def report(self, show: Callable[[str, list[np.ndarray]], None]) -> None:
        """Call ``show`` with the real continuations, then with each system's draws (seeds 0 to
        ``draws`` - 1) of the same primes."""
        print(f"choice half: {self.pieces} pieces, {len(self.windows.primes)} windows")
        show("real", [self.windows.reals])
        for spec, model in zip(self.specs, self.models, strict=True):
            system = spec.continuer(model)
            show(spec.name, [system(self.windows.primes, seed) for seed in range(self.draws)])


def choice_half(description: str) -> ChoiceHalf:
    """The command line ``SYSTEM ... [--data DS] [--draws 3]`` read, its systems loaded and the
    choice half's windows cut."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("systems", nargs="+", metavar=GRAMMAR)
    parser.add_argument("--data", default=None, help="a dataset (default: the bundled chorales)")
    parser.add_argument("--draws", type=int, default=3, help="draws (seeds) per system")
    args = parser.parse_args()
    specs = [parse_system(spec) for spec in args.systems]
    models = [spec.load() for spec in specs]
    pieces = validation_half(split_pieces(args.data, "valid"), models[0].config, "choice")
    windows = test_windows(pieces, models[0], 4, 4, 20, 1)
    return ChoiceHalf(specs, models, len(pieces), windows, args.draws)
