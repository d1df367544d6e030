"""Fuzzy name keys, honorifics, patronymics, nicknames and the assembled NameKey."""

from __future__ import annotations

import pytest

from mappings.normalize import (
    HONORIFICS,
    NameKey,
    canonical_given,
    is_patronymic,
    name_key,
    phonetic,
    skeleton,
    strip_honorifics,
    to_latin,
)
from mappings.normalize.nicknames import ENGLISH, RUSSIAN

COLLIDING = [
    ["sharma", "sarma", "shrma", "Sharma", "शर्मा", "ਸ਼ਰਮਾ", "శర్మ"],
    ["Aleksandr", "Alexander", "Александр", "Alexandr", "Aleksander"],
    ["Khrushchev", "Хрущёв", "Khrushchov", "Hrushchev"],
    ["Mikhail", "Mihail", "Михаил"],
    ["Yevgeny", "Evgeny", "Evgenii", "Евгений", "Jewgeni"],
    ["Yuliya", "Julia", "Yulia", "Юлия", "Iuliia"],
    ["Mohammed", "Muhammad", "Mohamed", "Mohammad"],
    ["Catherine", "Katherine", "Kathryn"],
    ["Philip", "Phillip", "Filip"],
    ["Schmidt", "Shmidt"],
    ["Tchaikovsky", "Чайковский", "Chaikovsky", "Tschaikowsky"],
    ["Sergei", "Sergey", "Сергей", "Sergej"],
    ["Ivanov", "Иванов", "Ivanoff", "Iwanow"],
    ["Rahman", "Rakhman", "Рахман"],
    ["Kumar", "குமார்", "कुमार", "ಕುಮಾರ್"],
    ["Giorgi", "გიორგი"],
    ["Papadopoulos", "Παπαδόπουλος"],
    ["Muller", "Müller", "Mueller"],
    ["Singh", "सिंह", "ਸਿੰਘ"],
]


@pytest.mark.parametrize("group", COLLIDING, ids=lambda g: g[0])
def test_skeleton_collides_transliteration_variants(group: list[str]) -> None:
    assert len({skeleton(name) for name in group}) == 1, {name: skeleton(name) for name in group}


def test_skeleton_examples() -> None:
    assert skeleton("Sharma") == "srm"
    assert skeleton("Aleksandr") == "alksndr"
    assert skeleton("Anna") == "an"  # leading vowel kept, doubles collapsed
    assert skeleton(to_latin("राहुल शर्मा").split()[1]) == skeleton("Sarma")


@pytest.mark.parametrize(("left", "right"), [("Ivanov", "Petrov"), ("Smith", "Jones"), ("Sharma", "Verma")])
def test_skeleton_keeps_different_names_apart(left: str, right: str) -> None:
    assert skeleton(left) != skeleton(right)


@pytest.mark.parametrize("group", COLLIDING, ids=lambda g: g[0])
def test_phonetic_collides_most_variants(group: list[str]) -> None:
    codes = [phonetic(name) for name in group]
    assert all(codes)
    # Metaphone is blunter than the skeleton on German spellings; require a clear majority
    assert max(codes.count(code) for code in codes) * 2 > len(codes), codes


def test_phonetic_examples() -> None:
    assert phonetic("Sharma") == phonetic("शर्मा") == phonetic("Sarma")
    assert phonetic("Smith") == phonetic("Smyth")
    assert phonetic("Ivanov") != phonetic("Petrov")
    assert phonetic("") == ""


def test_honorifics() -> None:
    for title in ("mr", "mrs", "dr", "prof", "г-н", "г-жа", "श्री", "श्रीमती", "shri", "smt", "herr", "sra"):
        assert title in HONORIFICS
    assert strip_honorifics(["Dr.", "John", "Smith"]) == ["John", "Smith"]
    assert strip_honorifics(["г-жа", "Анна", "Петрова"]) == ["Анна", "Петрова"]
    assert strip_honorifics(["श्रीमती", "सुनीता", "शर्मा"]) == ["सुनीता", "शर्मा"]
    assert strip_honorifics(["Shri", "Rahul", "Smt", "Prof", "Frau", "Mme"]) == ["Rahul"]
    assert strip_honorifics(["डॉ", "శ్రీ", "ஸ்ரீ", "Шри", "Rahul"]) == ["Rahul"]  # titles in any script
    assert strip_honorifics(["Mark", "Drake", "Donald"]) == ["Mark", "Drake", "Donald"]
    assert strip_honorifics(["Đỗ", "Do", "Dao", "Sir-Smith"]) == ["Đỗ", "Do", "Dao", "Sir-Smith"]
    assert strip_honorifics([]) == []


@pytest.mark.parametrize(
    "token",
    ["Петрович", "Сергеевич", "Ильич", "Петровна", "Сергеевна", "Ильинична", "Кузьминична", "оглы", "кызы",
     "Petrovich", "Sergeevich", "Ivanovna", "Olegovna", "Ilyich", "Nikitichna", "Oleksandrovych", "Serhiivna",
     "ogly", "kyzy"],
)  # fmt: skip
def test_is_patronymic(token: str) -> None:
    assert is_patronymic(token)


@pytest.mark.parametrize("token", ["Ivanov", "Петров", "Ulrich", "Heinrich", "Friedrich", "Anna", "Foma", "", "ich", "Ovna"])
def test_is_not_patronymic(token: str) -> None:
    assert not is_patronymic(token)


