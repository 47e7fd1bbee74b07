"""JavaScript pages read from their learned JSON endpoint (crawler.jsonreplay) instead of a browser each time.

Unit tests of the learning parts (URL templates, JSON path mappings, what may be replayed), then real
crawls of both demo shops through a real Chromium: each JavaScript page's fields through the endpoint
equal those from rendering it; an endpoint whose answer changes shape mid-crawl falls back to rendering;
an endpoint robots.txt disallows is never fetched.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from crawler.jsonreplay import (
    Ambiguous, Recorded, apply_mapping, learn_mapping, learn_url_template, narrow_mapping, not_replayable,
    registrable_domain, same_registrable_domain, template_key,
)
import support

ROOT = support.ROOT
DEMO_SITE = ROOT / "crawler" / "sites" / "demo.yaml"
MOBILE_SITE = ROOT / "wildwatch" / "demo" / "oldstreet-mobile.yaml"
COMPARED = ("listing_id", "title", "description", "price", "currency", "price_text", "seller_id", "seller_name",
            "seller_url", "location", "images", "posted_at", "category", "url")
PAGE = "http://shop.example.com/app/item/DB-0007"


# ---- unit: templates, mappings, replay rules --------------------------------------------------

def test_template_key_groups_pages_of_one_shape():
    assert template_key("http://h:8/app/item/DB-0001") == template_key("http://h:8/app/item/DB-0002")
    assert template_key("http://h/m/goods.php?id=OS-1") == template_key("http://h/m/goods.php?id=OS-2") \
        == "http://h/m/goods.php?id=*"
    assert template_key("http://h/app/item/X") != template_key("http://h/item/X")
    assert template_key("http://h/m/goods.php?id=1") != template_key("http://h/m/goods.php?id=1&ref=2")


def test_url_template_turns_page_urls_into_endpoint_urls():
    flat = learn_url_template("http://h:8/app/item/DB-0001", "http://h:8/api/items/DB-0001", "DB-0001")
    assert flat.endpoint_for("http://h:8/app/item/DB-0042") == "http://h:8/api/items/DB-0042"
    assert flat.endpoint_for("http://h:8/item/DB-0042") is None  # another template
    query = learn_url_template("http://h/m/goods.php?id=OS-0006", "http://h/ajax/goods.php?act=detail&id=OS-0006")
    assert query.endpoint_for("http://h/m/goods.php?id=OS-0012") == "http://h/ajax/goods.php?act=detail&id=OS-0012"
    # The listing id names the endpoint, not a path word both URLs happen to share.
    shared = learn_url_template("http://h/products/12", "http://h/api/products/12", "12")
    assert shared.endpoint_for("http://h/products/13") == "http://h/api/products/13"
    assert learn_url_template("http://h/app/item/DB-1", "http://h/api/config") is None


def test_mapping_found_in_nested_json_and_applied_to_the_next_answer():
    rendered = {"listing_id": "OS-0006", "title": "象牙 手镯", "description": "老货。\n\n包真。", "price": "￥800",
                "seller_id": "S12", "seller_url": "http://h/member/shop.php?uid=S12", "images": ["http://h/img/a.png"]}
    sources = {name: "selectors" for name in rendered}
    answer = {"code": 0, "data": {"goods": {"goods_id": "OS-0006", "goods_name": "象牙 手镯", "goods_desc": "老货。\n包真。",
                                            "shop_price": "￥800", "pics": ["/img/a.png"]},
                                  "seller": {"uid": "S12"}}}
    mapping, missing = learn_mapping(rendered, sources, answer, "http://h/m/goods.php?id=OS-0006",
                                     url_fields={"seller_url", "images"})
    assert missing == []
    assert mapping["title"].path == ("data", "goods", "goods_name")
    assert mapping["description"].transforms == ("paragraphs",)
    assert mapping["seller_url"].prefix == "/member/shop.php?uid=" and mapping["seller_url"].url
    following = {"code": 0, "data": {"goods": {"goods_id": "OS-0012", "goods_name": "犀角 杯", "goods_desc": "一行",
                                               "shop_price": "￥9", "pics": ["/img/b.png", "/img/c.png"]},
                                     "seller": {"uid": "S3"}}}
    fields, missing = apply_mapping(mapping, following, "http://h/m/goods.php?id=OS-0012")
    assert missing == []
    assert fields == {"listing_id": "OS-0012", "title": "犀角 杯", "description": "一行", "price": "￥9",
                      "seller_id": "S3", "seller_url": "http://h/member/shop.php?uid=S3",
                      "images": ["http://h/img/b.png", "http://h/img/c.png"]}
    # Another shape: the mapped paths are gone, so the answer is reported as not matching.
    _, missing = apply_mapping(mapping, {"code": 0, "data": {"item": {"name": "x"}}}, "http://h/m/goods.php?id=1")
    assert "title" in missing and "description" in missing


def test_field_absent_from_the_json_is_reported_not_guessed():
    mapping, missing = learn_mapping({"title": "Carved box", "location": "Hanoi"}, {}, {"name": "Carved box"}, PAGE,
                                     url_fields=set())
    assert missing == ["location"] and mapping["title"].path == ("name",)


def test_transforms_a_one_line_page_cannot_tell_apart_stay_candidates_until_a_page_does():
    mapping, _ = learn_mapping({"title": "T", "description": "one line"}, {}, {"t": "T", "d": "one line"}, PAGE,
                               url_fields=set())
    assert {"same", "paragraphs", "lines"} <= set(mapping["description"].transforms)
    with pytest.raises(Ambiguous):
        apply_mapping(mapping, {"t": "U", "d": "two\nlines"}, PAGE)
    narrowed = narrow_mapping(mapping, {"t": "U", "d": "two\nlines"}, PAGE, {"title": "U", "description": "two\n\nlines"})
    assert narrowed["description"].transforms == ("paragraphs",)
    assert apply_mapping(narrowed, {"t": "V", "d": "a\nb"}, PAGE)[0]["description"] == "a\n\nb"
    # A page whose JSON contradicts the mapping does not confirm it.
    assert narrow_mapping(mapping, {"t": "U", "d": "x"}, PAGE, {"title": "U", "description": "y"}) is None


def _recorded(url: str, **changes) -> Recorded:
    values = dict(url=url, method="GET", resource_type="fetch", has_body=False, header_names=frozenset({"accept"}),
                  status=200, data={})
    values.update(changes)
    return Recorded(**values)


def test_only_plain_same_site_get_requests_are_replayed():
    assert not_replayable(_recorded("http://shop.example.com/api/items/DB-0007"), PAGE) is None
    assert not_replayable(_recorded("https://api.example.com/items/DB-0007"), PAGE) is None  # same registrable domain
    assert not_replayable(_recorded("http://tracker.example.net/items/DB-0007"), PAGE) == "other_site"
    assert not_replayable(_recorded("http://shop.example.com/api/items/1", method="POST"), PAGE) == "method"
    assert not_replayable(_recorded("http://shop.example.com/api/items/1", has_body=True), PAGE) == "request_body"
    for query in ("token=abc", "access_token=abc", "sessionid=1", "api_key=k", "sig=ff", "auth=1"):
        assert not_replayable(_recorded(f"http://shop.example.com/api/items/1?{query}"), PAGE) == "credentials", query
    assert not_replayable(_recorded("http://shop.example.com/api/items/1?id=1&monkey=2"), PAGE) is None
    with_auth = _recorded("http://shop.example.com/api/items/1", header_names=frozenset({"authorization"}))
    assert not_replayable(with_auth, PAGE) == "credentials"
    assert not_replayable(_recorded("http://shop.example.com/api/items/1", status=500), PAGE) == "status"


def test_registrable_domain_uses_the_public_suffix_list_offline():
    assert registrable_domain("https://m.shop.example.co.uk/x") == "example.co.uk"
    assert registrable_domain("http://127.0.0.1:8765/api") == "127.0.0.1"
    assert not same_registrable_domain("http://a.github.io/x", "http://b.github.io/y")  # a public suffix
    assert not same_registrable_domain("file:///etc/passwd", PAGE)


# ---- real crawls through Chromium --------------------------------------------------------------

def _crawl(site_config: Path, base_url: str, work: Path, replay: bool, **settings) -> dict:
    from bench.runs import child_env, run_child

    spec = {"kind": "spider", "site_config": str(site_config), "base_url": base_url,
            "state_dir": str(work / f"state-{replay}-{len(list(work.glob('state-*')))}"), "log_level": "INFO",
            "settings": {"WILDWATCH_JSON_REPLAY": replay, **settings}}
    return run_child(spec, work / "specs", child_env(), timeout=600)


def _by_id(run: dict) -> dict[str, dict]:
    return {item["listing_id"]: item for item in run["items"]}


def _stat(run: dict, key: str) -> int:
    return run["stats"].get("wildwatch/json_replay/" + key, 0)


@pytest.fixture(scope="module")
def bazaar_runs(chromium, tmp_path_factory):
    from wildwatch.demo.server import DemoMarketplace

    work = tmp_path_factory.mktemp("replay-bazaar")
    with DemoMarketplace(night=1) as shop:
        return {"replayed": _crawl(DEMO_SITE, shop.base_url, work, True),
                "rendered": _crawl(DEMO_SITE, shop.base_url, work, False),
                "api_hits": shop.request_count("/api/")}


@pytest.fixture(scope="module")
def oldstreet_runs(chromium, tmp_path_factory):
    from wildwatch.demo.oldstreet import OldStreetShop

    work = tmp_path_factory.mktemp("replay-oldstreet")
    with OldStreetShop(night=1) as shop:
        return {"replayed": _crawl(MOBILE_SITE, shop.base_url, work, True),
                "rendered": _crawl(MOBILE_SITE, shop.base_url, work, False), "listings": len(shop.listings)}


@pytest.mark.browser  # the runs crawl in Chromium (their fixture is chosen by name, so conftest cannot see it)
@pytest.mark.parametrize("shop", ["bazaar_runs", "oldstreet_runs"])
def test_endpoint_fields_equal_rendered_fields_on_every_javascript_page(shop, request, report):
    runs = request.getfixturevalue(shop)
    replayed, rendered = _by_id(runs["replayed"]), _by_id(runs["rendered"])
    javascript_pages = {key: item for key, item in rendered.items() if item["rendered"]}
    assert len(javascript_pages) >= 60, len(javascript_pages)
    via_json = {key for key, item in replayed.items() if item["extraction"] == "json-endpoint"}
    # Rendered once to learn the template and once to confirm it; every other page came from the endpoint.
    assert len(via_json) >= len(javascript_pages) - 4, (len(via_json), runs["replayed"]["stats"])
    assert _stat(runs["replayed"], "templates_learned") == 1
    assert _stat(runs["replayed"], "listings") == len(via_json)
    for key, expected in javascript_pages.items():
        got = replayed[key]
        assert {f: got[f] for f in COMPARED} == {f: expected[f] for f in COMPARED}, key
        if key in via_json:
            assert got["rendered"] is False  # the evidence trail says which way the listing was read
        else:
            assert got["rendered"] is True and got["extraction"] == expected["extraction"]
    # Pages that were never JavaScript pages are untouched.
    assert {k: v["extraction"] for k, v in replayed.items() if k not in javascript_pages} == \
        {k: v["extraction"] for k, v in rendered.items() if k not in javascript_pages}
    report(f"[json replay, {shop.split('_')[0]} demo shop] {len(via_json)}/{len(javascript_pages)} JavaScript "
           f"listings read from the learned endpoint, fields identical to rendering; rendered pages "
           f"{runs['replayed']['stats'].get('wildwatch/rendered_pages', 0)} vs {len(javascript_pages)}")


def test_endpoint_whose_answer_changes_shape_mid_crawl_falls_back_to_rendering(chromium, tmp_path):
    from wildwatch.demo.oldstreet import OldStreetShop
    from wildwatch.demo.oldstreet_mobile import api_goods_v2

    answered = {"n": 0}
    lock = threading.Lock()

    def redeploy_after_ten(answer: dict) -> dict:
        with lock:
            answered["n"] += 1
            return answer if answered["n"] <= 10 else api_goods_v2(answer)

    with OldStreetShop(night=1) as shop:
        truth = {item.id: item for item in shop.listings}
        shop.api_transform = redeploy_after_ten
        run = _crawl(MOBILE_SITE, shop.base_url, tmp_path, True)
    items = _by_id(run)
    assert set(items) == set(truth)  # no listing lost to the change
    for key, item in items.items():
        assert (item["title"], item["price_text"], item["seller_id"]) == \
            (truth[key].title, truth[key].price_text, truth[key].seller_id), key
    assert _stat(run, "fallback/missing_fields") >= 1, run["stats"]
    assert _stat(run, "templates_dropped") == 1, run["stats"]
    rendered_after_change = [item for item in items.values() if item["rendered"]]
    assert len(rendered_after_change) >= 2 + _stat(run, "fallback/missing_fields")
    # Every listing was read one way or the other, and the counts say which.
    assert _stat(run, "listings") + run["stats"]["wildwatch/rendered_pages"] - 4 <= len(items) <= \
        _stat(run, "listings") + run["stats"]["wildwatch/rendered_pages"]


def test_endpoint_refused_by_robots_is_not_replayed(chromium, tmp_path):
    from bench.catalog import write_catalog
    from wildwatch.demo.server import DemoMarketplace, _Response

    catalog = write_catalog(tmp_path / "js.jsonl", 12, styles=("js",))
    with DemoMarketplace(catalog_path=catalog, night=1, broken_pages=False) as shop:
        robots = "User-agent: *\nDisallow: /cart/\nDisallow: /account/\nDisallow: /api/\n"
        shop._router.routes[0] = (shop._router.routes[0][0],
                                  lambda query: _Response(200, "text/plain; charset=utf-8", robots))
        run = _crawl(DEMO_SITE, shop.base_url, tmp_path, True)
        api_hits = shop.request_count("/api/")
    items = _by_id(run)
    assert len(items) == 12 and all(item["rendered"] for item in items.values())
    assert _stat(run, "listings") == 0
    assert _stat(run, "fallback/robots") == 1  # checked once, refused before it was sent, then never again
    assert _stat(run, "templates_dropped") == 1
    # The only /api/ requests were the pages' own, made by the browser while rendering them: one per page.
    assert api_hits == run["stats"]["wildwatch/rendered_pages"] == 12


# ---- unit: the learning state machine, without a browser ----------------------------------------

class _Spider:
    def __init__(self):
        self.counts: dict[str, int] = {}

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def parse_listing(self, response):  # pragma: no cover - only named
        return None

    def parse_json_listing(self, response):  # pragma: no cover - only named
        return None

    def on_json_error(self, failure):  # pragma: no cover - only named
        return None


class _Rendered:
    """What the spider's callback gets for a rendered page: its request's meta and URL."""

    def __init__(self, request):
        self.meta, self.request, self.url = request.meta, request, request.url


def _answer(n: int, description: str) -> dict:
    return {"item": {"id": f"DB-{n:04d}", "title": f"Carved box {n}", "description": description}}


def _page_fields(n: int, description: str):
    from crawler.extractors.listing import Extraction

    fields = {"listing_id": f"DB-{n:04d}", "title": f"Carved box {n}", "description": description}
    return Extraction(fields=fields, sources={name: "selectors" for name in fields})


def test_two_pages_teach_and_confirm_while_the_others_wait_then_replay():
    import asyncio

    import scrapy

    from crawler.jsonreplay import JsonReplay

    async def scenario():
        spider = _Spider()
        replay = JsonReplay(spider, wait_seconds=5)
        base = "http://127.0.0.1:9/app/item/"
        requests = [scrapy.Request(f"{base}DB-{n:04d}", callback=spider.parse_listing,
                                   meta={"playwright": True, "wildwatch_page": "detail"}) for n in range(1, 5)]
        assert await replay.route(requests[0]) is None and await replay.route(requests[1]) is None
        assert requests[0].meta["playwright_page_event_handlers"] == {"response": "record_json_response"}
        waiting = [asyncio.ensure_future(replay.route(r)) for r in requests[2:]]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in waiting)  # held back while the template is learned
        for n, request in ((1, requests[0]), (2, requests[1])):
            text = "First line\nsecond line" if n == 2 else "one line"
            replay.recordings[request.url].append(_recorded(f"http://127.0.0.1:9/api/items/DB-{n:04d}",
                                                            data=_answer(n, text)))
            replay.learned_from_render(_Rendered(request), _page_fields(n, text.replace("\n", "\n\n")))
        endpoints = await asyncio.gather(*waiting)
        assert [e.url for e in endpoints] == ["http://127.0.0.1:9/api/items/DB-0003", "http://127.0.0.1:9/api/items/DB-0004"]
        assert endpoints[0].meta["jsonapi_page"] == requests[2].url and endpoints[0].meta["jsonapi_callback"] == "parse_listing"
        template = next(iter(replay.templates.values()))
        assert template.status == "confirmed" and template.mapping["description"].transforms == ("paragraphs",)
        assert spider.counts == {"json_replay/templates_learned": 1}
        return replay, spider

    replay, spider = asyncio.run(scenario())
    # Three answers in a row that no longer hold the fields: the template is dropped, to be learned again.
    key = next(iter(replay.templates))

    class _Answer:
        def __init__(self, body: str):
            self.meta = {"jsonapi_key": key, "jsonapi_page": "http://127.0.0.1:9/app/item/DB-0009"}
            self.headers = {b"Content-Type": b"application/json"}
            self.text = body

    fields, reason = replay.read(_Answer('{"item": {"id": "DB-0009", "title": "Box 9", "description": "x"}}'))
    assert reason == "" and fields["title"] == "Box 9"
    for body in ('{"data": {"name": "Box 9"}}', "<html>maintenance</html>", '{"item": {"id": "DB-0009"}}'):
        fields, reason = replay.read(_Answer(body))
        assert fields is None and reason in ("missing_fields", "not_json")
        replay.failed(key, reason, "http://127.0.0.1:9/app/item/DB-0009")
    assert replay.templates[key].status == "unknown" and replay.templates[key].mapping == {}
    assert spider.counts["json_replay/templates_dropped"] == 1
    assert spider.counts["json_replay/fallback/missing_fields"] == 2


def test_template_whose_pages_show_what_no_json_holds_stays_rendered():
    import asyncio

    import scrapy

    from crawler.jsonreplay import MAX_LEARN_ATTEMPTS, JsonReplay

    async def scenario():
        spider = _Spider()
        replay = JsonReplay(spider, wait_seconds=5)
        for n in range(1, MAX_LEARN_ATTEMPTS + 2):
            request = scrapy.Request(f"http://127.0.0.1:9/app/item/DB-{n:04d}", callback=spider.parse_listing,
                                     meta={"playwright": True, "wildwatch_page": "detail"})
            routed = await replay.route(request)
            assert routed is None  # rendered
            if n > MAX_LEARN_ATTEMPTS:
                assert "jsonapi_record" not in request.meta  # no longer recorded
                break
            # The page's only JSON answer is a tracker's, and a POST with credentials: nothing to replay.
            replay.recordings[request.url] += [
                _recorded("http://stats.other-site.net/collect", data={"title": f"Carved box {n}"}),
                _recorded("http://127.0.0.1:9/api/items?token=s3cret", data=_answer(n, "d")["item"]),
            ]
            replay.learned_from_render(_Rendered(request), _page_fields(n, "d"))
        return spider

    spider = asyncio.run(scenario())
    assert spider.counts["json_replay/templates_without_endpoint"] == 1
    assert spider.counts["json_replay/not_replayable/other_site"] == MAX_LEARN_ATTEMPTS
    assert spider.counts["json_replay/not_replayable/credentials"] == MAX_LEARN_ATTEMPTS
