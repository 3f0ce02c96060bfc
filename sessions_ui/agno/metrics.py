"""What Agno's metrics dicts mean: token counts and durations of a session, a run, a step or a message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sessions_ui.agno.values import as_dict, as_float, as_int


@dataclass
class Metrics:
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    reasoning_tokens: int | None = None
    cache_read_tokens: int | None = None
    duration: float | None = None
    time_to_first_token: float | None = None
    other: dict = field(default_factory=dict)

    @property
    def tokens(self) -> int | None:
        if self.total_tokens is not None:
            return self.total_tokens
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    def __bool__(self) -> bool:
        return self.tokens is not None or self.duration is not None or bool(self.other)


def _first_number(value: Any) -> Any:
    # Agno 2.0's session_metrics kept some metrics as per-message lists.
    if isinstance(value, list):
        numbers = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return sum(numbers) if numbers else None
    return value


TOKEN_KEYS = ("input_tokens", "output_tokens", "total_tokens", "reasoning_tokens", "cache_read_tokens")


def _step_token_totals(steps: dict) -> dict:
    """Token totals of a workflow run, whose WorkflowMetrics keeps tokens per step only."""
    totals: dict = {}
    for step in steps.values():
        step_metrics = as_dict(as_dict(step).get("metrics"))
        for key in TOKEN_KEYS:
            number = as_int(_first_number(step_metrics.get(key)))
            if number is not None:
                totals[key] = totals.get(key, 0) + number
    return totals


def decode_metrics(value: Any) -> Metrics:
    data = as_dict(value)
    if isinstance(data.get("steps"), dict) and not any(key in data for key in TOKEN_KEYS):
        data = {**_step_token_totals(data["steps"]), **data}
    known = {
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "reasoning_tokens",
        "cache_read_tokens",
        "duration",
        "time_to_first_token",
    }
    return Metrics(
        input_tokens=as_int(_first_number(data.get("input_tokens"))),
        output_tokens=as_int(_first_number(data.get("output_tokens"))),
        total_tokens=as_int(_first_number(data.get("total_tokens"))),
        reasoning_tokens=as_int(_first_number(data.get("reasoning_tokens"))),
        cache_read_tokens=as_int(_first_number(data.get("cache_read_tokens"))),
        duration=as_float(_first_number(data.get("duration"))),
        time_to_first_token=as_float(_first_number(data.get("time_to_first_token"))),
        other={k: v for k, v in data.items() if k not in known and v not in (None, 0, 0.0, [], {})},
    )
