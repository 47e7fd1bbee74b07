"""Which demo server serves which demo site config, for `nightly --demo` and `crawl <demo site>`.

Each demo shop runs on its own loopback port (so each has its own robots.txt, as real sites do);
a demo site config names its shop with `demo_shop` semantics by its site name.
"""
from __future__ import annotations

from contextlib import ExitStack

from crawler.siteconfig import SiteConfig


def demo_server_for(site: SiteConfig, night: int):
    """A started-on-enter server for a demo site: the Old Street shop for `demo-oldstreet`, else the Demo Bazaar."""
    if site.name.startswith("demo-oldstreet"):
        from wildwatch.demo.oldstreet import OldStreetShop

        return OldStreetShop(night=night)
    from wildwatch.demo.server import DemoMarketplace

    return DemoMarketplace(night=night)


def serve_demo_sites(stack: ExitStack, sites: list[SiteConfig], night: int) -> list[SiteConfig]:
    """Start one server per demo site (closed with `stack`); the sites pointed at their servers."""
    served = []
    for site in sites:
        if not site.demo:
            served.append(site)
            continue
        server = stack.enter_context(demo_server_for(site, night))
        served.append(site.with_base_url(server.base_url))
    return served
