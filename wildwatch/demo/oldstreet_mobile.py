"""Old Street's mobile pages (/m/): the shop's JavaScript section, the demo's second shape of client rendering.

Unlike the Demo Bazaar's app.js (a flat `/api/items/<id>` answer), Old Street's mobile script asks a
query-string endpoint, `/ajax/goods.php?act=detail&id=<id>`, whose answer is wrapped and nested the way
many Chinese shop back ends answer (`{"code": 0, "data": {"goods": {...}, "seller": {...}}}`), and draws
the desktop detail page's table (the same `td.gname`, `td.gprice` ... classes, so the site config's
selectors read it). The pages are UTF-8 and are linked only from the mobile index `/m/` (the desktop
crawl of `demo-oldstreet` never sees them): `wildwatch/demo/oldstreet-mobile.yaml` crawls them (kept
out of crawler/sites, so `nightly --demo` crawls what it always did).
"""
from __future__ import annotations

import json
from http import HTTPStatus
from pathlib import Path

from wildwatch.demo.server import _Response

STATIC_DIR = Path(__file__).with_name("static")
HTML = "text/html; charset=utf-8"
PAGE_SIZE = 20


def _e(text: str) -> str:
    from html import escape

    return escape(text, quote=True)


def _layout(title: str, body: str) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{_e(title)} - 老街旧货 手机版</title></head><body><p class="top"><a href="/m/">老街旧货 手机版</a></p>
{body}<p class="foot">本站为 wildwatch 测试用的虚构商店。</p></body></html>"""


def api_goods(item) -> dict:
    """The endpoint's answer: what m.js draws, nested as the shop's back end answers."""
    return {"code": 0, "msg": "ok", "data": {
        "goods": {"goods_id": item.id, "goods_name": item.title, "goods_desc": item.description,
                  "shop_price": item.price_text, "region": item.location, "add_time": item.posted,
                  "cat": item.category},
        "seller": {"uid": item.seller_id, "nickname": item.seller_name},
    }}


def api_goods_v2(answer: dict) -> dict:
    """The same answer in the back end's second version (`data.item`, `data.shop`, other key names), which
    m.js reads too: a shop that redeploys its API mid-crawl (tests set `shop.api_transform` to this)."""
    goods, seller = answer["data"]["goods"], answer["data"]["seller"]
    return {"code": 0, "msg": "ok", "data": {
        "item": {"id": goods["goods_id"], "name": goods["goods_name"], "desc": goods["goods_desc"],
                 "price": goods["shop_price"], "area": goods["region"], "time": goods["add_time"]},
        "shop": {"uid": seller["uid"], "nick": seller["nickname"]},
    }}


def dispatch(shop, path: str, query: dict[str, list[str]]) -> _Response | None:
    """The mobile section's answer for `path`, or None when the path is not one of its pages."""
    if path in ("/m/", "/m/index.php"):
        raw = query.get("p", ["1"])[-1]
        page = int(raw) if raw.isdigit() and int(raw) >= 1 else 1
        items = shop.listings[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        rows = "".join(f'<li class="mgoods"><a href="/m/goods.php?id={item.id}">{_e(item.title)}</a></li>' for item in items)
        more = f'<p><a class="mnext" href="/m/?p={page + 1}">下一页</a></p>' if page * PAGE_SIZE < len(shop.listings) else ""
        return _Response(HTTPStatus.OK, HTML, _layout("手机版", f'<ul class="mlist">{rows}</ul>{more}'))
    if path == "/m/goods.php":
        item = shop.by_id.get(query.get("id", [""])[-1])
        if item is None:
            return _Response(HTTPStatus.NOT_FOUND, HTML, _layout("已下架", "<h1>该商品已下架</h1>"))
        body = '<div id="app"><p class="loading">加载中…</p></div>\n<script src="/m/static/m.js"></script>'
        return _Response(HTTPStatus.OK, HTML, _layout("商品", body))
    if path == "/m/static/m.js":
        return _Response(HTTPStatus.OK, "application/javascript; charset=utf-8", (STATIC_DIR / "m.js").read_bytes())
    if path == "/ajax/goods.php":
        item = shop.by_id.get(query.get("id", [""])[-1])
        if query.get("act", [""])[-1] != "detail" or item is None:
            body = {"code": 404, "msg": "该商品已下架", "data": None}
            return _Response(HTTPStatus.NOT_FOUND, "application/json; charset=utf-8", json.dumps(body, ensure_ascii=False))
        transform = getattr(shop, "api_transform", None)  # tests change the answer's shape mid-crawl
        answer = api_goods(item) if transform is None else transform(api_goods(item))
        return _Response(HTTPStatus.OK, "application/json; charset=utf-8", json.dumps(answer, ensure_ascii=False))
    return None
