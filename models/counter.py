"""Named counters, incremented in the transaction that uses the number (filing numbers)."""

from sqlmodel import Field, SQLModel


class Counter(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=64)
    value: int = 0
