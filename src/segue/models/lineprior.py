"""A voice-leading prior for sampling: how each voice moves from one step to the next.

The generator scores every (voice, step) cell on its own, so independent draws from
its softmax can jump between two good notes of a chord from one step to the next.
:class:`LinePrior` is a first-order chain per voice, counted on the training data,
over the states "rest", "pitch p starts" and "pitch p goes on"; :func:`sample_lines`
draws each voice's line from the product of the generator's per-cell distribution and
the chain's *dependence* term, log P(s | s') - log P(token(s)) (so the tokens'
frequencies, which the generator already knows, are not counted twice), with weight
``strength``:

    p(s_1..s_n) ∝ Π_t softmax(logits_t / T)[token(s_t)] · (P(s_t | s_t-1) / P(token(s_t)))^strength

drawn exactly by forward filtering and backward sampling. Strength 0 is the plain
independent draw.

A *calibration* (:meth:`LinePrior.calibrate`) then makes the product match statistics of the
data it would otherwise get wrong, with log-weights (:class:`Calibration`) on each class of move
(rest, entry, hold, stop, or a new note a given interval away) at each position of the bar, and
on striking a note at all there (rhythm, pooled over the classes); on each new note by how common
its pitch class is in the window the generator was given (its rank in that window's pitch-class
profile) and by its distance from the voice's mean pitch there; on each token that repeats the
window's token at the same step; and on the move from the window's last step into the first drawn
one (the seam). They are fitted by moment matching:
draw continuations of real windows, compare how often each class occurs with how often it occurs
in the real continuations, and add part of the log ratio, a few times over.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from segue.music.tokens import FIRST_PITCH, HOLD, REST


def state_tokens(pitches: int) -> torch.Tensor:
    """The token of each state: rest, then ``pitches`` onsets, then ``pitches`` holds."""
    return torch.cat(
        [torch.tensor([REST]), FIRST_PITCH + torch.arange(pitches), torch.full((pitches,), HOLD)]
    ).long()


MAX_INTERVAL = 12
"""Moves of more than this many semitones share a class with the largest one."""
MOVE_CLASSES = 4 + 2 * MAX_INTERVAL + 1
"""rest to rest, rest to a note, a note going on, a note to rest, then new notes -12..+12 semitones away."""
TONAL_CLASSES = 13
"""Ranks 0-11 of a pitch class in the window's profile (0: the most heard), 12: not heard at all."""
REGISTER_CLASSES = 2 * MAX_INTERVAL + 2
"""A new note -12..+12 semitones from the voice's mean pitch in the window, or: the voice was silent
there (that class is not weighed: too few windows have a silent voice to learn from)."""


@dataclass(frozen=True, eq=False)
class Calibration:
    """Log-weights that make the prior's draws match the data's statistics (fitted by
    :meth:`LinePrior.calibrate`), for V voices and M positions in the bar."""

    moves: torch.Tensor
    """(V, M, MOVE_CLASSES): each class of move into each position of the bar."""
    tonal: torch.Tensor
    """(V, TONAL_CLASSES): a new note by the rank of its pitch class in the window."""
    register: torch.Tensor
    """(V, REGISTER_CLASSES): a new note by its distance from the voice's mean pitch in the window."""
    echo: torch.Tensor
    """(V,): a token equal to the window's token at the same step (one window earlier)."""
    onsets: torch.Tensor | None = None
    """(V, M): a new note (or an entry after a rest) at each position of the bar, whatever its
    interval: rhythm, pooled over the move classes, which are too many for rare positions."""
    seam: torch.Tensor | None = None
    """(V, MOVE_CLASSES): the move from the window's last step into the first drawn one.
    (``onsets`` and ``seam`` are None in models calibrated before they existed.)"""

    def check(self, voices: int, positions: int) -> None:
        """Raise ValueError unless every tensor is floating point, shaped for ``voices`` and
        ``positions``, and within ±MAX_WEIGHT."""
        shapes = {
            "moves": (voices, positions, MOVE_CLASSES),
            "tonal": (voices, TONAL_CLASSES),
            "register": (voices, REGISTER_CLASSES),
            "echo": (voices,),
            "onsets": (voices, positions),
            "seam": (voices, MOVE_CLASSES),
        }
        for name, shape in shapes.items():
            weights = getattr(self, name)
            if weights is None and name in OPTIONAL_GROUPS:
                continue
            if tuple(weights.shape) != shape:
                raise ValueError(f"calibration {name} must have shape {shape}, not {tuple(weights.shape)}")
            if not weights.is_floating_point():
                raise ValueError(f"calibration {name} must be floating point, not {weights.dtype}")
            if not bool((weights.abs() <= MAX_WEIGHT).all()):  # also false for NaN
                raise ValueError(f"calibration {name} must be finite and within ±{MAX_WEIGHT:g}")

    def tensors(self) -> dict[str, torch.Tensor]:
        """The tensors by name."""
        names = ("moves", "tonal", "register", "echo", *OPTIONAL_GROUPS)
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


