"""Seller networks: handles stored with listings, the network builder, its guards, stable ids, roll-up, decisions."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crawler.items import ListingItem
from crawler.spool import write_items
from store import db
from store import repository as repo
from store.errors import StoreError
from store.models import AuditEntry, ListingHandle, SellerAccount, SellerCommonKey, SellerDecision, SellerLink, User
from store.decisions import PermissionDenied
from store.sellers import decide_network, network_detail, network_of_listing, networks_page, NetworkFilters
from wildwatch.demo.traders import Truth, score_networks
from wildwatch.images.links import image_links
from wildwatch.networks import (
    ListingInfo,
    Sighting,
    build_networks,
    connected_roots,
    handle_sightings,
    rebuild_networks,
    rollup,
)


def group_near_hashes(hashes: dict[str, int], max_distance: int) -> dict[str, str]:
    """Each picture's group of near-duplicates, found the way the images stage finds them (image_links)."""
    pictures = {name: [(name, f"{value:016x}", f"http://127.0.0.1/{name}.jpg")] for name, value in hashes.items()}
    links = image_links(pictures, max_distance=max_distance)
    return connected_roots(((link.a, link.b) for link in links), sorted(hashes))


def info(listing_id: int, market: str, seller: str | None, **extra) -> ListingInfo:
    return ListingInfo(listing_id, market, f"X{listing_id}", seller, **extra)


def handle(listing_id: int, key: str, field: str = "description") -> Sighting:
    return Sighting(listing_id, "handle", key, field, {"value": key})


# ---- the pure builder -----------------------------------------------------------------------------

def test_accounts_join_across_marketplaces_by_a_shared_handle_with_evidence():
    listings = [info(1, "a", "S1"), info(2, "a", "S1"), info(3, "b", "Q9"), info(4, "b", "Q8"), info(5, "a", None)]
    build = build_networks(listings, [handle(2, "wechat:zhou88"), handle(3, "wechat:zhou88", "title"),
                                      handle(4, "qq:12345")])
    assert ("a", "S1") in build.accounts and len(build.accounts[("a", "S1")]) == 2   # one seller id, one account
    assert ("a", "listing:X5") in build.accounts                                    # no seller id: its own account
    assert build.components[0] == [("a", "S1"), ("b", "Q9")]
    assert sorted(len(c) for c in build.components) == [1, 1, 2]
    [link] = build.links
    assert (link.a, link.b, link.source, link.key) == (("a", "S1"), ("b", "Q9"), "handle", "wechat:zhou88")
    assert {(e["side"], e["listing_id"], e["field"]) for e in link.evidence} == {("a", 2, "description"),
                                                                                ("b", 3, "title")}


def test_links_chain_transitively():
    listings = [info(1, "a", "A"), info(2, "b", "B"), info(3, "a", "C")]
    build = build_networks(listings, [handle(1, "number:+2348031234567"), handle(2, "number:+2348031234567"),
                                      handle(2, "telegram:rhino"), handle(3, "telegram:rhino")])
    assert build.components[0] == [("a", "A"), ("a", "C"), ("b", "B")]
    assert len(build.links) == 2


def test_common_and_service_keys_are_reported_not_linked():
    listings = [info(i, "a", f"S{i}") for i in range(1, 12)]
    sightings = [handle(i, "wechat:platform_kefu") for i in range(1, 11)]            # on 10 accounts
    sightings += [handle(1, "number:+864008206666"), handle(11, "number:+864008206666")]  # a 400 hotline
    build = build_networks(listings, sightings, max_accounts_per_key=8)
    assert all(len(c) == 1 for c in build.components) and not build.links
    reasons = {c.key: c.reason for c in build.common}
    assert "shared by 10 accounts" in reasons["wechat:platform_kefu"]
    assert "400/800" in reasons["number:+864008206666"]
    # At the limit a key still links: eight accounts of one trader are one network.
    assert len(build_networks(listings[:8], sightings[:8], max_accounts_per_key=8).components) == 1


