"""City and country match keys: one spelling per place, whatever the script or era."""

from __future__ import annotations

from mappings.normalize._text import coerce_text, fold, memoize
from mappings.normalize._translit import to_latin
from mappings.transforms import normalize_country

__all__ = ["city_key", "country_key"]

# Canonical key -> other names, in any script; normalised like the input at import.
_CITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("moscow", ("Moskva", "Москва", "Moskau", "Moscou", "Mosca", "Moskwa", "мск")),
    ("saint petersburg", ("Sankt-Peterburg", "St. Petersburg", "Санкт-Петербург", "Питер", "СПб", "Piter",
                          "Leningrad", "Ленинград", "Sankt-Petersburg", "Petersburg", "Petrograd")),
    ("bengaluru", ("Bangalore", "ಬೆಂಗಳೂರು", "बेंगलुरु", "Bengalooru", "Бангалор")),
    ("mumbai", ("Bombay", "मुंबई", "Bambai", "Мумбаи", "Бомбей")),
    ("chennai", ("Madras", "சென்னை", "Chenai", "Ченнаи", "Мадрас")),
    ("kolkata", ("Calcutta", "কলকাতা", "कोलकाता", "Kolkatta", "Калькутта", "Колката")),
    ("delhi", ("दिल्ली", "New Delhi", "नई दिल्ली", "Dilli", "Дели", "Нью-Дели")),
    ("hyderabad", ("హైదరాబాద్", "हैदराबाद")),
    ("pune", ("Poona", "पुणे")),
    ("kochi", ("Cochin", "കൊച്ചി")),
    ("thiruvananthapuram", ("Trivandrum", "തിരുവനന്തപുരം")),
    ("varanasi", ("Benares", "Banaras", "वाराणसी")),
    ("vadodara", ("Baroda", "વડોદરા")),
    ("gurugram", ("Gurgaon", "गुरुग्राम")),
    ("prayagraj", ("Allahabad",)),
    ("mysuru", ("Mysore", "ಮೈಸೂರು")),
    ("munich", ("München", "Muenchen", "Мюнхен", "Monaco di Baviera")),
    ("cologne", ("Köln", "Koeln", "Кёльн", "Colonia")),
    ("nuremberg", ("Nürnberg", "Nuernberg", "Нюрнберг")),
    ("vienna", ("Wien", "Вена", "Vienne")),
    ("prague", ("Praha", "Prag", "Прага")),
    ("warsaw", ("Warszawa", "Варшава", "Warschau", "Varsovie")),
    ("rome", ("Roma", "Рим", "Rom")),
    ("milan", ("Milano", "Милан", "Mailand")),
    ("florence", ("Firenze", "Florenz", "Флоренция")),
    ("naples", ("Napoli", "Neapel", "Неаполь")),
    ("venice", ("Venezia", "Venedig", "Венеция")),
    ("turin", ("Torino", "Турин")),
    ("lisbon", ("Lisboa", "Lissabon", "Лиссабон")),
    ("brussels", ("Bruxelles", "Brussel", "Brüssel", "Брюссель")),
    ("the hague", ("Den Haag", "'s-Gravenhage", "Гаага")),
    ("copenhagen", ("København", "Kopenhagen", "Копенгаген")),
    ("geneva", ("Genève", "Genf", "Ginevra", "Женева")),
    ("zurich", ("Zürich", "Zuerich", "Цюрих")),
    ("athens", ("Athina", "Αθήνα", "Athen", "Афины")),
    ("beijing", ("Peking", "北京", "Пекин")),
    ("tokyo", ("東京", "Токио")),
    ("seoul", ("서울", "Сеул")),
    ("ho chi minh city", ("Saigon", "Ho Chi Minh", "Хошимин")),
    ("yangon", ("Rangoon",)),
    ("kyiv", ("Kiev", "Киев", "Київ", "Kyjiw")),
    ("kharkiv", ("Kharkov", "Харьков", "Харків")),
    ("odesa", ("Odessa", "Одесса", "Одеса")),
    ("lviv", ("Lvov", "Lwów", "Lemberg", "Львов", "Львів")),
    ("dnipro", ("Dnepropetrovsk", "Dnipropetrovsk", "Днепр", "Дніпро", "Днепропетровск", "Dnepr")),
    ("chisinau", ("Kishinev", "Кишинёв", "Кишинев", "Chișinău")),
    ("vilnius", ("Vilna", "Wilno", "Вильнюс")),
    ("tallinn", ("Tallin", "Таллин", "Таллинн", "Reval")),
    ("riga", ("Рига",)),
    ("minsk", ("Минск", "Мінск")),
    ("tbilisi", ("Тбилиси", "თბილისი", "Tiflis")),
    ("yerevan", ("Ереван", "Երևան", "Erevan")),
    ("baku", ("Баку", "Bakı")),
    ("almaty", ("Алматы", "Alma-Ata", "Алма-Ата")),
    ("astana", ("Астана", "Nur-Sultan", "Нур-Султан", "Akmola", "Tselinograd")),
    ("tashkent", ("Ташкент", "Toshkent")),
    ("bishkek", ("Бишкек", "Frunze")),
    ("yekaterinburg", ("Екатеринбург", "Sverdlovsk", "Свердловск")),
    ("nizhny novgorod", ("Нижний Новгород", "Nizhniy Novgorod", "Nizhni Novgorod", "Gorky")),
    ("rostov on don", ("Ростов-на-Дону", "Rostov-na-Donu")),
    ("samara", ("Самара", "Kuibyshev", "Kuybyshev")),
    ("volgograd", ("Волгоград", "Stalingrad")),
    ("new york", ("New York City", "NYC", "Нью-Йорк")),
    ("los angeles", ("Лос-Анджелес",)),
    ("london", ("Лондон", "Londres", "Londra")),
    ("paris", ("Париж", "Parigi")),
    ("berlin", ("Берлин",)),
    ("istanbul", ("Стамбул", "Constantinople")),
    ("mexico city", ("Ciudad de México", "CDMX", "Мехико")),
    ("sao paulo", ("São Paulo", "Сан-Паулу")),
)  # fmt: skip

