"""Which demo server serves which demo site config, for `nightly --demo` and `crawl <demo site>`.

Each demo shop runs on its own loopback port (so each has its own robots.txt, as real sites do);
a demo site config names its shop with `demo_shop` semantics by its site name.
"""
from __future__ import annotations

from contextlib import ExitStack

from crawler.siteconfig import SiteConfig


def demo_server_for(site: SiteConfig, night: int, faults: float = 0.0, fault_seed: int = 0):
    """A started-on-enter server for a demo site: the Old Street shop for `demo-oldstreet`, else the Demo Bazaar.

    `faults` > 0 makes that share of requests fail (wildwatch.demo.faults), deterministically per seed.
    """
    if site.name.startswith("demo-oldstreet"):
        from wildwatch.demo.oldstreet import OldStreetShop

        server = OldStreetShop(night=night)
    else:
        from wildwatch.demo.server import DemoMarketplace

        server = DemoMarketplace(night=night)
    if faults:
        from wildwatch.demo.faults import FaultInjector

        # Stalls outlast the site's own timeout, so each one is a real timeout for the crawler.
        server.faults = FaultInjector(faults, fault_seed, stall_seconds=site.limits.timeout_seconds + 5)
    return server


def serve_demo_sites(stack: ExitStack, sites: list[SiteConfig], night: int, faults: float = 0.0,
                     fault_seed: int = 0) -> list[SiteConfig]:
    """Start one server per demo site (closed with `stack`); the sites pointed at their servers."""
    served = []
    for site in sites:
        if not site.demo:
            served.append(site)
            continue
        server = stack.enter_context(demo_server_for(site, night, faults, fault_seed))
        served.append(site.with_base_url(server.base_url))
    return served
