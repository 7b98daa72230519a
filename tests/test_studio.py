"""The web studio's API through FastAPI's test client: success, every limit, bad uploads."""

from __future__ import annotations

import base64
import dataclasses
import threading
import time
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import torch
from fastapi.testclient import TestClient

from segue.data.chorales import load_chorales, split_indices
from segue.music.midi import midi_bytes, read_midi
from segue.pipeline.model import SegueModel
from segue.studio import Limits, build_app, safe_label
from tests.smf import TrackBuilder, smf
from tests.tiny import TINY_MODEL

RANGES = [[60, 81], [53, 74], [48, 69], [36, 62]]


@pytest.fixture(scope="module")
def model() -> SegueModel:
    torch.manual_seed(0)
    return SegueModel.create(TINY_MODEL, {"voice_ranges": RANGES}).eval()


@pytest.fixture(scope="module")
def client(model) -> TestClient:
    limits = Limits(max_upload_bytes=200_000, max_bars=16, max_samples=3, timeout_s=20, workers=2)
    return TestClient(build_app(model, limits))


@pytest.fixture(scope="module")
def chorale() -> bytes:
    dataset = load_chorales()
    return midi_bytes(dataset[split_indices(dataset, "test")[0]])


def post(client: TestClient, data: bytes, name: str = "song.mid", **fields: object):
    return client.post(
        "/api/continue",
        files={"file": (name, data, "audio/midi")},
        data={k: str(v) for k, v in fields.items()},
    )


def bars_of(midi: bytes) -> int:
    (piece, *_) = read_midi(midi).pieces
    return piece.n_bars


def test_health(client):
    answer = client.get("/api/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["model"]["meter"] == "4/4"
    assert body["limits"]["max_bars"] == 16


def test_continue_returns_midi_with_more_bars(client, chorale):
    answer = post(client, chorale, bars=4, seed=3, prime_bars=4)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "audio/midi"
    assert answer.content.startswith(b"MThd")
    assert bars_of(answer.content) > 4
    again = post(client, chorale, bars=4, seed=3, prime_bars=4)
    assert again.content == answer.content  # the same seed, the same bytes


def test_continue_as_json_holds_every_variation(client, chorale):
    answer = post(client, chorale, bars=2, seed=5, samples=3, format="json")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [v["seed"] for v in body["variations"]] == [5, 6, 7]
    for variation in body["variations"]:
        notes = variation["notes"]
        assert any(n["generated"] for n in notes) and any(not n["generated"] for n in notes)
        assert all(n["start"] >= body["seam"] for n in notes if n["generated"])
        assert base64.b64decode(variation["midi"]).startswith(b"MThd")
    # variation i is seed + i alone: redrawing one gives what the batch gave
    alone = post(client, chorale, bars=2, seed=6, samples=1, format="json").json()
    assert alone["variations"][0]["midi"] == body["variations"][1]["midi"]


def test_json_holds_a_tempo_map_for_the_play_head(client):
    # an empty bar, then 4 bars at 120 bpm and 4 at 60 bpm: the drawn grid starts after the empty bar
    track = TrackBuilder().meter(0, 4, 4).tempo(0, 500_000).tempo(5 * 1920, 1_000_000)
    for beat in range(4, 36):
        track.note(beat * 480, 480, 60 + beat % 5)
    answer = post(client, smf([track]), bars=2, format="json")
    assert answer.status_code == 200, answer.text
    tempo_map = answer.json()["tempo_map"]
    assert tempo_map == [
        {"step": -16, "seconds": 0.0, "seconds_per_step": 0.125},
        {"step": 64, "seconds": 10.0, "seconds_per_step": 0.25},
    ]


def test_accept_header_selects_json(client, chorale):
    answer = client.post(
        "/api/continue",
        files={"file": ("a.mid", chorale, "audio/midi")},
        data={"bars": "1"},
        headers={"accept": "application/json"},
    )
    assert answer.status_code == 200
    assert answer.json()["bars"] == 1


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"bars": 17}, "bars must be between 1 and 16"),
        ({"bars": 0}, "bars must be between 1 and 16"),
        ({"samples": 4}, "samples must be between 1 and 3"),
        ({"seed": -1}, "seed must be"),
        ({"truncation": -2}, "truncation"),
        ({"temperature": 0}, "temperature"),
        ({"bars": "many"}, "bars"),
        ({"format": "mp3"}, "format must be midi or json"),
        ({"prime_bars": 500}, "fewer than the 500 asked for"),
    ],
)
def test_bad_parameters_are_4xx_json(client, chorale, fields, needle):
    answer = post(client, chorale, **fields)
    assert 400 <= answer.status_code < 500
    assert needle in answer.json()["error"]


