"""`segue serve` as a user starts it: a real process on a loopback port."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time

import pytest

from segue.cli import main
from tests.ports import free_port


def test_serve_starts_answers_and_stops_on_ctrl_c():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "segue", "serve", "--port", str(port), "--max-bars", "12"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, health = time.monotonic() + 60, None
        while health is None and time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/api/health")
                health = json.loads(connection.getresponse().read())
            except OSError:
                time.sleep(0.2)
        assert health is not None, "the server did not answer"
        assert health["status"] == "ok" and health["limits"]["max_bars"] == 12
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "0"], "choose a port between 1 and 65535"),
        (["--max-upload-mb", "0"], "--max-upload-mb 0"),
        (["--workers", "0"], "workers must be between 1 and 64"),
        (["--max-bars", "5000"], "the bar cap must be between 1 and 1024"),
    ],
)
def test_absurd_arguments_are_one_line_errors(args, message, capsys):
    assert main(["serve", *args]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
