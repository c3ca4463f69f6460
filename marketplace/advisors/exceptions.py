"""What advisors' routes refuse."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class NoAdvisorYet(Conflict):
    code = "no_advisor_yet"
    message = "An advisor has not been assigned yet; one will be as soon as one is available."


class BuyerNotFound(NotFound):
    code = "buyer_not_found"
    message = "No such buyer among yours."


class AlertNotFound(NotFound):
    code = "alert_not_found"
    message = "No such alert among your buyers'."
