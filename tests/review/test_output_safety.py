"""Stored text is shown, never interpreted: SQL injection strings stay data, HTML is escaped on every
page and report, spreadsheet formulas are neutralised in exports, file names derived from listings
cannot leave the evidence package, and tips fetch only http(s) URLs.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from review.app import create_app
from review.capture import BadURL, check_url
from review.dashboard import load_dashboard, report_html
from review.evidence import build_package, package_name, zip_package
from support.review_support import PASSWORDS, evidence, listing, migrated_engine, seed, standard_users
from store import repository
from store.db import session_scope
from store.models import Listing, Tip
from store.queries import listings_frame
from store.testing import throwaway_database
from wildwatch.config import Settings
from wildwatch.export import export_listings

INJECTIONS = [
    "'); DROP TABLE listings;--",
    '" OR 1=1 --',
    "象牙'; DELETE FROM scores WHERE '1'='1",
    "1; UPDATE listings SET title='owned' --",
    "Robert'); DROP TABLE audit_log;-- 犀角",
    "%s %(title)s :title ? $1 \\' \\\\",
]
HOSTILE_HTML = '<script>window.__pwned=1</script><img src=x onerror="alert(1)"> 象牙 ivory'
HOSTILE_MARKET = '<img src=x onerror=alert(2)>$\\frac{$--><x>'  # HTML, TeX and a comment breaker
HOSTILE_GROUP = '</svg><script>alert(3)</script>'
FORMULAS = ["=HYPERLINK(\"http://evil\",\"ivory\")", " =1+1", "\t=cmd", "\u3000@SUM(A1)", "-2+3", "+86 138",
            "\x01=cmd|' /C calc'!A0", "\u200b=1",
            # issue 17 break 10: full-width signs, and format or invisible characters in front
            "\uff1dHYPERLINK(\"http://evil\")", "\uff0b1", "\uff0d1", "\uff20SUM(A1)", "\ufe66cmd",
            "\u00ad=cmd", "\u034f=cmd", "\u061c=cmd", "\u180e=cmd", "\u202e=cmd", "\u2066=cmd", "\u2800=cmd",
            "\u3164\u00ad\u202e+cmd"]


def _seed_titles(engine, titles: list[str], marketplace: str = "shop") -> dict[str, int]:
    return seed(engine, [(listing(f"L{i}", title, f"desc {title}"), 0.9, [evidence("ivory")])
                         for i, title in enumerate(titles)], marketplace=marketplace)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_injection_strings_are_stored_and_read_back_verbatim(backend, tmp_path):
    with throwaway_database(backend, tmp_path) as url:
        engine = migrated_engine(url)
        try:
            ids = _seed_titles(engine, INJECTIONS, marketplace="sh'op\"; DROP TABLE marketplaces;--")
            with session_scope(engine) as session:
                stored = {row.external_id: (row.title, row.description) for row in session.scalars(select(Listing))}
                assert session.scalar(select(func.count()).select_from(Listing)) == len(INJECTIONS)
            assert stored == {f"L{i}": (t, f"desc {t}") for i, t in enumerate(INJECTIONS)}
            with engine.connect() as connection:  # every table the strings name is still there
                for table in ("listings", "scores", "audit_log", "marketplaces"):
                    connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            frame = listings_frame(engine, flagged_only=False, marketplace="sh'op\"; DROP TABLE marketplaces;--")
            assert sorted(frame["title"]) == sorted(INJECTIONS) and len(ids) == len(INJECTIONS)
        finally:
            engine.dispose()


class _Tags(HTMLParser):
    """Every element and attribute of a page, and what sits inside <script> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_script = False
        self.script_bodies: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.script_bodies if self._in_script else self.text).append(data)


def _assert_inert(html: str, where: str) -> _Tags:
    page = _Tags()
    page.feed(html)
    for tag, attrs in page.tags:
        assert not [name for name in attrs if name.lower().startswith("on")], (where, tag, attrs)
        assert tag not in ("img", "iframe", "object", "embed"), (where, tag, attrs)
        if tag == "script":
            assert attrs.get("src"), (where, "inline script")
        for name in ("href", "src", "action"):
            assert not (attrs.get(name) or "").lower().lstrip().startswith(("javascript:", "data:text")), (where, attrs)
    assert not "".join(page.script_bodies).strip(), where
    return page


