from __future__ import annotations

from shared.errors import Conflict, NotFound, Unprocessable


class ScorecardNotFound(NotFound):
    code = "scorecard_not_found"
    message = "No scorecard of that version is published."


class ScorecardInvalid(Unprocessable):
    code = "scorecard_invalid"
    message = "The scorecard cannot be used."


class ScorecardVersionTaken(Conflict):
    code = "scorecard_version_taken"
    message = (
        "A different scorecard is already published under this version; versions are immutable."
    )


class ScorecardRoleConflict(Conflict):
    code = "scorecard_role_conflict"
    message = "Another change of champion or challenger happened at the same time; try again."


class ScorecardIsChampion(Conflict):
    code = "scorecard_is_champion"
    message = "The champion cannot also be the challenger."
