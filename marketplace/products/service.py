"""Lenders' products: every edit is a new immutable version; matching reads current versions."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.products import repository
from marketplace.products.exceptions import (
    InconsistentProductTerms,
    ProductNotFound,
    ProductRetired,
)
from marketplace.products.models import Product, ProductStatus, ProductVersion
from marketplace.products.schemas import ProductCreate, ProductUpdate
from pricing import ProductTerms, RepaymentMethod, Subsidy, VehicleType
from pricing.shortlist import Catalogue
from shared import audit
from shared.brands import service as brand_service
from shared.db import utcnow
from shared.identity.models import Organization
from shared.identity.principal import Principal

# Stored as JSON, so their decimals and enums go in as strings.
_JSON_FIELDS = {
    "method",
    "rate_card",
    "vehicle_types",
    "subsidy",
    "auto_approve",
    "funding_gates",
    "collections",
}


def _check_consistent(terms: ProductCreate) -> None:
    """Raise unless the fields agree with each other (each one is valid on its own already)."""
    if terms.max_amount < terms.min_amount:
        raise InconsistentProductTerms(field="max_amount", variant="max_amount")
    if terms.upfront_fee >= terms.min_amount:
        raise InconsistentProductTerms(field="upfront_fee", variant="upfront_fee")
    if terms.dealer_fee >= terms.min_amount:
        raise InconsistentProductTerms(field="dealer_fee", variant="dealer_fee")


def _new_version(product_id: uuid.UUID, number: int, terms: ProductCreate) -> ProductVersion:
    row = terms.model_dump() | terms.model_dump(mode="json", include=_JSON_FIELDS)
    return ProductVersion(product_id=product_id, version=number, **row)


def _terms_of(version: ProductVersion) -> ProductCreate:
    return ProductCreate.model_validate(version, from_attributes=True)


async def _with_catalogue_brands(session: AsyncSession, terms: ProductCreate) -> ProductCreate:
    """The terms with the subsidy's brands as catalogue ids (any name or alias is accepted)."""
    if terms.subsidy is None:
        return terms
    brand_ids = await brand_service.resolve_many(
        session, terms.subsidy.brands, field="subsidy.brands"
    )
    return terms.model_copy(
        update={"subsidy": terms.subsidy.model_copy(update={"brands": brand_ids})}
    )


async def create_product(
    session: AsyncSession, lender: Principal, terms: ProductCreate
) -> tuple[Product, ProductVersion]:
    """A new active product of the caller's organisation, at version 1."""
    _check_consistent(terms)
    terms = await _with_catalogue_brands(session, terms)
    product = Product(lender_id=lender.org_id)
    version = _new_version(product.id, 1, terms)
    session.add(product)
    await session.flush()  # the product row first: the version references it
    session.add(version)
    audit.record(
        session,
        actor=lender,
        action="product.created",
        subject_type="product",
        subject_id=product.id,
        after={"version": 1, **terms.model_dump(mode="json")},
    )
    await session.flush()
    return product, version


async def _locked_active_product(
    session: AsyncSession, lender: Principal, product_id: uuid.UUID
) -> Product:
    product = await repository.get_product(session, lender.org_id, product_id, for_update=True)
    if product is None:
        raise ProductNotFound()
    if product.status != ProductStatus.active:
        raise ProductRetired()
    return product


async def update_product(
    session: AsyncSession, lender: Principal, product_id: uuid.UUID, changes: ProductUpdate
) -> tuple[Product, ProductVersion]:
    """Apply ``changes`` to the current terms as a new version (n + 1).

    The product row stays locked until the request commits, so concurrent edits queue up and
    each builds on the version before it: versions are consecutive and no edit is lost.
    """
    product = await _locked_active_product(session, lender, product_id)
    current = _terms_of(await repository.get_version(session, product.id, product.current_version))
    changed = changes.model_fields_set
    merged = current.model_copy(update={name: getattr(changes, name) for name in changed})
    _check_consistent(merged)
    if "subsidy" in changed:
        merged = await _with_catalogue_brands(session, merged)
    number = product.current_version + 1
    version = _new_version(product.id, number, merged)
    session.add(version)
    product.current_version = number
    product.updated_at = utcnow()
    audit.record(
        session,
        actor=lender,
        action="product.updated",
        subject_type="product",
        subject_id=product.id,
        before={"version": number - 1, **current.model_dump(mode="json", include=changed)},
        after={"version": number, **merged.model_dump(mode="json", include=changed)},
    )
    await session.flush()
    return product, version


async def retire_product(
    session: AsyncSession, lender: Principal, product_id: uuid.UUID
) -> tuple[Product, ProductVersion]:
    """Retire an active product: it stops matching; offers already made keep their version."""
    product = await _locked_active_product(session, lender, product_id)
    product.status = ProductStatus.retired
    product.updated_at = utcnow()
    audit.record(
        session,
        actor=lender,
        action="product.retired",
        subject_type="product",
        subject_id=product.id,
        before={"status": ProductStatus.active.value},
        after={"status": ProductStatus.retired.value},
    )
    await session.flush()
    return product, await repository.get_version(session, product.id, product.current_version)


