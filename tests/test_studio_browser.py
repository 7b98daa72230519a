"""The studio end to end in headless Chromium (Debian's), driven by Playwright.

Uploads a bundled chorale, waits for the piano roll, downloads the MIDI and checks it
holds more bars than the upload, and saves a screenshot (to $SEGUE_SCREENSHOT as well,
when set: that is how docs/studio.png is made).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.ports import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server():
    import uvicorn

    from segue.pipeline.catalog import Shelf
    from segue.studio import build_app

    port = free_port()  # the shipped models, as `segue serve` serves them
    config = uvicorn.Config(build_app(Shelf()), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert instance.started, "the studio did not start"
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


def test_upload_continue_download_in_chromium(server, tmp_path):
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium): no browser to drive")
    from segue.data.chorales import load_chorales, split_indices
    from segue.music.midi import midi_bytes, read_midi
    from segue.music.timing import tempo_segments

    dataset = load_chorales()
    piece = [dataset[i] for i in split_indices(dataset, "test") if str(dataset[i].meter) == "4/4"][1]
    piece = dataclasses.replace(piece, tempos=((0, 500_000), (16, 1_000_000)))  # slower from bar 2
    upload = tmp_path / f"{piece.name}.mid"
    upload.write_bytes(midi_bytes(piece))
    uploaded_bars = read_midi(upload).pieces[0].n_bars

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            page.goto(server)
            page.set_input_files("#file", str(upload))
            page.fill("#bars", "8")
            page.click("#continue")
            page.wait_for_selector('#roll[data-ready="true"]', timeout=30_000)
            page.wait_for_selector("#download-wav:not(.disabled)", timeout=30_000)
            assert int(page.get_attribute("#roll", "data-notes") or 0) > 0
            status = page.inner_text("#status")
            assert "Continued" in status and "model chorales (several parts in 4/4" in status, status
            with page.expect_download() as info:
                page.click("#download-midi")
            downloaded = tmp_path / "downloaded.mid"
            info.value.save_as(downloaded)
            page.evaluate("document.getElementById('audio').currentTime = 42")  # show the play head
            page.wait_for_timeout(300)
            head = float(page.get_attribute("#roll", "data-head") or "nan")
            shot = tmp_path / "studio.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    read = read_midi(downloaded)
    result, place = read.pieces[0], read.places[0]
    assert result.n_bars > uploaded_bars
    # the play head sits where the file's tempo map puts 42 s of audio, on the drawn grid
    step, seconds, pace = [s for s in tempo_segments(downloaded.read_bytes()) if s[1] <= 42][-1]
    expected = step - place.origin_step + (42 - seconds) / pace
    assert abs(head - expected) < 0.05, (head, expected)
    assert shot.stat().st_size > 10_000
    if os.environ.get("SEGUE_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["SEGUE_SCREENSHOT"])
