"""Sending an outbox message through the channel account it is routed to.

`notify_beneficiary` routes a request's notifications back through the account the
beneficiary wrote from; the drain (`tawasul.channels.delivery`) hands such a message here,
and each kind's adapter sends it: e-mail over SMTP with threading headers
(`tawasul.channels.email_out`), SMS through the account's gateway
(`tawasul.channels.sms`), a direct message or a public reply through the platform's send
API (`tawasul.channels.social`). Each returns the provider's message id, or raises
`ChannelDeliveryError` (try again later) or `ChannelRejected` (failed for good).
"""

from __future__ import annotations

from tawasul.channels.errors import ChannelRejected
from tawasul.channels.models import EMAIL_KINDS, SOCIAL_KINDS, ChannelKind, OutboxMessage


def account_send(message: OutboxMessage) -> str:
    account = message.account
    if account is None:
        raise ChannelRejected("the message has no channel account")
    if not account.is_active:
        raise ChannelRejected("the channel account is not active")
    if account.kind in EMAIL_KINDS:
        from tawasul.channels.email_out import email_send_routed

        return email_send_routed(message)
    if account.kind == ChannelKind.SMS:
        from tawasul.channels.sms import sms_account_gateway, sms_account_render

        return sms_account_gateway(account).send(
            to=message.recipient, text=sms_account_render(account, message)
        )
    if account.kind in SOCIAL_KINDS:
        from tawasul.channels.social import social_send

        return social_send(message)
    raise ChannelRejected(f"a {account.kind} account cannot send messages")
