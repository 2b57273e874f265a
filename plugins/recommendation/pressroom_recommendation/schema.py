from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from pressroom.plugins import UseCaseInput


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    category: str = Field(default="", max_length=100)
    popularity: float | None = Field(default=None, ge=0)


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: str
    type: Literal["purchase", "view"]
    at: datetime


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: str = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=100)
    events: list[Event] = Field(min_length=1, max_length=500)


def parse_catalog_csv(text: str) -> list[Product]:
    reader = csv.DictReader(io.StringIO(text.strip()))
    missing = {"id", "name"} - set(reader.fieldnames or [])
    if missing:
        raise ValueError(f"catalog_csv needs columns id and name (missing: {', '.join(sorted(missing))})")
    products = []
    for line, row in enumerate(reader, start=2):
        try:
            popularity = row.get("popularity") or None
            products.append(Product(id=row["id"], name=row["name"], description=row.get("description") or "",
                                    category=row.get("category") or "", popularity=float(popularity) if popularity else None))
        except (ValueError, TypeError) as error:
            raise ValueError(f"catalog_csv line {line}: {error}") from None
    return products


class RecommendationInput(UseCaseInput):
    catalog: list[Product] | None = Field(
        default=None, max_length=2000,
        description='Products as a JSON list, e.g. [{"id": "p1", "name": "Trail shoes", "category": "running"}]')
    catalog_csv: str | None = Field(default=None, title="Catalog CSV",
                                    description="Or: CSV text with columns id,name[,description,category,popularity]",
                                    examples=["id,name,category\np1,Trail shoes,running\np2,Rain jacket,outdoor"])
    customers: list[Customer] = Field(
        min_length=1, max_length=50,
        description='A JSON list of customers with what they bought or viewed, e.g. [{"id": "c1", "name": "Ana", '
                    '"events": [{"product_id": "p1", "type": "purchase", "at": "2024-05-01T10:00:00Z"}]}]')
    top_k: int = Field(default=3, ge=1, le=10)

    @field_validator("catalog")
    @classmethod
    def _unique_ids(cls, catalog: list[Product] | None) -> list[Product] | None:
        if catalog is not None:
            ids = [p.id for p in catalog]
            if not ids:
                raise ValueError("the catalog is empty")
            if len(set(ids)) != len(ids):
                raise ValueError("product ids must be unique")
        return catalog

    @field_validator("catalog_csv")
    @classmethod
    def _parsable_csv(cls, text: str | None) -> str | None:
        if text is not None:
            cls._unique_ids([*parse_catalog_csv(text)])
        return text

    @field_validator("customers")
    @classmethod
    def _events_name_known_products(cls, customers: list[Customer], info: ValidationInfo) -> list[Customer]:
        catalog = info.data.get("catalog")
        if catalog is None and info.data.get("catalog_csv"):
            catalog = parse_catalog_csv(info.data["catalog_csv"])
        if catalog is None:
            return customers  # the catalog itself is invalid or missing; reported on its own field
        known = {p.id for p in catalog}
        for c, customer in enumerate(customers):
            for e, event in enumerate(customer.events):
                if event.product_id not in known:
                    raise ValueError(f"customers[{c}].events[{e}]: unknown product {event.product_id!r}")
        return customers

    @model_validator(mode="after")
    def _exactly_one_catalog(self) -> RecommendationInput:
        if (self.catalog is None) == (self.catalog_csv is None):
            raise ValueError("give exactly one of catalog or catalog_csv")
        if self.catalog_csv is not None:
            self.catalog, self.catalog_csv = parse_catalog_csv(self.catalog_csv), None
        return self