MAX_WEIGHT = 4.0
"""The calibration's weights stay within ±MAX_WEIGHT (a factor of about 55)."""
PSEUDO_COUNT = 10.0
"""Added to every class's count, real and drawn, before their shares are compared: a class seen
a few times moves its weight a little, not to the limit."""

OPTIONAL_GROUPS = ("onsets", "seam")
"""Groups of calibration weights that older model folders do not have."""

SHARE_OF_STEP = {"moves": 1.0, "tonal": 0.5, "register": 0.5, "echo": 1.0, "onsets": 0.5, "seam": 0.5}
"""The share of the calibration's step each group of weights takes (tonal and register weights
both act on the pitch of every new note, so each takes half; onsets and the seam act on moves
that the move weights weigh too)."""


def move_classes(pitches: int) -> torch.Tensor:
    """(2P+1, 2P+1) class of each move between states (see MOVE_CLASSES), -1 where impossible."""
    pitch = _state_pitches(pitches)
    held = torch.cat([torch.zeros(1 + pitches, dtype=torch.bool), torch.ones(pitches, dtype=torch.bool)])
    before, after = pitch[:, None], pitch[None, :]
    interval = (after - before).clamp(-MAX_INTERVAL, MAX_INTERVAL)
    classes = torch.where(held[None, :], 2, 4 + MAX_INTERVAL + interval)  # going on, or a new note
    classes = torch.where(after < 0, 3, classes)  # a note stops
    classes = torch.where(before < 0, torch.where(after < 0, 0, 1), classes)  # from a rest
    return classes.masked_fill(~allowed_moves(pitches), -1)


STRIKING = np.isin(np.arange(MOVE_CLASSES), (0, 2, 3), invert=True)  # not rest, hold or stop
"""(MOVE_CLASSES,) bool: the classes of move that strike a note (an entry after a rest, or a new note)."""
STRIKING.flags.writeable = False


def onset_moves(pitches: int) -> torch.Tensor:
    """(2P+1, 2P+1) bool: the moves that strike a note."""
    classes = move_classes(pitches)
    return torch.tensor(STRIKING)[classes.clamp_min(0)] & (classes >= 0)


def move_counts(start: np.ndarray, states: np.ndarray, pitches: int, positions: int) -> np.ndarray:
    """(V, M, MOVE_CLASSES) counts of the classes of moves into each position of the bar, in
    (B, V, S) state lines that continue from (B, V) ``start`` states."""
    batch, voices, steps = states.shape
    full = np.concatenate([start[:, :, None], states], axis=2)
    classes = move_classes(pitches).numpy()[full[:, :, :-1], full[:, :, 1:]]  # (B, V, S)
    where = np.broadcast_to(np.arange(steps) % positions, (batch, steps))
    counts = np.zeros((voices, positions, MOVE_CLASSES))
    for v in range(voices):
        np.add.at(counts[v], (where, classes[:, v]), 1)
    return counts


def sounding_pitches(window: np.ndarray, pitches: int) -> np.ndarray:
    """(B, V, S) pitch index sounding at each step of (B, V, S) window tokens, -1 for silence."""
    return _state_pitches(pitches).numpy()[to_states(np.asarray(window), pitches)]


