"""Row-by-row plans of the sample files: who appears where, and how each row is messed up."""

from __future__ import annotations

import datetime as dt

Plan = dict[str, object]

# customers.xlsx / Customers: sheet rows 4..50, in this order. Phones are written exactly as
# given (an int is a numeric cell); "copy_of" repeats an earlier plan row (1-based) verbatim.
CUSTOMER_ROWS: list[Plan] = [
    {"key": "ivanov", "name": "Иванов Иван Иванович", "phone": "+7 (912) 345-67-89",
     "notes": "VIP, prefers Telegram"},
    {"key": "john", "phone": "(415) 555-0132", "notes": "renewal in April"},
    {"key": "priya", "phone": "+91 98240 12345", "email": "Priya.Patel@outlook.com"},
    {"key": "lukas", "phone": "+49 151 23456789"},
    {"key": "smirnova", "phone": "+7 916 123-45-67"},
    {"key": "rahul", "name": "राहुल शर्मा", "phone": "+91 98765 43210", "notes": "Hindi/English"},
    {"key": "james", "phone": "+44 20 7946 0958", "email": "James.Wilson@outlook.com"},
    {"key": "volkov", "name": "Dmitry Volkov ", "phone": "8 903 555 12 34"},
    {"key": "emily", "phone": "212-555-0187", "email": "Emily.Johnson@yahoo.com"},
    {"key": "giorgi", "phone": "+995 555 12 34 56", "notes": "wine importer"},
    {"key": "novikova", "phone": "8-926-456-78-90", "last": "12.03.2024"},
    {"key": "michael", "phone": "(312) 555-0143", "email": "MBrown@outlook.com"},
    {"key": "anna_s", "phone": "0176 12345678"},
    {"key": "sokolov", "name": " Alexey Sokolov", "phone": 89857778899},
    {"key": "amit", "phone": "098111 22233"},
    {"key": "sarah", "phone": "+1 512 555 0166", "last": dt.datetime(2024, 2, 14, 16, 30)},
    {"key": "olivia", "phone": "07911 123123"},
    {"key": "morozova", "phone": "+7 (922) 111-22-33"},
    {"key": "lebedeva", "phone": "ask reception", "notes": "front desk only"},
    {"key": "sneha", "phone": "+91 98490 11223"},
    {"key": "jonas", "phone": "+49 160 98765432"},
    {"key": "david", "phone": "206.555.0119"},
    {"key": "ivanov", "name": "Иван Иванов", "phone": "8 912 345 67 89",
     "email": "Ivan.Ivanov@mail.ru", "notes": "met at expo"},
    {"key": "nino", "phone": "+995 599 23 45 67"},
    {"key": "harry", "phone": "+44 7911 123456", "last": "03.11.2023"},
    {"key": "popov", "name": "Попов Павел", "phone": 79277001122},
    {"key": "vikram", "phone": "9829034567"},
    {"key": "jessica", "phone": "(617) 555-0124", "email": "Jess.Miller@Gmail.com"},
    {"key": "lukas", "copy_of": 4},
    {"key": "chris", "phone": "12-34", "notes": "extension unknown"},
    {"key": "charlotte", "phone": "+44 7911 123789"},
    {"key": "smirnova", "name": "  Анна  Смирнова ", "phone": 89161234567,
     "email": "anna.smirnova@yandex.ru ", "city": "St. Petersburg"},
    {"key": "lea", "phone": "0157 87654321"},
    {"key": "ananya", "phone": "+91 98401 23456"},
    {"key": "camille", "phone": "+33 6 12 34 56 78"},
    {"key": "john", "name": "Smith, John", "phone": "+1 415 555 0132",
     "email": "JOHN.SMITH@GMAIL.COM", "last": "28.02.2024"},
    {"key": "levan", "phone": "577 34 56 78"},
    {"key": "george", "phone": "020 7946 0321"},
    {"key": "arjun", "phone": "+91-98220-98765"},
    {"key": "felix", "phone": "+49 69 12345678", "last": dt.datetime(2023, 12, 5, 10, 15)},
    {"key": "rahul", "name": "राहुल शर्मा ", "phone": "098765 43210", "company": "Sharma Exports"},
    {"key": "lucia", "phone": "+34 612 34 56 78"},
    {"key": "priya", "copy_of": 3},
    {"key": "brian", "phone": "(503) 555-0190"},
    {"key": "mehmet", "phone": "+90 532 123 45 67"},
    {"key": "james", "name": "James  Wilson", "phone": "020 7946 0958",
     "email": "J.Wilson@outlook.com"},
    {"key": "aigerim", "phone": "+7 701 123 4567"},
]

