"""Pseudonyms for contact handles in exports: personal data leaves wildwatch keyed-hashed unless a lead says otherwise.

Handles and phone numbers identify people. Exports (listing and seller files) replace each handle
with ``[type:pseudonym]``, an HMAC-SHA256 of the normalised value under a key that never leaves the
server (classifier.handles.pseudonymise): the same handle gets the same pseudonym in every export,
so a partner can still see that two sellers share one, but cannot read or confirm the number.

The key is kept like the review app's session key: ``WILDWATCH_PSEUDONYM_KEY`` (32+ characters),
else a random key created once in the data dir as ``pseudonym.key`` (mode 0600). It is a key of its
own, so rotating the session key does not change every pseudonym. Exporting in clear needs an active
account with the lead role and its password (`check_lead`), and is written to the audit log.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from classifier.handles import extract_handles, pseudonymise
from store.errors import StoreError

KEY_FILE = "pseudonym.key"
KEY_ENV = "WILDWATCH_PSEUDONYM_KEY"


def pseudonym_key(data_dir: Path, configured: str | None = None) -> bytes:
    """The export pseudonym key: `configured` (Settings.pseudonym_key, from WILDWATCH_PSEUDONYM_KEY), else the
    data dir's key file (created on first use)."""
    if configured:
        if len(configured) < 32:
            raise StoreError(f"{KEY_ENV} must be at least 32 characters")
        return configured.encode("utf-8")
    path = Path(data_dir) / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it a moment ago
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < 32:
        raise StoreError(f"{path}: the pseudonym key is shorter than 32 characters; remove the file to make a new one")
    return key.encode("utf-8")


def pseudonymise_key(link_key: str, key: bytes) -> str:
    """ "wechat:zhou88" -> "wechat:3f1c…": the kind stays readable, the value is hashed."""
    kind, _, value = link_key.partition(":")
    return f"{kind}:{pseudonymise(value, key)}" if value else pseudonymise(link_key, key)


def pseudonymise_text(text: object, key: bytes) -> object:
    """`text` with every contact handle replaced by [type:pseudonym]; other values unchanged."""
    if not isinstance(text, str) or not text:
        return text
    handles = extract_handles(text)
    if not handles:
        return text
    out, last = [], 0
    for handle in handles:
        if handle.start < last:
            continue
        out.append(text[last:handle.start])
        out.append(f"[{handle.type}:{pseudonymise(handle.value, key)}]")
        last = handle.end
    out.append(text[last:])
    return "".join(out)


def check_lead(session, name: str, password: str) -> str:
    """The account name when `name` is an active lead and `password` is theirs; StoreError naming why not."""
    from review.auth import verify_password
    from store.decisions import get_user

    user = get_user(session, name) if name else None
    if user is None or not verify_password(user.password_hash, password):
        raise StoreError(f"exporting handles in clear: wrong account name or password for {name!r}")
    if not user.active:
        raise StoreError(f"exporting handles in clear: account {name!r} is deactivated")
    if user.role != "lead":
        raise StoreError(f"exporting handles in clear needs the lead role; {name!r} is {user.role!r}")
    return user.name