@pytest.mark.parametrize(
    ("names", "canonical"),
    [
        (["Bob", "Rob", "Robbie", "Bobby", "Robert"], "robert"),
        (["Bill", "Will", "Billy", "Liam", "William"], "william"),
        (["Liz", "Beth", "Betty", "Lizzie", "Elizabeth"], "elizabeth"),
        (["Kate", "Katie", "Cathy", "Catherine", "Katherine"], "catherine"),
        (["Jim", "Jimmy", "James"], "james"),
        (["Mike", "Michael"], "michael"),
        (["Alex", "Sasha", "Shura", "Саша", "Шура", "Александр", "Aleksandr", "Alexander", "Олександр"], "alexander"),
        (["Dima", "Дима", "Dmitry", "Дмитрий", "Дмитро"], "dmitrii"),
        (["Misha", "Миша", "Михаил"], "mikhail"),
        (["Kolya", "Коля", "Николай", "Nikolay", "Микола"], "nikolai"),
        (["Volodya", "Vova", "Володя", "Вова", "Владимир"], "vladimir"),
        (["Seryozha", "Серёжа", "Sergey", "Сергей", "Сергій"], "sergei"),
        (["Zhenya", "Женя", "Евгений", "Yevgeny"], "evgenii"),
        (["Lena", "Лена", "Елена", "Yelena"], "elena"),
        (["Katya", "Катя", "Екатерина"], "ekaterina"),
        (["Masha", "Маша", "Мария", "Maria"], "mariya"),
        (["Natasha", "Наташа", "Наталья", "Наталия", "Natalia"], "natalya"),
        (["Olya", "Оля", "Ольга"], "olga"),
        (["Tanya", "Таня", "Татьяна", "Tatiana"], "tatyana"),
        (["Yulya", "Юля", "Юлия", "Julia"], "yuliya"),
        (["Alyosha", "Алёша", "Лёша", "Алексей", "Alexey"], "aleksei"),
    ],
)
def test_canonical_given(names: list[str], canonical: str) -> None:
    assert {name: canonical_given(name) for name in names} == dict.fromkeys(names, canonical)


def test_canonical_given_unknown_and_empty() -> None:
    assert canonical_given("Rahul") == "rahul"
    assert canonical_given("राहुल") == "rahul"
    assert canonical_given("Zebedee") == "zebedee"
    assert canonical_given("") == ""


def test_nickname_tables_are_large_and_unambiguous() -> None:
    english = sum(len(variants) for _, variants in ENGLISH)
    russian = sum(len(variants) for _, variants in RUSSIAN)
    assert english >= 150 and russian >= 80
    variants = [v for _, group in (*ENGLISH, *RUSSIAN) for v in group]
    canonicals = [c for c, _ in (*ENGLISH, *RUSSIAN)]
    assert len(variants) == len(set(variants)), "a nickname is listed in two groups"
    assert len(canonicals) == len(set(canonicals))
    assert not set(variants) & set(canonicals), "a canonical form is also another group's variant"
    for name in (*variants, *canonicals):
        assert name == to_latin(name), name  # stored in the form to_latin produces


def _key(**parts: str | None) -> NameKey:
    return name_key(parts.get("given"), parts.get("family"), parts.get("full"), parts.get("patronymic"))


def test_name_key_from_parts() -> None:
    key = _key(given="Bob", family="Smith")
    assert key == NameKey(
        given="bob", family="smith", given_canonical="robert", given_initial="b", family_skeleton="smt",
        family_phonetic=phonetic("smith"), patronymic="", tokens=("bob", "smith"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("full", "given", "family", "patronymic"),
    [
        ("Dr. John Smith", "john", "smith", ""),
        ("Smith, John", "john", "smith", ""),
        ("Smith, John, Jr.", "john", "smith", ""),
        ("Иванов Иван Петрович", "ivan", "ivanov", "petrovich"),
        ("Иван Петрович Иванов", "ivan", "ivanov", "petrovich"),
        ("Ivanov Ivan Petrovich", "ivan", "ivanov", "petrovich"),
        ("Иванов, Иван Петрович", "ivan", "ivanov", "petrovich"),
        ("г-жа Анна Сергеевна Петрова", "anna", "petrova", "sergeevna"),
        ("Мамедов Али Гасан оглы", "ali", "mamedov", "gasan ogly"),
        ("श्री राहुल शर्मा", "rahul", "sharma", ""),
        ("Ludwig van Beethoven", "ludwig", "van beethoven", ""),
        ("Madonna", "madonna", "", ""),
    ],
)
def test_name_key_splits_full_names(full: str, given: str, family: str, patronymic: str) -> None:
    key = _key(full=full)
    assert (key.given, key.family, key.patronymic) == (given, family, patronymic)


def test_name_key_sources_agree_across_scripts() -> None:
    latin = _key(given="Rahul", family="Sharma")
    devanagari = _key(full="राहुल शर्मा")
    assert latin == devanagari
    russian = _key(family="Иванов", given="Саша")
    english = _key(full="Alexander Ivanov")
    assert russian.given_canonical == english.given_canonical == "alexander"
    assert russian.family_skeleton == english.family_skeleton


def test_name_key_fields_and_fallbacks() -> None:
    assert _key(given="Иван Петрович", family="Иванов").patronymic == "petrovich"
    assert _key(given="John Smith").family == "smith"  # whole name typed into the given field
    assert _key(given="Mr", family="Lord").family == "lord"  # a surname that is also a title stays
    assert _key(given="Ann", full="Ann Lee").family == "lee"  # missing part taken from full
    assert _key(full="J. Edgar Hoover").tokens == ("edgar", "hoover", "j")
    assert _key(full="Jean-Pierre Dupont-Aignan").tokens == ("aignan", "dupont", "jean", "pierre")


def test_name_key_empty() -> None:
    empty = NameKey("", "", "", "", "", "", "", ())
    assert name_key(None, None, None) == empty
    assert name_key("", " ", "Mr", None) == empty
    assert name_key(None, None, "😀 🎉") == empty