@pytest.fixture
def hostile_app(engine, tmp_path):
    standard_users(engine)
    ids = _seed_titles(engine, [HOSTILE_HTML, *INJECTIONS], marketplace=HOSTILE_MARKET)
    seed(engine, [(listing("G1", "熊胆粉 正品", ""), 0.95, [evidence("熊胆", group=HOSTILE_GROUP)])],
         marketplace="bears")
    app = create_app(replace(Settings.from_env(), database_url=str(engine.url.render_as_string(hide_password=False)),
                             data_dir=tmp_path / "data"), testing=True)
    client = app.test_client()
    token = re.search(rb'name="csrf_token" value="([^"]+)"', client.get("/login").data).group(1).decode()
    assert client.post("/login", data={"name": "alice", "password": PASSWORDS["alice"],
                                       "csrf_token": token}).status_code == 302
    return client, ids


def test_review_pages_show_hostile_text_verbatim_and_inert(hostile_app):
    client, ids = hostile_app
    pages = {"queue": "/", "filtered": "/?" + urlencode({"marketplace": HOSTILE_MARKET}),
             "dashboard": "/dashboard", "tips": "/tips",
             **{f"listing {i}": f"/listing/{listing_id}" for i, listing_id in enumerate(ids.values())}}
    seen_text = ""
    for name, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        seen_text += "".join(_assert_inert(response.data.decode(), name).text)
    for stored in (HOSTILE_HTML, *INJECTIONS, HOSTILE_MARKET):
        assert stored in seen_text, stored  # shown as the seller wrote it, as text
    assert client.get("/dashboard").data.decode().count("<svg") >= 3  # the charts were drawn


def test_report_file_escapes_marketplace_and_species_labels(engine):
    _seed_titles(engine, ["象牙手镯"], marketplace=HOSTILE_MARKET)
    seed(engine, [(listing("G1", "熊胆粉", ""), 0.95, [evidence("熊胆", group=HOSTILE_GROUP)])], marketplace="bears")
    html = report_html(load_dashboard(engine), "sqlite:///x.db")
    page = _assert_inert(html, "report")
    assert HOSTILE_MARKET in "".join(page.text) and HOSTILE_GROUP in "".join(page.text)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_exports_keep_stored_text_and_never_write_a_formula(engine, tmp_path, fmt):
    titles = INJECTIONS + FORMULAS
    _seed_titles(engine, titles)
    path, rows = export_listings(engine, tmp_path / f"out.{fmt}", flagged_only=False, pseudonym_key=b"k" * 40)
    assert rows == len(titles)
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            exported = {row["listing_id"]: row["title"] for row in csv.DictReader(handle)}
    elif fmt == "xlsx":
        sheet = load_workbook(path).active
        header = [cell.value for cell in sheet[1]]
        cells = {row[header.index("listing_id")].value: row[header.index("title")] for row in sheet.iter_rows(min_row=2)}
        assert {cell.data_type for cell in cells.values()} == {"s"}  # text, never "f" (a formula)
        exported = {key: cell.value for key, cell in cells.items()}
    else:
        exported = dict(zip(*pd.read_parquet(path)[["listing_id", "title"]].to_dict("list").values()))
    for i, title in enumerate(titles):
        if fmt == "parquet":  # read by programs, not spreadsheets: kept exactly
            expected = title
        else:  # openpyxl cannot store control characters; the apostrophe makes a formula text
            shown = title.replace("\x01", "") if fmt == "xlsx" else title
            expected = "'" + shown if title in FORMULAS else shown
        assert exported[f"L{i}"] == expected, (fmt, title, exported[f"L{i}"])


