"""The web studio behind ``segue serve``: a page and a JSON API to continue MIDI files.

``build_app(model, limits)`` returns a FastAPI app:

* ``GET /`` the page (``assets/studio``): pick or drop a MIDI file, continue it, see the
  piano roll, hear it, download MIDI and WAV.
* ``POST /api/continue`` a multipart form (``file``, ``bars``, ``seed``, ``samples``,
  ``truncation``, ``temperature``, ``prime_bars``, ``format``): the continuation as MIDI
  bytes, or as JSON with the notes of every variation when ``format=json`` or the
  request accepts only ``application/json``.
* ``POST /api/render`` a MIDI file in the field ``file`` -> WAV.
* ``GET /api/examples``, ``GET /api/examples/{name}`` bundled test pieces (chorales, folk tunes, Palestrina).
* ``GET /api/health``.

Work runs in a thread pool, never on the event loop; each request has a time limit,
caps on bars and variations, and an upload size cap that is enforced while the body is
read (a larger body is refused without reading it whole). Errors are JSON
``{"error": "..."}`` with a 4xx status; an unexpected failure is a 500 with a one-line
message and no traceback.

Modules: ``limits`` (the caps, ``RequestError`` and the upload-cap middleware),
``service`` (the model, the worker pool and the work of each endpoint) and ``app``
(``build_app`` and the routes).
"""

from segue.studio.app import build_app, safe_label
from segue.studio.limits import Limits, RequestError

__all__ = ["Limits", "RequestError", "build_app", "safe_label"]
