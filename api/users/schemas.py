"""The accounts HTTP contract."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, EmailStr, StringConstraints

from api.bodies import StrictBody

Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class UserRegister(StrictBody):
    email: EmailStr
    password: Password
    display_name: DisplayName | None = None


# A password given to confirm who you are: any string, checked against the stored hash (capped,
# as at registration, so no one makes the server hash a megabyte).
GivenPassword = Annotated[str, StringConstraints(max_length=128)]


class PasswordChange(StrictBody):
    current_password: GivenPassword
    new_password: Password


class AccountDeletion(StrictBody):
    password: GivenPassword


class UserPublic(BaseModel):
    id: int
    email: str
    display_name: str
    is_admin: bool


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApiKeyCreate(StrictBody):
    name: KeyName


class ApiKeyBase(BaseModel):
    id: int
    name: str
    created_at: datetime


class ApiKeyCreated(ApiKeyBase):
    """The only answer that carries the key itself: it is stored hashed."""

    api_key: str


class ApiKeyPublic(ApiKeyBase):
    key_prefix: str
    last_used_at: datetime | None
