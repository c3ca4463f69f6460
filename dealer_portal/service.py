"""Dealer staff look an approval up (code + the buyer's phone digits, throttled) and quote a real
car on one of its locked offers; a refusal names the rule that failed. Confirming and cancelling
live in ``dealer_portal.handover``, the deals as dealers and lenders see them in
``dealer_portal.views``."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal import repository
from dealer_portal import vin as vin_codec
from dealer_portal.exceptions import (
    ApprovalNotFound,
    DealRefused,
    InvalidVin,
    OfferNotOnApproval,
    VinMakeMismatch,
)
from dealer_portal.models import DealerDeal, DealStatus
from dealer_portal.schemas import (
    DealCreate,
    DealPublic,
    LookupPublic,
    VinPublic,
)
from dealer_portal.views import deal_public
from marketplace import refusals
from marketplace.preapprovals import quoting as preapproval_quoting
from marketplace.preapprovals import service as preapproval_service
from marketplace.preapprovals.exceptions import OfferNotFound
from marketplace.preapprovals.models import Preapproval
from marketplace.preapprovals.schemas import OfferPublic
from marketplace.preapprovals.views import car_grade_public
from pricing import (
    Deal,
    Offer,
    PricingInputError,
    Rejection,
    RiskPolicy,
    StructureGrade,
    VehicleType,
    quote_loan,
)
from shared import audit, ratelimit
from shared.brands import service as brand_service
from shared.identity import service as identity_service
from shared.identity.models import User
from shared.identity.principal import Principal
from shared.observability import event
from shared.schemas import mask_name

# Failed look-ups (unknown code or wrong verifier) before 429, per approval code and per dealer.
# One dealer guessing one code is stopped after 5 failures; the code itself is locked for every
# dealer only at a higher count, so one dealer cannot lock a buyer out of all the others.
LOOKUP_FAILURES_PER_DEALER_AND_CODE = 5
LOOKUP_FAILURES_PER_CODE = 20
LOOKUP_FAILURES_PER_DEALER = 10
LOOKUP_WINDOW = timedelta(minutes=15)
_NO_PHONE = "----"  # compared against when there is no phone, so timing does not tell


# -- look-up -------------------------------------------------------------------------------------


async def verified_preapproval(
    session: AsyncSession, dealer: Principal, code: str, verifier: str
) -> tuple[Preapproval, User]:
    """The approval with this code whose buyer's phone ends in ``verifier``; else 404.

    Throttled per dealer × code (5 failures), per code across dealers (a higher 20, so no one
    dealer can lock a buyer's code for the others) and per dealer, checked before anything is
    compared, so a locked-out caller learns nothing. Each attempt on a code is counted as a
    failure before the comparison, its counter rows locked until the request ends, so
    concurrent guesses at one code take turns and can never all be compared; a match takes
    its count back in the request's transaction (no commit of its own). A dealer's failures
    are counted as they happen and only read otherwise, so a busy dealer's successful look-ups
    never wait for each other.
    """
    found = await _verified(session, dealer, code, verifier, with_offers=False)
    return found.preapproval, found.buyer


async def _verified(
    session: AsyncSession, dealer: Principal, code: str, verifier: str, *, with_offers: bool
) -> repository.ApprovalFound:
    normalized = preapproval_service.normalize_code(code)
    dealer_key = f"dealer_lookup:dealer:{dealer.org_id}"
    code_key = f"dealer_lookup:code:{normalized}"
    dealer_code_key = f"dealer_lookup:dealer_code:{dealer.org_id}:{normalized}"
    turn = await ratelimit.take_turn(
        session,
        {dealer_code_key: LOOKUP_FAILURES_PER_DEALER_AND_CODE, code_key: LOOKUP_FAILURES_PER_CODE},
        window=LOOKUP_WINDOW,
        variants={dealer_code_key: "lookup", code_key: "lookup_code", dealer_key: "lookup"},
        watched={dealer_key: LOOKUP_FAILURES_PER_DEALER},
    )
    found = (
        await repository.approval_and_buyer(session, normalized, with_offers=with_offers)
        if normalized
        else None
    )
    phone = (identity_service.phone_of(found.buyer) if found is not None else None) or ""
    expected = phone[-4:] if len(phone) >= 4 else _NO_PHONE
    matches = hmac.compare_digest(expected.encode(), verifier.encode())
    if found is None or not matches:
        await turn.failed(session, also=[dealer_key])
        event("dealer.lookup_failed", dealer_id=str(dealer.org_id))
        raise ApprovalNotFound()  # the code's counted failure stays counted
    # The count taken back, the look-up noted and audited: one statement.
    await turn.succeeded(
        session, along=preapproval_service.lookup_writes(dealer, found.preapproval)
    )
    return found


async def lookup(
    session: AsyncSession,
    dealer: Principal,
    *,
    code: str,
    verifier: str,
    now: datetime,
) -> LookupPublic:
    """What dealer staff may see of the approval: masked name, line, expiry, grade, offers."""
    found = await _verified(session, dealer, code, verifier, with_offers=True)
    preapproval = found.preapproval
    event("dealer.lookup", dealer_id=str(dealer.org_id), preapproval_id=str(preapproval.id))
    return LookupPublic(
        preapproval_id=preapproval.id,
        buyer_name_masked=mask_name(found.buyer.full_name),
        credit_limit=preapproval.credit_limit,
        expires_at=preapproval.expires_at,
        grade=preapproval.grade,
        status=preapproval_service.effective_status(preapproval, now),
        offers=[OfferPublic.model_validate(details) for details in found.offers or []],
    )


# -- the car -------------------------------------------------------------------------------------


async def decode_vin(session: AsyncSession, vin: str, now: datetime) -> VinPublic:
    """What a VIN says: whether its check digit holds, its maker, brand and model year."""
    try:
        decoded = vin_codec.decode(vin, today=now.date())
    except ValueError:
        raise InvalidVin(field="vin") from None
    return VinPublic(
        vin=decoded.vin,
        valid=decoded.valid,
        manufacturer=decoded.manufacturer,
        brand_id=await brand_service.find(session, decoded.manufacturer),
        model_year=decoded.model_year,
    )


async def check_vehicle(session: AsyncSession, vin: str, make: str, now: datetime) -> str:
    """The make's catalogue brand id; 422 when the make is no brand, or when the VIN's
    manufacturer is known to build another brand (``vin_make_mismatch``)."""
    try:
        decoded: vin_codec.DecodedVin | None = vin_codec.decode(vin, today=now.date())
    except ValueError:
        decoded = None
    brand_id, vin_brand_id = await brand_service.resolve_and_find(
        session, make, decoded.manufacturer if decoded else None, field="vehicle.make"
    )
    if decoded is None:
        raise InvalidVin(field="vin")
    if vin_brand_id is not None and vin_brand_id != brand_id:
        brands = await brand_service.by_id(session, [vin_brand_id, brand_id])
        vin_brand, deal_brand = brands[vin_brand_id], brands[brand_id]
        raise VinMakeMismatch(
            field="vehicle.make",
            params={
                "vin_brand": vin_brand.name_zh,
                "vin_brand_en": vin_brand.name_en,
                "make": deal_brand.name_zh,
                "make_en": deal_brand.name_en,
            },
        )
    return brand_id


# -- quoting a car -------------------------------------------------------------------------------

_REQUEST_FIELDS = {"vehicle_type": "vehicle.vehicle_type", "car_price": "vehicle.price"}


async def _refusal(session: AsyncSession, rejection: Rejection) -> DealRefused:
    field = rejection.field
    figures = await refusals.rejection_params(session, [rejection])
    return DealRefused(
        rejection.message,
        code=rejection.code,
        field=_REQUEST_FIELDS.get(field or "", field),
        params=figures[rejection],
    )


def _quote_body(offer_id: uuid.UUID, offer: Offer, grade: StructureGrade | None) -> dict[str, Any]:
    """The offer as buyers see it, plus what the dealer needs at the desk: the full schedule
    and the car's grade beside the pre-approval's."""
    loan = quote_loan(
        offer.amount, offer.annual_rate, offer.term_months, offer.method, offer.upfront_fee
    )
    car_grade = None if grade is None else car_grade_public(grade).model_dump(mode="json")
    return preapproval_service.offer_details(offer_id, offer) | {
        "total_repayment": offer.total_repayment,
        "schedule": [row.as_dict() for row in loan.schedule],
        "car_grade": car_grade,
    }


async def create_deal(
    session: AsyncSession, dealer: Principal, body: DealCreate, now: datetime, policy: RiskPolicy
) -> DealPublic:
    """Quote a real car on one locked offer, priced at the grade the car's structure earns
    (never above the locked offer); a refusal names the rule that failed. The rate quoted is
    the rate the loan books.

    Quoting never locks the approval: only confirmation consumes it.
    """
    make = await check_vehicle(session, body.vehicle.vin, body.vehicle.make, now)
    preapproval, buyer = await verified_preapproval(session, dealer, body.code, body.verifier)
    preapproval_service.ensure_active(preapproval, now)
    try:
        car = Deal(
            car_price=body.vehicle.price,
            down_payment=body.down_payment,
            term_months=body.term_months,
            vehicle_type=VehicleType(body.vehicle.vehicle_type),
            brand=make,
        )
    except PricingInputError as error:
        field = _REQUEST_FIELDS.get(error.field, error.field)
        raise refusals.invalid_input(error, field=field) from None
    try:
        locked, outcome, car_grade = await preapproval_quoting.quote_offer(
            session, preapproval, body.offer_id, car, now, policy
        )
    except OfferNotFound:
        raise OfferNotOnApproval(field="offer_id") from None
    if isinstance(outcome, Rejection):
        raise await _refusal(session, outcome)

    deal = DealerDeal(
        dealer_id=dealer.org_id,
        preapproval_id=preapproval.id,
        offer_id=locked.id,
        product_version_id=locked.product_version_id,
        lender_id=locked.lender_id,
        buyer_id=preapproval.buyer_id,
        created_by=dealer.actor,
        vin=body.vehicle.vin,
        make=make,
        model=body.vehicle.model,
        vehicle_type=body.vehicle.vehicle_type,
        car_price=body.vehicle.price,
        down_payment_amount=body.down_payment,
        term_months=outcome.term_months,
        principal=outcome.amount,
        annual_rate=outcome.annual_rate,
        apr=outcome.apr,
        monthly_payment=outcome.monthly_payment,
        total_interest=outcome.total_interest,
        total_cost=outcome.total_cost,
        upfront_fee=outcome.upfront_fee,
        method=outcome.method.value,
        grade=outcome.grade,
        preapproval_grade=preapproval.grade,
        pd=None if car_grade is None else car_grade.pd,
        score=None if car_grade is None else car_grade.score,
        platform_guarantee=outcome.platform_guarantee,
        quote=_quote_body(locked.id, outcome, car_grade),
        created_at=now,
        updated_at=now,
    )
    quoted = audit.entry(
        actor=dealer,
        action="deal.quoted",
        subject_type="deal",
        subject_id=deal.id,
        after={
            "status": DealStatus.quoted.value,
            "preapproval_id": str(preapproval.id),
            "offer_id": str(locked.id),
            "car_price": deal.car_price,
            "down_payment": deal.down_payment_amount,
            "principal": deal.principal,
            "term_months": deal.term_months,
            "annual_rate": str(deal.annual_rate),
            "grade": deal.grade,
            "preapproval_grade": preapproval.grade,
        },
    )
    # One statement: the deal and the audit entries of its transaction.
    await repository.insert_deal(session, deal, along=[audit.along(session, quoted)])
    event("deal.quoted", deal_id=str(deal.id), dealer_id=str(dealer.org_id))
    return deal_public(deal, buyer.full_name)
