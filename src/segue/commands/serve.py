"""``segue serve``: the web studio (a page and a JSON API) on uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
import os

from segue.errors import SegueError


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``serve``."""
    p = subparsers.add_parser("serve", help="start the web studio: continue, see and hear MIDI in a browser")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME|PATH",
        help="a shipped model or a model folder (default: the shipped models, picked by each file's meter)",
    )
    p.add_argument("--workers", type=int, default=2, help="threads that run the model (default 2)")
    p.add_argument("--max-upload-mb", type=float, default=2.0, help="largest upload in MB (default 2)")
    p.add_argument("--max-bars", type=int, default=32, help="most bars per request (default 32)")
    p.add_argument("--max-samples", type=int, default=4, help="most variations per request (default 4)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the model, build the app and serve it until interrupted."""
    if not 0 < args.port < 65536:
        raise SegueError(f"--port {args.port}: choose a port between 1 and 65535")
    if not 0 < args.max_upload_mb <= 64:
        raise SegueError(f"--max-upload-mb {args.max_upload_mb:g}: choose a size in (0, 64]")
    from segue.studio import Limits

    limits = Limits(
        max_upload_bytes=max(1, int(args.max_upload_mb * 2**20)),
        max_bars=args.max_bars,
        max_samples=args.max_samples,
        timeout_s=args.timeout,
        workers=args.workers,
    )
    import torch
    import uvicorn

    from segue.pipeline.catalog import Shelf, model_path
    from segue.pipeline.model import load_model
    from segue.studio import build_app

    # Each worker thread runs its own forward pass: share the cores between them.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // limits.workers))
    model = Shelf() if args.model is None else load_model(model_path(args.model))
    from segue.sampler import kernel

    if kernel.AVAILABLE:  # a server runs long: its sampler draws compiled from the first request
        kernel.load()
    app = build_app(model, limits)
    if not _loopback(args.host):
        print(f"segue serve: listening on {args.host}, reachable from other machines")
    print(f"segue studio on http://{_url_host(args.host)}:{args.port}/ (API docs at /docs); Ctrl+C stops it")
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    except OSError as error:
        raise SegueError(f"cannot listen on {args.host}:{args.port} ({error.strerror or error})") from None
    return 0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
