"""Errors of the channel adapters, safe to store and log (no address, no text)."""

from __future__ import annotations


class ChannelDeliveryError(Exception):
    """A provider did not take the message now (unreachable, slow, 5xx, rate limited): the
    outbox tries again later with backoff. The text is a summary without personal data."""


class ChannelRejected(ChannelDeliveryError):
    """A provider refused the message for good (bad recipient, account not allowed to
    message them, 4xx other than rate limits): the outbox marks it failed at once."""


# The code answered for a refusal that names none, by its HTTP status.
_CODES_BY_STATUS = {
    400: "malformed",
    403: "forbidden",
    404: "unknown_account",
    405: "method_not_allowed",
    413: "too_large",
}


class WebhookRefused(Exception):
    """An inbound webhook that must not be trusted: bad signature, outside the time window,
    unknown account. `status` is the HTTP status to answer with, `code` the `{"error": …}`
    the sender reads (by default the status's)."""

    def __init__(self, summary: str, *, status: int = 403, code: str = "") -> None:
        super().__init__(summary)
        self.status = status
        self.code = code or _CODES_BY_STATUS.get(status, "refused")
