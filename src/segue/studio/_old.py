"""The web studio behind ``segue serve``: a page and a JSON API to continue MIDI files.

``build_app(model, limits)`` returns a FastAPI app:

* ``GET /`` the page (``assets/studio``): pick or drop a MIDI file, continue it, see the
  piano roll, hear it, download MIDI and WAV.
* ``POST /api/continue`` a multipart form (``file``, ``bars``, ``seed``, ``samples``,
  ``truncation``, ``temperature``, ``prime_bars``, ``format``): the continuation as MIDI
  bytes, or as JSON with the notes of every variation when ``format=json`` or the
  request accepts only ``application/json``.
* ``POST /api/render`` a MIDI file in the field ``file`` -> WAV.
* ``GET /api/examples``, ``GET /api/examples/{name}`` the bundled test chorales.
* ``GET /api/health``.

Work runs in a thread pool, never on the event loop; each request has a time limit,
caps on bars and variations, and an upload size cap that is enforced while the body is
read (a larger body is refused without reading it whole). Errors are JSON
``{"error": "..."}`` with a 4xx status; an unexpected failure is a 500 with a one-line
message and no traceback.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from segue.version import __version__
from segue.errors import SegueError

if TYPE_CHECKING:
    from segue.pipeline.continuation import Continuation

log = logging.getLogger("segue.studio")


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server."""

    max_upload_bytes: int = 2 * 2**20
    """Largest request body (the MIDI upload and the form around it)."""
    max_bars: int = 32
    """Most bars one request may generate."""
    max_samples: int = 4
    """Most variations one request may ask for."""
    timeout_s: float = 30.0
    """Seconds a request may take before it is answered with 503."""
    workers: int = 2
    """Threads that run the model (requests beyond them wait their turn)."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_upload_bytes <= 64 * 2**20:
            raise SegueError("the upload cap must be between 1 byte and 64 MB")
        if not 1 <= self.max_bars <= 1024:
            raise SegueError("the bar cap must be between 1 and 1024")
        if not 1 <= self.max_samples <= 64:
            raise SegueError("the variation cap must be between 1 and 64")
        if not 0 < self.timeout_s <= 3600:
            raise SegueError("the request timeout must be in (0, 3600] seconds")
        if not 1 <= self.workers <= 64:
            raise SegueError("workers must be between 1 and 64")


class RequestError(Exception):
    """A request the server refuses: an HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def studio_dir() -> Path:
    """The page's files, shipped in the package."""
    return Path(str(resources.files("segue") / "assets" / "studio"))


def safe_label(filename: str | None) -> str:
    """A name for messages from an upload's file name: its last part, plain characters only.

    Upload names are shown, never used as paths.
    """
    name = re.split(r"[\\/]", filename or "")[-1]
    name = re.sub(r"[^A-Za-z0-9._ -]", "_", name).strip() or "upload"
    return name[:80]