def test_evidence_package_paths_stay_inside_the_package(engine, tmp_path):
    market = "../../tmp/evil/.."
    ids = seed(engine, [(listing("../../etc/passwd", "象牙印章", "", url="http://shop.test/x"), 0.9,
                         [evidence("象牙")])], marketplace=market)
    listing_id = ids["../../etc/passwd"]
    with session_scope(engine) as session:
        repository.add_decision(session, listing_id, "alice", "confirmed")
    settings = replace(Settings.from_env(), database_url=engine.url.render_as_string(hide_password=False),
                       data_dir=tmp_path / "data")
    name = package_name(market, "../../etc/passwd")
    assert "/" not in name and ".." not in name and name.startswith("evidence-")
    out = tmp_path / "packages" / name
    before = set(tmp_path.rglob("*"))
    package = build_package(engine, listing_id, out, settings, actor="alice", capture=False)
    written = [p for p in set(tmp_path.rglob("*")) - before if p.is_file()]
    assert written and all(p.resolve().is_relative_to(out.resolve()) for p in written), written
    assert {f["path"] for f in package.files} <= {p.relative_to(out).as_posix() for p in written}
    readme = (out / "README.txt").read_text(encoding="utf-8")  # issue 17 break 6: how to open captures safely
    assert "Opening the captures safely" in readme and "default-src 'none'" in readme and "network off" in readme
    with zipfile.ZipFile(io.BytesIO(zip_package(package))) as archive:
        for entry in archive.namelist():
            assert not entry.startswith("/") and ".." not in Path(entry).parts and entry.startswith(name + "/")


def test_evidence_download_name_is_sanitised(engine, tmp_path):
    standard_users(engine)
    ids = seed(engine, [(listing('x"; rm -rf /', "象牙", "", url="http://shop.test/y"), 0.9, [evidence("象牙")])],
               marketplace="a/b\\c")
    listing_id = ids['x"; rm -rf /']
    with session_scope(engine) as session:
        repository.add_decision(session, listing_id, "alice", "escalated")
    app = create_app(replace(Settings.from_env(), database_url=engine.url.render_as_string(hide_password=False),
                             data_dir=tmp_path / "data"), testing=True)
    client = app.test_client()
    token = re.search(rb'name="csrf_token" value="([^"]+)"', client.get("/login").data).group(1).decode()
    client.post("/login", data={"name": "alice", "password": PASSWORDS["alice"], "csrf_token": token})
    page = client.get(f"/listing/{listing_id}").data
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    response = client.post(f"/listing/{listing_id}/evidence", data={"capture": "0", "csrf_token": token})
    assert response.status_code == 200, response.data[:500]
    disposition = response.headers["Content-Disposition"]
    filename = re.fullmatch(r'attachment; filename="([^"]+)"', disposition).group(1)
    assert re.fullmatch(r"[A-Za-z0-9._-]+\.zip", filename), filename


BAD_TIP_URLS = {
    "file:///etc/passwd": "only http and https",
    "ftp://127.0.0.1/listing": "only http and https",
    "data:text/html,<script>alert(1)</script>": "only http and https",
    "javascript:alert(1)": "only http and https",
    "gopher://127.0.0.1:70/1": "only http and https",
    "http://": "is not a valid URL",  # read as browsers read URLs (WHATWG): https:///item/1 is https://item/1
    "http://[::1/x": "is not a valid URL",
    "   ": "URL is empty",
    "http://shop.example/" + "a" * 5000: "the limit is 4000",
}


@pytest.mark.parametrize("url", list(BAD_TIP_URLS), ids=lambda u: u[:24])
def test_tip_urls_other_than_http_are_refused_with_the_reason(url):
    with pytest.raises(BadURL, match=re.escape(BAD_TIP_URLS[url])):
        check_url(url)


def test_tip_form_refuses_non_http_urls_and_records_nothing(hostile_app, engine):
    client, _ids = hostile_app
    for url, reason in BAD_TIP_URLS.items():
        page = client.get("/tips").data
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        response = client.post("/tips", data={"url": url, "csrf_token": token})
        assert response.status_code == 400 and reason in response.data.decode(), url[:40]
        _assert_inert(response.data.decode(), url[:40])
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Tip)) == 0
