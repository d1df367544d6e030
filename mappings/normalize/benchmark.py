"""Micro-benchmark and phonetic measurement: `python -m mappings.normalize.benchmark [records]`.

Not imported by the package. Prints per-record cost of each key builder with cold and warm
caches on synthetic multi-script records, and the measurement behind `phonetic`'s choice:
how often each candidate code collides spelling variants of one name (recall) and
different surnames (false collisions).
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from collections.abc import Callable, Sequence

import jellyfish

from mappings.normalize import _text, _translit, companies, emails, names, phones, places

GIVEN = ["Александр", "Sasha", "Alex", "Rahul", "राहुल", "Ivan", "Иван", "Mary", "Bob", "Robert", "Юлия",
         "Yulia", "Giorgi", "გიორგი", "Suresh", "சுரேஷ்", "Venkatesh", "వెంకటేష్", "Eleni", "Ελένη", "Mohammed"]
FAMILY = ["Иванов", "Ivanov", "Ivanoff", "Sharma", "शर्मा", "Sarma", "Smith", "Smyth", "Beridze", "ბერიძე",
          "Kumar", "குமார்", "Reddy", "రెడ్డి", "Papadopoulou", "Παπαδοπούλου", "Müller", "Mueller", "Khan"]
COMPANIES = ['ООО "Ромашка"', "Romashka LLC", "Siemens AG", "Infosys Pvt. Ltd.", "Acme Inc.", "Müller GmbH & Co. KG"]
CITIES = ["Москва", "Moscow", "St. Petersburg", "Санкт-Петербург", "Bangalore", "ಬೆಂಗಳೂರು", "Tbilisi", "München"]
DOMAINS = ["gmail.com", "yandex.ru", "ya.ru", "mail.ru", "outlook.com", "example.com"]

# Spelling variants of one name (should share a code) and a list of different surnames.
VARIANTS = [
    ["Sharma", "Sarma", "Shrma", "शर्मा"], ["Aleksandr", "Alexander", "Александр", "Alexandr"],
    ["Ivanov", "Иванов", "Ivanoff", "Iwanow"], ["Khrushchev", "Хрущёв", "Khrushchov", "Chruschtschow"],
    ["Mikhail", "Michail", "Mihail", "Михаил"], ["Yevgeny", "Evgeny", "Evgenii", "Евгений", "Jewgeni"],
    ["Mohammed", "Muhammad", "Mohamed"], ["Catherine", "Katherine", "Kathryn"], ["Philip", "Phillip", "Filip"],
    ["Schmidt", "Shmidt", "Schmid"], ["Tchaikovsky", "Чайковский", "Tschaikowsky"],
    ["Sergei", "Sergey", "Сергей", "Sergej"], ["Yuliya", "Julia", "Yulia", "Юлия", "Iuliia"],
    ["Kumar", "குமார்", "कुमार"], ["Reddy", "రెడ్డి", "Reddi"], ["Giorgi", "გიორგი", "Georgi"],
    ["Dmitrii", "Dmitry", "Дмитрий"], ["Natalya", "Natalia", "Наталья"], ["Papadopoulos", "Παπαδόπουλος"],
    ["Meyer", "Meier", "Mayer", "Maier"], ["Muller", "Müller", "Mueller"], ["Rahman", "Rakhman", "Рахман"],
    ["Singh", "सिंह", "ਸਿੰਘ"], ["Smith", "Smyth"],
]
_SURNAME_TEXT = ("Sharma Ivanov Petrov Smith Jones Kumar Reddy Singh Patel Gupta Khan Brown Taylor Wilson Garcia "
            "Martinez Lopez Kuznetsov Popov Sokolov Lebedev Kozlov Novikov Morozov Volkov Solovyov Vasiliev "
            "Zaitsev Pavlov Semenov Golubev Bogdanov Fedorov Mikhailov Tarasov Belov Orlov Kiselev Makarov "
            "Andreev Kovalev Gusev Titov Kuzmin Baranov Kulikov Stepanov Yakovlev Sorokin Romanov Zakharov "
            "Borisov Korolev Lazarev Medvedev Nikitin Sobolev Polyakov Tsvetkov Zhukov Frolov Krylov Sidorov "
            "Williams Johnson Davis Miller Anderson Thomas Jackson White Harris Martin Thompson Moore Clark "
            "Lewis Robinson Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill Campbell "
            "Mitchell Roberts Carter Phillips Evans Turner Parker Collins Edwards Stewart Morris Murphy Cook "
            "Verma Agarwal Joshi Mehta Nair Iyer Rao Das Bose Ghosh Sen Dutta Mishra Pandey Tiwari Yadav "
            "Kapoor Khanna Chopra Arora Kaur Gill Reed Bell Kelly Cole Cox Hart Hunt Ward Wood Meyer Moore")
SURNAMES = _SURNAME_TEXT.split()


def _clear_caches() -> None:
    for module in (_text, _translit, names, emails, phones, companies, places):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def _records(count: int) -> list[tuple[str, str, str, str, str, str]]:
    rng = random.Random(7)
    rows = []
    for index in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        email = f"{given.lower()}.{index % 997}+crm@{rng.choice(DOMAINS)}"
        phone = f"+7 916 {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}"
        rows.append((given, family, f"Dr. {given} {family} {index % 50}", email, phone, rng.choice(COMPANIES)))
    return rows


def _time(label: str, rows: Sequence[tuple[str, ...]], build: Callable[[tuple[str, ...]], object]) -> None:
    _clear_caches()
    timings = []
    for _ in range(2):  # first pass with cold caches, second warm
        start = time.perf_counter()
        for row in rows:
            build(row)
        timings.append((time.perf_counter() - start) / len(rows) * 1e6)
    print(f"  {label:<24} cold {timings[0]:7.1f} µs/record   warm {timings[1]:6.2f} µs/record")


def benchmark(count: int) -> None:
    """Time each key builder on `count` synthetic records."""
    rows = _records(count)
    print(f"{count} synthetic records")
    _time("name_key (full split)", rows, lambda r: names.name_key(None, None, r[2]))
    _time("name_key (parts)", rows, lambda r: names.name_key(r[0], r[1], None))
    _time("email_key + tokens", rows, lambda r: (emails.email_key(r[3]), emails.email_local_name_tokens(r[3])))
    _time("phone_parts + key", rows, lambda r: phones.phone_key(phones.phone_parts(r[4]).e164))  # type: ignore[union-attr]
    _time("company_key", rows, lambda r: companies.company_key(r[5]))
    _time("city_key", rows, lambda r: places.city_key(CITIES[len(r[0]) % len(CITIES)]))


def measure_phonetic() -> None:
    """Variant recall and false collisions of the candidate phonetic codes."""

    def latin(token: str) -> str:
        return "".join(c for c in names.to_latin(token) if c.isalpha())

    candidates: dict[str, Callable[[str], str]] = {
        "metaphone(to_latin)": lambda t: jellyfish.metaphone(latin(t)),
        "nysiis(to_latin)": lambda t: jellyfish.nysiis(latin(t)),
        "metaphone(unified) *": lambda t: jellyfish.metaphone(names._unified_spelling(t)),
        "nysiis(unified)": lambda t: jellyfish.nysiis(names._unified_spelling(t)),
        "skeleton (reference)": names.skeleton,
    }
    surnames = sorted(set(SURNAMES))
    pairs = [pair for group in VARIANTS for pair in itertools.combinations(group, 2)]
    print(f"phonetic: {len(pairs)} variant pairs, {len(surnames)} different surnames (* = chosen)")
    for label, code in candidates.items():
        recall = sum(code(a) == code(b) for a, b in pairs)
        buckets: dict[str, int] = {}
        for surname in surnames:
            buckets[code(surname)] = buckets.get(code(surname), 0) + 1
        false = sum(n * (n - 1) // 2 for n in buckets.values())
        print(f"  {label:<24} recall {recall}/{len(pairs)} ({recall / len(pairs):.0%})   "
              f"false collisions {false}   distinct codes {len(buckets)}/{len(surnames)}")


def main(argv: Sequence[str]) -> None:
    """Run the benchmark (record count from argv, default 20000) and the phonetic measurement."""
    benchmark(int(argv[0]) if argv else 20_000)
    measure_phonetic()


if __name__ == "__main__":
    main(sys.argv[1:])