class BodyLimit:
    """ASGI middleware: refuse request bodies larger than ``limit`` bytes with 413.

    A declared Content-Length over the limit is refused before any byte is read; a body
    that grows past the limit while streaming is cut off at the first chunk beyond it.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(send, "bad Content-Length" if not length.isdigit() else None)
            return
        seen, over, answered = 0, False, False

        async def counted() -> Message:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # stop reading: the app sees the client gone
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal answered
            if over:  # whatever the app makes of the cut-off body, the answer is 413
                if not answered:
                    answered = True
                    await self._refuse(send)
                return
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not over:
                raise
        if over and not answered:
            await self._refuse(send)

    async def _refuse(self, send: Send, reason: str | None = None) -> None:
        text = reason or f"the upload is larger than the {_size(self.limit)} limit"
        body = _json_bytes({"error": text})
        status = 400 if reason else 413
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _json_bytes(value: object) -> bytes:
    import json

    return json.dumps(value).encode()


class Studio:
    """The model, the worker pool and the work each endpoint does (no HTTP here)."""

    def __init__(self, model: Any, limits: Limits) -> None:
        self.model, self.limits = model, limits
        self.pool = ThreadPoolExecutor(max_workers=limits.workers, thread_name_prefix="segue-model")
        self._examples: dict[str, Any] | None = None

    async def run(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` in the pool; 503 when it takes longer than the time limit."""
        future = asyncio.get_running_loop().run_in_executor(self.pool, work)
        try:
            return await asyncio.wait_for(future, self.limits.timeout_s)
        except asyncio.TimeoutError:
            raise RequestError(503, f"the request took longer than {self.limits.timeout_s:g} s") from None

    def check(self, bars: int, samples: int, seed: int) -> None:
        """Refuse work beyond the caps."""
        if not 1 <= bars <= self.limits.max_bars:
            raise RequestError(422, f"bars must be between 1 and {self.limits.max_bars}, not {bars}")
        if not 1 <= samples <= self.limits.max_samples:
            raise RequestError(422, f"samples must be between 1 and {self.limits.max_samples}, not {samples}")
        if not 0 <= seed < 2**63:
            raise RequestError(422, f"seed must be between 0 and 2^63 - 1, not {seed}")

    def continue_upload(self, data: bytes, label: str, options: dict[str, Any]) -> list[Any]:
        """Continue the uploaded file; variation i uses seed + i (so each can be redrawn alone)."""
        from segue.pipeline.continuation import continue_midi

        seed, samples = options.pop("seed"), options.pop("samples")
        results = []
        for i in range(samples):
            (result,) = continue_midi(data, model=self.model, seed=seed + i, name=label, **options)
            results.append(result)
        return results

    def describe(self, label: str, results: list[Any], seed: int) -> dict[str, Any]:
        """The JSON answer: the prime's and every variation's notes, and each variation's MIDI."""
        variations = []
        for i, result in enumerate(results):
            notes, timing = notes_of(result)
            variations.append(
                {"seed": seed + i, "midi": base64.b64encode(result.midi).decode(), "notes": notes}
            )
        first = results[0]
        return {
            "name": label,
            "prime_bars": first.prime_bars,
            "bars": first.bars,
            "voicing": first.voicing,
            "transposed": first.shift,
            **timing,
            "variations": variations,
        }

    def examples(self) -> dict[str, Any]:
        """The bundled test chorales in the model's meter, by name (loaded once)."""
        if self._examples is None:
            from segue.data.chorales import load_chorales, split_indices

            dataset = load_chorales()
            meter = self.model.config.meter
            pieces = [dataset[i] for i in split_indices(dataset, "test")]
            self._examples = {piece.name: piece for piece in pieces if str(piece.meter) == meter}
        return self._examples

    def example_midi(self, name: str) -> bytes:
        """One bundled chorale as MIDI; the name is looked up, never used as a path."""
        from segue.music.midi import midi_bytes

        piece = self.examples().get(name)
        if piece is None:
            raise RequestError(404, f"no bundled example named {name!r}")
        return midi_bytes(piece)

    def render(self, data: bytes, label: str) -> bytes:
        """A MIDI file as WAV bytes (the bundled synthesizer), up to 10 minutes of music."""
        from segue.music.midi import load_midi_bytes
        from segue.render import wav_bytes

        return wav_bytes(load_midi_bytes(data, label), max_seconds=600, label=label)


