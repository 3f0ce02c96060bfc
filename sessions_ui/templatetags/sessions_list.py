"""Template filters of the sessions list: short relative times for dense table cells."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    """ "3 hours ago": the largest unit only (naturaltime says "2 weeks, 3 days ago", too wide for a cell)."""
    if not isinstance(value, datetime):
        return ""
    now = timezone.now()
    if value > now:
        return f"in {timesince(now, value, depth=1)}"
    if (now - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value, now, depth=1)} ago"
