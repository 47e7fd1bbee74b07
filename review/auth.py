"""Password hashing (Argon2id via argon2-cffi) and checking a login without leaking which names exist."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from store.errors import StoreError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()  # argon2-cffi's defaults follow RFC 9106's recommendations
_dummy: tuple[PasswordHasher, str] | None = None


def _dummy_hash() -> str:
    """A hash verified when the name is unknown, so a wrong name takes as long as a wrong password.

    Made on first need with the hasher in use, not at import: every CLI command that imports this module
    would otherwise pay one Argon2 hash (~0.16 s of CPU) for nothing.
    """
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash("not a real password, only here for constant-ish timing"))
    return _dummy[1]


def check_password_strength(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise StoreError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StoreError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip() != password:
        raise StoreError("password must not start or end with spaces (a pasted newline?)")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password_strength(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; False for a wrong password, a broken hash or no user at all."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's; rehash at the next login."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
