"""The studio's FastAPI app: ``build_app``, its routes and error handlers, and the request helpers.

The routes read the request and shape the answer; the work is done by
:class:`~segue.studio.service.Studio`, and the whole app is wrapped in the upload cap
(:class:`~segue.studio.limits.BodyLimit`).
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from segue.errors import SegueError
from segue.studio.limits import BodyLimit, Limits, RequestError
from segue.studio.service import Studio
from segue.version import __version__

log = logging.getLogger("segue.studio")


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
        """Whether the server is up, with its models (the first as ``model``) and limits."""
        models = studio.models()
        return {
            "status": "ok",
            "version": __version__,
            "model": models[0],
            "models": models,
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
