"""How tokens are drawn from the generator's output (:class:`SamplerConfig`); saved in the
``sampler/`` section of every model folder that has a voice-leading sampler, and read from the
``[sampler]`` table of a training config, since the sampler is fitted at the end of training."""

from __future__ import annotations

from dataclasses import dataclass

from segue.configfile import require
from segue.sampler.calibration import MAX_AGES

KEY_STRENGTH = 0.5
"""The key prior's default strength, with which ``segue generate`` draws and a new model's sampler
is calibrated: the smallest of 0, 0.25, 0.5, 1 and 2 under which the continuations' keys are
related to the primes' within 0.1 as often as the real next bars' are, on the validation pieces of
the corpora (``benchmarks/realworld.py --split valid --key-strength S``)."""


@dataclass(frozen=True)
class SamplerConfig:
    """The voice-leading sampler's settings: how strongly it weighs each voice's line and
    parallel motion, and how its calibration is fitted."""

    strength: float = 1.0
    """Weight of the line chain counted on the training data (each voice's step-to-step moves);
    0 with ``parallels`` 0: no voice-leading sampler (every cell drawn on its own)."""
    parallels: float = 5.0
    """How strongly parallel fifths and octaves between voices are avoided (the weight of such a
    move is divided by e^parallels)."""
    calibration_rounds: int = 16
    """Rounds of moment matching that fit the calibration (how often each class of move, each new
    note by its pitch class's rank and its register in the context, echoes of the context, notes
    struck at each position of the bar and each move at the seam should occur; see
    :func:`segue.sampler.calibration.calibrate`); 0: none."""
    calibration_windows: int = 1000
    """How many training windows the calibration continues in each round (besides every window
    of one half of the validation pieces; models are compared on the other half)."""
    vertical: bool = False
    """Also calibrate a weight on each interval class between each voice and each voice above it at
    the same step (the voices are then drawn from the top); the training data's vertical sound."""
    chords: bool = False
    """Also calibrate a weight on each set of pitch classes that the voices above a voice sound over
    it at the same step (the voices are then drawn from the top): the sonority of the voices together,
    which the pairwise ``vertical`` weights do not pin down."""
    ages: int = 0
    """Also calibrate a weight on a note going on into each position of the bar by how long it has
    sounded, telling apart this many lengths in steps (2 or more; longer ones pooled); 0: not weighed. The
    chain's states know whether a note goes on, not for how long it has: without this a half
    note struck on the beat and a whole note look alike at the half bar."""
    together: bool = False
    """Also calibrate a weight on each voice striking a note at each position of the bar by how
    many voices above it strike at the same step (the voices are then drawn from the top): when
    the voices strike together and when apart, which the onset weights, one voice at a time,
    cannot see."""
    textures: bool = False
    """Calibrate apart for contexts in which at most one voice sounds (melodies) and for the rest
    (parts), each on its own windows, and draw each window with its texture's calibration
    (:class:`segue.sampler.textured.TexturedSampler`): for models trained on both at once."""
    styles: bool = False
    """With ``textures``, calibrate the part music apart for each style its training pieces name
    (a dataset's ``style``, as ``scripts/build_general.py`` records it) rather than pooled, and
    draw a window of parts with the calibration of the style its context reads as
    (:class:`segue.sampler.styles.StyleReader`, fitted on the training windows): for models trained
    on several corpora at once."""

    rhythm_draws: int = 1
    """Draw this many candidates of each window and keep one by its notes' lengths, towards the
    training data's (:mod:`segue.sampler.rhythm`: importance resampling by a hazard model of note
    lengths, counted on training windows and on this sampler's own draws of them); 1: no choice."""
    rhythm_weight: float = 0.5
    """How far the choice goes towards the training data's note lengths (the power of the
    importance weights: 1 the whole way, smaller less)."""

    key_strength: float = KEY_STRENGTH
    """The key prior (:func:`segue.pipeline.sampling.key_bias`) the calibration draws under: by
    default the prior ``segue generate`` adds, so that the calibration fits the draw users hear
    (a sampler calibrated without it and drawn under it read 0.753 against 0.657 on the
    Palestrina choice half); 0: calibrated without it."""

    def __post_init__(self) -> None:
        require(0 <= self.strength <= 10, "strength must be between 0 and 10")
        require(0 <= self.key_strength <= 10, "key_strength must be between 0 and 10")
        require(0 <= self.parallels <= 100, "parallels must be between 0 and 100")
        require(1 <= self.rhythm_draws <= 64, "rhythm_draws must be between 1 and 64")
        require(self.ages == 0 or 2 <= self.ages <= MAX_AGES, f"ages must be 0 or between 2 and {MAX_AGES}")
        require(0 < self.rhythm_weight <= 1, "rhythm_weight must be above 0 and at most 1")
        require(self.textures or not self.styles, "styles needs textures")
        require(0 <= self.calibration_rounds <= 100, "calibration_rounds must be between 0 and 100")
        require(1 <= self.calibration_windows <= 100_000, "calibration_windows must be between 1 and 100,000")

    @property
    def enabled(self) -> bool:
        """Whether training fits a voice-leading sampler at all."""
        return self.strength > 0 or self.parallels > 0
