"""A debug-sized model, training and sampler config, so that tests take seconds."""

from segue.configfile import to_dict, toml_dumps
from segue.models.config import ModelConfig
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
