"""Mappings: source fields onto the canonical customer, and the value normalisers."""

from __future__ import annotations

from mappings.apply import MapResult, RowProblem, map_row
from mappings.canonical import (
    Address,
    Consent,
    Customer,
    Interaction,
    InteractionKind,
    SourceRef,
    content_hash,
)
from mappings.spec import MappingError, MappingSpec, describe_validation_error, load_mapping
from mappings.transforms import (
    TransformError,
    normalize_country,
    normalize_email,
    normalize_phone,
    split_person_name,
)

__all__ = [
    "Address",
    "Consent",
    "Customer",
    "Interaction",
    "InteractionKind",
    "MapResult",
    "MappingError",
    "MappingSpec",
    "RowProblem",
    "SourceRef",
    "TransformError",
    "content_hash",
    "describe_validation_error",
    "load_mapping",
    "map_row",
    "normalize_country",
    "normalize_email",
    "normalize_phone",
    "split_person_name",
]
