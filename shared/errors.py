"""liaison's error tree.

LiaisonError
├── ConfigurationError      a setting is missing or malformed
├── LedgerError             the ledger cannot be read or written as asked
│   └── ImportRejected      a file set failed validation; nothing was written
├── NotFound                a named record does not exist
└── DeliveryError           a message could not be handed to its provider
    ├── TransientDeliveryError   worth retrying later (429, 5xx, timeouts, SMTP 4xx)
    └── PermanentDeliveryError   never worth retrying (invalid number, SMTP 5xx)
"""

from __future__ import annotations

from shared.masking import mask_text


class LiaisonError(Exception):
    """Raised for every failure liaison reports to a person."""


class ConfigurationError(LiaisonError):
    """Raised when a setting is missing or malformed."""


class LedgerError(LiaisonError):
    """Raised when the ledger cannot be read or written as asked."""


class ImportRejected(LedgerError):
    """Raised when a file set failed validation; it carries every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) found; nothing was written")
        self.problems = problems


class NotFound(LiaisonError):
    """Raised when a named record (member, organization, liaison…) does not exist."""


class DeliveryError(LiaisonError):
    """Raised when a message could not be handed to its provider.

    Its text is masked here, when it is built: provider texts quote the number or address
    they refused, and whatever stores, logs or shows the error then cannot leak it.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(mask_text(message))
        self.code = code


class TransientDeliveryError(DeliveryError):
    """Raised when a delivery failed in a way that is worth retrying later."""

    def __init__(
        self, message: str, *, code: str | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s


class PermanentDeliveryError(DeliveryError):
    """Raised when a delivery failed in a way that no retry can fix."""
