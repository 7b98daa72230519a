"""The voice-leading sampler: each voice's line drawn as a whole from the generator's softmax
times a chain of moves counted on the training data (:mod:`segue.sampler.chain`), calibrated on
the data (:mod:`segue.sampler.calibration`), drawn exactly (:mod:`segue.sampler.draw`):

    p(s_1..s_n) ∝ Π_t softmax(logits_t / T)[token(s_t)] · (P(s_t | s_t-1) / P(token(s_t)))^strength

times the calibration's weights, with parallel fifths and octaves against the voices already
drawn weighed down. Strength 0 and no parallels is the plain independent draw.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch

from segue.models.generator import VoiceLogits
from segue.sampler import kernel
from segue.sampler.calibration import Calibration
from segue.sampler.chain import fit_chain
from segue.sampler.draw import sample_chained, sample_lines
from segue.sampler.rhythm import Choice
from segue.sampler.states import allowed_moves, last_states, move_classes, onset_moves, sounding_lengths

LOAD_AFTER = 0.4
"""Seconds of drawing with the NumPy reference after which a sampler loads the compiled kernel."""


class VoiceLeadingSampler:
    """Per-voice step-to-step log-potentials, (V, M, 2P+1, 2P+1) into each of M positions of
    the bar: log P(s | s') - log P(token(s)), and how strongly to use them: ``strength`` for
    the lines, ``parallels`` for the penalty on parallel fifths and octaves (see
    :func:`segue.sampler.draw.sample_lines`); ``calibration``: the weights fitted by
    :func:`segue.sampler.calibration.calibrate` (None: none); ``rhythm``: the choice among several
    draws of each window by their notes' lengths that a continuation makes
    (:class:`~segue.sampler.rhythm.RhythmChoice`; None: one draw)."""

    def __init__(
        self,
        potentials: torch.Tensor,
        strength: float = 1.0,
        parallels: float = 5.0,
        calibration: Calibration | None = None,
        rhythm: Choice | None = None,
    ) -> None:
        if (
            potentials.dim() != 4
            or potentials.shape[2] != potentials.shape[3]
            or potentials.shape[2] % 2 != 1
        ):
            raise ValueError("potentials must have shape (voices, positions, 2P+1, 2P+1)")
        if torch.isfinite(potentials[..., ~allowed_moves((potentials.shape[2] - 1) // 2)]).any():
            raise ValueError(
                "potentials must be -inf where a move is not allowed (a hold follows only its note)"
            )
        if not (0 <= strength <= 10 and 0 <= parallels <= 100):
            raise ValueError("need 0 <= strength <= 10 and 0 <= parallels <= 100")
        if calibration is not None:
            calibration.check(*potentials.shape[:2])
        self.potentials = potentials.float()  # (V, M, N, N): M positions in the bar (1: any)
        self.strength, self.parallels = float(strength), float(parallels)
        self.calibration = calibration
        self.rhythm = rhythm
        self._move_weights: tuple[tuple[float, int, int], np.ndarray, np.ndarray, np.ndarray] | None = None
        self.compiled: bool | None = None
        """Draw with the compiled kernel (True), the NumPy reference (False), or decide (None):
        the compiled kernel where Numba is installed and the kernel is loaded in this process, or
        once this sampler has spent LOAD_AFTER seconds in the reference draw (loading it costs
        about that much, which a short continuation never wins back). Both draw the same."""
        self._reference_seconds = 0.0

    @classmethod
    def fit(
        cls,
        grids: Sequence[np.ndarray],
        voices: int,
        pitches: int,
        max_shift: int = 5,
        positions: int = 1,
        strength: float = 1.0,
        parallels: float = 5.0,
    ) -> VoiceLeadingSampler:
        """A sampler whose chain is counted in (V, S) token grids (see :func:`fit_chain`)."""
        return cls(fit_chain(grids, voices, pitches, max_shift, positions=positions), strength, parallels)

    def with_calibration(self, calibration: Calibration) -> VoiceLeadingSampler:
        """This sampler's chain, settings and rhythm choice with another calibration."""
        return VoiceLeadingSampler(self.potentials, self.strength, self.parallels, calibration, self.rhythm)

    def with_rhythm(self, rhythm: Choice | None) -> VoiceLeadingSampler:
        """This sampler with another rhythm choice (None: one draw)."""
        return VoiceLeadingSampler(self.potentials, self.strength, self.parallels, self.calibration, rhythm)

    @property
    def pitches(self) -> int:
        """P: the pitches of the state space."""
        return (self.potentials.shape[2] - 1) // 2

    @property
    def positions(self) -> int:
        """M: the positions in the bar the chain tells apart (1: any)."""
        return int(self.potentials.shape[1])

    def draw(
        self,
        logits: torch.Tensor | VoiceLogits,
        context: torch.Tensor,
        rng: torch.Generator,
        temperature: float = 1.0,
        history: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, V, S) tokens from (B, V, K, S) logits (or a :data:`~segue.models.generator.VoiceLogits`
        that writes them voice by voice) that the generator wrote from the (B, V, S') ``context``
        tokens; each voice's line continues from where ``history`` (every token before the drawn
        ones, of which the context is the end; default: the context) leaves it.
        """
        device = context.device
        before = context if history is None else history
        start = last_states(before, self.pitches)
        lengths = None
        aged = self.calibration is not None and self.calibration.ages is not None
        if aged:
            lengths = sounding_lengths(before.cpu().long().numpy())
        compiled = self.compiled
        if compiled is None:  # with ages the reference draws on L times the hold states: compiled at once
            compiled = kernel.AVAILABLE and (kernel.loaded() or aged or self._reference_seconds >= LOAD_AFTER)
        began = time.perf_counter()
        rest = (start, self, rng, temperature, self.strength, self.parallels, context.cpu())
        if callable(logits):  # a generator that writes its voices from the top
            tokens = sample_chained(logits, *rest, compiled=compiled, lengths=lengths)
        else:
            tokens = sample_lines(logits.float().cpu(), *rest, compiled=compiled, lengths=lengths)
        if not compiled:
            self._reference_seconds += time.perf_counter() - began
        return tokens.to(device)

    def log_moves(self, strength: float) -> torch.Tensor:
        """(V, M, N, N) log-weights of the moves: ``strength`` × potentials plus the calibration."""
        moves = torch.where(torch.isinf(self.potentials), self.potentials, strength * self.potentials)
        if self.calibration is not None:
            classes = move_classes(self.pitches)
            moves = moves + self.calibration.moves[:, :, classes.clamp_min(0)]  # -inf stays -inf
            moves = moves + self.calibration.onsets[:, :, None, None] * onset_moves(self.pitches)
        return moves

    def move_weights(self, strength: float) -> np.ndarray:
        """(V, M, N, N) the moves' weights, exp(log-weights), each (voice, position) scaled so that
        its largest is 1 (0 where a move is impossible); kept for the last strength, potentials and
        calibration asked for (the same for every chunk of a continuation)."""
        return self._weights(strength)[0]

    def kernel_weights(self, strength: float) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`move_weights` in the compiled draw's layout: (V, M, to, from), contiguous,
        and the moves into the holds (see :func:`segue.sampler.kernel.hold_weights`)."""
        return self._weights(strength)[1:]

    def _weights(self, strength: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = (strength, id(self.potentials), id(self.calibration))
        if self._move_weights is None or self._move_weights[0] != key:
            moves = self.log_moves(strength)
            scale = moves.amax(dim=(2, 3), keepdim=True).clamp_min(-1e30)
            weights = torch.exp(moves - scale).numpy().astype(np.float64)
            # float32 holds these weights exactly (they are float32 exponentials) in half the memory
            inward = np.ascontiguousarray(weights.transpose(0, 1, 3, 2), dtype=np.float32)
            self._move_weights = (key, weights, inward, kernel.hold_weights(inward))
        return self._move_weights[1:]
