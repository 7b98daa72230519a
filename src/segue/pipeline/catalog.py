"""The models that ship inside the package, and the rule that picks one for a file.

Every folder under ``assets/models/`` is a model folder whose config.json also names its
``style`` (the music it learned) and a one-line ``description``. A file is continued by the
shipped model of its meter in the style asked for, else of its texture (a melody model for a
single melodic line, a model of several voices otherwise; the chorales first). A meter no
shipped model knows is continued by the model of the nearest meter (:func:`meter_fit`): the
same beats at another note value (3/8 as 3/4), else the model's bars one after the other until
the file's bars are filled (12/8 by 6/8 bars, 5/4 by 4/4 bars).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path

from segue.errors import MidiError, SegueError
from segue.models.config import ModelConfig
from segue.pipeline.model import SegueModel, load_model, read_config
from segue.sampler import PlainSampler

DEFAULT_STYLE = "chorales"
"""The style chosen when none is asked for and the file's meter has a model in it."""
SHIPPED_STEPS_PER_BEAT = 4
"""The grid of every shipped model (a file is read on it before its model is chosen)."""


def shipped_dir() -> Path:
    """The folder that holds the shipped model folders."""
    return Path(str(resources.files("segue") / "assets" / "models"))


@dataclass(frozen=True)
class Entry:
    """One shipped model: its folder and what the rule reads of it."""

    name: str
    path: Path
    style: str
    description: str
    config: ModelConfig

    @property
    def meter(self) -> str:
        """The meter the model knows."""
        return self.config.meter

    @property
    def voices(self) -> int:
        """The voices it writes."""
        return self.config.voices


def shipped_models(folder: Path | None = None) -> list[Entry]:
    """The shipped models (or those in ``folder``, a folder of model folders), by style and meter."""
    entries = []
    for path in sorted(p for p in (folder or shipped_dir()).iterdir() if (p / "config.json").is_file()):
        config, info = read_config(path)
        entries.append(
            Entry(
                name=path.name,
                path=path,
                style=str(info.get("style", path.name)),
                description=str(info.get("description", "")),
                config=config,
            )
        )
    return sorted(entries, key=lambda e: (e.style, _meter_order(e.meter), e.name))


def _meter_order(meter: str) -> tuple[int, int]:
    numerator, denominator = (int(x) for x in meter.split("/"))
    return denominator, numerator


@dataclass(frozen=True)
class Choice:
    """The model picked for a file, and why (printed by ``segue generate``)."""

    entry: Entry
    reason: str
    scale: Fraction = Fraction(1)
    """The file is read on a grid this many times the model's (see :class:`MeterFit`)."""


def choose_model(
    meter: str,
    style: str | None = None,
    label: str = "<file>",
    folder: Path | None = None,
    melody: bool = False,
) -> Choice:
    """The shipped model for a file in ``meter``: the one of the style asked for; else one whose
    texture fits (one voice for a single melodic line, ``melody``; several voices for anything
    else), of the default style first, in the meter or in the same beats at another note value;
    else any of the meter; else the nearest meter (:func:`meter_fit`), a fitting texture first. A
    style or meter no shipped model has is an error that says which there are."""
    return _choose(shipped_models(folder), meter, style, label, melody)


def _parts(meter: str) -> tuple[int, int]:
    numerator, denominator = (int(x) for x in meter.split("/"))
    return numerator, denominator


def compound(meter: str) -> bool:
    """Whether a meter counts in dotted beats (3/8, 6/8, 9/8, 12/8, 6/16 ...)."""
    numerator, denominator = _parts(meter)
    return denominator >= 8 and numerator % 3 == 0


@dataclass(frozen=True, order=True)
class MeterFit:
    """How a model's meter serves a file's (lower ``rank`` first): 0 the same meter; 1 the same
    beats at another note value (3/8 read as 3/4, 6/4 as 6/8, 4/1 as 4/4: the file is read on a
    grid twice, half, four times or a quarter as fine, ``scale``); 2 a bar that is a whole number
    of the file's bars or the other way round, counted the same way (12/8 and 3/8 by 6/8 bars,
    6/4 by 3/4 bars, 2/2 by 4/4); 3 the nearest bar that counts the same way (9/8 by 6/8 bars, 5/4
    by 4/4), 4 any other. Ranks 2 to 4 write the model's bars one after the other until the file's
    bars are filled."""

    rank: int
    distance: float  # |log| of the ratio of the bars' lengths
    scale: Fraction  # the file is read at the model's steps per beat times this


