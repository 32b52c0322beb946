"""`faithgate serve`: run the HTTP service with uvicorn (settings from FAITHGATE_* variables)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `serve` subcommand."""
    p = subparsers.add_parser("serve", help="run the HTTP service (FAITHGATE_* settings)")
    p.add_argument("--host", help="address to bind (default FAITHGATE_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to bind (default FAITHGATE_PORT or 8000)")
    p.add_argument(
        "--data-dir", type=Path, help="audit store and keys (default FAITHGATE_DATA_DIR)"
    )
    p.add_argument("--workers", type=int, help="validation worker processes (default: cores)")
    p.add_argument(
        "--engine",
        choices=["none", "transformers", "vllm"],
        help="model engine for chat and probes (default FAITHGATE_ENGINE or none)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the app from the settings (CLI flags win) and serve it until interrupted."""
    import uvicorn

    from service.main import create_app
    from service.settings import Settings

    overrides = {
        k: v
        for k, v in {
            "host": args.host,
            "port": args.port,
            "data_dir": args.data_dir,
            "workers": args.workers,
            "engine": args.engine,
        }.items()
        if v is not None
    }
    settings = Settings(**overrides)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # one line per request costs more than the request; metrics count them
        timeout_graceful_shutdown=10,
        limit_concurrency=settings.max_connections,
    )
    uvicorn.Server(config).run()
    return 0
