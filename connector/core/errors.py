"""Errors the adapters raise and the processing code understands.

An adapter translates its client library's failures into these, so retry policy and
dead-lettering are decided in one place without knowing which CRM answered.
"""

from __future__ import annotations


class CrmError(Exception):
    """A CRM call failed. ``retryable`` says whether trying again can help."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"(HTTP {self.status})")
        if self.code:
            parts.append(f"[{self.code}]")
        return " ".join(parts)


class TransientCrmError(CrmError):
    """Network error, timeout, 5xx: worth retrying with backoff."""

    retryable = True


class RateLimited(TransientCrmError):
    """429 or a documented limit error; ``retry_after`` is seconds to wait, if the CRM said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class AuthenticationFailed(CrmError):
    """The CRM refused our credentials even after a token refresh."""


class PermanentCrmError(CrmError):
    """The request itself is wrong (validation, unknown record): retrying cannot help."""


class SignatureInvalid(Exception):
    """An inbound webhook's signature or timestamp did not verify."""
