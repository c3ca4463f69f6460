"""A deal's uploaded documents: keeping one (an upload for a stipulation submits it for the
lender's review) and reading one back, for the deal's dealer, buyer or lender only."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dealer_portal.decisions import repository
from dealer_portal.decisions.deals import visible_deal
from dealer_portal.decisions.documents import DocumentStore, sniff_content_type
from dealer_portal.decisions.exceptions import (
    DocumentNotFound,
    DocumentRefused,
    StipulationNotFound,
    StipulationNotReviewable,
)
from dealer_portal.decisions.models import DealDocument
from dealer_portal.decisions.schemas import DocumentPublic
from dealer_portal.exceptions import DealAlreadyCancelled
from dealer_portal.models import DealStatus
from shared import audit
from shared.db import utcnow
from shared.identity.principal import Principal
from shared.settings import get_settings


async def upload_document(
    session: AsyncSession,
    store: DocumentStore,
    uploader: Principal,
    deal_id: uuid.UUID,
    data: bytes,
    stipulation_id: uuid.UUID | None,
) -> DocumentPublic:
    """Keep an uploaded file of the deal (and, for a stipulation, submit it for review).

    The content decides what it is (a PDF, JPEG or PNG) and it must be at most
    ``AUTOFIN_MAX_DOCUMENT_BYTES``. The bytes are stored first, with nothing held (a file
    whose row never commits is unreferenced and harmless: the store is content-addressed)."""
    limit = get_settings().max_document_bytes
    max_mb = {"max_mb": round(limit / 1024 / 1024, 1)}
    if not data or len(data) > limit:
        raise DocumentRefused(field="file", params=max_mb, variant="size")
    content_type = sniff_content_type(data)
    if content_type is None:
        raise DocumentRefused(field="file", params=max_mb)
    await visible_deal(session, uploader, deal_id)  # 404 before anything is kept
    await session.commit()  # nothing held while the store writes
    sha256 = await store.put(data)
    deal = await visible_deal(session, uploader, deal_id, for_update=True)
    if deal.status == DealStatus.cancelled:
        raise DealAlreadyCancelled()
    now = utcnow()
    document = DealDocument(
        deal_id=deal_id,
        uploaded_by=uploader.actor,
        uploader_role=uploader.role,
        stipulation_id=stipulation_id,
        sha256=sha256,
        content_type=content_type,
        size=len(data),
        created_at=now,
    )
    session.add(document)
    await session.flush()
    if stipulation_id is not None:
        if await repository.stipulation(session, deal_id, stipulation_id) is None:
            raise StipulationNotFound(field="stipulation_id")
        submitted = await repository.submit_stipulation(
            session, stipulation_id, document_id=document.id
        )
        if submitted is None:
            raise StipulationNotReviewable(variant="satisfied")
    audit.record(
        session,
        actor=uploader,
        action="deal.document_uploaded",
        subject_type="deal",
        subject_id=deal_id,
        after={
            "document_id": str(document.id),
            "sha256": sha256,
            "stipulation_id": str(stipulation_id) if stipulation_id else None,
        },
    )
    return DocumentPublic.model_validate(document, from_attributes=True)


async def read_document(
    session: AsyncSession,
    store: DocumentStore,
    reader: Principal,
    deal_id: uuid.UUID,
    document_id: uuid.UUID,
) -> tuple[bytes, str]:
    """A document's bytes and type, for the deal's dealer, buyer or lender; 404 for anyone
    else, exactly as for a document that does not exist."""
    await visible_deal(session, reader, deal_id)
    document = await repository.document(session, deal_id, document_id)
    if document is None:
        raise DocumentNotFound()
    data = await store.get(document.sha256)
    if data is None:
        raise DocumentNotFound()
    return data, document.content_type
