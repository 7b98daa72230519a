"""Test windows: primes of K bars and their real continuations of N bars, cut from test pieces.

Also the notes of a continuation (:func:`continuation_notes`) and the "other piece" baseline
(:func:`other_piece`): another test piece's real continuation, in the prime's key or as it is.
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
from segue.pipeline.pieces import as_voices, complete_bar_tokens, on_grid


@dataclass
class Windows:
    """Test windows: primes (W, V, K*bar), real continuations (W, V, N*bar), their pieces,
    and the bar each window starts at (counted from the piece's first bar)."""

    primes: np.ndarray
    reals: np.ndarray
    pieces: np.ndarray
    bar_steps: int
    starts: np.ndarray

    @property
    def groups(self) -> np.ndarray:
        """(W,) the fold group of each window: its piece's pair (see :func:`partner_pieces`).

        A two-sample test splits its folds by these, not by piece: "other piece" gives a window
        the real continuation of its piece's partner, so with folds by piece that continuation
        could be learned as real in one fold and tested as another piece's in the next.
        """
        partner = partner_pieces(self.pieces)
        # a pair, or the one cycle of three, is named by its smallest piece
        return np.array([min(p, partner[p], partner[partner[p]]) for p in self.pieces.tolist()])


def partner_pieces(pieces: np.ndarray) -> dict[int, int]:
    """Which piece lends each piece its continuations in :func:`other_piece`, given the (W,) piece
    of every window: the pieces ordered by their number of windows (then by name) are paired one
    after the other, so that partners have about as many windows and each continuation is lent
    about once; with an odd count the last three lend in a cycle. One piece lends to itself."""
    names, counts = np.unique(pieces, return_counts=True)
    order = [int(names[i]) for i in np.lexsort((names, counts))]
    if len(order) == 1:
        return {order[0]: order[0]}
    partner = {}
    for k in range(0, len(order) - 1, 2):
        partner[order[k]], partner[order[k + 1]] = order[k + 1], order[k]
    if len(order) % 2:
        a, b, c = order[-3], order[-2], order[-1]  # a <-> b becomes a -> b -> c -> a
        partner.update({a: b, b: c, c: a})
    return partner


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
    for index, original in enumerate(pieces):
        piece = on_grid(original, config)
        if piece is None:
            continue
        grid = complete_bar_tokens(as_voices(piece, config), config)
        for w in range(per_piece):
            start = (piece.first_bar + w * stride) * bar
            end = start + (prime_bars + bars) * bar
            if end > grid.shape[1]:
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
    """For each window, the real continuation of a window of its piece's partner (see
    :func:`partner_pieces`), transposed into the prime's key (or, without ``transpose``, as it is).

    The i-th window of a piece takes the partner's i-th (modulo its count), so each real
    continuation is used about once, and only by windows of the same fold group.
    """
    partner = partner_pieces(windows.pieces)
    members = {piece: np.flatnonzero(windows.pieces == piece) for piece in partner}
    out = np.empty_like(windows.reals)
    for piece, mine in members.items():
        theirs = members[partner[piece]]
        for k, i in enumerate(mine):
            j = theirs[k % len(theirs)]
            if not transpose:
                out[i] = windows.reals[j]
                continue
            own = metrics.estimate_key(from_tokens(windows.primes[i], lowest))[0]
            other = metrics.estimate_key(from_tokens(windows.reals[j], lowest))[0]
            out[i] = transpose_tokens(windows.reals[j], (own - other + 6) % 12 - 6, vocab)
    return out