def tonal_ranks(window: np.ndarray, pitches: int, sounding: np.ndarray | None = None) -> np.ndarray:
    """(B, P) tonal class of each pitch index given (B, V, S) window tokens: the rank of its
    pitch class among the window's pitch classes, by how many steps they sound (``sounding``:
    the window's :func:`sounding_pitches`, if already known)."""
    pitch = sounding_pitches(window, pitches) if sounding is None else sounding
    batch = len(pitch)
    sounding = pitch >= 0
    rows = np.broadcast_to(np.arange(batch)[:, None, None], pitch.shape)[sounding]
    profile = np.zeros((batch, 12))
    np.add.at(profile, (rows, pitch[sounding] % 12), 1)  # index mod 12: a pitch class, up to an offset
    order = np.argsort(-profile, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(batch)[:, None], order] = np.arange(12)
    rank = np.where(profile > 0, rank, 12)
    return rank[:, np.arange(pitches) % 12]


def register_classes(window: np.ndarray, pitches: int, sounding: np.ndarray | None = None) -> np.ndarray:
    """(B, V, P) register class of each pitch index for each voice of (B, V, S) window tokens:
    its distance in semitones from the voice's mean sounding pitch there (clipped to ±12),
    or the last class if the voice is silent in the window."""
    pitch = (sounding_pitches(window, pitches) if sounding is None else sounding).astype(np.float64)
    sounding = pitch >= 0
    steps = sounding.sum(2)
    mean = np.where(sounding, pitch, 0).sum(2) / np.maximum(steps, 1)  # (B, V)
    distance = np.rint(np.arange(pitches)[None, None] - mean[..., None]).astype(np.int64)
    classes = np.clip(distance, -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL
    return np.where(steps[..., None] > 0, classes, REGISTER_CLASSES - 1)


def _onset_counts(classes: np.ndarray, tokens: np.ndarray, size: int) -> np.ndarray:
    """(V, size) counts of the new notes in (B, V, S) ``tokens`` by the class of their pitch,
    ``classes`` being (B, P) or (B, V, P)."""
    voices = tokens.shape[1]
    counts = np.zeros((voices, size))
    for v in range(voices):
        rows, steps = np.nonzero(tokens[:, v] >= FIRST_PITCH)
        pitch = tokens[rows, v, steps] - FIRST_PITCH
        found = classes[rows, pitch] if classes.ndim == 2 else classes[rows, v, pitch]
        np.add.at(counts[v], found, 1)
    return counts


def echo_counts(window: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """(V, 2) counts of the tokens equal and not equal to the window's token at the same step."""
    steps = min(tokens.shape[2], window.shape[2])
    same = np.asarray(tokens)[:, :, :steps] == np.asarray(window)[:, :, :steps]
    return np.stack([same.sum((0, 2)), (~same).sum((0, 2))], axis=1).astype(np.float64)


def to_states(tokens: np.ndarray, pitches: int) -> np.ndarray:
    """(..., S) tokens -> (..., S) states; a hold carries the pitch sounding before it (rest after a rest)."""
    tokens = np.asarray(tokens)
    states = np.zeros(tokens.shape, dtype=np.int64)
    sounding = np.full(tokens.shape[:-1], -1, dtype=np.int64)  # pitch index, -1 for silence
    for t in range(tokens.shape[-1]):
        token = tokens[..., t]
        onset = token >= FIRST_PITCH
        sounding = np.where(onset, token - FIRST_PITCH, np.where(token == REST, -1, sounding))
        held = (token == HOLD) & (sounding >= 0)
        states[..., t] = np.where(onset, 1 + sounding, np.where(held, 1 + pitches + sounding, 0))
    return states


class LinePrior:
    """Per-voice step-to-step log-potentials, (V, M, 2P+1, 2P+1) into each of M positions of
    the bar: log P(s | s') - log P(token(s)), and how strongly to use them: ``strength`` for
    the lines, ``parallels`` for the penalty on parallel fifths and octaves (see
    :func:`sample_lines`); ``calibration``: the weights fitted by :meth:`calibrate` (None: none)."""

    def __init__(
        self,
        potentials: torch.Tensor,
        strength: float = 1.0,
        parallels: float = 5.0,
        calibration: Calibration | None = None,
    ) -> None:
        if potentials.dim() == 3:
            potentials = potentials[:, None]  # the same moves at every position in the bar
        if (
            potentials.dim() != 4
            or potentials.shape[2] != potentials.shape[3]
            or potentials.shape[2] % 2 != 1
        ):
            raise ValueError("potentials must have shape (voices, [positions,] 2P+1, 2P+1)")
        if not (0 <= strength <= 10 and 0 <= parallels <= 100):
            raise ValueError("need 0 <= strength <= 10 and 0 <= parallels <= 100")
        if calibration is not None:
            calibration.check(*potentials.shape[:2])
        self.potentials = potentials.float()  # (V, M, N, N): M positions in the bar (1: any)
        self.strength, self.parallels = float(strength), float(parallels)
        self.calibration = calibration
        self._move_weights: tuple[tuple[float, int, int], np.ndarray] | None = None

    def sample(
        self,
        logits: torch.Tensor,
        start: torch.Tensor,
        generator: torch.Generator,
        temperature: float = 1.0,
        window: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, V, S) tokens from (B, V, K, S) logits, continuing from ``start`` states (B, V);
        ``window`` is the (B, V, S') tokens the logits were conditioned on: without it, the
        calibration's weights on moves apply but not those that read the window."""
        return sample_lines(
            logits, start, self, generator, temperature, self.strength, self.parallels, window
        )

    def log_moves(self, strength: float) -> torch.Tensor:
        """(V, M, N, N) log-weights of the moves: ``strength`` × potentials plus the calibration."""
        moves = torch.where(torch.isinf(self.potentials), self.potentials, strength * self.potentials)
        if self.calibration is not None:
            classes = move_classes(self.pitches)
            moves = moves + self.calibration.moves[:, :, classes.clamp_min(0)]  # -inf stays -inf
            if self.calibration.onsets is not None:
                moves = moves + self.calibration.onsets[:, :, None, None] * onset_moves(self.pitches)
        return moves

    def move_weights(self, strength: float) -> np.ndarray:
        """(V, M, N, N) the moves' weights, exp(log-weights), each (voice, position) scaled so that
        its largest is 1 (0 where a move is impossible); kept for the last strength, potentials and
        calibration asked for (the same for every chunk of a continuation)."""
        key = (strength, id(self.potentials), id(self.calibration))
        if self._move_weights is not None and self._move_weights[0] == key:
            return self._move_weights[1]
        moves = self.log_moves(strength)
        scale = moves.amax(dim=(2, 3), keepdim=True).clamp_min(-1e30)
        weights = torch.exp(moves - scale).numpy().astype(np.float64)
        self._move_weights = (key, weights)
        return weights

    def calibrate(
        self,
        draw: Callable[[LinePrior, int], np.ndarray],
        windows: np.ndarray,
        reals: np.ndarray,
        rounds: int = 10,
        rate: float = 0.5,
        report: Callable[[int, float], None] | None = None,
    ) -> LinePrior:
        """This prior with a :class:`Calibration` fitted by moment matching.

        ``windows`` (B, V, S') are real contexts and ``reals`` (B, V, S) what follows them; ``draw``
        (prior, round) continues ``windows`` under a prior. Each round adds ``rate`` × log(real
        share / drawn share) of every class of move (per voice and position in the bar), half
        that for every tonal and register class of new notes (per voice: the two describe the
        same notes, and full steps on both overshoot), ``rate`` × the gap in log-odds for
        the tokens that echo the window, half that gap for striking a note at each position of
        the bar, and half the log ratio for each class of move at the seam (these two act on
        moves that the move weights weigh too). ``report`` gets the round and the mean gap, in nats,
        between the real and drawn shares of the moves before that round.
        """
        pitches, positions = self.pitches, self.potentials.shape[1]
        windows = np.ascontiguousarray(windows)
        start = last_states(torch.from_numpy(windows), pitches).numpy()
        sounding = sounding_pitches(windows, pitches)
        ranks = tonal_ranks(windows, pitches, sounding)
        registers = register_classes(windows, pitches, sounding)

        def log_shares(tokens: np.ndarray) -> dict[str, np.ndarray]:
            states = to_states(tokens, pitches)
            moves = move_counts(start, states, pitches, positions)
            struck = moves[..., STRIKING].sum(-1)
            counts = {
                "moves": moves,
                "tonal": _onset_counts(ranks, tokens, TONAL_CLASSES),
                "register": _onset_counts(registers, tokens, REGISTER_CLASSES),
                "echo": echo_counts(windows, tokens),
                "onsets": np.stack([struck, moves.sum(-1) - struck], axis=-1),  # (V, M, 2)
                "seam": move_counts(start, states[:, :, :1], pitches, 1)[:, 0],
            }
            smoothed = {name: c + PSEUDO_COUNT for name, c in counts.items()}
            shares = {name: np.log(c / c.sum(-1, keepdims=True)) for name, c in smoothed.items()}
            for name in ("echo", "onsets"):  # log-odds of echoing, of striking a note
                shares[name] = shares[name][..., 0] - shares[name][..., 1]
            return shares

        real = log_shares(np.asarray(reals))
        weights = {name: np.zeros_like(value) for name, value in real.items()}
        prior = self
        for round_ in range(rounds):
            drawn = log_shares(draw(prior, round_))
            if report is not None:
                gap = np.abs(real["moves"] - drawn["moves"]) * np.exp(real["moves"])
                report(round_, float(gap.sum(2).mean()))
            for name in weights:
                step = rate * SHARE_OF_STEP[name]
                moved = weights[name] + step * (real[name] - drawn[name])
                weights[name] = np.clip(moved, -MAX_WEIGHT, MAX_WEIGHT)
            weights["register"][:, -1] = 0.0  # a voice silent in the window: too rare to weigh
            calibration = Calibration(**{name: torch.from_numpy(w).float() for name, w in weights.items()})
            prior = LinePrior(self.potentials, self.strength, self.parallels, calibration)
        return prior

    @property
    def pitches(self) -> int:
        return (self.potentials.shape[2] - 1) // 2

    @classmethod
    def fit(
        cls,
        grids: Sequence[np.ndarray],
        voices: int,
        pitches: int,
        max_shift: int = 5,
        smoothing: float = 0.5,
        pseudo: float = 20.0,
        positions: int = 1,
        strength: float = 1.0,
        parallels: float = 5.0,
    ) -> LinePrior:
        """Count step-to-step moves in (V, S) token grids, in every transposition up to ``max_shift``.

        With ``positions`` M > 1 (the steps of a bar; grids start on a bar line) the moves into
        each position of the bar are counted apart, shrunk towards the moves at any position.
        """
        size = 2 * pitches + 1
        counts = np.zeros((voices, positions, size, size))
        for grid in grids:
            states = to_states(grid, pitches)  # (V, S)
            where = np.arange(1, states.shape[1]) % positions  # the position of each move's target
            for shift in range(-max_shift, max_shift + 1):
                moved = _shift(states, shift, pitches)
                if moved is None:
                    continue
                for v in range(voices):
                    np.add.at(counts[v], (where, moved[v, :-1], moved[v, 1:]), 1)
        allowed = allowed_moves(pitches).numpy()
        counts = counts * allowed
        anywhere = _potentials(counts.sum(axis=1), allowed, pitches, smoothing, pseudo, None)
        if positions == 1:
            return cls(torch.from_numpy(anywhere[1])[:, None], strength, parallels)
        overall = anywhere[0]  # (V, N, N) transition probabilities at any position
        out = np.stack(
            [
                _potentials(counts[:, m], allowed, pitches, smoothing, pseudo, overall)[1]
                for m in range(positions)
            ],
            axis=1,
        )
        return cls(torch.from_numpy(out), strength, parallels)


def _potentials(
    counts: np.ndarray,
    allowed: np.ndarray,
    pitches: int,
    smoothing: float,
    pseudo: float,
    shrink_to: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Transition probabilities and log-potentials from (V, N, N) counts of moves.

    P(s | s') is shrunk with the weight of ``pseudo`` moves towards ``shrink_to`` (else towards
    P(s)): a rare s' says little. The potentials divide by how often each state's *token*
    occurs, which is what the generator predicts (every "goes on" state has the token HOLD).
    """
    marginal = counts.sum(axis=1) + smoothing  # (V, N): how often each state follows any other
    marginal /= marginal.sum(axis=1, keepdims=True)
    if shrink_to is None:
        shrink_to = marginal[:, None, :] * allowed
        shrink_to = shrink_to / shrink_to.sum(axis=2, keepdims=True)
    transition = (counts + pseudo * shrink_to) / (counts.sum(axis=2, keepdims=True) + pseudo)
    token_marginal = marginal.copy()
    token_marginal[:, 1 + pitches :] = marginal[:, 1 + pitches :].sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        potentials = np.log(transition) - np.log(token_marginal)[:, None, :]
    potentials[:, ~allowed] = -np.inf
    return transition, potentials


def _shift(states: np.ndarray, shift: int, pitches: int) -> np.ndarray | None:
    """States transposed by ``shift`` semitones, or None if a pitch leaves the range."""
    if shift == 0:
        return states
    pitch = np.where(states > pitches, states - pitches - 1, states - 1)  # -1 for rest
    sounding = states > 0
    moved = pitch + shift
    if ((moved < 0) | (moved >= pitches))[sounding].any():
        return None
    return np.where(~sounding, 0, np.where(states > pitches, 1 + pitches + moved, 1 + moved))


def allowed_moves(pitches: int) -> torch.Tensor:
    """(2P+1, 2P+1) bool: "pitch p goes on" follows only "p starts" or "p goes on"."""
    size = 2 * pitches + 1
    allowed = torch.ones(size, size, dtype=torch.bool)
    allowed[:, 1 + pitches :] = False
    index = torch.arange(pitches)
    allowed[1 + index, 1 + pitches + index] = True
    allowed[1 + pitches + index, 1 + pitches + index] = True
    return allowed


def last_states(prime: torch.Tensor, pitches: int) -> torch.Tensor:
    """The state of each voice at the prime's last step, (B, V): what ``to_states`` gives there,
    found from the last token that is not a hold instead of walking the whole prime."""
    tokens = prime.cpu().long()
    steps = tokens.shape[-1]
    struck = tokens != HOLD
    last = steps - 1 - struck.flip(-1).long().argmax(-1)  # the last rest or onset
    token = tokens.gather(-1, last[..., None])[..., 0]
    pitch = token - FIRST_PITCH
    sounding = struck.any(-1) & (token >= FIRST_PITCH)
    held = 1 + pitches + pitch
    return torch.where(sounding, torch.where(last == steps - 1, 1 + pitch, held), torch.zeros_like(token))


def sample_lines(
    logits: torch.Tensor,
    start: torch.Tensor,
    prior: LinePrior,
    generator: torch.Generator,
    temperature: float = 1.0,
    strength: float = 1.0,
    parallels: float = 0.0,
    window: torch.Tensor | np.ndarray | None = None,
) -> torch.Tensor:
    """Draw (B, V, S) tokens from (B, V, K, S) logits under the line prior, each voice's line
    continuing from its ``start`` state (B, V). With the prior's calibration and the
    ``window`` (B, V, S') the logits were conditioned on, each new note is also weighed by its
    pitch class's rank and its register in the window, and each token by whether it echoes
    the window's token at the same step. The calibration's seam weights (with or without the
    window) weigh the move from ``start`` into the first step: the seam between the context and
    what is drawn, at every chunk of an autoregressive continuation.

    With ``parallels`` > 0 the voices are drawn one after another from the top, and a move
    that makes parallel fifths or octaves (unisons) with a voice already drawn has its
    weight divided by e^parallels; with 0 every voice is drawn at once.
    """
    batch, voices, _, steps = logits.shape
    tokens_of = state_tokens(prior.pitches)
    emission = torch.log_softmax(logits.float() / temperature, dim=2)[:, :, tokens_of, :]  # (B, V, N, S)
    if prior.calibration is not None and window is not None:
        context = window.cpu().numpy() if isinstance(window, torch.Tensor) else np.asarray(window)
        emission = emission + _context_weights(prior.calibration, context, tokens_of, steps)
    if prior.calibration is not None and prior.calibration.seam is not None:
        # (B, V, N): the class of the move from the start into each state; an impossible move
        # (class -1) takes class 0's weight, harmless since the moves give it no weight at all
        into = move_classes(prior.pitches)[start].clamp_min(0)
        seam = prior.calibration.seam[torch.arange(voices)[None, :, None], into]
        emission = torch.cat([emission[..., :1] + seam[..., None], emission[..., 1:]], dim=3)
    moves = prior.move_weights(strength)
    size = moves.shape[2]  # moves: (V, M, N, N)
    if parallels <= 0:  # every (window, voice) line is its own chain
        chains = _ffbs(
            emission.reshape(batch * voices, size, steps),
            np.tile(moves, (batch, 1, 1, 1)),
            start.reshape(-1),
            generator,
        )
        return tokens_of[chains.view(batch, voices, steps)]
    pitch_of = _state_pitches(prior.pitches)
    states = torch.empty(batch, voices, steps, dtype=torch.long)
    chunk = 16  # windows at a time
    for v in range(voices):
        for first in range(0, batch, chunk):
            rows = slice(first, first + chunk)
            above = pitch_of[torch.cat([start[rows, :v, None], states[rows, :v]], dim=2)]  # (b, v, S + 1)
            blocks = _parallel_factors(above, prior.pitches, parallels)
            states[rows, v] = _ffbs(
                emission[rows, v],
                moves[v][None],  # shared by the chunk's windows
                start[rows, v],
                generator,
                blocks,
            )
    return tokens_of[states]


def _context_weights(
    calibration: Calibration, window: np.ndarray, tokens_of: torch.Tensor, steps: int
) -> torch.Tensor:
    """(B, V, N, S) log-weights of each state at each step from the (B, V, S') window: the tonal
    and register weights of the new note it starts, the echo weight if its token is the window's."""
    batch, voices, _ = window.shape
    pitches = (len(tokens_of) - 1) // 2
    sounding = sounding_pitches(window, pitches)
    ranks = torch.from_numpy(tonal_ranks(window, pitches, sounding))  # (B, P)
    registers = torch.from_numpy(register_classes(window, pitches, sounding))  # (B, V, P)
    onset = calibration.tonal[:, ranks].transpose(0, 1)  # (B, V, P)
    onset = onset + calibration.register[torch.arange(voices)[None, :, None], registers]
    weights = torch.zeros(batch, voices, len(tokens_of), steps)
    weights[:, :, 1 : 1 + pitches] = onset[..., None]
    overlap = min(steps, window.shape[2])
    echoed = tokens_of[None, None, :, None] == torch.from_numpy(window[:, :, None, :overlap]).long()
    weights[..., :overlap] += echoed * calibration.echo[None, :, None, None]
    return weights


def _state_pitches(pitches: int) -> torch.Tensor:
    """The pitch index sounding in each state (-1 for rest)."""
    index = torch.arange(pitches)
    return torch.cat([torch.tensor([-1]), index, index]).long()


@functools.lru_cache(maxsize=4)
def _parallel_table(pitches: int) -> torch.Tensor:
    """(P, P, P, P) bool: whether an upper voice moving from pitch a to c (indices [a, c]) and
    this voice moving from x to y ([..., x, y]) make parallel fifths or octaves (unisons): both
    move the same way, from a fifth (or octave, unison) to the same interval."""
    index = np.arange(pitches)
    x, y = index[:, None], index[None, :]
    table = np.zeros((pitches, pitches, pitches, pitches), dtype=bool)
    for a in range(pitches):
        c = index[:, None, None]  # (P, 1, 1): where the upper voice goes
        interval = (a - x) % 12  # (P, 1)
        table[a] = (
            (c != a)
            & (x != y)
            & ((c - a) * (y - x) > 0)
            & ((interval == 0) | (interval == 7))
            & (interval == (c - y) % 12)
        )
    return torch.from_numpy(table)


def _parallel_factors(above: torch.Tensor, pitches: int, weight: float) -> dict[int, torch.Tensor]:
    """For the steps where moving this voice can make parallels with a voice ``above``: (b, P, P)
    factors on moving from pitch x to a new pitch y, e^-weight once per upper voice that makes
    parallel fifths or octaves with it (see :func:`_parallel_table`).

    ``above`` is (b, u, S + 1): the upper voices' sounding pitch indices (-1 for silence), from
    the step before the first.
    """
    before, after = above[:, :, :-1], above[:, :, 1:]  # (b, u, S) before and at each step
    moving = (before >= 0) & (after >= 0) & (before != after)
    rows, _, steps = moving.nonzero(as_tuple=True)  # one event per (window, upper voice, step)
    pairs = _parallel_table(pitches)[before[moving], after[moving]]  # (E, P, P)
    found = pairs.flatten(1).any(1)
    if not bool(found.any()):
        return {}
    rows, steps, pairs = rows[found], steps[found], pairs[found]
    where, slot = torch.unique(steps, return_inverse=True)
    count = torch.zeros(len(above), len(where), pitches, pitches)
    count.index_put_((rows, slot), pairs.float(), accumulate=True)
    factors = torch.exp(-weight * count)  # (b, m, P, P)
    return {int(t): factors[:, i] for i, t in enumerate(where.tolist())}


def _ffbs(
    emission: torch.Tensor,
    moves: np.ndarray,
    start: torch.Tensor,
    generator: torch.Generator,
    blocks: dict[int, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Forward filtering, backward sampling of C chains: (C, N, S) log-emissions, weights of the
    moves (C, M, N, N) into each of M positions of the bar (or (1, M, N, N) shared by all chains;
    see :meth:`LinePrior.move_weights`), start states (C,) -> (C, S) states. ``blocks`` maps a
    step to (C, P, P) factors on the moves from a sounding pitch into a new one at that step.

    Works in probabilities, rescaled at every step, so each step is one batched
    vector-matrix product.
    """
    chains, size, steps = emission.shape
    pitches = (size - 1) // 2
    uniform = torch.rand(chains, steps, 1, generator=generator).numpy().astype(np.float64)
    # the step loops run in NumPy: per step they are a few small operations, where NumPy's
    # overhead per call is a fraction of PyTorch's
    weights = torch.exp(emission - emission.amax(dim=1, keepdim=True)).numpy().astype(np.float64)
    static = np.broadcast_to(moves, (chains, *moves.shape[1:]))  # (C, M, N, N), not copied
    positions = static.shape[1]  # step t of the continuation is at position t mod M of its bar
    factors = {t: f.numpy().astype(np.float64) for t, f in (blocks or {}).items()}
    row = np.arange(chains)
    pitch_rows = slice(1, 1 + pitches), slice(1 + pitches, size)  # "x starts", "x goes on"
    scratch: dict[int, np.ndarray] = {}  # a (C, N, N) buffer per position in the bar

    def transitions(t: int) -> np.ndarray:
        """The (C, N, N) moves into step t (valid until the next call)."""
        factor, position = factors.get(t), t % positions
        if factor is None:
            return static[:, position]
        if position not in scratch:
            scratch[position] = static[:, position].copy()
        out = scratch[position]
        for rows in pitch_rows:  # from "x starts" or "x goes on" to "y starts"
            np.multiply(static[:, position, rows, 1 : 1 + pitches], factor, out=out[:, rows, 1 : 1 + pitches])
        return out

    def into(t: int, state: np.ndarray) -> np.ndarray:
        """(C, N): the moves from every state into each chain's ``state`` at step t."""
        column = static[row, t % positions, :, state]
        factor = factors.get(t)
        if factor is not None:
            new_note = ((state >= 1) & (state <= pitches))[:, None]
            towards = np.where(new_note, factor[row, :, np.clip(state - 1, 0, pitches - 1)], 1.0)  # (C, P)
            for rows in pitch_rows:
                column[:, rows] *= towards
        return column

    alpha = weights[..., 0] * transitions(0)[row, start.numpy()]  # (C, N)
    alpha /= alpha.sum(1, keepdims=True)
    alphas = [alpha]
    for t in range(1, steps):
        alpha = np.matmul(alpha[:, None, :], transitions(t))[:, 0] * weights[..., t]
        alpha /= alpha.sum(1, keepdims=True)
        alphas.append(alpha)
    states = np.empty((chains, steps), dtype=np.int64)
    states[:, -1] = _pick(alphas[-1], uniform[:, -1])
    for t in range(steps - 2, -1, -1):
        states[:, t] = _pick(alphas[t] * into(t + 1, states[:, t + 1]), uniform[:, t])
    return torch.from_numpy(states)


def _pick(weights: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """One index per row of (C, N) non-negative weights, by inverting the cumulative sum at ``uniform``."""
    cumulative = weights.cumsum(1)
    return np.minimum((cumulative < uniform * cumulative[:, -1:]).sum(1), weights.shape[1] - 1)