def test_missing_file_is_4xx(client):
    answer = client.post("/api/continue", data={"bars": "2"})
    assert answer.status_code == 422
    assert "file" in answer.json()["error"]


def four_four_song() -> bytes:
    track = TrackBuilder().meter(0, 4, 4)
    for beat in range(16):
        track.note(beat * 480, 480, 60 + beat % 5)
    return smf([track])


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty file"),
        (b"RIFF....WAVEfmt this is no MIDI", "not a MIDI file"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x10\x00\x00\x90", None),
    ],
    ids=["empty", "not-midi", "truncated"],
)
def test_bad_uploads_are_4xx_json_naming_the_file(client, data, needle):
    answer = post(client, data, name="../../etc/evil name.mid")
    assert 400 <= answer.status_code < 500, answer.text
    error = answer.json()["error"]
    assert error.startswith("evil name.mid: ")  # the upload's name, never its path
    if needle:
        assert needle in error
    assert "Traceback" not in answer.text


def test_truncated_real_file_is_refused(client, chorale):
    answer = post(client, chorale[: len(chorale) // 2], name="half.mid")
    assert 400 <= answer.status_code < 500
    assert answer.json()["error"].startswith("half.mid: ")


def test_unknown_meter_is_refused(client):
    track = TrackBuilder().meter(0, 7, 8)
    for i in range(28):
        track.note(i * 240, 240, 60 + i % 7)
    answer = post(client, smf([track]), name="seven.mid")
    assert answer.status_code == 422
    assert "7/8" in answer.json()["error"] and "4/4" in answer.json()["error"]


def test_upload_over_the_cap_is_413(client):
    big = b"MThd" + bytes(300_000)
    answer = post(client, big)
    assert answer.status_code == 413
    assert "limit" in answer.json()["error"]


def test_streamed_body_over_the_cap_is_cut_off(model):
    """Without a Content-Length, the body is counted as it arrives and refused past the cap."""
    import asyncio

    app = build_app(model, Limits(max_upload_bytes=1000))
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mid"\r\n\r\nMThd'
    chunks = [head] + [b"x" * 500] * 50
    read, sent = [], []

    async def receive():
        read.append(1)
        return {"type": "http.request", "body": chunks[len(read) - 1], "more_body": len(read) < len(chunks)}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/continue",
        "raw_path": b"/api/continue",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"multipart/form-data; boundary=b")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert b"larger than the 1000-byte limit" in sent[1]["body"]
    assert len(read) <= 4  # the rest of the body was never read


def test_timeout_is_503(model, chorale):
    app = build_app(model, Limits(timeout_s=0.05, workers=1))
    studio = app.app.state.studio
    studio.continue_upload = lambda *a, **k: time.sleep(0.5)
    with TestClient(app) as client:
        answer = post(client, chorale)
    assert answer.status_code == 503
    assert "longer than 0.05 s" in answer.json()["error"]


def test_internal_error_is_500_without_traceback(model, chorale):
    app = build_app(model, Limits())

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    app.app.state.studio.continue_upload = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = post(client, chorale)
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error (RuntimeError)"}


def test_requests_do_not_block_the_event_loop(model, chorale):
    """While slow work holds both workers, the health check still answers at once."""
    app = build_app(model, Limits(workers=2))
    studio = app.app.state.studio
    studio.continue_upload = lambda *a, **k: time.sleep(1.0) or [SimpleNamespace(midi=b"MThd")]
    with TestClient(app) as client:
        slow = [threading.Thread(target=post, args=(client, chorale)) for _ in range(2)]
        for thread in slow:
            thread.start()
        time.sleep(0.2)
        started = time.perf_counter()
        assert client.get("/api/health").status_code == 200
        waited = time.perf_counter() - started
        for thread in slow:
            thread.join()
    assert waited < 0.5


def test_examples_and_render(client):
    names = client.get("/api/examples").json()["examples"]
    assert len(names) > 10
    midi = client.get(f"/api/examples/{names[0]}")
    assert midi.status_code == 200 and midi.content.startswith(b"MThd")
    assert client.get("/api/examples/..%2F..%2Fetc%2Fpasswd").status_code == 404
    wav = client.post("/api/render", files={"file": ("c.mid", four_four_song(), "audio/midi")})
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
    bad = client.post("/api/render", files={"file": ("c.mid", b"nope", "audio/midi")})
    assert bad.status_code == 422


def test_page_and_openapi(client):
    page = client.get("/")
    assert page.status_code == 200 and "segue studio" in page.text
    assert client.get("/static/studio.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/continue", "/api/health", "/api/render"} <= set(paths)


def test_safe_label():
    assert safe_label("../../x/evil.mid") == "evil.mid"
    assert safe_label("C:\\songs\\a<b>.mid") == "a_b_.mid"
    assert safe_label(None) == "upload"


def test_a_hundred_bad_uploads_in_a_row_leave_the_server_healthy(client, chorale):
    bad = [b"", b"not midi", chorale[:40], b"MThd" + bytes(300_000), b"MThd\x00\x00\x00\x06\x00\x02"]
    statuses = [post(client, bad[i % len(bad)], name=f"../x{i}.mid").status_code for i in range(100)]
    assert all(400 <= status < 500 for status in statuses)
    assert client.get("/api/health").json()["status"] == "ok"
    answer = post(client, chorale, bars=1)
    assert answer.status_code == 200 and answer.content.startswith(b"MThd")


def test_the_shipped_models_each_take_the_files_of_their_meter(tmp_path):
    from segue.pipeline.catalog import Shelf

    for name, meter in (("four", "4/4"), ("three", "3/4")):
        torch.manual_seed(0)
        config = dataclasses.replace(TINY_MODEL, meter=meter)
        SegueModel.create(config, {"voice_ranges": RANGES, "style": "chorales"}).save(tmp_path / name)
    client = TestClient(build_app(Shelf(folder=tmp_path), Limits(max_bars=8, workers=1)))
    health = client.get("/api/health").json()
    assert [(m["name"], m["meter"]) for m in health["models"]] == [("three", "3/4"), ("four", "4/4")]
    track = TrackBuilder().meter(0, 3, 4)
    for bar in range(4):
        track.note(bar * 1440, 1440, 60 + bar).note(bar * 1440, 480, 72)
    answer = post(client, smf([track]), bars=2, format="json")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == "three (several parts in 3/4; style chorales)" and body["steps_per_bar"] == 12
    seven = post(client, smf([TrackBuilder().meter(0, 7, 8).note(0, 4 * 1680, 60)]), bars=2, format="json")
    assert seven.status_code == 200, seven.text
    body = seven.json()
    assert body["model"].startswith("four (a melody in 7/8, continued in 4/4 bars (no model is in 7/8)")
    assert body["steps_per_bar"] == 14
    names = client.get("/api/examples").json()["examples"]
    meters = {str(read_midi(client.get(f"/api/examples/{quote(n)}").content).pieces[0].meter) for n in names}
    assert meters == {"3/4", "4/4"}
    # folk tunes in the models' meters too (a few per meter), Palestrina's 4/2 not
    folk = [n for n in names if n.startswith("folk ")]
    assert 2 <= len(folk) <= 6 and not any(n.startswith("palestrina ") for n in names)
    tune = read_midi(client.get(f"/api/examples/{quote(folk[0])}").content).pieces[0]
    assert len(tune.parts) == 1
