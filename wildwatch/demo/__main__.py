"""Run the Demo Bazaar by hand: `python -m wildwatch.demo --port 8765 --night 1`.

Serves until Ctrl-C, so a person (or a browser) can look at exactly what the
nightly demo crawl sees.
"""
from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from wildwatch import config
from wildwatch.demo.catalog import CatalogError
from wildwatch.demo.server import DemoMarketplace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wildwatch.demo", description="Serve the Demo Bazaar on loopback.")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on, 0 for any free port (default: %(default)s)")
    parser.add_argument("--night", type=int, default=1, help="which night's listings to show (default: %(default)s)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default: %(default)s)")
    parser.add_argument("--catalog", type=Path, default=config.DEMO_CATALOG, help="listings.jsonl (default: %(default)s)")
    parser.add_argument("--page-size", type=int, default=20, help="results per page (default: %(default)s)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds each answer waits (default: %(default)s)")
    parser.add_argument("--faults", type=float, default=0.0,
                        help="share of requests failing with 500, 429, a stall or a reset (default: %(default)s)")
    parser.add_argument("--fault-seed", type=int, default=0, help="seed of the faults (default: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")

    try:
        site = DemoMarketplace(args.catalog, night=args.night, host=args.host, port=args.port, page_size=args.page_size,
                               delay=args.delay)
        if args.faults:
            from wildwatch.demo.faults import FaultInjector

            site.faults = FaultInjector(args.faults, args.fault_seed)
        url = site.start()
    except (CatalogError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Demo Bazaar (night {args.night}, {len(site.view.live)} listings) at {url}/  - Ctrl-C to stop", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
