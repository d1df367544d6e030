"""Company, city and country keys across languages and scripts."""

from __future__ import annotations

import pytest

from mappings.normalize import city_key, company_key, company_tokens, country_key


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (['ООО "Ромашка"', "ООО «Ромашка»", "Romashka LLC", "OOO Romashka", "Romashka, L.L.C.", "“Romashka” Ltd",
          "Общество с ограниченной ответственностью «Ромашка»", "Romashka Limited Liability Company"], "romashka"),
        (["ПАО Сбербанк", "Sberbank PJSC", "Сбербанк, ПАО", "Публичное акционерное общество «Сбербанк»"], "sberbank"),
        (["Société Générale SA", "Societe Generale Société Anonyme"], "societe generale"),
        (['ТОВ "Київстар"', "Kyivstar LLC"], "kyivstar"),
        (["ТОО «Казахтелеком»", "АО Казахтелеком", "Kazakhtelekom JSC"], "kazakhtelekom"),
        (["Siemens AG", "Siemens Aktiengesellschaft AG", "SIEMENS"], "siemens"),
        (["Müller GmbH & Co. KG", "Muller GmbH", "Müller GmbH"], "muller"),
        (["Infosys Private Limited", "Infosys Pvt. Ltd.", "Infosys Ltd", "INFOSYS LIMITED"], "infosys"),
        (["Banco Santander, S.A.", "Banco Santander SA"], "banco santander"),
        (["Renault SAS", "Renault S.A.S."], "renault"),
        (["Fiat S.p.A.", "Fiat SpA", "Fiat S.r.l."], "fiat"),
        (["Philips N.V.", "Philips NV", "Philips B.V."], "philips"),
        (["Nokia Oyj", "Nokia Oy"], "nokia"),
        (["Volvo AB", "AB Volvo"], "volvo"),
        (["Equinor ASA", "Equinor AS"], "equinor"),
        (["The Coca-Cola Company", "Coca Cola Co.", "coca-cola"], "coca cola"),
        (["Smith & Co.", "Smith and Company", "Smith Corp", "Smith Inc.", "Smith Incorporated"], "smith"),
        (["ソニー株式会社", "株式会社ソニー", "(株)ソニー"], "soni"),
    ],
)
def test_company_key_removes_legal_forms(names: list[str], key: str) -> None:
    assert {name: company_key(name) for name in names} == dict.fromkeys(names, key)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Johnson & Johnson", "johnson and johnson"),
        ("AG Barr plc", "ag barr"),  # a leading AG is part of the name
        ("A.S. Watson Group", "as watson group"),  # initials, not a legal form
        ("Too Good To Go", "too good to go"),  # Latin 'too' is no Kazakh ТОО
        ("3M Company", "3m"),
        ("McDonald's Corp.", "mcdonalds"),
        ("ИП Иванов И.И.", "ivanov ii"),
    ],
)
def test_company_key_keeps_words(name: str, key: str) -> None:
    assert company_key(name) == key


def test_company_tokens_and_empty() -> None:
    assert company_tokens("Tata Consultancy Services Pvt. Ltd.") == ("tata", "consultancy", "services")
    assert company_tokens(None) == ()
    assert company_key("") == company_key("   ") == company_key("LLC") == ""


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (["Moscow", "Moskva", "Москва", "г. Москва", "MOSCOW"], "moscow"),
        (["St Petersburg", "St. Petersburg", "Saint Petersburg", "Sankt-Peterburg", "Санкт-Петербург", "Питер", "СПб",
          "Saint-Petersburg"], "saint petersburg"),
        (["Bengaluru", "Bangalore", "ಬೆಂಗಳೂರು"], "bengaluru"),
        (["Mumbai", "Bombay", "मुंबई"], "mumbai"),
        (["Chennai", "Madras", "சென்னை"], "chennai"),
        (["Kolkata", "Calcutta", "কলকাতা"], "kolkata"),
        (["München", "Munich", "Muenchen", "Мюнхен"], "munich"),
        (["Köln", "Cologne", "Koeln"], "cologne"),
        (["Tbilisi", "Тбилиси", "თბილისი", "Tiflis"], "tbilisi"),
        (["Kyiv", "Kiev", "Киев", "Київ", "м. Київ"], "kyiv"),
        (["Athens", "Αθήνα"], "athens"),
        (["Rostov-on-Don", "Ростов-на-Дону"], "rostov on don"),
    ],
)  # fmt: skip
def test_city_aliases(names: list[str], key: str) -> None:
    assert {name: city_key(name) for name in names} == dict.fromkeys(names, key)


def test_city_key_saint_prefix_and_unknown() -> None:
    assert city_key("St. Louis") == city_key("Saint Louis") == "saint louis"
    assert city_key("Ste-Foy") == "sainte foy"
    assert city_key("San Francisco") == "san francisco"
    assert city_key("Новосибирск") == "novosibirsk"
    assert city_key(None) == city_key("") == ""


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Russia", "RU"), ("Россия", "RU"), ("RU", "RU"), ("rus", "RU"), ("Rossiya", "RU"),
        ("Germany", "DE"), ("Deutschland", "DE"), ("Германия", "DE"),
        ("India", "IN"), ("भारत", "IN"), ("Bharat", "IN"),
        ("Georgia", "GE"), ("საქართველო", "GE"), ("Ukraine", "UA"), ("Україна", "UA"),
        ("España", "ES"), ("México", "MX"), ("Ελλάδα", "GR"), ("日本", "JP"), ("USA", "US"),
        ("United States of America", "US"), ("Türkiye", "TR"), ("Côte d'Ivoire", "CI"),
    ],
)  # fmt: skip
def test_country_key(name: str, code: str) -> None:
    assert country_key(name) == code


@pytest.mark.parametrize("name", [None, "", "  ", "Narnia", "xx", "😀"])
def test_country_key_unknown(name: str | None) -> None:
    assert country_key(name) == ""
