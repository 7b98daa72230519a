"""Training windows: (context, continuation) token pairs cut from pieces, augmented per batch.

Every piece in the model's meter (or read in it, :func:`~segue.pipeline.pieces.on_grid`) becomes
a (voices, steps) token grid (see :mod:`segue.music.tokens`) once; a batch is a set of windows of
P + C bars that start on bar lines, each transposed by a random shift that keeps every voice
inside its range in the training data. All randomness comes from one ``torch.Generator``, whose
state a checkpoint stores, so a resumed run draws the same batches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import torch

from segue.errors import SegueError
from segue.models.config import ModelConfig
from segue.music.piece import Piece
from segue.music.tokens import FIRST_PITCH
from segue.pipeline.pieces import as_voices, complete_bar_tokens, on_grid


def voice_ranges(pieces_notes: Iterable[np.ndarray], n_tracks: int) -> np.ndarray:
    """The (lowest, highest) pitch of each track over many pieces' notes."""
    ranges = np.array([[127, 0]] * n_tracks, dtype=np.int64)
    for notes in pieces_notes:
        for track in range(n_tracks):
            pitches = notes["pitch"][notes["track"] == track]
            if len(pitches):
                ranges[track, 0] = min(ranges[track, 0], int(pitches.min()))
                ranges[track, 1] = max(ranges[track, 1], int(pitches.max()))
    return ranges


class WindowSampler:
    """Random windows of ``context_bars + continuation_bars`` bars from many pieces."""

    def __init__(self, pieces: Sequence[Piece], config: ModelConfig, max_transpose: int = 5) -> None:
        self.config = config
        bar = config.steps_per_bar
        window_bars = config.context_bars + config.continuation_bars
        self.counts: Counter[str] = Counter()
        grids, starts, shifts, piece_starts, styles, piece_styles = [], [], [], [], [], []
        offset = 0
        fits = [q for q in (on_grid(p, config) for p in pieces) if q is not None]
        self.counts["other_meter_or_grid"] = len(pieces) - len(fits)
        usable = [as_voices(p, config) for p in fits]
        ranges = voice_ranges((p.notes for p in usable), config.voices)
        self.voice_ranges = ranges  # (V, 2) lowest and highest pitch of each voice in the data
        for piece in usable:
            grid = complete_bar_tokens(piece, config, self.counts)
            bars = grid.shape[1] // bar
            if bars < window_bars:
                self.counts["too_short"] += 1
                continue
            low, high = _shift_range(piece, ranges, max_transpose, config)
            piece_starts.append(offset)
            piece_styles.append(str(piece.extra.get("style", "")))
            for first in range(bars - window_bars + 1):
                starts.append(offset + first * bar)
                shifts.append((low, high))
                styles.append(piece_styles[-1])
            grids.append(grid)
            offset += grid.shape[1]
        if not starts:
            raise SegueError(f"no piece in {config.meter} with {window_bars} bars or more to train on")
        self.tokens = torch.from_numpy(np.concatenate(grids, axis=1))  # (V, total steps)
        self.starts = torch.tensor(starts)
        self.piece_starts = torch.tensor(piece_starts)  # where each piece's steps begin
        self.shift_low = torch.tensor([s[0] for s in shifts])
        self.shift_high = torch.tensor([s[1] for s in shifts])
        self.style_names = tuple(sorted(set(styles)))  # the styles the pieces name ("": none)
        self.styles = torch.tensor([self.style_names.index(s) for s in styles])  # (windows,) index into them
        self.piece_styles = piece_styles  # each piece's style ("": none)
        self.window = window_bars * bar
        self.pieces = len(grids)
        self._copies: dict[torch.device, tuple[torch.Tensor, ...]] = {}

    def to(self, device: torch.device) -> WindowSampler:
        """Keep a copy of the windows on ``device`` too, where generators on that device cut them."""
        if device.type != "cpu":
            self._copies[device] = tuple(
                t.to(device) for t in (self.tokens, self.starts, self.shift_low, self.shift_high)
            )
        return self

    def _on(self, device: torch.device) -> tuple[torch.Tensor, ...]:
        """(tokens, starts, shift_low, shift_high) on ``device``."""
        if device.type == "cpu":
            return self.tokens, self.starts, self.shift_low, self.shift_high
        return self._copies.get(device) or self.to(device)._copies[device]

    def __len__(self) -> int:
        return len(self.starts)

    def piece_grids(self, style: str | None = None) -> list[np.ndarray]:
        """Each training piece's (V, S) tokens, untransposed (only those of ``style``, if given)."""
        ends = [*self.piece_starts.tolist()[1:], self.tokens.shape[1]]
        spans = zip(self.piece_starts.tolist(), ends, self.piece_styles)
        return [self.tokens[:, a:b].numpy() for a, b, name in spans if style is None or name == style]

    def style_of(self, pick: torch.Tensor) -> list[str]:
        """The style each window of ``pick`` (indices) comes from ("": its piece names none)."""
        return [self.style_names[i] for i in self.styles[pick.cpu()].tolist()]

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(prior, continuation) token batches, (B, V, Sp) and (B, V, Sc)."""
        pick = torch.randint(len(self.starts), (batch,), generator=generator, device=generator.device)
        return self.windows(pick, generator)

    def windows(
        self, pick: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The windows ``pick`` (indices), transposed at random when a generator is given; cut
        on the device of ``pick``."""
        all_tokens, starts, shift_low, shift_high = self._on(pick.device)
        index = starts[pick, None] + torch.arange(self.window, device=pick.device)  # (B, W)
        tokens = all_tokens[:, index].transpose(0, 1)  # (B, V, W)
        if generator is not None:
            low, high = shift_low[pick], shift_high[pick]
            uniform = torch.rand(len(pick), generator=generator, device=generator.device).to(pick.device)
            shift = low + (uniform * (high - low + 1)).long()
            tokens = torch.where(tokens >= FIRST_PITCH, tokens + shift[:, None, None], tokens)
        split = self.config.context_steps
        return tokens[..., :split], tokens[..., split:]


def _shift_range(piece: Piece, ranges: np.ndarray, max_shift: int, config: ModelConfig) -> tuple[int, int]:
    """Shifts that keep every voice inside its range and the model's pitch range."""
    low, high = -max_shift, max_shift
    for voice in range(config.voices):
        pitches = piece.notes["pitch"][piece.notes["track"] == voice].astype(np.int64)
        if not len(pitches):
            continue
        low = max(low, int(max(ranges[voice, 0], config.lowest) - pitches.min()))
        high = min(high, int(min(ranges[voice, 1], config.highest) - pitches.max()))
    return (low, high) if low <= high else (0, 0)
