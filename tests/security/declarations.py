"""What the attack suite needs to know about routes; everything else comes from /openapi.json.

A new route is covered as soon as it is in the document. Declare here only:

- ``TENANT_IDS``: path-parameter or body-field names that carry an id a tenant owns
  (``loan_id``), mapped to the ``Side.ids`` kind that fills them (``tests/security/world.py``).
  The matrix fills them with the *other* side's ids: any 2xx is a leak.
- ``SHARED_PARAMETERS``: names whose values are not a tenant's (a brand, a VIN, a scorecard
  version), with a value to use.
- ``PRIVATE_KINDS``: the kinds whose ids must never appear in another tenant's answer (ids
  that legitimately travel — a lender's id on an offer — are left out).
- ``ADMIN_SEES_ALL``: path prefixes where the platform admin legitimately reads every tenant.

``test_every_path_parameter_is_declared`` fails for a path parameter named nowhere here.
"""

from __future__ import annotations

TENANT_IDS: dict[str, str] = {
    "organization_id": "organization_id",
    "lender_id": "lender_id",
    "dealer_id": "dealer_id",
    "product_id": "product_id",
    "buyer_id": "buyer_id",
    "application_id": "application_id",
    "preapproval_id": "preapproval_id",
    "consent_id": "consent_id",
    "offer_id": "offer_id",
    "deal_id": "deal_id",
    "loan_id": "loan_id",
    "key_id": "key_id",
    "message_id": "message_id",
    "document_id": "document_id",
    "endpoint_id": "endpoint_id",
    "delivery_id": "delivery_id",
    "stipulation_id": "stipulation_id",
    "lookup_id": "lookup_id",
}

SHARED_PARAMETERS: dict[str, str] = {
    "brand_id": "byd",
    "vin": "LGXC16DF5P1054249",
    "version": "1",
}

PRIVATE_KINDS = frozenset(
    {
        "buyer_id",
        "application_id",
        "preapproval_id",
        "consent_id",
        "deal_id",
        "loan_id",
        "key_id",
        "message_id",
        "document_id",
        "endpoint_id",
    }
)

ADMIN_SEES_ALL = ("/v1/admin/",)

# Operations the matrix and the fuzzing leave to their own tests, with the reason.
SKIPPED = {
    ("post", "/v1/stripe/webhook"): "signature-checked; attacked in tests/payments and here",
}

# GETs the positive control skips: the world's own objects exist, but not in the state these
# need (its deal is quoted on an auto-funded product; its loan is current; its webhook endpoint
# is the dealer's). The matrix above still sends them side B's ids.
NOT_IN_THE_WORLD_STATE = {
    "/v1/advisor/collections/{loan_id}": "the loan is current: not in collections",
    "/v1/buyer/deals/{deal_id}/documents/{document_id}": "buyers see manual-decision deals",
    "/v1/buyer/loans/{loan_id}/contract": "auto-funded loans have no contract to sign",
    "/v1/dealer/deals/{deal_id}/payment-link": "the deal is quoted, not confirmed",
    "/v1/dealer/deals/{deal_id}/collateral": "the deal is quoted: its collateral comes at funding",
    "/v1/lender/deals/{deal_id}": "the lender's decision view holds manual-decision deals",
    "/v1/lender/deals/{deal_id}/documents/{document_id}": "as above",
    "/v1/lender/webhook-endpoints/{endpoint_id}": "the world's endpoint is the dealer's",
    "/v1/lender/webhook-endpoints/{endpoint_id}/deliveries": "as above",
}
