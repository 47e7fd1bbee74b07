"""Search-seeded crawling: which lexicon terms a site's search box is asked tonight.

Real monitoring finds listings in catalogues of millions by searching, not by walking every
category. Terms come from the curated lexicon (`classifier.lexicon.load_lexicon`), round-robin
over the chosen groups, and rotate from night to night, so every term gets its turn while each
night stays within the site's cap. Pure apart from reading the lexicon.
"""
from __future__ import annotations

import math
from datetime import date
from urllib.parse import quote, urljoin

from crawler.siteconfig import Search


def night_index(override: int | str | None = None) -> int:
    """The rotation position: the given number, else today's date (one step per calendar day)."""
    if override not in (None, ""):
        return int(override)
    return date.today().toordinal()


def _encodable(term: str, encoding: str | None) -> bool:
    if not encoding:
        return True
    try:
        term.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def terms_by_group(lexicon, groups: list[str], kinds: list[str], langs: list[str] | None = None,
                   encoding: str | None = None) -> dict[str, list[str]]:
    """Distinct search terms of each group, most confident first; terms of one character are left out, and so
    are terms of other languages than `langs` (all when None) and terms `encoding` cannot write (a GBK search box
    asked for "sừng tê giác" would receive "s?ng tê giác")."""
    wanted = set(groups)
    languages = set(langs) if langs is not None else None
    found: dict[str, dict[str, float]] = {}
    for entry in lexicon.entries:
        if entry.kind not in kinds or (wanted and entry.group not in wanted):
            continue
        if languages is not None and entry.lang not in languages:
            continue
        term = entry.term.strip()
        if len(term) < 2 or not _encodable(term, encoding):
            continue
        bucket = found.setdefault(entry.group, {})
        bucket[term] = max(bucket.get(term, 0.0), float(entry.confidence))
    return {group: [t for t, _ in sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))]
            for group, terms in sorted(found.items())}


def pick_terms(by_group: dict[str, list[str]], per_night: int, night: int) -> list[str]:
    """Tonight's terms: groups take turns (rotating which group starts), each group's list rotates
    by the number of its terms used per night, and the total is capped at `per_night`."""
    groups = [g for g, terms in by_group.items() if terms]
    if not groups or per_night < 1:
        return []
    share = max(1, math.ceil(per_night / len(groups)))
    start = (night * per_night) % len(groups)
    order = groups[start:] + groups[:start]
    queues = {}
    for group in order:
        terms = by_group[group]
        offset = (night * share) % len(terms)
        queues[group] = (terms[offset:] + terms[:offset])[:share]
    picked: list[str] = []
    seen: set[str] = set()
    for round_ in range(share):
        for group in order:
            if round_ < len(queues[group]) and queues[group][round_] not in seen:
                seen.add(queues[group][round_])
                picked.append(queues[group][round_])
                if len(picked) >= per_night:
                    return picked
    return picked


def search_url(search: Search, base_url: str, term: str, page: int = 1) -> str:
    """The search URL for one term, percent-encoded in the site's encoding."""
    query = quote(term, safe="", encoding=search.encoding, errors="replace")
    return urljoin(base_url, search.url_template.format(query=query, page=page))


def tonight_queries(search: Search, lexicon, night: int) -> list[str]:
    by_group = terms_by_group(lexicon, search.groups, list(search.kinds), list(search.langs), search.encoding)
    return pick_terms(by_group, search.terms_per_night, night)
