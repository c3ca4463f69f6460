"""Text messages: one interface, a development sandbox behind it.

A real SMS provider is an adapter implementing ``SmsGateway``: one-time codes (``send_code``)
and notifications such as payment reminders (``send_notice``). The sandbox delivers nothing: it
keeps the last codes and notifications of each phone in this process (codes for
``POST /v1/dev/sms``, development only), and logs the masked phone (``139****5678``) — never the
phone, the code or the text.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request

from shared.identifiers import mask_phone
from shared.observability import event

SANDBOX_KEPT_PER_PHONE = 20


@dataclass(frozen=True)
class SentCode:
    code: str
    purpose: str
    sent_at: datetime


@dataclass(frozen=True)
class SentNotice:
    text: str
    kind: str
    sent_at: datetime


class SmsGateway(Protocol):
    name: str

    async def send_code(self, phone: str, *, code: str, purpose: str, sent_at: datetime) -> None:
        """Deliver ``code`` to ``phone`` (11 digits) for ``purpose``."""

    async def send_notice(self, phone: str, *, text: str, kind: str, sent_at: datetime) -> None:
        """Deliver a notification ``text`` (a payment reminder, …) of ``kind`` to ``phone``."""


class SandboxSms:
    """Keeps codes in memory instead of sending them (development and tests)."""

    name = "sandbox"

    def __init__(self) -> None:
        self._outbox: defaultdict[str, deque[SentCode]] = defaultdict(
            lambda: deque(maxlen=SANDBOX_KEPT_PER_PHONE)
        )
        self._notices: defaultdict[str, deque[SentNotice]] = defaultdict(
            lambda: deque(maxlen=SANDBOX_KEPT_PER_PHONE)
        )

    async def send_code(self, phone: str, *, code: str, purpose: str, sent_at: datetime) -> None:
        self._outbox[phone].appendleft(SentCode(code=code, purpose=purpose, sent_at=sent_at))
        event("sms.sandbox_sent", phone=mask_phone(phone), purpose=purpose)

    def sent_to(self, phone: str) -> list[SentCode]:
        """What was sent to ``phone``, newest first."""
        return list(self._outbox.get(phone, ()))

    async def send_notice(self, phone: str, *, text: str, kind: str, sent_at: datetime) -> None:
        self._notices[phone].appendleft(SentNotice(text=text, kind=kind, sent_at=sent_at))
        event("sms.sandbox_notice", phone=mask_phone(phone), kind=kind)

    def notices_to(self, phone: str) -> list[SentNotice]:
        """The notifications sent to ``phone``, newest first."""
        return list(self._notices.get(phone, ()))


def get_sms_gateway(request: Request) -> SmsGateway:
    """The app's gateway (tests may install their own); the sandbox otherwise."""
    gateway: SmsGateway | None = getattr(request.app.state, "sms_gateway", None)
    if gateway is None:
        gateway = request.app.state.sms_gateway = SandboxSms()
    return gateway


SmsGatewayDep = Annotated[SmsGateway, Depends(get_sms_gateway)]
