"""The lender's decision clock: a number of working hours (Monday to Friday, 09:00–18:00 in
China's time zone; public holidays are not modelled) from the moment a deal starts waiting."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
OPENS, CLOSES = time(9), time(18)


def add_working_hours(start: datetime, hours: int) -> datetime:
    """When ``hours`` working hours after ``start`` run out (an aware datetime, in UTC)."""
    moment = start.astimezone(CHINA)
    remaining = timedelta(hours=hours)
    while True:
        day_open = moment.replace(hour=OPENS.hour, minute=0, second=0, microsecond=0)
        day_close = moment.replace(hour=CLOSES.hour, minute=0, second=0, microsecond=0)
        if moment.weekday() >= 5 or moment >= day_close:
            moment = (day_open + timedelta(days=1)).replace(hour=OPENS.hour)
            continue
        moment = max(moment, day_open)
        if moment + remaining <= day_close:
            return (moment + remaining).astimezone(start.tzinfo)
        remaining -= day_close - moment
        moment = day_open + timedelta(days=1)
