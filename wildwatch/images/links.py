"""Image links: listings or accounts that show the same photo, found by perceptual hash, each with its evidence.

Pure: give it each owner's pictures (a listing id, or a (marketplace, seller id) account, mapped to
(sha256, phash, url) triples, e.g. from store.images.image_refs_by_listing / image_refs_by_seller) and it
returns one link per pair of owners that share a photo. Two pictures are one photo when their 64-bit pHash
differs in at most `max_distance` bits (the same file has distance 0; resized, recompressed or slightly
cropped copies stay within a few bits, unrelated photos are about 32 bits apart). A photo that more than
`max_owners` owners show (a shop's logo, a "no picture" placeholder, a stock photo) links nobody.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

#: Bits of pHash two copies of one photo may differ in; measured on the demo's altered copies
#: (scripts/eval_images.py prints the distances), kept well under the ~32 bits of unrelated photos.
MAX_DISTANCE = 8
MAX_OWNERS = 25


@dataclass(frozen=True)
class ImageLink:
    """Owners `a` and `b` show one photo: the closest pair of their pictures is the evidence."""

    a: Hashable
    b: Hashable
    distance: int
    a_url: str
    b_url: str
    a_sha256: str
    b_sha256: str
    a_phash: str
    b_phash: str
    shared_pictures: int = 1  # how many of their picture pairs match

    @property
    def same_file(self) -> bool:
        return self.a_sha256 == self.b_sha256

    def evidence(self) -> dict:
        """Why the link holds, as an analyst reads it (and an export writes it)."""
        return {"kind": "image", "same_file": self.same_file, "distance": self.distance,
                "a_url": self.a_url, "b_url": self.b_url, "a_sha256": self.a_sha256, "b_sha256": self.b_sha256,
                "a_phash": self.a_phash, "b_phash": self.b_phash, "shared_pictures": self.shared_pictures}


def phash_distance(a: str, b: str) -> int:
    """Hamming distance of two hex pHashes of the same length; ValueError names a malformed one."""
    try:
        if len(a) != len(b):
            raise ValueError
        return (int(a, 16) ^ int(b, 16)).bit_count()
    except (ValueError, TypeError):
        raise ValueError(f"pHashes must be hex strings of one length, got {a!r} and {b!r}") from None


def _triple(ref) -> tuple[str, str, str]:
    if hasattr(ref, "sha256"):
        return ref.sha256, ref.phash, ref.url
    sha256, phash, url = ref
    return sha256, phash, url


def _chunks(value: int, bits: int, parts: int) -> list[tuple[int, int]]:
    """(part index, value of that part): two hashes within parts-1 bits agree on at least one part."""
    width = -(-bits // parts)
    return [(i, (value >> (i * width)) & ((1 << width) - 1)) for i in range(parts)]


def image_links(images: Mapping[Hashable, Iterable], *, max_distance: int = MAX_DISTANCE,
                max_owners: int = MAX_OWNERS) -> list[ImageLink]:
    """One link per pair of owners sharing a photo (pHash within `max_distance`), closest first.

    `images` maps each owner to its pictures, as store.images.ImageRef or (sha256, phash, url) tuples.
    """
    if max_distance < 0:
        raise ValueError(f"max_distance must be 0 or more, got {max_distance}")
    pictures: list[tuple[Hashable, str, str, str, int]] = []
    bits = 0
    for owner, refs in images.items():
        seen = set()
        for ref in refs:
            sha256, phash, url = _triple(ref)
            if sha256 in seen:
                continue
            seen.add(sha256)
            try:
                value = int(phash, 16)
            except (ValueError, TypeError):
                raise ValueError(f"owner {owner!r}: picture {url!r} has a malformed pHash {phash!r}") from None
            bits = max(bits, len(phash) * 4)
            pictures.append((owner, sha256, phash, url, value))
    # Candidate pairs share one of max_distance+1 slices of the hash exactly (pigeonhole): no all-pairs scan.
    parts = min(max_distance + 1, bits or 1)
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, picture in enumerate(pictures):
        for key in _chunks(picture[4], bits, parts):
            buckets[key].append(index)
    matches: dict[int, set[int]] = defaultdict(set)  # picture -> pictures of other owners within distance
    for members in buckets.values():
        for i_pos, i in enumerate(members):
            for j in members[i_pos + 1:]:
                if j in matches[i] or pictures[i][0] == pictures[j][0]:
                    continue
                if (pictures[i][4] ^ pictures[j][4]).bit_count() <= max_distance:
                    matches[i].add(j)
                    matches[j].add(i)
    common = {i for i, others in matches.items() if len({pictures[j][0] for j in others}) + 1 > max_owners}
    best: dict[tuple, ImageLink] = {}
    counts: dict[tuple, int] = defaultdict(int)
    for i, others in matches.items():
        for j in others:
            if i > j or i in common or j in common:
                continue
            first, second = sorted((i, j), key=lambda k: repr(pictures[k][0]))
            a, b = pictures[first], pictures[second]
            key = (a[0], b[0])
            counts[key] += 1
            distance = (a[4] ^ b[4]).bit_count()
            current = best.get(key)
            if current is None or (distance, a[3], b[3]) < (current.distance, current.a_url, current.b_url):
                best[key] = ImageLink(a[0], b[0], distance, a[3], b[3], a[1], b[1], a[2], b[2])
    links = [ImageLink(**{**link.__dict__, "shared_pictures": counts[key]}) for key, link in best.items()]
    return sorted(links, key=lambda link: (link.distance, repr(link.a), repr(link.b)))


def listing_image_sightings(session, *, max_distance: int = MAX_DISTANCE, max_owners: int = MAX_OWNERS):
    """The seller networks' image source (wildwatch.networks): listings that show one photo share a key.

    Listings joined by `image_links` (pHash within `max_distance`; a picture shown by more than `max_owners`
    listings, a logo or stock photo, joins nobody) form groups; every listing of a group is a sighting of
    "phash:<the group's smallest sha256>", a key that stays the same from one rebuild to the next while the
    pictures do. The evidence names the picture, the listing it matched and the distance.
    """
    from store.images import image_refs_by_listing
    from wildwatch.networks import Sighting, connected_roots

    links = image_links(image_refs_by_listing(session), max_distance=max_distance, max_owners=max_owners)
    root = connected_roots((link.a, link.b) for link in links)
    group_sha: dict = {}
    for link in links:
        group = root[link.a]
        group_sha[group] = min([group_sha.get(group, link.a_sha256), link.a_sha256, link.b_sha256])
    seen: set = set()
    for link in links:
        key = f"phash:{group_sha[root[link.a]]}"
        for listing, sha256, url, other, other_url in ((link.a, link.a_sha256, link.a_url, link.b, link.b_url),
                                                       (link.b, link.b_sha256, link.b_url, link.a, link.a_url)):
            if (listing, key, sha256) in seen:
                continue
            seen.add((listing, key, sha256))
            yield Sighting(listing, "image", key, f"image:{sha256[:16]}",
                           {"url": url, "sha256": sha256, "matches_listing": other, "matches_url": other_url,
                            "distance": link.distance, "same_file": link.same_file})
