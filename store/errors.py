"""Errors the store raises, so callers can tell a store problem from a bug."""
from __future__ import annotations

from dataclasses import dataclass

from wildwatch.errors import UserError


class StoreError(UserError):
    """A database URL, schema or call the store cannot work with."""


@dataclass(frozen=True)
class RecordError:
    """One bad record in a batch: reported and skipped, never fatal to the batch.

    `where` names the record (marketplace and listing id, or the batch index) so
    whoever reads the log can find it in the crawl output; `field` is the item
    key that was wrong.
    """

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: field {self.field!r}: {self.message}"


class InvalidRecord(ValueError):
    """Raised by the validators; carries the RecordError to report."""

    def __init__(self, error: RecordError) -> None:
        super().__init__(str(error))
        self.error = error
