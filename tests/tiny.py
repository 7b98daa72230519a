"""A debug-sized model, training and sampler config, so that tests take seconds."""

from segue.configfile import to_dict, toml_dumps
from segue.models.config import ModelConfig
from segue.music.piece import Part, Piece, make_notes
from segue.sampler.config import SamplerConfig
from segue.training.config import TrainConfig

TINY_MODEL = ModelConfig(
    context_bars=1,
    continuation_bars=1,
    z_dim=8,
    embed_dim=4,
    channels=16,
    d_channels=16,
    lowest=36,
    highest=84,
)
TINY_TRAIN = TrainConfig(
    steps=6,
    batch_size=8,
    log_every=1,
    checkpoint_every=2,
    sample_every=3,
    deterministic=True,
    precision="fp32",  # the same numbers on every CPU, and no measurement at start
)
TINY_SAMPLER = SamplerConfig(calibration_rounds=2, calibration_windows=32)


def tiny_toml(sampler: dict[str, object] | None = None, **train_overrides: object) -> str:
    """The tiny configs as a TOML file's text."""
    train = {**to_dict(TINY_TRAIN), **train_overrides}
    tables = {
        "model": to_dict(TINY_MODEL),
        "train": train,
        "sampler": {**to_dict(TINY_SAMPLER), **(sampler or {})},
    }
    return toml_dumps(tables)


def pickup_piece(onsets: list[int]) -> Piece:
    """A soprano of quarter notes at ``onsets`` (steps of the tiny grid) after a pickup of one beat,
    the other voices silent: with a note at the last bar's third beat, that bar is the pickup's
    complement, cut short."""
    beat = TINY_MODEL.steps_per_beat
    pitches = [60 + k % 5 for k in range(len(onsets))]
    notes = make_notes(onsets, [beat] * len(onsets), pitches, track=[0] * len(onsets))
    return Piece(notes, tuple(Part(f"v{i}") for i in range(TINY_MODEL.voices)), pickup=beat)


def short_last_bar_onsets() -> list[int]:
    """Onsets for :func:`pickup_piece`: the pickup, three whole bars and a last bar of three beats."""
    bar, beat = TINY_MODEL.steps_per_bar, TINY_MODEL.steps_per_beat
    return [bar - beat] + [bar + beat * k for k in range(3 * 4 + 3)]
