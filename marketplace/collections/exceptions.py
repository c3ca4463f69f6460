"""Collections' refusals; each ``code`` has a message in both ``errors.po`` catalogues."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class MandateNotFound(NotFound):
    code = "mandate_not_found"
    message = "This loan has no active automatic-debit mandate."


class MandateConflict(Conflict):
    code = "mandate_conflict"
    message = "Another authorisation for this loan was made at the same time; try again."


class CollectionLoanNotFound(NotFound):
    code = "collection_loan_not_found"
    message = "No such loan in your collection queue."