def test_a_synthetic_image_source_links_near_duplicate_photos():
    """The image half comes from the images stage: near hashes are grouped, and the group id is the key."""
    phashes = {"img-a": 0xF0F0F0F0F0F0F0F0, "img-b": 0xF0F0F0F0F0F0F0F1, "img-c": 0x0F0F0F0F0F0F0F0F}
    groups = group_near_hashes(phashes, max_distance=4)
    assert groups["img-a"] == groups["img-b"] == "img-a" and groups["img-c"] == "img-c"
    on_listing = {"img-a": 1, "img-b": 2, "img-c": 3}
    images = [Sighting(on_listing[name], "image", f"phash:{groups[name]}", f"image:{name}",
                       {"phash": f"{phashes[name]:016x}"}) for name in phashes]
    build = build_networks([info(1, "a", "A"), info(2, "b", "B"), info(3, "b", "C")], images)
    assert build.components[0] == [("a", "A"), ("b", "B")]
    [link] = build.links
    assert link.source == "image" and {e["field"] for e in link.evidence} == {"image:img-a", "image:img-b"}


def test_rollup_weighs_decisions_most():
    flagged = [info(1, "a", "A", score=0.9, flagged=True), info(2, "a", "A", score=0.8, flagged=True)]
    assert rollup(flagged).risk == pytest.approx(1 - 0.1 * 0.2)              # noisy-OR of flagged listings
    assert rollup([info(1, "a", "A", score=0.3, flagged=False)]).risk == pytest.approx(0.3)
    assert rollup([*flagged[:1], info(3, "a", "A", score=0.2, flagged=False, decision="confirmed")]).risk >= 0.99
    cleared = rollup([info(1, "a", "A", score=0.95, flagged=True, decision="false_positive")])
    assert cleared.risk == 0 and "1 false positive" in cleared.reason
    assert rollup(flagged, "false_positive").risk <= 0.05 and rollup(flagged, "confirmed").risk == 1.0


def test_pairwise_scoring_against_a_truth():
    truth = Truth({"t": [("a", "1"), ("b", "2"), ("a", "3")]}, [("a", "9")])
    found = {("a", "1"): 1, ("b", "2"): 1, ("a", "3"): 2, ("a", "9"): 2}
    score = score_networks(found, truth)
    assert (score.correct_pairs, score.found_pairs, score.true_pairs) == (1, 2, 3)
    assert score.wrongly_merged_unrelated == [("a", "9")] and score.networks_found == 0


# ---- stored handles and networks --------------------------------------------------------------------

def _store(engine, market: str, items: list[ListingItem]) -> dict[str, int]:
    with db.session_scope(engine) as session:
        marketplace = repo.get_or_create_marketplace(session, market)
        run = repo.start_run(session, marketplace)
        ids, _, errors = write_items(session, run, marketplace, items, lambda version: {})
        assert not errors
        return ids


def _item(market: str, listing_id: str, seller: str | None, description: str, **extra) -> ListingItem:
    return ListingItem(market, listing_id, f"http://127.0.0.1/{listing_id}", f"title {listing_id}",
                       description=description, seller_id=seller, crawled_at="2026-12-01T00:00:00Z", **extra)


def test_handles_are_stored_with_the_listings_with_field_and_first_last_seen(engine):
    first = _store(engine, "a", [_item("a", "1", "S1", "加微信 zhou_ivory88 详聊", seller_name="电话 13812345678")])
    with db.session_scope(engine) as session:
        rows = {(h.field, h.type, h.value): h for h in session.scalars(select(ListingHandle))}
    assert set(rows) == {("description", "wechat", "zhou_ivory88"), ("seller_name", "phone", "+8613812345678")}
    assert all(h.listing_id == first["1"] and h.first_seen_at == h.last_seen_at for h in rows.values())
    _store(engine, "a", [_item("a", "1", "S1", "加微信 zhou_ivory88 详聊")])   # seen again, seller name changed
    with db.session_scope(engine) as session:
        again = {(h.field, h.type): h for h in session.scalars(select(ListingHandle))}
    assert len(again) == 2                                           # nothing duplicated, nothing forgotten
    assert again[("description", "wechat")].last_seen_at > again[("description", "wechat")].first_seen_at
    assert again[("seller_name", "phone")].last_seen_at == again[("seller_name", "phone")].first_seen_at
    assert again[("description", "wechat")].last_run_id != again[("description", "wechat")].first_run_id


