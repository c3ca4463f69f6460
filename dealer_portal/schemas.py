"""Dealer portal requests and answers. Requests forbid unknown fields; answers carry the buyer's
masked name at most — never the national ID, income or bureau facts."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from dealer_portal.decisions.schemas import DecisionPublic
from dealer_portal.vin import normalize_vin
from marketplace.applications.schemas import ApplicationCreate, ReasonPublic
from marketplace.preapprovals.schemas import CarGrade, OfferPublic, OfferTerms, PreapprovalPublic
from shared.brands.schemas import BrandInput
from shared.payments.browser import CardSetup
from shared.schemas import (
    Email,
    FullName,
    MobilePhone,
    Password,
    RequestModel,
    ResponseModel,
)

ApprovalCode = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Verifier = Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
Vin = Annotated[
    str,
    StringConstraints(max_length=32),
    AfterValidator(normalize_vin),
    Field(json_schema_extra={"pattern": r"^[A-HJ-NPR-Z0-9]{17}$"}),
]
Fen = Annotated[int, Field(strict=True, gt=0, le=10_000_000_000)]


class LookupRequest(RequestModel):
    code: ApprovalCode
    verifier: Verifier = Field(description="The last 4 digits of the buyer's mobile phone.")


class LookupPublic(ResponseModel):
    """What dealer staff may see of an approval: enough to structure a deal, nothing more."""

    preapproval_id: uuid.UUID
    buyer_name_masked: str
    credit_limit: int
    expires_at: datetime
    grade: str
    status: str
    offers: list[OfferPublic]


class VinPublic(ResponseModel):
    """What a VIN says about the car."""

    vin: str
    valid: bool = Field(description="The check digit (position 9) holds.")
    manufacturer: str | None = Field(description="The maker the WMI names, when it is known.")
    brand_id: str | None = Field(description="The catalogue brand that maker builds, if one.")
    model_year: int | None


class Vehicle(RequestModel):
    vin: Vin = Field(description="17 characters, ISO 3779 check digit in position 9 (GB 16735).")
    make: BrandInput
    model: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    vehicle_type: Literal["new", "used"]
    price: Fen


class DealCreate(RequestModel):
    code: ApprovalCode
    verifier: Verifier
    vehicle: Vehicle
    down_payment: Fen = Field(
        description="Fen, more than 0: Chinese rules cap an auto loan below the car's price."
    )
    term_months: Annotated[int, Field(strict=True, ge=1, le=84)]
    offer_id: uuid.UUID


class ConfirmRequest(RequestModel):
    identity_verified: Literal[True] = Field(
        description="Staff checked the buyer's identity document against the masked name."
    )
    identity_document: Literal["resident_id_card", "passport", "hk_macau_permit", "tw_permit"] = (
        "resident_id_card"
    )


class ScheduleRowPublic(ResponseModel):
    n: int
    payment: int
    principal: int
    interest: int
    balance: int


class DealQuote(OfferTerms):
    """The terms the locked offer gives this car, with the full repayment schedule."""

    total_repayment: int
    schedule: list[ScheduleRowPublic]
    car_grade: CarGrade | None = None  # "this car: B2; your pre-approval: B4"


class VehiclePublic(ResponseModel):
    vin: str
    make: str
    model: str
    vehicle_type: str
    price: int


class DownPaymentFailure(ResponseModel):
    code: str | None
    message: str | None


class DealPublic(ResponseModel):
    id: uuid.UUID
    status: str
    dealer_id: uuid.UUID
    preapproval_id: uuid.UUID
    offer_id: uuid.UUID
    product_version_id: uuid.UUID
    lender_id: uuid.UUID
    loan_id: uuid.UUID | None
    buyer_name_masked: str
    vehicle: VehiclePublic
    down_payment: int
    down_payment_status: str
    down_payment_failure: DownPaymentFailure | None
    payment_intent_id: str | None
    refund_id: str | None
    term_months: int
    quote: DealQuote
    created_by: str
    created_at: datetime
    confirmed_at: datetime | None
    down_payment_paid_at: datetime | None
    handed_over_at: datetime | None
    cancelled_at: datetime | None
    # On a product that does not auto-fund: the lender's decision, its clock, stipulations,
    # the signed contract and what the handover still waits for.
    decision: DecisionPublic | None = None


class LenderDealPublic(DealPublic):
    """A deal on one of the lender's products, as the lender's pipeline shows it."""

    dealer_name: str


class DownPaymentRequested(ResponseModel):
    """The PaymentIntent the buyer pays the down payment with (Stripe.js uses the secret)."""

    payment_intent_id: str
    client_secret: str | None
    amount: int


class ConfirmedDeal(ResponseModel):
    deal: DealPublic
    loan_id: uuid.UUID
    down_payment: DownPaymentRequested


class WalkInCreate(ApplicationCreate):
    """A customer at the dealership, entered by staff with the customer's recorded consent."""

    full_name: FullName
    phone: MobilePhone

    def application(self) -> ApplicationCreate:
        fields: dict[str, Any] = self.model_dump(exclude={"full_name", "phone"})
        return ApplicationCreate.model_validate(fields)


class WalkInBuyer(ResponseModel):
    id: uuid.UUID
    name_masked: str
    phone_masked: str


class ClaimCode(ResponseModel):
    """Shown once, to hand to the customer: with their phone it claims the account."""

    claim_code: str
    expires_at: datetime
    claim_path: str = "/v1/auth/claim"


class WalkInPublic(ResponseModel):
    application_id: uuid.UUID
    status: str
    decision: str | None
    grade: str | None
    credit_limit: int
    reasons: list[ReasonPublic]
    channel: str
    created_at: datetime
    decided_at: datetime | None
    preapproval: PreapprovalPublic | None
    buyer: WalkInBuyer
    claim: ClaimCode | None


class ClaimRequest(RequestModel):
    phone: MobilePhone
    claim_code: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    email: Email
    password: Password


class ClaimedAccount(ResponseModel):
    id: uuid.UUID
    email: str
    kind: str


# A PaymentIntent's client secret, the payment page's proof; group 1 is the intent's id.
CLIENT_SECRET = re.compile(r"^(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$")

ClientSecret = Annotated[str, StringConstraints(pattern=CLIENT_SECRET.pattern, max_length=255)]


class PaymentLinkPublic(ResponseModel):
    """The payment page's address for the buyer's phone, and its QR code."""

    url: str
    qr_svg: str = Field(description="The URL as a QR code, a data:image/svg+xml URI.")
    amount: int
    down_payment_status: str


class DownPaymentPageRequest(RequestModel):
    client_secret: ClientSecret


class DownPaymentPayRequest(RequestModel):
    client_secret: ClientSecret
    payment_method: Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]+$", max_length=255)]


class DownPaymentPage(ResponseModel):
    """What the buyer's phone shows before paying; ``card`` only while payment is due."""

    amount: int
    dealer: str
    vehicle_make: str
    vehicle_model: str
    buyer_name_masked: str
    deal_status: str
    down_payment_status: str
    failure_message: str | None
    card: CardSetup | None


class DownPaymentPaid(ResponseModel):
    status: Literal["succeeded", "processing", "requires_action", "requires_payment_method"] | str
