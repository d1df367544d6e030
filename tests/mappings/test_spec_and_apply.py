from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mappings import MappingError, MappingSpec, SourceRef, load_mapping, map_row

REF = SourceRef(source="workbook", stream="customers:Customers", source_record_id="h:1")


def spec(text: str) -> MappingSpec:
    return MappingSpec.model_validate(yaml.safe_load(text))


CUSTOMERS = spec(
    """
defaults: {phone_region: RU}
fields:
  - {from: Full name, to: name}
  - {from: Phone, to: phones, transform: {phone: {region_from: Country}}}
  - {from: E-mail, to: emails}
  - {from: Country, to: address.country, on_error: skip}
  - {from: Notes, to: custom.notes, optional: true}
"""
)


def test_maps_a_messy_row_to_a_canonical_customer() -> None:
    row = {"Full name": " Иванов  Иван Иванович ", "Phone": "89123456789", "E-mail": " Ivan@Mail.RU ",
           "Country": "Россия", "Notes": None}
    result = map_row(CUSTOMERS, row, REF)
    assert result.ok and not result.warnings
    customer = result.record
    assert customer.full_name == "Иванов Иван Иванович"
    assert (customer.given_name, customer.family_name, customer.patronymic) == ("Иван", "Иванов", "Иванович")
    assert customer.phones == ["+79123456789"]
    assert customer.emails == ["ivan@mail.ru"]
    assert customer.address.country == "RU"


def test_bad_phone_quarantines_the_row_and_names_the_column() -> None:
    result = map_row(CUSTOMERS, {"Full name": "John Smith", "Phone": "ask reception", "E-mail": "",
                                 "Country": ""}, REF)
    assert result.record is None
    assert result.problems[0].column == "Phone"
    assert "'ask reception' is not a phone number" in result.problems[0].describe()


def test_skip_on_error_drops_the_value_and_keeps_the_row() -> None:
    result = map_row(CUSTOMERS, {"Full name": "John Smith", "Phone": "", "E-mail": "j@x.com",
                                 "Country": "Narnia"}, REF)
    assert result.ok
    assert result.record.address.country is None
    assert "Narnia" in result.warnings[0].reason


def test_row_without_identity_is_quarantined() -> None:
    result = map_row(CUSTOMERS, {"Full name": "  ", "Phone": None, "E-mail": None, "Country": "US"}, REF)
    assert result.record is None
    assert "no name, e-mail or phone" in result.problems[0].reason


def test_given_and_family_columns_build_the_full_name() -> None:
    leads = spec("fields: [{from: First, to: given_name}, {from: Last, to: family_name}]")
    assert map_row(leads, {"First": "Anna ", "Last": " Smirnova"}, REF).record.full_name == "Anna Smirnova"


def test_interaction_with_conditional_columns() -> None:
    calls = spec(
        """
entity: interaction
kind: call
defaults: {phone_region: RU}
fields:
  - {from: from, to: phone, when: {direction: inbound}}
  - {from: to, to: phone, when: {direction: outbound}}
  - {from: started_at, to: occurred_at}
  - {from: duration_sec, to: duration_seconds}
"""
    )
    inbound = map_row(calls, {"from": "8 912 345 67 89", "to": "+74951234567", "direction": "inbound",
                              "started_at": "2024-03-01 10:00", "duration_sec": "65"}, REF).record
    outbound = map_row(calls, {"from": "+74951234567", "to": "+7 912 345-67-89", "direction": "Outbound",
                               "started_at": "2024-03-01 11:00", "duration_sec": "0"}, REF).record
    assert inbound.phone == outbound.phone == "+79123456789"
    assert inbound.duration_seconds == 65


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fields: [{from: Phone, to: phon}]", "unknown customer field 'phon' (did you mean 'phones'?)"),
        ("fields: [{from: Phone, to: phones, transform: phnoe}]", "unknown transform 'phnoe' (did you mean"),
        ("fields: [{from: Phone, to: phones, colour: red}]", "fields.0.colour: unknown key"),
        ("entity: interaction\nfields: [{from: a, to: phone}]", "needs `kind`"),
        ("fields: [{to: phones}]", "fields.0.from: required key is missing"),
    ],
)
def test_invalid_mappings_name_the_file_key_and_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "forms.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    assert "mapping 'forms.yaml'" in str(info.value)
    assert message in str(info.value)


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="file not found"):
        load_mapping(tmp_path / "nope.yaml")


def test_bundled_demo_mappings_are_valid() -> None:
    folder = Path(__file__).parents[2] / "crmsync" / "demo" / "mappings"
    files = sorted(folder.glob("*.yaml"))
    assert len(files) == 5
    for path in files:
        load_mapping(path)
