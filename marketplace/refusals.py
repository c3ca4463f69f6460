"""Pricing's refusals in the reader's language: pricing stays pure and speaks English for logs
and ``why`` lists; the API writes its codes again from the ``errors`` catalogue."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from pricing import PricingInputError, Rejection
from shared import i18n
from shared.brands import service as brand_service
from shared.errors import Unprocessable


def invalid_input(error: PricingInputError, *, field: str | None = None) -> Unprocessable:
    """A 422 for input pricing refused; its message is the one for that field
    (``invalid_input.<field>``) where the catalogue has one."""
    shown = field or error.field
    return Unprocessable(
        error.message, code=error.code, field=shown, variant=error.field, params={"field": shown}
    )


async def rejection_params(
    session: AsyncSession, rejections: Iterable[Rejection]
) -> dict[Rejection, dict[str, object]]:
    """Each rejection's figures, with the brand ids it names written as brand names
    (``brands`` in Chinese, ``brands_en`` in English) for its message."""
    rejections = list(rejections)
    wanted = {
        brand_id
        for rejection in rejections
        for brand_id in dict(rejection.params).get("brand_ids", ())  # type: ignore[attr-defined]
    }
    brands = await brand_service.by_id(session, sorted(wanted)) if wanted else {}
    answer: dict[Rejection, dict[str, object]] = {}
    for rejection in rejections:
        params = dict(rejection.params)
        ids = params.pop("brand_ids", None)
        if isinstance(ids, tuple):
            named = [brands[i] for i in ids if i in brands]
            params["brands"] = "、".join(brand.name_zh for brand in named) or params.get("brands")
            params["brands_en"] = ", ".join(brand.name_en for brand in named) or params.get(
                "brands"
            )
        answer[rejection] = params
    return answer


def rejection_message(
    rejection: Rejection, params: dict[str, object] | None = None, locale: str | None = None
) -> str:
    """Why a product is not offered, in the reader's language, with its figures."""
    figures = dict(rejection.params) if params is None else params
    return i18n.error_text(rejection.code, rejection.message, locale, **figures)
