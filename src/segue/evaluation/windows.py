"""Test windows: primes of K bars and their real continuations of N bars, cut from test pieces.

Also the notes of a continuation (:func:`continuation_notes`) and the "other piece" baseline
(:func:`other_piece`): another test piece's real continuation in the prime's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segue import metrics
from segue.evaluation.baselines import transpose_tokens
from segue.music.piece import Piece
from segue.music.tokens import from_tokens
from segue.pipeline.model import SegueModel
from segue.training.windows import as_voices, piece_tokens


@dataclass
class Windows:
    """Test windows: primes (W, V, K*bar), real continuations (W, V, N*bar), their pieces,
    and the bar each window starts at (counted from the piece's first bar)."""

    primes: np.ndarray
    reals: np.ndarray
    pieces: np.ndarray
    bar_steps: int
    starts: np.ndarray


def test_windows(
    pieces: Sequence[Piece],
    model: SegueModel,
    prime_bars: int,
    bars: int,
    per_piece: int,
    stride: int | None = None,
) -> Windows:
    """Up to ``per_piece`` windows of K + N bars from each piece, ``stride`` bars apart (N by
    default), from its first bar."""
    config = model.config
    bar = config.steps_per_bar
    stride = bars if stride is None else stride
    primes, reals, owners, starts = [], [], [], []
    for index, piece in enumerate(pieces):
        if str(piece.meter) != config.meter or piece.steps_per_beat != config.steps_per_beat:
            continue
        grid = piece_tokens(as_voices(piece, config), config)
        for w in range(per_piece):
            start = (piece.first_bar + w * stride) * bar
            end = start + (prime_bars + bars) * bar
            if end > (piece.first_bar + piece.complete_bars) * bar:
                break
            primes.append(grid[:, start : start + prime_bars * bar])
            reals.append(grid[:, start + prime_bars * bar : end])
            owners.append(index)
            starts.append(w * stride)
    if not primes:
        raise ValueError(f"no test piece has {prime_bars + bars} complete bars in {config.meter}")
    return Windows(np.stack(primes), np.stack(reals), np.array(owners), bar, np.array(starts))


def continuation_notes(prime: np.ndarray, continuation: np.ndarray, lowest: int) -> np.ndarray:
    """The notes that start in the continuation, re-based to 0.

    The same as decoding prime and continuation together and keeping the notes from the seam
    on: :func:`~segue.music.tokens.from_tokens` reads a HOLD after a rest as a rest, and a
    note's duration depends only on the tokens after its onset, so only the continuation is
    decoded (``prime`` is kept for the callers).
    """
    return from_tokens(continuation, lowest)


def other_piece(windows: Windows, lowest: int, vocab: int, transpose: bool = True) -> np.ndarray:
    """For each window, the real continuation of a window of another piece, transposed into the
    prime's key (or, without ``transpose``, as it is).

    Window i takes window (i + W // 2) mod W (the next one of another piece if that is the
    same piece), so each real continuation is used about once.
    """
    count = len(windows.primes)
    out = np.empty_like(windows.reals)
    for i in range(count):
        j = next(
            (
                k % count
                for k in range(i + count // 2, i + count // 2 + count)
                if windows.pieces[k % count] != windows.pieces[i]
            ),
            i,
        )
        if not transpose:
            out[i] = windows.reals[j]
            continue
        own = metrics.estimate_key(from_tokens(windows.primes[i], lowest))[0]
        theirs = metrics.estimate_key(from_tokens(windows.reals[j], lowest))[0]
        shift = (own - theirs + 6) % 12 - 6
        out[i] = transpose_tokens(windows.reals[j], shift, vocab)
    return out
