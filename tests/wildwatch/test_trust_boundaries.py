"""Trust boundaries: a model is unpickled only when its recorded hash matches; database passwords never
reach output, logs, crawl-run stats or exports; the review app listens on 127.0.0.1 by default;
Scrapy's consoles that run code are off; the crawler stays on the site's host and on http(s).
"""
from __future__ import annotations

import gzip
import json
import pickle
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import joblib
import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.python import without_none_values
from sqlalchemy import select
from sqlalchemy.engine import make_url

from classifier.artifacts import INFERENCE_FILE, LEGACY_MODEL_FILE, MODEL_FILE, ModelIncompatibleError, sha256_file
from classifier.scorer import Scorer
from support.cli import ROOT, run_cli, wildwatch_env
from crawler.siteconfig import SiteConfig, SiteConfigError, load_site_config
from crawler.spiders.marketplace import MarketplaceSpider
from support.pages_server import PageServer, page, site_config
from store.db import make_engine, session_scope
from store.models import CrawlRun, Listing
from store.testing import throwaway_database
from wildwatch.config import Settings
from wildwatch.crawl import scrapy_settings

SECRET = "Tr0ub4dor-and-3"


# ---- model artifacts: pickle runs code, so only a hash-matched artifact is loaded ----------------------

class _Payload:
    """Unpickling this runs code: it writes a marker file (what a real attacker's pickle would do worse)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').write('code ran')",)


def test_tampered_model_is_refused_before_any_of_it_is_unpickled(trained_models_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(trained_models_dir, models)
    version_dir = models / (models / "ACTIVE").read_text(encoding="utf-8").strip()
    marker = tmp_path / "pwned"
    (tmp_path / "probe.pkl.gz").write_bytes(gzip.compress(pickle.dumps(_Payload(marker))))
    pickle.loads(gzip.decompress((tmp_path / "probe.pkl.gz").read_bytes()))  # the payload is live: loading it runs code
    assert marker.exists()
    marker.unlink()

    shutil.copyfile(tmp_path / "probe.pkl.gz", version_dir / MODEL_FILE)  # swapped in, metadata unchanged
    with pytest.raises(ModelIncompatibleError, match="does not match the sha256.*refusing to unpickle it"):
        Scorer.load(models)
    assert not marker.exists()

    result = run_cli(["classify", str(ROOT / "data" / "labelled" / "listings.csv"), "-o", str(tmp_path / "o.csv")],
                     wildwatch_env(tmp_path / "data", models))
    assert result.returncode == 2 and "refusing to unpickle it" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not marker.exists()


def test_a_tampered_inference_artifact_is_refused_and_so_is_a_version_with_any_changed_artifact(
        trained_models_dir, tmp_path):
    """The scorer unpickles the inference artifact only; it is hash-checked the same way, and a version whose
    pipeline artifact changed is refused as a whole although the scorer would not unpickle that one."""
    models = tmp_path / "models"
    shutil.copytree(trained_models_dir, models)
    version_dir = models / (models / "ACTIVE").read_text(encoding="utf-8").strip()
    marker = tmp_path / "pwned"
    original = (version_dir / INFERENCE_FILE).read_bytes()
    (version_dir / INFERENCE_FILE).write_bytes(gzip.compress(pickle.dumps(_Payload(marker))))
    with pytest.raises(ModelIncompatibleError, match=f"{INFERENCE_FILE} does not match the sha256.*refusing"):
        Scorer.load(models)
    assert not marker.exists()
    (version_dir / INFERENCE_FILE).write_bytes(original)
    assert Scorer.load(models).version == version_dir.name
    with open(version_dir / MODEL_FILE, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelIncompatibleError, match=f"{MODEL_FILE} does not match the sha256"):
        Scorer.load(models)


def test_a_version_saved_by_joblib_before_still_loads_and_is_checked(trained_models_dir, tmp_path):
    """Versions written before the artifact became a gzip pickle name model.joblib in their metadata: they
    load as they did, under the same hash check."""
    models = tmp_path / "models"
    shutil.copytree(trained_models_dir, models)
    version_dir = models / (models / "ACTIVE").read_text(encoding="utf-8").strip()
    current = Scorer.load(models)
    model = pickle.loads(gzip.decompress((version_dir / MODEL_FILE).read_bytes()))
    (version_dir / MODEL_FILE).unlink()
    joblib.dump(model, version_dir / LEGACY_MODEL_FILE, compress=3)
    metadata_path = version_dir / "metadata.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    metadata.update(artifact=LEGACY_MODEL_FILE, artifact_sha256=sha256_file(version_dir / LEGACY_MODEL_FILE))
    metadata_path.write_text(json.dumps(metadata), encoding="utf-8")
    probe = ("出 穿山甲片 私聊", "包邮")
    assert Scorer.load(models).score(*probe).score == pytest.approx(current.score(*probe).score)

    marker = tmp_path / "pwned"
    joblib.dump(_Payload(marker), version_dir / LEGACY_MODEL_FILE)  # tampered: refused before joblib reads it
    with pytest.raises(ModelIncompatibleError, match="does not match the sha256.*refusing to unpickle it"):
        Scorer.load(models)
    assert not marker.exists()


def test_model_without_a_recorded_hash_is_refused(trained_models_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(trained_models_dir, models)
    metadata_path = models / (models / "ACTIVE").read_text(encoding="utf-8").strip() / "metadata.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    del metadata["artifact_sha256"]
    metadata_path.write_text(json.dumps(metadata), encoding="utf-8")
    with pytest.raises(ModelIncompatibleError, match="missing field.*artifact_sha256"):
        Scorer.load(models)


# ---- crawler settings -----------------------------------------------------------------------------------

def test_consoles_that_run_code_are_off_and_only_http_is_fetched(tmp_path):
    settings = scrapy_settings(Settings.from_env())
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False
    assert settings.getbool("REMOTE_CONTROL_ENABLED") is False
    # What Scrapy's DownloadHandlers will load: file://, ftp://, s3:// and data: are gone.
    assert set(without_none_values(settings.getwithbase("DOWNLOAD_HANDLERS"))) == {"http", "https"}


GOOD = "name: shop\nbase_url: http://127.0.0.1:9\nstart_urls: [/]\n"


@pytest.mark.parametrize("text, key", [
    (GOOD.replace("http://127.0.0.1:9", "file:///etc"), "base_url"),
    (GOOD.replace("[/]", "['file:///etc/passwd']"), "start_urls.0"),
    (GOOD.replace("[/]", "[/, 'ftp://127.0.0.1/pub']"), "start_urls.1"),
    (GOOD.replace("[/]", "['data:text/html,<a href=x>']"), "start_urls.0"),
    (GOOD + "search:\n  url_template: 'file:///etc/passwd?{query}'\n", "search.url_template"),
    (GOOD + "search:\n  url_template: '//evil.example/s?q={query}'\n", None),  # same scheme, other host: allowed by
])                                                                                 # the config, refused as offsite
def test_site_config_cannot_point_the_crawler_at_non_http_urls(tmp_path, text, key):
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    if key is None:
        load_site_config(path)
        return
    with pytest.raises(SiteConfigError, match=rf"site.yaml: {key}: .* is not an http\(s\) URL"):
        load_site_config(path)


def test_base_url_override_must_be_http():
    site = SiteConfig.model_validate({"name": "shop", "base_url": "http://127.0.0.1:9", "start_urls": ["/"]})
    with pytest.raises(SiteConfigError, match="shop: base_url: 'ftp://127.0.0.1/' is not an http"):
        site.with_base_url("ftp://127.0.0.1/")


def test_spider_follows_only_http_links():
    site = SiteConfig.model_validate({"name": "shop", "base_url": "http://127.0.0.1:9", "start_urls": ["/"],
                                      "links": {"listing": ["a.ad::attr(href)"]}})
    spider = MarketplaceSpider(site=site)
    body = """<a class="ad" href="/p/1">ok</a><a class="ad" href="file:///etc/passwd">f</a>
        <a class="ad" href="ftp://127.0.0.1/p/2">ftp</a><a class="ad" href="data:text/html,hi">d</a>
        <a class="ad" href="javascript:alert(1)">js</a><a class="ad" href="s3://bucket/key">s3</a>
        <a class="ad" href="https://127.0.0.1:9/p/3">tls</a>"""
    response = HtmlResponse("http://127.0.0.1:9/", body=body.encode(), encoding="utf-8")
    assert spider._links(response, site.links.listing) == ["http://127.0.0.1:9/p/1", "https://127.0.0.1:9/p/3"]


def test_links_with_an_upper_case_scheme_are_followed_under_one_spelling():
    """HTTP:// and Https:// are the same pages as http:// and https://: followed, and written one way so the
    listing id, the duplicate filter and the resume journal see one page."""
    site = SiteConfig.model_validate({"name": "shop", "base_url": "http://127.0.0.1:9", "start_urls": ["/"],
                                      "links": {"listing": ["a.ad::attr(href)"]}})
    spider = MarketplaceSpider(site=site)
    body = """<a class="ad" href="HTTP://127.0.0.1:9/p/1">a</a><a class="ad" href="Https://127.0.0.1:9/p/2">b</a>
        <a class="ad" href="hTTp://127.0.0.1:9/p/Case-Kept?Q=1">c</a><a class="ad" href="FILE:///etc/passwd">f</a>"""
    response = HtmlResponse("https://127.0.0.1:9/", body=body.encode(), encoding="utf-8")
    assert spider._links(response, site.links.listing) == [
        "http://127.0.0.1:9/p/1", "https://127.0.0.1:9/p/2", "http://127.0.0.1:9/p/Case-Kept?Q=1"]


# ---- a real nightly run: passwords, consoles, offsite and non-http links --------------------------------

def _pages(port: int) -> dict:
    ad = '<a class="ad" href="{}">x</a>'.format
    links = [ad("/p/ok-1"), ad("/p/ok-2"), ad(f"http://localhost:{port}/p/off-1"), ad("file:///etc/passwd"),
             ad(f"ftp://127.0.0.1:{port}/p/ftp-1"), ad("data:text/html,<h1>x</h1>"), ad("/p/redir-1")]
    detail = "<html><body><div class='ad-title'>{}</div><div class='ad-body'>{}</div></body></html>".format
    return {
        "/robots.txt": page("User-agent: *\nAllow: /\n", content_type="text/plain"),
        "/": page("<html><body>" + "".join(links) + "</body></html>"),
        "/p/ok-1": page(detail("象牙手镯 老货", "懂的来 私聊")),
        "/p/ok-2": page(detail("Tea cup", "porcelain")),
        "/p/off-1": page(detail("offsite", "must not be fetched")),
        "/p/redir-1": page("", status=302, Location="file:///etc/passwd"),
    }


@pytest.fixture(scope="module")
def night(tmp_path_factory, trained_models_dir):
    """One `wildwatch nightly` over a local site, on PostgreSQL with a password in the URL."""
    tmp = tmp_path_factory.mktemp("trust")
    with throwaway_database("postgresql", tmp) as url:
        secret_url = make_url(url).set(password=SECRET).render_as_string(hide_password=False)  # trust auth: any
        server = PageServer({})
        server.pages.update(_pages(server.port))
        with server:
            sites = tmp / "sites"
            sites.mkdir()
            (sites / "trust.yaml").write_text(site_config("trustshop", server.url), encoding="utf-8")
            env = wildwatch_env(tmp / "data", trained_models_dir, WILDWATCH_DATABASE_URL=secret_url,
                                WILDWATCH_SITES_DIR=str(sites))
            outputs = [run_cli(["db", "upgrade"], env), run_cli(["db", "current"], env),
                       run_cli(["nightly", "-o", str(tmp / "night.csv")], env),
                       run_cli(["export", "--all", "-o", str(tmp / "all.csv")], env)]
            hits = dict(server.hits)
        engine = make_engine(url)
        try:
            with session_scope(engine) as session:
                runs = [(run.stats, run.error) for run in session.scalars(select(CrawlRun))]
                listings = sorted(session.scalars(select(Listing.external_id)))
        finally:
            engine.dispose()
        yield {"tmp": tmp, "outputs": outputs, "hits": hits, "runs": runs, "listings": listings, "env": env}


@pytest.mark.slow  # reads the night of the `night` fixture: a nightly run in a CLI process
def test_nightly_on_a_password_url_never_shows_the_password(night):
    for result in night["outputs"]:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert SECRET not in result.stdout + result.stderr
    assert "root:***@" in night["outputs"][0].stdout  # the URL is named, redacted
    files = [*(night["tmp"] / "data").rglob("*"), night["tmp"] / "night.csv", night["tmp"] / "all.csv"]
    texts = {path: path.read_bytes() for path in files if path.is_file()}
    assert any(path.suffix == ".log" for path in texts), sorted(texts)
    leaked = [str(path) for path, data in texts.items() if SECRET.encode() in data]
    assert not leaked
    assert SECRET not in json.dumps([stats for stats, _ in night["runs"]]) + str([e for _, e in night["runs"]])


@pytest.mark.slow  # reads the night of the `night` fixture: a nightly run in a CLI process
def test_nightly_log_shows_no_console_that_runs_code(night):
    log = next((night["tmp"] / "data" / "logs").glob("nightly-*.log")).read_text(encoding="utf-8")
    assert "Enabled extensions" in log
    extensions = log.split("Enabled extensions:", 1)[1].split("]", 1)[0]
    assert "TelnetConsole" not in extensions and "RemoteControl" not in extensions
    assert "Telnet console listening" not in log


@pytest.mark.slow  # reads the night of the `night` fixture: a nightly run in a CLI process
def test_crawl_stays_on_the_site_and_on_http(night):
    assert night["listings"] == ["ok-1", "ok-2"]
    assert night["hits"].get("/p/ok-1") == 1 and night["hits"].get("/p/redir-1") == 1
    assert "/p/off-1" not in night["hits"]  # http://localhost:PORT is another host: refused as offsite
    assert "/p/ftp-1" not in night["hits"]


@pytest.mark.slow  # reads the night of the `night` fixture: a nightly run in a CLI process
def test_review_app_listens_on_127_0_0_1_unless_told_otherwise(night):
    from review.server import ReviewServer
    import inspect

    assert inspect.signature(ReviewServer).parameters["host"].default == "127.0.0.1"
    env = {**night["env"], "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "wildwatch", "review", "--port", "0"], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("wildwatch review at http://127.0.0.1:"), first_line + process.stderr.read(2000)
        assert SECRET not in first_line and "root:***@" in first_line
        port = int(first_line.split("http://127.0.0.1:", 1)[1].split()[0])
        listening = _listening_addresses(port)
        assert listening == {"127.0.0.1"}, listening
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert SECRET not in process.stderr.read()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port` (Linux /proc/net/tcp and tcp6)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if width == 8:
                    found.add(".".join(str(b) for b in reversed(bytes.fromhex(address))))
                else:
                    found.add(address)
    return found