_SAINT = frozenset({"st", "saint", "sankt", "sv", "svyatoi"})
_SAINTE = frozenset({"ste", "sainte"})
_CITY_PREFIXES = frozenset({"g", "gor", "gorod", "m", "misto"})  # 'г. Москва', 'м. Київ'


def _place_words(name: str) -> list[str]:
    words = to_latin(name).replace("-", " ").split()
    if len(words) > 1 and words[0] in _CITY_PREFIXES:
        words = words[1:]
    if len(words) > 2 and words[:2] == ["city", "of"]:
        words = words[2:]
    if len(words) > 1 and words[0] in _SAINT:
        words[0] = "saint"
    elif len(words) > 1 and words[0] in _SAINTE:
        words[0] = "sainte"
    return words


def _base_city_key(name: str) -> str:
    return " ".join(_place_words(name))


_CITY_ALIASES = {
    _base_city_key(alias): canonical for canonical, aliases in _CITIES for alias in (canonical, *aliases)
}


@memoize(1 << 16)
def city_key(name: str | None) -> str:
    """City name as a match key: Latin, folded, 'St.'/'Санкт-' unified, known aliases merged."""
    key = _base_city_key(coerce_text(name))
    return _CITY_ALIASES.get(key, key)


_COUNTRIES: dict[str, str] = {
    # native and other-language names pycountry does not know, in any script
    "España": "ES", "Italia": "IT", "Österreich": "AT", "Schweiz": "CH", "Suisse": "CH", "Svizzera": "CH",
    "Nederland": "NL", "België": "BE", "Belgique": "BE", "Polska": "PL", "Česko": "CZ",
    "Česká republika": "CZ", "Magyarország": "HU", "Sverige": "SE", "Norge": "NO", "Danmark": "DK",
    "Suomi": "FI", "Eesti": "EE", "Latvija": "LV", "Lietuva": "LT", "Ελλάδα": "GR", "Türkiye": "TR",
    "Hayastan": "AM", "Հայաստան": "AM", "Azərbaycan": "AZ", "Qazaqstan": "KZ", "Oʻzbekiston": "UZ",
    "Brasil": "BR", "Bharat": "IN", "中国": "CN", "Zhongguo": "CN", "日本": "JP", "Nippon": "JP",
    "Nihon": "JP", "한국": "KR", "대한민국": "KR", "ישראל": "IL", "مصر": "EG", "America": "US",
    "United States of America": "US", "Britain": "GB", "Scotland": "GB", "Wales": "GB",
    "Northern Ireland": "GB", "North Korea": "KP", "Laos": "LA", "Burma": "MM", "Cape Verde": "CV",
    "Україна": "UA", "Ukraina": "UA", "Rossiya": "RU", "Rossiia": "RU", "Sakartvelo": "GE",
    "Swaziland": "SZ", "East Timor": "TL", "Vatican": "VA", "Syria": "SY", "Moldavia": "MD",
    # Russian names, for records typed in Cyrillic
    "Германия": "DE", "Франция": "FR", "Италия": "IT", "Испания": "ES", "Англия": "GB",
    "Великобритания": "GB", "Китай": "CN", "Япония": "JP", "Армения": "AM", "Азербайджан": "AZ",
    "Узбекистан": "UZ", "Киргизия": "KG", "Кыргызстан": "KG", "Израиль": "IL", "Польша": "PL",
    "Чехия": "CZ", "Австрия": "AT", "Швейцария": "CH", "Нидерланды": "NL", "Голландия": "NL",
    "Бельгия": "BE", "Финляндия": "FI", "Швеция": "SE", "Норвегия": "NO", "Дания": "DK",
    "Эстония": "EE", "Латвия": "LV", "Литва": "LT", "Молдова": "MD", "Молдавия": "MD", "Канада": "CA",
    "Австралия": "AU", "Бразилия": "BR", "Мексика": "MX", "Египет": "EG", "ОАЭ": "AE", "Таджикистан": "TJ",
    "Туркменистан": "TM", "Сербия": "RS", "Болгария": "BG", "Румыния": "RO", "Венгрия": "HU",
    "Греция": "GR", "Кипр": "CY", "Таиланд": "TH", "Вьетнам": "VN", "Корея": "KR", "Южная Корея": "KR",
}  # fmt: skip
_COUNTRY_ALIASES = {to_latin(name): code for name, code in _COUNTRIES.items()}


@memoize(4096)
def country_key(name: str | None) -> str:
    """ISO 3166-1 alpha-2 code for a country name, alias or code in any script; '' if unknown."""
    text = coerce_text(name).strip()
    if not text or len(text) > 100:
        return ""
    code = normalize_country(text)
    if code:
        return code
    latin = to_latin(text)
    code = _COUNTRY_ALIASES.get(latin) or normalize_country(fold(text)) or normalize_country(latin)
    return code or ""
