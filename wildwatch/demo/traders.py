"""Planted traders for the seller-network demo, served by both demo shops, and the truth to score against.

`data/demo_marketplace/traders.json` describes each planted network (one trader reusing handles,
some disguised, under different seller names and ids in the Demo Bazaar and in Old Street) and
unrelated sellers that share only the platform's service WeChat and 400 line, or a seller name.
The Demo Bazaar gets them through `load_catalog` (ids DB-0901 ...), Old Street through
`oldstreet_listings` (ids OS-0901 ...). `wildwatch.networks.score_links` compares the networks a night built with
that truth: pairwise precision and recall of "these two accounts are one trader". The figures are
on the demo's own planted data, which was written together with the linker: they show the
pipeline works end to end, not how well it does on real marketplaces.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from wildwatch.demo.catalog import CatalogError, DemoListing, parse_lines

TRADERS_FILE = "traders.json"
FIRST_TRADER_NUMBER = 901   # DB-0901 / OS-0901 on: the regular catalog stays below
STYLES = ("jsonld", "html", "js")
Account = tuple[str, str]   # (marketplace, seller id)


@dataclass(frozen=True)
class Truth:
    networks: dict[str, list[Account]]   # planted network name -> its accounts
    unrelated: list[Account]             # must each stay alone

    def pairs(self) -> set[frozenset[Account]]:
        return {frozenset(p) for accounts in self.networks.values() for p in combinations(sorted(accounts), 2)}


def traders_path(catalog_path: Path) -> Path:
    return Path(catalog_path).parent / TRADERS_FILE


def is_trader_id(listing_id: str) -> bool:
    return listing_id[3:].isdigit() and int(listing_id[3:]) >= FIRST_TRADER_NUMBER


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogError([f"{path}: <file>: {exc}"]) from None
    if not isinstance(data, dict) or not isinstance(data.get("networks"), list) or not isinstance(
            data.get("unrelated"), list):
        raise CatalogError([f"{path}: <file>: needs lists 'networks' and 'unrelated'"])
    return data


def _accounts(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [account for network in data["networks"] for account in network["accounts"]] + list(data["unrelated"])


def load_truth(path: Path) -> Truth:
    data = _load(path)
    networks = {n["name"]: [(a["marketplace"], a["seller_id"]) for a in n["accounts"]] for n in data["networks"]}
    return Truth(networks, [(a["marketplace"], a["seller_id"]) for a in data["unrelated"]])


def bazaar_listings(path: Path) -> list[DemoListing]:
    """The planted Demo Bazaar listings, validated like catalog lines (file and field named on an error)."""
    lines, number = [], FIRST_TRADER_NUMBER
    for account in _accounts(_load(path)):
        if account["marketplace"] != "demo":
            continue
        for item in account["listings"]:
            listing_id = f"DB-{number:04d}"
            record = {**item, "id": listing_id, "seller_id": account["seller_id"],
                      "seller_name": account["seller_name"], "location": account["location"],
                      "posted": "2026-11-20", "images": [f"/img/{listing_id}-1.png"],
                      "style": STYLES[number % 3], "label": 1 if item.get("kind") in ("wildlife", "coded") else 0}
            lines.append(json.dumps(record, ensure_ascii=False))
            number += 1
    listings, problems = parse_lines(lines, source=str(path))
    if problems:
        raise CatalogError(problems)
    return listings


def oldstreet_listings(path: Path) -> list[Any]:
    """The planted Old Street listings (wildwatch.demo.oldstreet.ShopListing), ids OS-0901 on."""
    from wildwatch.demo.oldstreet import ShopListing

    out, number = [], FIRST_TRADER_NUMBER
    for account in _accounts(_load(path)):
        if account["marketplace"] != "demo-oldstreet":
            continue
        for item in account["listings"]:
            out.append(ShopListing(f"OS-{number:04d}", item["title"], item["description"],
                                   item.get("price_text", "私聊"), item.get("category", "antiques"),
                                   account["seller_id"], account["seller_name"], account["location"],
                                   "2026-11-21", False))
            number += 1
    return out


@dataclass(frozen=True)
class LinkScore:
    true_pairs: int
    found_pairs: int
    correct_pairs: int
    networks_found: int        # planted networks whose accounts all ended in one network
    networks_planted: int
    wrongly_merged_unrelated: list[Account]

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    def line(self) -> str:
        merged = (f"; unrelated sellers merged: {', '.join(':'.join(a) for a in self.wrongly_merged_unrelated)}"
                  if self.wrongly_merged_unrelated else "; no unrelated seller merged")
        return (f"seller links against the demo's planted traders and reused photos (data/demo_marketplace/"
                f"{TRADERS_FILE}, images.json; the demo's own data, not a measure on real marketplaces): precision {self.precision:.2f} "
                f"({self.correct_pairs}/{self.found_pairs} account pairs), recall {self.recall:.2f} "
                f"({self.correct_pairs}/{self.true_pairs}), planted networks found whole "
                f"{self.networks_found}/{self.networks_planted}{merged}")


def score_networks(network_of: dict[Account, int], truth: Truth) -> LinkScore:
    """Pairwise scores over every account: a found pair is two accounts in one network."""
    members: dict[int, list[Account]] = {}
    for account, network in network_of.items():
        members.setdefault(network, []).append(account)
    found = {frozenset(p) for accounts in members.values() for p in combinations(sorted(accounts), 2)}
    true = truth.pairs()
    whole = sum(1 for accounts in truth.networks.values()
                if all(a in network_of for a in accounts) and len({network_of[a] for a in accounts}) == 1)
    merged = [a for a in truth.unrelated if a in network_of and len(members[network_of[a]]) > 1]
    return LinkScore(len(true), len(found), len(found & true), whole, len(truth.networks), merged)