def meter_fit(meter: str, model_meter: str) -> MeterFit:
    """How a model in ``model_meter`` serves a file in ``meter`` (see :class:`MeterFit`)."""
    numerator, denominator = _parts(meter)
    if meter == model_meter:
        return MeterFit(0, 0.0, Fraction(1))
    for scale in (Fraction(2), Fraction(1, 2), Fraction(4), Fraction(1, 4)):
        scaled = Fraction(denominator) / scale
        if scaled.denominator == 1 and f"{numerator}/{scaled.numerator}" == model_meter:
            return MeterFit(1, 0.0, scale)
    ratio = Fraction(*_parts(model_meter)) / Fraction(numerator, denominator)
    alike = compound(meter) == compound(model_meter)
    whole = ratio.denominator == 1 or ratio.numerator == 1
    rank = 2 if alike and whole else 3 if alike else 4
    return MeterFit(rank, abs(math.log(ratio)), Fraction(1))


def _choose(entries: list[Entry], meter: str, style: str | None, label: str, melody: bool) -> Choice:
    """:func:`choose_model` among ``entries``."""
    styles = sorted({e.style for e in entries})
    if not entries:
        raise MidiError(label, "there are no models to continue it with")
    if style is not None and style not in styles:
        raise SegueError(f"--style {style}: no such style; the shipped styles are {', '.join(styles)}")
    if style is not None:
        entries = [e for e in entries if e.style == style]
    texture = "a melody" if melody else "several parts"

    def fits(e: Entry) -> bool:  # a melody model for a melody, a model of parts for parts
        return (e.voices == 1) == melody

    def order(e: Entry) -> tuple[object, ...]:
        # a model that reads the file's bars as they are (its meter, or the same beats at another
        # note value) and fits its texture comes first: a melody in 4/2 goes to the 4/4 melody
        # model read at half the grid rather than to the 4/2 mass model of four voices
        fit, texture_fits = meter_fit(meter, e.meter), fits(e)
        return (
            fit.rank > (1 if texture_fits else 0),
            not texture_fits,
            fit,
            e.style != DEFAULT_STYLE,
            _meter_order(e.meter),
        )

    chosen = min(entries, key=order)
    fit = meter_fit(meter, chosen.meter)
    in_meter = any(meter_fit(meter, e.meter).rank == 0 for e in entries)
    missing = f"no {meter} model for {texture}" if in_meter else f"no model is in {meter}"
    if fit.rank == 0:
        where = meter
    elif fit.rank == 1:
        where = f"{meter}, read as {chosen.meter} ({missing})"
    else:
        where = f"{meter}, continued in {chosen.meter} bars ({missing})"
    if style is not None:
        return Choice(chosen, f"style {style} asked for, the file is in {where}", fit.scale)
    why = f"{texture} in {where}" + ("" if fits(chosen) else f"; no {chosen.meter} model for {texture}")
    return Choice(chosen, f"{why}; style {chosen.style}", fit.scale)


def find_shipped(name: str) -> Entry | None:
    """The shipped model of that name, if there is one."""
    return next((e for e in shipped_models() if e.name == name), None)


def model_path(value: str) -> Path:
    """A ``--model`` value: the folder of the shipped model of that name, else a path."""
    entry = find_shipped(value) if "/" not in value and not Path(value).exists() else None
    return entry.path if entry is not None else Path(value)


class Shelf:
    """Shipped models loaded once each, when first chosen (the studio keeps one for its life).
    Thread-safe: the studio's workers may ask for the same model at once."""

    def __init__(self, style: str | None = None, plain: bool = False, folder: Path | None = None) -> None:
        """``plain``: the models draw every cell on their own, without their samplers; ``folder``:
        a folder of model folders instead of the shipped ones."""
        self.style, self.plain, self.folder = style, plain, folder
        self.entries = shipped_models(folder)  # read once: the shelf's catalog
        self._loaded: dict[str, SegueModel] = {}
        self._lock = threading.Lock()

    def model_for(self, meter: str, label: str = "<file>", melody: bool = False) -> tuple[SegueModel, Choice]:
        """The loaded model for a file in ``meter`` (a single melodic line: ``melody``), and the choice."""
        choice = _choose(self.entries, meter, self.style, label, melody)
        with self._lock:
            model = self._loaded.get(choice.entry.name)
            if model is None:
                model = self._loaded[choice.entry.name] = load_model(choice.entry.path)
                if self.plain:
                    model.sampler = PlainSampler()
        return model, choice


__all__ = [
    "DEFAULT_STYLE",
    "SHIPPED_STEPS_PER_BEAT",
    "Choice",
    "Entry",
    "MeterFit",
    "Shelf",
    "choose_model",
    "compound",
    "find_shipped",
    "meter_fit",
    "model_path",
    "shipped_models",
]
