"""The configs of the networks: the generator and discriminator (:class:`ModelConfig`, saved in
every model folder) and the LSTM baseline (:class:`LSTMConfig`)."""

from __future__ import annotations

from dataclasses import dataclass

from segue.configfile import require


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
    context_bars: int = 4
    """P: bars of context the generator reads (the last P bars of what it continues)."""
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
    head: str = "cells"
    """G's output: "cells" (every voice and step drawn on its own) or "voices" (voices drawn from
    the top, each reading the tokens the voices above it drew around the same step)."""
    seam: bool = False
    """G also reads the context's last bar directly at every step it writes, weighed by a learned
    profile over those steps, so that its first notes can follow the prime's last ones (otherwise
    the continuation's steps see the context's bar for bar, the last bar only through a summary)."""
    plan: bool = False
    """(lab) G first decides each beat's chord, the pitch classes sounding at the beat's first
    step: the likeliest of a head over every set of at most four classes (straight through in
    the adversarial loss); the voices are written under it (each voice's head reads the beat's
    classes)."""
    plan_pull: float = 0.0
    """(lab) With a plan, a fixed pull on every voice's logits towards the tones of its beat's
    chord, added to the pull the voice head learns (which starts at zero)."""
    dropout: float = 0.0
    """Dropout on the feature maps of G and its conditioner while training (a regularizer against
    learning the training pieces by heart); no tensors of its own, off when sampling."""

    def __post_init__(self) -> None:
        require(1 <= self.voices <= 16, "voices must be between 1 and 16")
        require(len(self.voice_names) == self.voices, "voice_names must name every voice")
        require(0 <= self.lowest < self.highest <= 127, "need 0 <= lowest < highest <= 127")
        require(self.context_bars >= 1 and self.continuation_bars >= 1, "bar counts must be positive")
        require(self.context_bars <= 16 and self.continuation_bars <= 16, "at most 16 bars per step")
        require(self.steps_per_beat in (2, 4, 8), "steps_per_beat must be 2, 4 or 8")
        numerator, _, denominator = self.meter.partition("/")
        require(
            numerator.isdigit() and denominator in ("1", "2", "4", "8", "16") and 1 <= int(numerator) <= 32,
            f"meter must look like 4/4 or 6/8, not {self.meter!r}",
        )
        require(0.0 <= self.dropout < 1.0, "dropout must be in [0, 1)")
        require(self.head in ("cells", "voices"), f"head must be 'cells' or 'voices', not {self.head!r}")
        require(self.steps_per_bar % self.steps_per_beat == 0, "a bar must hold whole beats")
        planned = self.head == "voices" and self.voices <= 4
        require(not self.plan or planned, "a plan needs the voice head and at most 4 voices")
        require(0.0 <= self.plan_pull <= 10.0, "plan_pull must be between 0 and 10")
        require(self.plan or self.plan_pull == 0.0, "plan_pull needs plan = true")
        # Caps that bound any model to about 100M parameters, checked before anything is allocated.
        for name in ("z_dim", "embed_dim", "channels", "d_channels"):
            value = getattr(self, name)
            require(isinstance(value, int) and 1 <= value <= 1024, f"{name} must be between 1 and 1024")
        for name in ("channels", "d_channels"):
            require(getattr(self, name) % 16 == 0, f"{name} must be a multiple of 16")

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
    def context_steps(self) -> int:
        """Steps of the context."""
        return self.context_bars * self.steps_per_bar

    @property
    def continuation_steps(self) -> int:
        """Steps of one generated continuation."""
        return self.continuation_bars * self.steps_per_bar


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
            require(
                isinstance(value, int) and 1 <= value <= high, f"lstm {name} must be between 1 and {high}"
            )
        require(0.0 <= self.dropout < 1.0, "lstm dropout must be in [0, 1)")
