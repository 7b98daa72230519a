"""Load test of ``segue serve`` over loopback: requests per second, p50/p99 latency, errors.

Starts ``segue serve`` (the shipped model) in a child process on a free loopback port,
waits for ``/api/health``, then runs ``--clients`` concurrent clients for ``--seconds``
seconds. Each client posts a bundled 4/4 test chorale to ``/api/continue`` and asks for
``--bars`` bars (MIDI answer) in a loop, one request after another. Latency is measured
per request from send to the last byte. The server gets the machine's cores; the
clients are threads of this process (the model work is the server's).

    .venv/bin/python benchmarks/serve_load.py --clients 16 --bars 8 --seconds 30

Only loopback addresses are used; the run stops by itself after ``--seconds``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import numpy as np

from segue.data.chorales import load_chorales, split_indices
from segue.music.midi import midi_bytes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def multipart(fields: dict[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: audio/midi\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def wait_healthy(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not come up")


def client(port: int, body: bytes, kind: str, stop: float, latencies: list[float], errors: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < stop:
        started = time.perf_counter()
        try:
            connection.request("POST", "/api/continue", body=body, headers={"Content-Type": kind})
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200 or not payload.startswith(b"MThd"):
                errors.append(f"{response.status}: {payload[:120]!r}")
            else:
                latencies.append(time.perf_counter() - started)
        except OSError as error:
            errors.append(f"{type(error).__name__}: {error}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2, help="the server's model threads")
    args = parser.parse_args()

    dataset = load_chorales()
    piece = next(dataset[i] for i in split_indices(dataset, "test") if str(dataset[i].meter) == "4/4")
    body, kind = multipart(
        {"bars": str(args.bars), "prime_bars": "4"}, f"{piece.name}.mid", midi_bytes(piece)
    )

    port = free_port()
    command = [sys.executable, "-m", "segue", "serve", "--port", str(port), "--workers", str(args.workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_healthy(port)
        latencies: list[float] = []
        errors: list[str] = []
        # one warm-up request so that the first timings do not include lazy imports
        client(port, body, kind, time.monotonic() + 0.001, [], [])
        stop = time.monotonic() + args.seconds
        started = time.perf_counter()
        threads = [
            threading.Thread(target=client, args=(port, body, kind, stop, latencies, errors))
            for _ in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    done = np.array(latencies)
    print(
        f"{args.clients} clients x {args.bars} bars for {wall:.1f} s on {os.cpu_count()} cores "
        f"(server: {args.workers} model threads)"
    )
    print(f"requests: {len(done)} ok, {len(errors)} errors; {len(done) / wall:.1f} requests/s")
    if len(done):
        p50, p99 = np.percentile(done, [50, 99])
        print(f"latency: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {done.max() * 1000:.0f} ms")
    for error in errors[:5]:
        print(f"  error: {error}")


if __name__ == "__main__":
    main()
