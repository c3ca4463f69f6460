"""Demo data for ``autofin demo``: lenders with products, dealers with staff and an API key,
advisors, and buyers who already hold pre-approvals — enough to try every flow from /docs.

Running it again adds nothing twice: everything is looked up by its email or credit code first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dealer_portal.funding import repository as funding_repository
from marketplace.advisors import service as advisor_service
from marketplace.applications import service as application_service
from marketplace.applications.bureau import SandboxBureau, sandbox_clean_national_id
from marketplace.applications.identity_check import SandboxIdentityVerifier
from marketplace.applications.schemas import ApplicationCreate
from marketplace.policy import current_policy
from marketplace.preapprovals import repository as preapproval_repository
from marketplace.preapprovals.models import Preapproval
from marketplace.products import service as product_service
from marketplace.products.schemas import ProductCreate
from marketplace.scorecards import service as scorecard_service
from pricing import DEFAULT_POLICY, SUB_GRADES, benchmark_rate
from shared import pii
from shared.db import utcnow
from shared.identity import repository as identity_repository
from shared.identity import service as identity_service
from shared.identity.models import MemberRole, Organization, OrganizationKind, User, UserKind
from shared.identity.principal import Principal
from shared.identity.uscc import uscc_check_character
from shared.money import yuan
from shared.settings import get_settings

DEMO_PASSWORD = "autofin-demo-2026"  # noqa: S105 (printed for the demo on purpose)
ACTOR = "system:demo"


def _rate_card(markup: str) -> dict[str, Decimal]:
    """Every grade at its fair benchmark plus ``markup``, capped at the legal limit."""
    cap = DEFAULT_POLICY.legal_cap_apr
    return {g: min(benchmark_rate(g, DEFAULT_POLICY) + Decimal(markup), cap) for g in SUB_GRADES}


@dataclass
class DemoLender:
    name: str
    uscc17: str
    staff_email: str
    products: list[dict[str, Any]] = field(default_factory=list)


LENDERS = [
    DemoLender(
        "招银汽车金融（演示）",
        "91310000MA1FL0001",
        "staff@zhaoyin-auto.demo",
        [
            {
                "name": "安心车贷 Standard",
                "rate_card": _rate_card("0"),
                "terms_months": [12, 24, 36, 48, 60],
            },
            {
                "name": "比亚迪厂商贴息 BYD subsidy",
                "rate_card": _rate_card("0.005"),
                "terms_months": [12, 24, 36],
                "vehicle_types": ["new"],
                "subsidy": {"brands": ["BYD"], "annual_rate": Decimal("0.0199")},
            },
        ],
    ),
    DemoLender(
        "华夏消费金融（演示）",
        "91110000MA1FL0002",
        "staff@huaxia-cf.demo",
        [
            {
                "name": "快易贷 Quick",
                "rate_card": _rate_card("0.015"),
                "terms_months": [12, 24, 36, 48],
                "upfront_fee": yuan(1_500),
                "platform_guarantee": True,
            }
        ],
    ),
    DemoLender(
        "东风汽车财务（演示）",
        "91420000MA1FL0003",
        "staff@dongfeng-finance.demo",
        [
            {
                "name": "二手车贷 Used cars",
                "rate_card": _rate_card("0.02"),
                "terms_months": [12, 24, 36],
                "vehicle_types": ["used"],
                "max_ltv": Decimal("0.7"),
                "min_down_payment_ratio": Decimal("0.3"),
                "auto_fund": False,
            }
        ],
    ),
    # A product whose deals wait for the lender's decision (approve, conditions, counter-offer
    # or decline in the lender console's decision queue, /lender#decisions), and whose buyer
    # signs the loan contract before the car leaves; deals up to ¥100,000 on A and B grades are
    # approved without waiting.
    DemoLender(
        "平安汽车金融（演示）",
        "91440300MA1FL0006",
        "staff@pingan-auto.demo",
        [
            {
                "name": "审慎车贷 Manual decision",
                "rate_card": _rate_card("0.01"),
                "dealer_fee": yuan(2_000),
                "terms_months": [12, 24, 36, 48],
                "vehicle_types": ["new"],
                "auto_fund": False,
                "auto_approve": {
                    "max_amount": yuan(100_000),
                    "grades": [g for g in SUB_GRADES if g[0] in "AB"],
                },
            }
        ],
    ),
]

DEALERS = [
    (
        "上海浦东宝马4S店（演示）",
        "91310115MA1FL0004",
        "上海",
        ["BMW", "MINI"],
        "staff@pudong-bmw.demo",
    ),
    ("深圳比亚迪4S店（演示）", "91440300MA1FL0005", "深圳", ["BYD"], "staff@shenzhen-byd.demo"),
]
ADVISORS = [("advisor.chen@autofin.demo", "陈顾问"), ("advisor.liu@autofin.demo", "刘顾问")]
BUYERS = [
    ("wang.fang@buyer.demo", "王芳", "13800138001", 34, yuan(18_000), 72, "mortgage", yuan(2_000)),
    ("li.qiang@buyer.demo", "李强", "13900139002", 29, yuan(12_000), 30, "rent", 0),
    ("zhao.min@buyer.demo", "赵敏", "13700137003", 45, yuan(30_000), 180, "own", yuan(5_000)),
]


def _uscc(first17: str) -> str:
    return first17 + uscc_check_character(first17)


async def _organization(
    session: AsyncSession, kind: OrganizationKind, name: str, uscc: str, **extra: Any
) -> tuple[Organization, bool]:
    existing = (
        await session.execute(select(Organization).where(col(Organization.uscc) == uscc))
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    created = await identity_service.create_organization(
        session, ACTOR, kind=kind, name=name, uscc=uscc, **extra
    )
    return created, True


async def _staff(session: AsyncSession, organization: Organization, email: str) -> User:
    user = await identity_repository.user_by_email(session, email)
    if user is None:
        user, _ = await identity_service.add_member(
            session,
            ACTOR,
            organization.id,
            email=email,
            password=DEMO_PASSWORD,
            full_name="演示员工",
            role=MemberRole.manager,
        )
    return user


async def apply_for(
    session: AsyncSession,
    buyer: Principal,
    *,
    age: int,
    income: int,
    employed: int = 60,
    housing: str = "own",
    debt: int = 0,
) -> Preapproval | None:
    """The demo buyer's active pre-approval, applying (the sandbox bureau decides) if they hold
    none; None if declined."""
    now = utcnow()
    national_id = sandbox_clean_national_id("310101", date(now.year - age, 1, 1))
    active = await preapproval_repository.active_for_person(
        session, pii.lookup_hash(national_id), now
    )
    if active is None:
        body = ApplicationCreate.model_validate(
            {
                "national_id": national_id,
                "age": age,
                "monthly_income": income,
                "employment_months": employed,
                "housing": housing,
                "existing_monthly_debt": debt,
                "consent": {"bureau_pull": True, "share_with_lenders": True},
            }
        )
        await application_service.submit(
            session,
            buyer,
            body,
            SandboxBureau.from_settings(get_settings()),
            SandboxIdentityVerifier(),
            buyer_id=buyer.uid,
            now=now,
            models=await scorecard_service.active_models(session),
            policy=current_policy(),
        )
        active = await preapproval_repository.active_for_person(
            session, pii.lookup_hash(national_id), now
        )
    return active


async def load_demo(session: AsyncSession, *, progress: Callable[[str], None]) -> None:
    """Load (or top up) the demo data and print every login."""
    logins: list[tuple[str, str, str]] = []
    progress("Lenders and their products")
    for lender in LENDERS:
        organization, created = await _organization(
            session, OrganizationKind.lender, lender.name, _uscc(lender.uscc17)
        )
        staff = await _staff(session, organization, lender.staff_email)
        logins.append(("lender staff", lender.name, lender.staff_email))
        if created:
            principal = Principal(role="lender", user_id=staff.id, organization_id=organization.id)
            for product in lender.products:
                terms = ProductCreate.model_validate(
                    {
                        "method": "equal_installment",
                        "min_amount": yuan(20_000),
                        "max_amount": yuan(500_000),
                        "max_ltv": Decimal("0.8"),
                        "min_down_payment_ratio": Decimal("0.2"),
                        "upfront_fee": 0,
                        "vehicle_types": ["new", "used"],
                        "platform_guarantee": False,
                        "auto_fund": True,
                        **product,
                    }
                )
                await product_service.create_product(session, principal, terms)
            progress(f"  {lender.name}: {len(lender.products)} products")

    progress("Dealers, their staff and an API key")
    for name, uscc17, city, brands, email in DEALERS:
        organization, created = await _organization(
            session, OrganizationKind.dealer, name, _uscc(uscc17), city=city, brands=brands
        )
        await _staff(session, organization, email)
        logins.append(("dealer staff", name, email))
        if created:
            _, key = await identity_service.issue_api_key(
                session, ACTOR, organization.id, name="demo"
            )
            logins.append(("dealer API key (shown once)", name, key))
            # Paid through the transfer sandbox (the local Stripe emulator has no Transfers).
            await funding_repository.set_payout_account(
                session,
                dealer_id=organization.id,
                stripe_account_id=f"acct_demo{uscc17[-4:]}",
                by=ACTOR,
                now=utcnow(),
            )

    progress("Advisors")
    for email, full_name in ADVISORS:
        if await identity_repository.user_by_email(session, email) is None:
            await identity_service.create_user(
                session,
                kind=UserKind.advisor,
                email=email,
                password=DEMO_PASSWORD,
                full_name=full_name,
            )
        logins.append(("advisor", full_name, email))
    await session.flush()
    await advisor_service.assign_waiting_buyers(session)

    progress("Buyers with pre-approvals (the sandbox bureau decides)")
    for email, full_name, phone, age, income, employed, housing, debt in BUYERS:
        buyer = await identity_repository.user_by_email(session, email)
        if buyer is None:
            buyer = await identity_service.create_user(
                session, kind=UserKind.buyer, email=email, password=DEMO_PASSWORD,
                full_name=full_name, phone=phone,
            )  # fmt: skip
        principal = Principal(role="buyer", user_id=buyer.id)
        active = await apply_for(
            session,
            principal,
            age=age,
            income=income,
            employed=employed,
            housing=housing,
            debt=debt,
        )
        detail = (
            f"approval code {active.code}, verifier {phone[-4:]}, "
            f"grade {active.grade}, limit ¥{active.credit_limit // 100:,}"
            if active
            else "declined"
        )
        logins.append(("buyer", f"{full_name} ({detail})", email))

    progress(f"Done. Every password is {DEMO_PASSWORD!r}; log in at /docs with Authorize.")
    progress(
        "  Pages: /buyer, /dealer, and /lender#decisions (the decision queue of the manual-"
        "decision product 审慎车贷; its buyer signs the contract on /buyer). Once the dealer has"
        " recorded the insurance naming the lender first beneficiary on /dealer, the lender"
        " funds the loan on /lender#funding and the dealer is paid (less the ¥2,000 dealer fee)."
    )
    width = max(len(kind) for kind, _, _ in logins)
    for kind, who, login in logins:
        progress(f"  {kind:<{width}}  {login:<36}  {who}")
