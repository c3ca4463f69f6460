"""One-time SMS codes: issued per phone and purpose, valid five minutes, used once.

Only a keyed hash of each code is stored, bound to the phone's keyed hash and the purpose, so
a code is refused for any other phone or purpose. Issuing is limited to one code per phone and
purpose a minute (429 with ``Retry-After``) and a few a day; guessing is limited per phone and
purpose, each guess counted before it is compared (``ratelimit.reserve``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared import pii, ratelimit
from shared.identity import repository
from shared.identity.exceptions import SmsCodeInvalid
from shared.identity.models import SmsCode, SmsPurpose
from shared.identity.security import derive_key
from shared.identity.sms import SmsGateway
from shared.observability import event
from shared.settings import get_settings

CODE_VALIDITY = timedelta(minutes=5)
RESEND_INTERVAL = timedelta(seconds=60)
CODES_PER_PHONE_PER_DAY = 10
FAILED_CODES_PER_PHONE = 5
FAILED_CODES_WINDOW = timedelta(minutes=15)


def _code_hash(phone_hash: str, purpose: SmsPurpose, code: str) -> str:
    key = derive_key(get_settings().resolved_secret_key(), "sms-code")
    return hmac.new(key, f"{phone_hash}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


async def issue(
    session: AsyncSession, gateway: SmsGateway, *, phone: str, purpose: SmsPurpose, now: datetime
) -> None:
    """Send a fresh code to ``phone``; earlier live codes for the purpose stop working.

    Commits the code before the gateway is called, so nothing is held while it answers."""
    phone_hash = pii.lookup_hash(phone)
    await ratelimit.consume(
        session,
        {f"sms:{purpose}:{phone_hash}": 1},
        window=RESEND_INTERVAL,
        variant="sms_resend",
    )
    await ratelimit.consume(
        session, {f"sms:day:{phone_hash}": CODES_PER_PHONE_PER_DAY}, window=timedelta(days=1)
    )
    await repository.retire_live_codes(session, phone_hash, purpose, now)
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(
        SmsCode(
            phone_hash=phone_hash,
            purpose=purpose,
            code_hash=_code_hash(phone_hash, purpose, code),
            expires_at=now + CODE_VALIDITY,
            created_at=now,
        )
    )
    await session.commit()  # the phase boundary: the gateway answers with nothing held
    await gateway.send_code(phone, code=code, purpose=purpose.value, sent_at=now)
    event("sms.code_issued", purpose=purpose.value, gateway=gateway.name)


async def redeem(
    session: AsyncSession, *, phone: str, purpose: SmsPurpose, code: str, now: datetime
) -> ratelimit.Reservation:
    """Use the live code for this phone and purpose, or SmsCodeInvalid.

    The guess is counted (and committed) before it is compared; the caller releases the
    returned reservation once the whole request has succeeded, which commits the code's use
    together with the request's work. Commits the session first: call it before other work."""
    phone_hash = pii.lookup_hash(phone)
    reservation = await ratelimit.reserve(
        session,
        f"sms_verify:{purpose}:{phone_hash}",
        limit=FAILED_CODES_PER_PHONE,
        window=FAILED_CODES_WINDOW,
        variant="sms_guesses",
    )
    code_hash = _code_hash(phone_hash, purpose, code.strip())
    if not await repository.use_live_code(session, phone_hash, purpose, code_hash, now):
        event("sms.code_refused", purpose=purpose.value)
        raise SmsCodeInvalid(field="sms_code")  # the reserved failure stays counted
    return reservation


async def purge_expired(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete codes that expired before ``older_than`` (the daily job)."""
    return await repository.purge_expired_codes(session, older_than=older_than)
