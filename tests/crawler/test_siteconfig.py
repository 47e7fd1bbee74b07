"""Site configs are validated at load, and errors name the file, the key and the reason."""
from pathlib import Path

import pytest

from crawler.siteconfig import SiteConfigError, load_all_sites, load_site_config, resolve_site
from wildwatch.config import SITES_DIR

GOOD = """\
name: shop
base_url: https://shop.example
start_urls: [/]
fields:
  title: h1::text
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_demo_config_loads():
    site = load_site_config(SITES_DIR / "demo.yaml")
    assert site.name == "demo" and site.demo
    assert site.javascript.needs_browser("http://127.0.0.1:1/app/item/DB-0001")
    assert not site.javascript.needs_browser("http://127.0.0.1:1/item/DB-0001")


@pytest.mark.parametrize("text,expected", [
    (GOOD + "colour: blue\n", "colour: unknown key"),
    (GOOD.replace("h1::text", "h1[[::text"), "fields.title"),
    (GOOD + "javascript:\n  mode: sometimes\n", "javascript.mode"),
    (GOOD + "javascript:\n  mode: patterns\n", "url_patterns"),
    (GOOD + "links:\n  deny: ['(unclosed']\n", "bad regular expression"),
    (GOOD.replace("https://shop.example", "file:///etc/passwd"), "base_url"),
    (GOOD.replace("name: shop", "name: Shop Name"), "name"),
    (GOOD + "politeness:\n  concurrency: 0\n", "politeness.concurrency"),
    (GOOD + "fields:\n  colour: h1\n", None),  # duplicate key in YAML: last wins, then unknown field
    ("- just\n- a list\n", "mapping"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_bad_configs_name_file_key_and_reason(tmp_path, text, expected):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(SiteConfigError) as info:
        load_site_config(path)
    message = str(info.value)
    assert str(path) in message
    if expected:
        assert expected in message


def test_unknown_field_is_named(tmp_path):
    path = write(tmp_path, "f.yaml", GOOD.replace("  title: h1::text", "  titel: h1::text"))
    with pytest.raises(SiteConfigError, match="unknown field 'titel'"):
        load_site_config(path)


def test_broken_file_is_skipped_and_reported_the_others_load(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD.replace("name: shop", "name: other") + "bogus: 1\n")
    write(tmp_path, "c.yaml", GOOD)  # same name as a.yaml
    sites, errors = load_all_sites(tmp_path)
    assert [s.name for s in sites] == ["shop"]
    assert len(errors) == 2
    assert "b.yaml" in errors[0] and "bogus" in errors[0]
    assert "c.yaml" in errors[1] and "already used" in errors[1]


def test_resolve_by_name_or_path(tmp_path):
    path = write(tmp_path, "s.yaml", GOOD)
    assert resolve_site("shop", tmp_path).name == "shop"
    assert resolve_site(str(path), Path("/nonexistent")).name == "shop"
    with pytest.raises(SiteConfigError, match="no site named 'nope'"):
        resolve_site("nope", tmp_path)
    with pytest.raises(SiteConfigError, match="no such site config file"):
        resolve_site(str(tmp_path / "missing.yaml"), tmp_path)


def test_base_url_override_keeps_the_rest():
    site = load_site_config(SITES_DIR / "demo.yaml").with_base_url("http://127.0.0.1:40001")
    assert site.domains() == ["127.0.0.1"]
    assert site.absolute_start_urls() == ["http://127.0.0.1:40001/"]
    assert site.fields["title"].selector == "h1.listing-title::text"