# customers.xlsx / Leads: sheet rows 2..17.
LEAD_ROWS: list[Plan] = [
    {"key": "fedorov", "phone": "+7 999 888-77-66", "source": "expo"},
    {"key": "john", "phone": "+1-415-555-0132", "email": "John.Smith@gmail.com",
     "source": "website"},
    {"key": "kavya", "phone": "+91 98470 12345", "source": "referral"},
    {"key": "ashley", "phone": "(305) 555-0148", "source": "website"},
    {"key": "volkov", "phone": "+7 903 555 12 34", "source": "expo"},
    {"key": "amelia", "phone": "07911 123234", "source": "website"},
    {"key": "orlova", "phone": "8 911 222 33 44", "source": "expo"},
    {"key": "ananya", "phone": "9840123456", "email": "ANANYA.IYER@GMAIL.COM",
     "source": "referral"},
    {"key": "hannah", "phone": "+49 176 98765432", "source": "website"},
    {"key": "rohan", "phone": "+91 98800 12345", "source": "cold call"},
    {"key": "lukas", "family": "Mueller", "phone": "0151 23456789", "source": "expo"},
    {"key": "tamar", "phone": "+995 591 45 67 89", "source": "website"},
    {"key": "daniel", "phone": "602-555-0177", "source": "referral"},
    {"key": "olivia", "phone": "+44 7911 123123", "source": "website"},
    {"key": "isabella", "phone": "+39 347 123 4567", "source": "expo"},
    {"key": "wei", "phone": "+86 138 1234 5678", "source": "website"},
]

# legacy_leads_cp1251.csv: lines 2..14.
CSV_ROWS: list[Plan] = [
    {"key": "kozlov", "name": "Козлов Андрей Петрович", "phone": "8 (903) 111-22-33"},
    {"key": "ivanov", "name": "Иванов Иван Иванович", "phone": "8-912-345-67-89"},
    {"key": "vasilieva", "name": "Васильева Татьяна", "phone": "+7 915 444-55-66"},
    {"key": "smirnova", "name": "Смирнова Анна", "phone": "", "email": "ANNA.SMIRNOVA@YANDEX.RU"},
    {"key": "mikhailov", "name": "Михайлов Михаил Сергеевич", "phone": "89057778811"},
    {"key": "egorova", "name": "Егорова Наталья Викторовна", "phone": "+7(926)333-44-55"},
    {"key": "volkov", "name": "Волков Дмитрий", "phone": "+7 903 555-12-34",
     "email": "dvolkov@mail.ru"},
    {"key": "pavlov", "name": "Павлов Артём", "phone": "8 916 999 00 11"},
    {"key": "semenova", "name": "Семёнова Юлия", "phone": "8(921)777-66-55"},
    {"key": "fedorov", "name": "Федоров Николай Петрович", "phone": "8 999 888 77 66",
     "company": 'ООО "Северный ветер"'},
    {"key": "golubev", "name": "Голубев Игорь Николаевич", "phone": "+7 902 555 44 33"},
    {"key": "kuznetsova", "name": "Кузнецова Елена Андреевна", "phone": "8-985-333-22-11"},
    {"key": "bogdanov", "name": "Богданов Роман", "phone": "79601234567"},
]

# form_submissions.json: submissions 1..15 (F-1001..F-1015).
FORM_ROWS: list[Plan] = [
    {"key": "laura", "phone": "(404) 555-0163", "message": "Do you offer annual billing?"},
    {"key": "sneha", "email": "Sneha.Reddy@gmail.com", "phone": "098490 11223",
     "message": "Need a quote for 20 seats."},
    {"key": "emily", "phone": "(212) 555-0187", "message": "Please call me about the demo."},
    {"key": "neha", "phone": "+91 98190 76543", "message": "Is there an India data centre?"},
    {"key": "kuznetsova", "name": "Elena Kuznetsova", "email": "E.Kuznetsova@gmail.com",
     "phone": "+7 985 333-22-11", "message": "Здравствуйте! Нужна интеграция с 1С."},
    {"key": "kevin", "phone": "702-555-0135", "message": "Pricing for nonprofits?"},
    {"key": "giorgi", "email": "Giorgi.Beridze@gmail.com", "phone": "",
     "message": "გამარჯობა, we would like a call back."},
    {"key": "maria", "phone": "", "message": "Just browsing, no contact please."},
    {"key": "oliver", "phone": "+44 7911 123567", "message": "Can we migrate from Excel?"},
    {"key": "megan", "phone": "", "message": "Send me the brochure."},
    {"key": "emily", "phone": "", "message": "Following up on my earlier request."},
    {"key": "sophie", "phone": "07911 123890", "message": "Do you integrate with HubSpot?"},
    {"key": "james", "email": "", "phone": "020 7946 0958", "message": "Call me, please."},
    {"key": "max", "phone": "+49 152 11223344", "message": "Gibt es eine deutsche Version?"},
    {"key": "davit", "phone": "+995 593 56 78 90", "message": "Interested in the API."},
]

# calls.csv: numbers that belong to nobody in the samples.
CALLS_UNKNOWN: list[str] = [
    "+7 (916) 000-11-22",
    "+1 (650) 555-0100",
    "+44 161 496 0000",
    "89267770000",
]