def test_rebuild_keeps_network_ids_merges_and_reports_a_broken_source(engine):
    ids = _store(engine, "a", [_item("a", "1", "S1", "微信 zhou_ivory88"), _item("a", "2", "S2", "普通商品"),
                               _item("a", "3", None, "客服热线 400-820-6666")])
    _store(engine, "b", [_item("b", "9", "Q9", "V信：zhou_ivory88（备注来意）"), _item("b", "8", "Q8", "热线 400-820-6666")])

    def broken(session):
        raise OSError("image store unreachable")

    with db.session_scope(engine) as session:
        report = rebuild_networks(session, sources={"handle": handle_sightings, "image": broken})
        assert report.source_errors == ["image: OSError: image store unreachable"]
        assert (report.accounts, report.linked_networks, report.links, report.common_keys) == (5, 1, 1, 1)
        linked = network_of_listing(session, ids["1"])
        assert linked is not None and linked != network_of_listing(session, ids["2"])
        assert session.scalar(select(SellerCommonKey.key)) == "number:+864008206666"
        detail = network_detail(session, linked)
        assert {v.account.account_key for v in detail.accounts} == {"S1", "Q9"}
        assert detail.links[0].link.key == "wechat:zhou_ivory88"
        lonely = network_of_listing(session, ids["3"])
    # The same data again: the same ids. A new listing joining S2 to the network keeps the larger network's id.
    _store(engine, "a", [_item("a", "4", "S2", "加v zhou_ivory88")])
    with db.session_scope(engine) as session:
        old_s2 = network_of_listing(session, ids["2"])
        report = rebuild_networks(session)
        assert network_of_listing(session, ids["1"]) == linked == network_of_listing(session, ids["2"])
        assert network_of_listing(session, ids["3"]) == lonely
        assert report.merged_networks == 1
        from store.models import SellerNetwork
        retired = session.get(SellerNetwork, old_s2)
        assert not retired.active and retired.merged_into_id == linked
        assert network_detail(session, old_s2).network.id == linked     # an old link still finds the network
        assert len(session.scalars(select(SellerLink)).all()) == 3        # S1-Q9, S1-S2, Q9-S2: one key, 3 pairs


def test_seller_decisions_are_audited_weigh_in_the_risk_and_respect_roles(engine):
    ids = _store(engine, "a", [_item("a", "1", "S1", "微信 zhou_ivory88"), _item("a", "2", "S2", "微信 zhou_ivory88")])
    with db.session_scope(engine) as session:
        rebuild_networks(session)
        network_id = network_of_listing(session, ids["1"])
        mei = User(name="mei", password_hash="x", role="analyst", active=True)
        sam = User(name="sam", password_hash="x", role="lead", active=True)
        tom = User(name="tom", password_hash="x", role="analyst", active=True)
        session.add_all([mei, sam, tom])
        session.flush()
        decide_network(session, network_id, mei, "confirmed", "same WeChat on both accounts")
        rows, total = networks_page(session, NetworkFilters(min_accounts=2))
        assert total == 1 and rows[0][0].risk == 1.0 and rows[0][0].current_decision == "confirmed"
        with pytest.raises(PermissionDenied, match="only a lead"):
            decide_network(session, network_id, tom, "false_positive")
        decide_network(session, network_id, sam, "escalated")
        with pytest.raises(StoreError, match="decision must be one of"):
            decide_network(session, network_id, sam, "guilty")
        with pytest.raises(StoreError, match="no seller network"):
            decide_network(session, 999_999, sam, "confirmed")
        history = session.scalars(select(SellerDecision).order_by(SellerDecision.id)).all()
        assert [(d.analyst, d.decision) for d in history] == [("mei", "confirmed"), ("sam", "escalated")]
        assert {m["account"] for m in history[0].members} == {"S1", "S2"}
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "seller_decision")).all()
        assert audits[-1].before["decision"] == "confirmed" and audits[-1].after["decision"] == "escalated"
        assert audits[-1].after["network_id"] == network_id
    with pytest.raises(StoreError, match="cannot be changed"), db.session_scope(engine) as session:
        row = session.scalars(select(SellerDecision)).first()
        row.decision = "false_positive"
    # The database refuses too (the migration's trigger), not only the ORM.
    import sqlalchemy as sa
    with pytest.raises(sa.exc.DatabaseError), engine.begin() as connection:
        connection.execute(sa.text("UPDATE seller_decisions SET decision = 'false_positive'"))
    with db.session_scope(engine) as session:
        assert session.scalar(select(SellerAccount.network_id).where(SellerAccount.account_key == "S1")) == network_id


