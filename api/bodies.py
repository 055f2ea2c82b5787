"""The base of every request body: unknown fields refused with one error, however many."""

import functools
from itertools import islice
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

NAMED_UNKNOWN = 5  # unknown fields the error names; the rest are counted


class StrictBody(BaseModel):
    """extra="forbid" alone lists one error per unknown field: a body of a million made-up
    keys cost seconds of validation and megabytes of answer. This refuses them at once."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = data.keys() - _known_fields(cls)
            if unknown:
                raise ValueError(_unknown_message(unknown))
        return data


@functools.cache
def _known_fields(model: type[BaseModel]) -> frozenset[str]:
    fields = model.model_fields.items()
    return frozenset(
        name for field_name, info in fields for name in (field_name, info.alias) if name
    )


def _unknown_message(unknown: set[Any]) -> str:
    named = ", ".join(repr(str(name))[:60] for name in islice(unknown, NAMED_UNKNOWN))
    more = len(unknown) - min(len(unknown), NAMED_UNKNOWN)
    return f"unknown fields: {named}" + (f" and {more} more" if more else "")
