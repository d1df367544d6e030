"""fold and to_latin: case, accents, punctuation and every script the engine meets."""

from __future__ import annotations

import pytest

from mappings.normalize import fold, to_latin


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  John   SMITH ", "john smith"),
        ("Müller-Lüdenscheidt", "muller-ludenscheidt"),
        ("O’Brien", "o'brien"),
        ("Łukasz Øre Straße", "lukasz ore strasse"),
        ("ＡＢＣ", "abc"),  # full-width
        ("Smith,John", "smith john"),
        ("Dr. J.R.R. Tolkien", "dr j r r tolkien"),
        ("-leading and trailing- 'quotes'", "leading and trailing quotes"),
        ("a -- b", "a b"),
        ("Jean--Pierre", "jean-pierre"),
        ("e\u0301lise", "elise"),  # decomposed accent
        ("İstanbul", "istanbul"),
        ("Ива\u200bнов", "иванов"),  # zero-width space inside a word
        ("\u200fاحمد\u200e", "احمد"),  # RTL/LTR marks
        ("Иван 😀 Петров", "иван петров"),
        ("tab\tnew\nline", "tab new line"),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_fold_keeps_other_scripts_and_their_marks() -> None:
    assert fold("ЁЛКИН Йосиф") == "ёлкин йосиф"  # Cyrillic letters keep their breve/diaeresis
    assert fold("राहुल शर्मा") == "राहुल शर्मा"
    assert fold("Ελένη") == "ελένη"


@pytest.mark.parametrize("empty", [None, "", "   ", "\u200b", "😀🎉", "...", "\x00\x01"])
def test_fold_empty(empty: str | None) -> None:
    assert fold(empty) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Russian, passport-style
        ("Александр", "aleksandr"),
        ("Юлия", "yuliya"),
        ("Дмитрий", "dmitrii"),
        ("Наталья", "natalya"),
        ("Хрущёв", "khrushchev"),
        ("Цветков Щукин Чехов Жуков", "tsvetkov shchukin chekhov zhukov"),
        ("Лев Толстой", "lev tolstoi"),
        ("Объедков Подъячев", "obedkov podyachev"),
        # Ukrainian national system
        ("Київ", "kyiv"),
        ("Олексій", "oleksii"),
        ("Ігор", "ihor"),
        ("Юлія", "yuliia"),
        # Other Cyrillic via anyascii
        ("Қазақстан", "qazaqstan"),
        # Devanagari with schwa deletion
        ("राहुल शर्मा", "rahul sharma"),
        ("कमलेश अमरनाथ", "kamlesh amarnath"),
        ("मिश्र आदित्य कृष्ण", "mishra aditya krishna"),
        ("संजय सिंह", "sanjay singh"),
        ("सिद्धार्थ चंद्रकांत", "siddharth chandrakant"),
        ("प्रियंका चोपड़ा", "priyanka chopra"),
        ("अमिताभ बच्चन", "amitabh bachchan"),
        ("ज्ञानेश्वर", "gyaneshvar"),
        ("मुंबई", "mumbai"),
        # Tamil, Telugu, Kannada, Malayalam
        ("சுரேஷ் குமார்", "suresh kumar"),
        ("முருகன் செந்தில் கார்த்திக்", "murugan senthil karthik"),
        ("రాహుల్ శర్మ", "rahul sharma"),
        ("వెంకటేష్ రెడ్డి", "venkatesh reddi"),
        ("ರಾಹುಲ್ ಶರ್ಮಾ", "rahul sharma"),
        ("ಬೆಂಗಳೂರು", "bengaluru"),
        ("ശ്രീകുമാർ", "shrikumar"),
        # Bengali, Gujarati, Gurmukhi, Odia
        ("রাহুল শর্মা", "rahul sharma"),
        ("প্রিয়াঙ্কা চৌধুরী", "priyanka chaudhuri"),
        ("ગૌરવ પટેલ", "gaurav patel"),
        ("ਰਾਹੁਲ ਸ਼ਰਮਾ", "rahul sharma"),
        ("ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ", "gurprit singh"),
        ("ରାହୁଲ ଶର୍ମା", "rahul sharma"),
        # anyascii scripts
        ("გიორგი ბერიძე", "giorgi beridze"),
        ("Αλέξανδρος Παπαδόπουλος", "alexandros papadopoulos"),
        ("محمد", "mhmd"),
        ("北京", "beijing"),
        ("Երևան", "erevan"),
        # Latin
        ("Jean-Pierre O'Brien", "jean-pierre obrien"),
        ("Ørsted", "orsted"),
    ],
)
def test_to_latin(text: str, expected: str) -> None:
    assert to_latin(text) == expected


def test_to_latin_mixed_scripts_word_by_word() -> None:
    assert to_latin("Sankt-Петербург") == "sankt-peterburg"
    assert to_latin("Ivanович") == "ivanovich"
    assert to_latin("Rahul राहुल Рахул") == "rahul rahul rakhul"


def test_to_latin_is_lower_ascii_words() -> None:
    out = to_latin("Ёлкин Σωκράτης محمد 東京 ಕನ್ನಡ ქართული 😀 №5 ™")
    assert out.isascii()
    assert out == out.lower()
    assert all(word.strip("-").replace("-", "").isalnum() for word in out.split())


@pytest.mark.parametrize("empty", [None, "", "   ", "😀", "\u200f", "!!!"])
def test_to_latin_empty(empty: str | None) -> None:
    assert to_latin(empty) == ""


def test_digits_survive() -> None:
    assert to_latin("3M") == "3m"
    assert to_latin("४२") == "42"  # Devanagari digits