def test_handle_extraction_failure_never_loses_the_batch(engine, monkeypatch):
    import classifier.handles

    def explode(text, field="text"):
        raise RuntimeError("extractor bug")

    monkeypatch.setattr(classifier.handles, "extract_handles", explode)
    ids = _store(engine, "a", [_item("a", "1", "S1", "微信 zhou_ivory88")])
    with db.session_scope(engine) as session:
        assert ids["1"] and session.scalars(select(ListingHandle)).all() == []


def test_record_handles_skips_what_cannot_be_a_handle(engine):
    from store.handles import record_handles

    ids = _store(engine, "a", [_item("a", "1", "S1", "plain")])
    with db.session_scope(engine) as session:
        written = record_handles(session, [(ids["1"], "ocr:abc123", "wechat", "from_image"),
                                           (ids["1"], "ocr:abc123", "Fax number!", "123"),
                                           (ids["1"], "ocr:abc123", "email", "x" * 300)],
                                 seen_at=datetime(2026, 12, 2, tzinfo=UTC))
        assert written == 1
        assert session.scalar(select(ListingHandle.field)) == "ocr:abc123"   # an OCR field is just another field


def test_a_registered_image_source_links_accounts_in_the_store(engine, monkeypatch):
    """The images stage plugs in with register_link_source; its links are stored with their evidence."""
    import wildwatch.networks as networks

    ids = _store(engine, "a", [_item("a", "1", "S1", "老料 手镯")])
    ids |= _store(engine, "b", [_item("b", "7", "Q7", "old stock bangle")])
    photos = {"sha-a": 0xABCDEF0123456789, "sha-b": 0xABCDEF0123456788}   # one bit apart: the same photo
    groups = group_near_hashes(photos, max_distance=6)

    def image_sightings(session):
        for sha, listing in (("sha-a", ids["1"]), ("sha-b", ids["7"])):
            yield Sighting(listing, "image", f"phash:{groups[sha]}", f"image:{sha}",
                           {"phash": f"{photos[sha]:016x}", "distance": (photos[sha] ^ photos[groups[sha]]).bit_count()})

    monkeypatch.setattr(networks, "_SOURCES", dict(networks._SOURCES))   # leave the registry as it was
    networks.register_link_source("image", image_sightings)
    with pytest.raises(ValueError):
        networks.register_link_source("", image_sightings)
    with db.session_scope(engine) as session:
        report = rebuild_networks(session)
        assert report.linked_networks == 1 and not report.source_errors
        detail = network_detail(session, network_of_listing(session, ids["1"]))
        [link] = detail.links
        assert (link.link.source, link.link.key) == ("image", "phash:sha-a")
        assert {(e["field"], e["distance"]) for e in link.link.evidence} == {("image:sha-a", 0), ("image:sha-b", 1)}
