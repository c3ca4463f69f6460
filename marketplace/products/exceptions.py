"""Why a product request is refused."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, Unprocessable


class ProductNotFound(NotFound):
    # Also another lender's product: whether it exists is none of the caller's business.
    code = "product_not_found"
    message = "No such product."


class ProductRetired(Conflict):
    code = "product_retired"
    message = "The product is retired; it can no longer be changed."


class InconsistentProductTerms(Unprocessable):
    code = "inconsistent_product_terms"
