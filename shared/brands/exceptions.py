"""Why a brand is refused."""

from __future__ import annotations

from typing import Any

from shared.errors import Conflict, NotFound, Unprocessable


class UnknownBrand(Unprocessable):
    """A name that is no catalogue brand's; the answer suggests the nearest one, if any."""

    code = "unknown_brand"
    message = "“{name}” is not a brand in the catalogue."
    # With a suggestion, the ``unknown_brand.suggestion`` message names it.

    def __init__(
        self, name: str, *, field: str | None = None, suggestion: dict[str, str] | None = None
    ) -> None:
        params = {"name": name}
        if suggestion is not None:
            params["suggestion"] = suggestion["name_zh"]
            params["suggestion_en"] = suggestion["name_en"]
        super().__init__(field=field, params=params)
        self.suggestion = suggestion
        if suggestion is not None:
            self.variant = "suggestion"

    def body(self, locale: str | None = None) -> dict[str, Any]:
        body = super().body(locale)
        if self.suggestion is not None:
            body["error"]["suggestion"] = self.suggestion
        return body


class BrandNotFound(NotFound):
    code = "brand_not_found"
    message = "No such brand."


class BrandNameTaken(Conflict):
    code = "brand_name_taken"
    message = "“{name}” already names another brand."

    def __init__(self, name: str) -> None:
        super().__init__(params={"name": name})


class BrandExists(Conflict):
    code = "brand_exists"
    message = "A brand with this id already exists."
