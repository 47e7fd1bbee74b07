"""Captured HTML made inert before it is hashed and stored: opening evidence must not tell the seller.

A capture is the rendered DOM of a hostile page. Opened from an evidence package it would run the
seller's scripts and load their beacons, telling them that (and from where) an investigator looked.
So scripts, frames, plugins, `<link>`s (prefetch and preconnect leak DNS even past a CSP), `<base>`,
meta refreshes, event-handler attributes and javascript: URLs are removed, and a
`Content-Security-Policy: default-src 'none'` meta tag is put first in <head>, so whatever was missed
still cannot load anything. Text, layout and inline styles stay; the screenshot shows the rest.
"""
from __future__ import annotations

from lxml import etree
from lxml import html as lxml_html

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'"
MARKER = "wildwatch-inert"
_DROP = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link", "portal",
         "fencedframe", "meta"}
_URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "background", "xlink:href", "srcset",
              "codebase", "cite", "longdesc", "usemap", "manifest", "lowsrc", "dynsrc"}
_SAFE_META = {"charset", "viewport", "description", "keywords"}


def _meta_is_safe(element) -> bool:
    if element.get("http-equiv"):
        return False  # refresh, set-cookie, a seller's own CSP, link headers...
    return (element.get("name") or "").lower() in _SAFE_META or element.get("charset") is not None


def inert_html(text: str) -> str:
    """`text` without anything that runs or loads, under a CSP that forbids loading (see the module docstring)."""
    document = lxml_html.document_fromstring(text or "<html></html>")
    doomed = []
    for element in document.iter():
        if not isinstance(element.tag, str):
            if isinstance(element, etree._ProcessingInstruction):
                doomed.append(element)
            continue
        tag = element.tag.lower().rsplit("}", 1)[-1]
        if tag in _DROP and not (tag == "meta" and _meta_is_safe(element)):
            doomed.append(element)
            continue
        for name in list(element.attrib):
            lowered = name.lower()
            value = (element.get(name) or "").strip().lower()
            compact = "".join(value.split())  # browsers ignore tabs and newlines inside a scheme
            handler = lowered.startswith("on") or lowered in ("srcdoc", "ping", "nonce")
            loads = lowered == "style" and "url(" in compact
            scripted = lowered in _URL_ATTRS and compact.startswith(("javascript:", "vbscript:", "data:text/html",
                                                                     "data:image/svg"))
            if handler or loads or scripted:
                del element.attrib[name]
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()
    head = document.find("head")
    if head is None:
        head = etree.Element("head")
        document.insert(0, head)
    head.insert(0, etree.Element("meta", {"name": MARKER, "content": "scripts, frames, handlers and loads removed"}))
    head.insert(0, etree.Element("meta", {"http-equiv": "Content-Security-Policy", "content": CSP}))
    head.insert(0, etree.Element("meta", {"charset": "utf-8"}))
    return "<!DOCTYPE html>\n" + lxml_html.tostring(document, encoding="unicode")