async def get_product(
    session: AsyncSession, lender_id: uuid.UUID, product_id: uuid.UUID
) -> tuple[Product, Sequence[ProductVersion]]:
    """The lender's product and all its versions, oldest first."""
    product = await repository.get_product(session, lender_id, product_id)
    if product is None:
        raise ProductNotFound()
    return product, await repository.list_versions(session, product.id)


def _product_terms(version: ProductVersion, lender: Organization) -> ProductTerms:
    subsidy: dict[str, Any] | None = version.subsidy
    return ProductTerms(
        product_id=str(version.product_id),
        version=version.version,
        lender_id=str(lender.id),
        lender_name=lender.name,
        name=version.name,
        method=RepaymentMethod(version.method),
        terms_months=tuple(version.terms_months),
        min_amount=version.min_amount,
        max_amount=version.max_amount,
        max_ltv=version.max_ltv,
        min_down_payment_ratio=version.min_down_payment_ratio,
        upfront_fee=version.upfront_fee,
        rate_card={grade: Decimal(rate) for grade, rate in version.rate_card.items()},
        vehicle_types=frozenset(VehicleType(v) for v in version.vehicle_types),
        subsidy=Subsidy(frozenset(subsidy["brands"]), Decimal(subsidy["annual_rate"]))
        if subsidy
        else None,
        platform_guarantee=version.platform_guarantee,
        commission_rate=version.commission_rate,
    )


# Product versions are immutable (a trigger refuses UPDATE), so their terms are kept in process
# by version id: a request reads only which versions are current and offered, then the terms of
# versions it has not seen before. (The lender's name comes along; organisations are never
# renamed.) Bounded: past the limit the cache starts again.
_TERMS_CACHE: dict[uuid.UUID, ProductTerms] = {}
TERMS_CACHE_LIMIT = 100_000


@dataclass(frozen=True)
class MatchableCatalogue:
    """Every product an applicant can be matched to as of one generation of the catalogue: the
    current version of every active product whose lender is active, oldest product first,
    prepared for ``best_offers``, with each version's ``product_versions.id``."""

    generation: uuid.UUID
    catalogue: Catalogue
    version_ids: Mapping[tuple[str, int], uuid.UUID]  # by (product_id, version)

    def with_version_ids(self) -> list[tuple[uuid.UUID, ProductTerms]]:
        return [
            (self.version_ids[(terms.product_id, terms.version)], terms)
            for terms in self.catalogue.products
        ]


# The latest catalogues prepared, by generation (a few: tests run many databases in one
# process; a server sees one).
_CATALOGUES: dict[uuid.UUID, MatchableCatalogue] = {}
CATALOGUES_KEPT = 4


# The catalogue's generation as a scalar subquery, for a statement that can read it on the way
# (then ``matchable_catalogue`` need not).
CATALOGUE_GENERATION = repository.GENERATION


async def matchable_catalogue(
    session: AsyncSession, *, generation: uuid.UUID | None = None
) -> MatchableCatalogue:
    """The matchable catalogue as the session sees it now: nothing read while its generation
    (read now, or ``generation`` read by the caller's last statement) stands, else the current
    version ids (and the terms of versions not seen before)."""
    if generation is None:
        generation = await repository.catalogue_generation(session)
    cached = _CATALOGUES.get(generation)
    if cached is not None:
        return cached
    generation, version_ids = await repository.matchable_version_ids(session)
    terms = await product_terms_for_versions(session, version_ids)
    catalogue = MatchableCatalogue(
        generation,
        Catalogue([terms[version_id] for version_id in version_ids]),
        {(terms[vid].product_id, terms[vid].version): vid for vid in version_ids},
    )
    if len(_CATALOGUES) >= CATALOGUES_KEPT:
        _CATALOGUES.pop(next(iter(_CATALOGUES)))
    _CATALOGUES[generation] = catalogue
    return catalogue


async def matchable_products_with_version_ids(
    session: AsyncSession,
) -> list[tuple[uuid.UUID, ProductTerms]]:
    """Each product an applicant can be matched to now, as (``product_versions.id``, terms)."""
    return (await matchable_catalogue(session)).with_version_ids()


async def matchable_products(session: AsyncSession) -> list[ProductTerms]:
    """The terms of every product an applicant can be matched to now (see above)."""
    return list((await matchable_catalogue(session)).catalogue.products)


async def product_terms_for_versions(
    session: AsyncSession, version_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, ProductTerms]:
    """The terms of these versions, by version id, whatever their product's status now."""
    missing = [version_id for version_id in version_ids if version_id not in _TERMS_CACHE]
    if missing:
        if len(_TERMS_CACHE) + len(missing) > TERMS_CACHE_LIMIT:
            _TERMS_CACHE.clear()
        for version, lender in await repository.versions_with_lenders(session, missing):
            _TERMS_CACHE[version.id] = _product_terms(version, lender)
    return {version_id: _TERMS_CACHE[version_id] for version_id in version_ids}


async def lender_products(
    session: AsyncSession,
    lender_id: uuid.UUID,
    *,
    status: ProductStatus | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[tuple[Product, ProductVersion]], int]:
    """A page of the lender's products with their current versions, oldest first, and the total."""
    return await repository.list_products(
        session, lender_id, status=status, limit=limit, offset=offset
    )
