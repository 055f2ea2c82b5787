"""The accounts HTTP contract."""

from typing import Annotated

from pydantic import BaseModel, EmailStr, StringConstraints

from api.bodies import StrictBody

Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class UserRegister(StrictBody):
    email: EmailStr
    password: Password
    display_name: DisplayName | None = None


class UserPublic(BaseModel):
    id: int
    email: str
    display_name: str
    is_admin: bool


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