def notes_of(result: Continuation) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The notes of a continuation's MIDI for drawing, and its grid and tempo.

    Each note: pitch, start and length in steps, its track, and whether it was generated
    (starts at or after the seam). ``seconds_per_step`` is the pace at the first drawn bar; the
    tempo map gives, at the file's start and at each tempo change, the step (on the drawn grid,
    so negative before its first bar), the seconds of audio elapsed there and the seconds per
    step from there on: the page's play head follows it.
    """
    piece, seam = result.piece, result.seam_step
    notes = [
        {
            "pitch": int(n["pitch"]),
            "start": int(n["onset"]),
            "length": int(n["duration"]),
            "track": int(n["track"]),
            "generated": bool(n["onset"] >= seam),
        }
        for n in piece.notes
    ]
    first_tempo = piece.tempos[0][1] if piece.tempos else 500_000
    timing = {
        "steps_per_beat": piece.steps_per_beat,
        "steps_per_bar": piece.bar_steps,
        "seam": seam,
        "end": piece.end,
        "seconds_per_step": first_tempo / 1e6 / piece.steps_per_beat,
        "tempo_map": [
            {"step": step, "seconds": seconds, "seconds_per_step": pace}
            for step, seconds, pace in result.tempo_map
        ],
        "tracks": [part.name for part in piece.parts],
    }
    return notes, timing


def build_app(model: Any, limits: Limits | None = None) -> Any:
    """The studio's ASGI app (FastAPI), wrapped in the upload cap."""
    limits = limits or Limits()
    studio = Studio(model, limits)
    app = FastAPI(
        title="segue studio",
        version=__version__,
        description="Continue a MIDI file with a conditional GAN: MIDI in, MIDI (or notes as JSON) out.",
    )
    app.state.studio = studio

    @app.exception_handler(RequestError)
    async def refused(_: Request, error: RequestError) -> JSONResponse:
        return JSONResponse({"error": error.message}, status_code=error.status)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code)

    @app.exception_handler(SegueError)
    async def bad_input(_: Request, error: SegueError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def bad_form(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _validation_message(error)}, status_code=422)

    @app.exception_handler(Exception)
    async def failed(_: Request, error: Exception) -> JSONResponse:
        log.error("internal error: %s: %s", type(error).__name__, error)
        return JSONResponse({"error": f"internal error ({type(error).__name__})"}, status_code=500)

    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        """Whether the server is up, with its model and limits."""
        config = studio.model.config
        return {
            "status": "ok",
            "version": __version__,
            "model": {
                "meter": config.meter,
                "voices": list(config.voice_names),
                "context_bars": config.context_bars,
                "continuation_bars": config.continuation_bars,
            },
            "limits": asdict(limits),
        }

    @app.post(
        "/api/continue",
        responses={200: {"content": {"audio/midi": {}, "application/json": {}}}},
    )
    async def continue_file(
        request: Request,
        file: Annotated[UploadFile, File(description="the MIDI file to continue")],
        bars: Annotated[int, Form(description="bars to generate")] = 8,
        seed: Annotated[int, Form(description="random seed; variation i uses seed + i")] = 0,
        samples: Annotated[int, Form(description="variations (a JSON answer holds all; MIDI the first)")] = 1,
        truncation: Annotated[float | None, Form(description="truncate the noise to |z| <= T")] = None,
        temperature: Annotated[float, Form(description="sampling temperature")] = 1.0,
        prime_bars: Annotated[int | None, Form(description="complete bars of the upload to keep")] = None,
        format: Annotated[
            str | None, Form(description="midi or json (default: by the Accept header)")
        ] = None,
    ) -> Response:
        """Continue an uploaded MIDI file by ``bars`` bars."""
        studio.check(bars, samples, seed)
        want_json = _wants_json(format, request.headers.get("accept", ""))
        label = safe_label(file.filename)
        data = await file.read()
        options = {
            "bars": bars,
            "seed": seed,
            "samples": samples,
            "truncation": truncation,
            "temperature": temperature,
            "prime_bars": prime_bars,
        }
        results = await studio.run(functools.partial(studio.continue_upload, data, label, dict(options)))
        if not want_json:
            return Response(
                results[0].midi,
                media_type="audio/midi",
                headers={"content-disposition": f'attachment; filename="{_stem(label)}-continued.mid"'},
            )
        described = await studio.run(functools.partial(studio.describe, label, results, seed))
        return JSONResponse(described)

    @app.post("/api/render", responses={200: {"content": {"audio/wav": {}}}})
    async def render(file: Annotated[UploadFile, File(description="a MIDI file")]) -> Response:
        """Render a MIDI file (such as a continuation) to WAV with the bundled synthesizer."""
        label = safe_label(file.filename)
        data = await file.read()
        wav = await studio.run(functools.partial(studio.render, data, label))
        return Response(wav, media_type="audio/wav")

    @app.get("/api/examples")
    async def examples() -> dict[str, list[str]]:
        """The bundled chorales of the test split (never seen in training)."""
        names = await studio.run(lambda: sorted(studio.examples()))
        return {"examples": names}

    @app.get("/api/examples/{name}", responses={200: {"content": {"audio/midi": {}}}})
    async def example(name: str) -> Response:
        """One bundled chorale as MIDI."""
        data = await studio.run(functools.partial(studio.example_midi, name))
        return Response(data, media_type="audio/midi")

    page = studio_dir()

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(page / "index.html")

    app.mount("/static", StaticFiles(directory=page), name="static")
    return BodyLimit(app, limits.max_upload_bytes)


def _size(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:g} MB"
    return f"{n / 2**10:g} KB" if n >= 2**10 else f"{n}-byte"


def _wants_json(format: str | None, accept: str) -> bool:
    if format not in (None, "", "midi", "json"):
        raise RequestError(422, f"format must be midi or json, not {format!r}")
    if format:
        return format == "json"
    return "application/json" in accept and "audio/midi" not in accept


def _stem(label: str) -> str:
    return Path(label).stem or "upload"


def _validation_message(error: Any) -> str:
    """One line from FastAPI's validation errors: the first field and what is wrong with it."""
    problems = []
    for item in error.errors()[:3]:
        where = ".".join(str(part) for part in item.get("loc", ()) if part not in ("body", "query"))
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(problems) or "invalid request"
