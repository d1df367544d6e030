"""Name, nickname, city and provider tables for the synthetic generator, per country.

Lists are ordered roughly by real-world frequency: the generator weights them by rank
(Zipf-like), so the head names ('John Smith', 'Иван Иванов') recur as strangers at scale.
Russian and Georgian names are kept in their own script only (they transliterate by rule,
see translit.py); Indian names carry their Latin spelling variants beside the Devanagari.
"""

from __future__ import annotations

# --- Russia (Cyrillic; Latin by transliteration) -------------------------------------------------
RU_MALE = (
    "Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Максим", "Евгений", "Иван", "Михаил",
    "Артём", "Владимир", "Николай", "Денис", "Павел", "Роман", "Игорь", "Олег", "Виктор", "Антон",
    "Юрий", "Никита", "Константин", "Илья", "Кирилл", "Егор", "Вадим", "Василий", "Анатолий",
    "Григорий", "Борис", "Пётр", "Фёдор", "Тимур", "Руслан", "Станислав", "Леонид", "Георгий",
    "Вячеслав", "Валерий", "Геннадий", "Матвей", "Даниил", "Ярослав", "Семён", "Глеб", "Аркадий",
    "Эдуард", "Виталий", "Лев", "Марк",
)
RU_FEMALE = (
    "Елена", "Ольга", "Наталья", "Татьяна", "Анна", "Ирина", "Мария", "Екатерина", "Светлана",
    "Юлия", "Анастасия", "Марина", "Людмила", "Галина", "Дарья", "Ксения", "Виктория", "Надежда",
    "Валентина", "Евгения", "Алина", "Полина", "Вера", "Любовь", "Кристина", "Оксана", "Софья",
    "Елизавета", "Александра", "Нина", "Лариса", "Тамара", "Жанна", "Вероника", "Алёна", "Диана",
    "Маргарита", "Варвара", "Ульяна", "Милана",
)
RU_SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов",
    "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев",
    "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин",
    "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов",
    "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов",
    "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов",
    "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов", "Крылов", "Куликов", "Карпов",
    "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов",
    "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов", "Мартынов", "Ефимов", "Федотов",
    "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв", "Быков", "Маслов", "Родионов",
    "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев", "Кудрявцев",
    "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов", "Соболев",
    "Ермаков", "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин",
    "Ефремов", "Архипов", "Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов",
    "Кондратьев", "Бирюков", "Горбунов", "Анисимов", "Ерёмин", "Тихомиров", "Галкин", "Лукьянов",
    "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров", "Симонов", "Харитонов", "Князев",
    "Цветков", "Левин", "Воронов", "Аксёнов", "Мальцев", "Логинов", "Горшков", "Савин", "Краснов",
    "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов", "Плотников", "Хохлов", "Жданов",
    "Островский", "Ковалевский", "Руденко", "Шевченко", "Бондаренко", "Кравченко",
)
# Syllables for the long tail of rarer surnames (Cyrillic; suffix added by the generator).
RU_SYLLABLES = (
    "бар", "вол", "гор", "дуб", "жар", "зем", "кал", "лом", "мах", "нов", "пал", "рус", "сад",
    "тур", "хол", "чер", "шум", "бел", "вер", "глад", "друж", "ер", "жук", "зор", "кир", "лес",
    "мед", "нос", "остр", "пес", "род", "сол", "тит", "фед", "хмел", "цар", "шир", "яр", "кол",
    "мор", "бор", "вит", "гал", "дор", "кос", "лук", "мир", "нар", "пол", "рад", "сер", "тар", "уш",
    "фом", "чист", "щег",
)
RU_SURNAME_ENDINGS = ("ов", "ев", "ин", "ский", "енко", "ук", "ых")
RU_NICKNAMES = {
    "Александр": ("Саша", "Шура"), "Дмитрий": ("Дима",), "Михаил": ("Миша",),
    "Алексей": ("Лёша", "Алёша"), "Сергей": ("Серёжа",), "Владимир": ("Вова", "Володя"),
    "Иван": ("Ваня",), "Николай": ("Коля",), "Евгений": ("Женя",), "Андрей": ("Андрюша",),
    "Павел": ("Паша",), "Константин": ("Костя",), "Вячеслав": ("Слава",), "Станислав": ("Стас",),
    "Анатолий": ("Толя",), "Виктор": ("Витя",), "Юрий": ("Юра",), "Екатерина": ("Катя",),
    "Мария": ("Маша",), "Елена": ("Лена",), "Наталья": ("Наташа",), "Татьяна": ("Таня",),
    "Анна": ("Аня",), "Ольга": ("Оля",), "Ирина": ("Ира",), "Светлана": ("Света",),
    "Юлия": ("Юля",), "Анастасия": ("Настя",), "Дарья": ("Даша",), "Ксения": ("Ксюша",),
    "Евгения": ("Женя",), "Елизавета": ("Лиза",), "Александра": ("Саша",), "Людмила": ("Люда",),
    "Галина": ("Галя",), "Надежда": ("Надя",), "Валентина": ("Валя",), "Виктория": ("Вика",),
    "Софья": ("Соня",), "Полина": ("Поля",), "Даниил": ("Даня",), "Георгий": ("Жора",),
}
# Patronymics (male, female) that do not follow the regular -ович / -евич / -ьевич rule.
RU_PATRONYMIC_EXCEPTIONS = {
    "Илья": ("Ильич", "Ильинична"), "Никита": ("Никитич", "Никитична"), "Лев": ("Львович", "Львовна"),
    "Павел": ("Павлович", "Павловна"), "Пётр": ("Петрович", "Петровна"),
    "Дмитрий": ("Дмитриевич", "Дмитриевна"), "Георгий": ("Георгиевич", "Георгиевна"),
}

# --- Georgia (Georgian script; Latin by transliteration) ----------------------------------------
GE_MALE = (
    "გიორგი", "დავით", "ნიკოლოზ", "ლუკა", "ალექსანდრე", "ირაკლი", "ლევან", "ზურაბ", "ლაშა", "ბექა",
    "თორნიკე", "ვახტანგ", "ოთარ", "მამუკა", "გიგა", "დემეტრე", "ნოდარ", "რევაზ", "შოთა", "ტემურ",
)
GE_FEMALE = (
    "ნინო", "მარიამ", "ანა", "ეკატერინე", "თამარ", "ნატო", "სალომე", "ნათია", "ქეთევან", "მაია",
    "ელენე", "ნანა", "თეონა", "ხათუნა", "ლიკა", "მზია", "ნესტან",
)
GE_SURNAMES = (
    "ბერიძე", "კაპანაძე", "გელაშვილი", "მაისურაძე", "გიორგაძე", "ლომიძე", "წიკლაური", "ბოლქვაძე",
    "კვარაცხელია", "ნოზაძე", "ხუციშვილი", "შენგელია", "აბაშიძე", "ჯაფარიძე", "მჭედლიშვილი",
    "ტაბატაძე", "მამულაშვილი", "ჩხეიძე", "ქავთარაძე", "ბაქრაძე", "მელაძე", "კიკნაძე", "ჯანელიძე",
    "ღლონტი",
)
GE_SYLLABLES = (
    "ბა", "გე", "და", "ლო", "მა", "ნი", "ქა", "ხუ", "ჩხე", "ტა", "ფი", "ზო", "ვა", "რე", "სი", "შა",
    "ჯა", "ღო", "ცი", "კო",
)
GE_SURNAME_ENDINGS = ("შვილი", "ძე", "ია", "ური", "ანი")
GE_NICKNAMES = {"ალექსანდრე": ("სანდრო",), "ეკატერინე": ("ეკა",), "გიორგი": ("გოგა", "გია"),
                "ნიკოლოზ": ("ნიკა",), "ქეთევან": ("ქეთი",), "დავით": ("დათო",), "ელენე": ("ელე",)}

# --- India (Devanagari with Latin spelling variants) ---------------------------------------------
IN_MALE = (
    ("राहुल", ("Rahul",)), ("अमित", ("Amit",)), ("राजेश", ("Rajesh",)), ("सुनील", ("Sunil",)),
    ("अनिल", ("Anil",)), ("विजय", ("Vijay",)), ("संजय", ("Sanjay",)), ("रवि", ("Ravi",)),
    ("अजय", ("Ajay",)), ("मनोज", ("Manoj",)), ("प्रकाश", ("Prakash",)), ("सुरेश", ("Suresh",)),
    ("रमेश", ("Ramesh",)), ("दीपक", ("Deepak", "Dipak")), ("अशोक", ("Ashok",)),
    ("विकास", ("Vikas",)), ("आकाश", ("Akash", "Aakash")), ("अर्जुन", ("Arjun",)),
    ("रोहित", ("Rohit",)), ("विशाल", ("Vishal",)), ("अभिषेक", ("Abhishek",)),
    ("नितिन", ("Nitin",)), ("प्रवीण", ("Praveen", "Pravin")), ("आदित्य", ("Aditya",)),
    ("करण", ("Karan",)), ("सचिन", ("Sachin",)), ("गौरव", ("Gaurav",)), ("मुकेश", ("Mukesh",)),
    ("राकेश", ("Rakesh",)), ("श्याम", ("Shyam",)), ("विनोद", ("Vinod",)), ("हरीश", ("Harish",)),
)
IN_FEMALE = (
    ("प्रिया", ("Priya",)), ("पूजा", ("Pooja", "Puja")), ("नेहा", ("Neha",)), ("अंजलि", ("Anjali",)),
    ("सुनीता", ("Sunita",)), ("अनीता", ("Anita",)), ("कविता", ("Kavita", "Kavitha")),
    ("दिव्या", ("Divya",)), ("स्नेहा", ("Sneha",)), ("लक्ष्मी", ("Lakshmi", "Laxmi")),
    ("गीता", ("Geeta", "Gita")), ("रितु", ("Ritu",)), ("शालिनी", ("Shalini",)),
    ("आरती", ("Aarti", "Arti")), ("मीना", ("Meena", "Mina")), ("सीमा", ("Seema", "Sima")),
    ("ज्योति", ("Jyoti", "Jyothi")), ("श्वेता", ("Shweta", "Sweta")), ("रेखा", ("Rekha",)),
    ("दीपिका", ("Deepika", "Dipika")), ("पायल", ("Payal",)), ("निशा", ("Nisha",)),
)
IN_SURNAMES = (
    ("शर्मा", ("Sharma",)), ("सिंह", ("Singh",)), ("कुमार", ("Kumar",)), ("वर्मा", ("Verma",)),
    ("गुप्ता", ("Gupta",)), ("पटेल", ("Patel",)), ("यादव", ("Yadav",)), ("शाह", ("Shah",)),
    ("मेहता", ("Mehta",)), ("जैन", ("Jain",)), ("अग्रवाल", ("Agarwal", "Aggarwal")),
    ("मिश्रा", ("Mishra",)), ("पांडे", ("Pandey", "Pande")), ("तिवारी", ("Tiwari",)),
    ("चौहान", ("Chauhan",)), ("ठाकुर", ("Thakur",)), ("जोशी", ("Joshi",)), ("राव", ("Rao",)),
    ("रेड्डी", ("Reddy",)), ("नायर", ("Nair",)), ("अय्यर", ("Iyer",)), ("खन्ना", ("Khanna",)),
    ("कपूर", ("Kapoor", "Kapur")), ("मल्होत्रा", ("Malhotra",)),
    ("चौधरी", ("Chaudhary", "Choudhary")), ("देसाई", ("Desai",)), ("भट्ट", ("Bhatt", "Bhat")),
    ("शुक्ला", ("Shukla",)), ("श्रीवास्तव", ("Srivastava",)), ("सक्सेना", ("Saxena",)),
    ("बनर्जी", ("Banerjee",)), ("मुखर्जी", ("Mukherjee",)), ("दास", ("Das",)), ("घोष", ("Ghosh",)),
    ("नायक", ("Nayak", "Naik")), ("पाटिल", ("Patil",)), ("कुलकर्णी", ("Kulkarni",)),
)
# (Devanagari, Latin) syllables for the tail of rarer surnames.
IN_SYLLABLES = (("का", "ka"), ("मा", "ma"), ("रा", "ra"), ("ला", "la"), ("ना", "na"),
                ("सु", "su"), ("दे", "de"), ("गो", "go"), ("भा", "bha"), ("वि", "vi"),
                ("प्र", "pra"), ("श्री", "shri"), ("ति", "ti"), ("हे", "he"), ("जा", "ja"),
                ("बा", "ba"), ("धा", "dha"), ("कु", "ku"), ("मो", "mo"), ("से", "se"))
IN_FINALS = (("र", "r"), ("न", "n"), ("ल", "l"), ("त", "t"), ("ड", "d"), ("म", "m"), ("", ""))
IN_NICKNAMES = {"Abhishek": ("Abhi",), "Rajesh": ("Raju",), "Vishal": ("Vishu",),
                "Deepika": ("Deepu",), "Lakshmi": ("Lakshmi",)}

# --- English-speaking (US, GB) -------------------------------------------------------------------
EN_MALE = (
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas",
    "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul",
    "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Edward", "Ronald", "Timothy",
    "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Stephen", "Larry",
    "Justin", "Scott", "Brandon", "Benjamin", "Samuel", "Gregory", "Alexander", "Patrick", "Frank",
    "Oliver", "Harry", "Jack",
)
EN_FEMALE = (
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah",
    "Karen", "Nancy", "Lisa", "Betty", "Margaret", "Sandra", "Ashley", "Kimberly", "Emily", "Donna",
    "Michelle", "Dorothy", "Carol", "Amanda", "Melissa", "Deborah", "Stephanie", "Rebecca",
    "Sharon", "Laura", "Cynthia", "Katherine", "Amy", "Angela", "Emma", "Olivia", "Sophie",
    "Charlotte", "Victoria", "Hannah", "Grace",
)
EN_SURNAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
    "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter",
    "Mitchell", "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards",
    "Collins", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson",
    "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward", "Cox", "Richardson", "Wood", "Watson",
    "Brooks", "Bennett", "Gray", "Hughes", "Price", "Sanders", "Davies", "Walsh", "Patel", "Khan",
    "Hall", "Wright", "Hughes", "Palmer",
)
EN_SYLLABLES = (
    "ash", "ber", "cal", "dun", "el", "far", "gar", "hol", "kin", "lan", "mor", "nor", "pem", "ran",
    "stan", "thorn", "wel", "brad", "crom", "dal", "fen", "grim", "hart", "lock", "mer", "rad",
    "shel", "tal", "wick",
)
EN_SURNAME_ENDINGS = ("ton", "ford", "ley", "son", "field", "er", "wood", "by", "well", "man")
EN_NICKNAMES = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth", "Betty"), "James": ("Jim", "Jimmy"), "John": ("Jack", "Johnny"),
    "Michael": ("Mike",), "Richard": ("Rick", "Dick"), "Thomas": ("Tom",), "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",), "Anthony": ("Tony",), "Joseph": ("Joe",),
    "Charles": ("Charlie", "Chuck"), "Steven": ("Steve",), "Andrew": ("Andy", "Drew"),
    "Joshua": ("Josh",), "Kenneth": ("Ken",), "Edward": ("Ed", "Ted"), "Timothy": ("Tim",),
    "Jeffrey": ("Jeff",), "Nicholas": ("Nick",), "Jonathan": ("Jon",), "Stephen": ("Steve",),
    "Benjamin": ("Ben",), "Samuel": ("Sam",), "Gregory": ("Greg",), "Alexander": ("Alex",),
    "Patrick": ("Pat",), "Jennifer": ("Jen", "Jenny"), "Patricia": ("Pat", "Patty"),
    "Margaret": ("Maggie", "Peggy", "Meg"), "Katherine": ("Kate", "Kathy", "Katie"),
    "Rebecca": ("Becky",), "Deborah": ("Debbie",), "Susan": ("Sue",), "Victoria": ("Vicky",),
    "Kimberly": ("Kim",), "Stephanie": ("Steph",), "Amanda": ("Mandy",), "Cynthia": ("Cindy",),
}

# --- Germany -------------------------------------------------------------------------------------
DE_MALE = (
    "Thomas", "Michael", "Andreas", "Stefan", "Peter", "Christian", "Klaus", "Wolfgang", "Jürgen",
    "Frank", "Uwe", "Markus", "Matthias", "Alexander", "Martin", "Sebastian", "Tobias", "Jan",
    "Lukas", "Maximilian", "Felix", "Johannes", "Dieter", "Günter", "Florian", "Daniel", "Jörg",
    "Ralf", "Bernd", "Niklas",
)
DE_FEMALE = (
    "Sabine", "Susanne", "Petra", "Monika", "Claudia", "Andrea", "Stefanie", "Julia", "Katharina",
    "Anna", "Laura", "Lena", "Sandra", "Nicole", "Birgit", "Ursula", "Karin", "Gabriele", "Sophie",
    "Lea", "Jana", "Anja", "Heike", "Ute", "Brigitte",
)
DE_SURNAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner",
    "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann",
    "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller",
    "Weiß", "Jung", "Hahn", "Vogel", "Günther", "Böhm",
)
DE_SYLLABLES = (
    "berg", "bach", "feld", "hau", "lin", "mar", "ros", "stein", "wal", "eich", "dorn", "kamp",
    "brück", "hol",
)
DE_SURNAME_ENDINGS = ("er", "mann", "inger", "hardt", "ner", "bauer")
DE_NICKNAMES = {"Johannes": ("Hans",), "Maximilian": ("Max",), "Alexander": ("Alex",),
                "Stefanie": ("Steffi",), "Gabriele": ("Gabi",), "Christian": ("Chris",),
                "Susanne": ("Susi",), "Andreas": ("Andi",), "Katharina": ("Kathi",),
                "Tobias": ("Tobi",), "Matthias": ("Matze",)}

# --- Places and e-mail providers -----------------------------------------------------------------
# (local spelling, English spelling)
CITIES = {
    "RU": (("Москва", "Moscow"), ("Санкт-Петербург", "Saint Petersburg"),
           ("Новосибирск", "Novosibirsk"), ("Екатеринбург", "Yekaterinburg"), ("Казань", "Kazan"),
           ("Нижний Новгород", "Nizhny Novgorod"), ("Самара", "Samara"),
           ("Краснодар", "Krasnodar"), ("Пермь", "Perm"), ("Воронеж", "Voronezh")),
    "IN": (("Mumbai", "Bombay"), ("Delhi", "New Delhi"), ("Bengaluru", "Bangalore"),
           ("Hyderabad", "Hyderabad"), ("Chennai", "Madras"), ("Kolkata", "Calcutta"),
           ("Pune", "Pune"), ("Ahmedabad", "Ahmedabad"), ("Jaipur", "Jaipur"),
           ("Lucknow", "Lucknow")),
    "US": tuple((c, c) for c in ("New York", "Los Angeles", "Chicago", "Houston", "Phoenix",
                                 "San Francisco", "Seattle", "Boston", "Austin", "Denver")),
    "GB": tuple((c, c) for c in ("London", "Manchester", "Birmingham", "Leeds", "Glasgow",
                                 "Edinburgh", "Bristol", "Liverpool")),
    "DE": (("Berlin", "Berlin"), ("München", "Munich"), ("Hamburg", "Hamburg"),
           ("Köln", "Cologne"), ("Frankfurt am Main", "Frankfurt"), ("Stuttgart", "Stuttgart"),
           ("Düsseldorf", "Dusseldorf"), ("Leipzig", "Leipzig")),
    "GE": (("თბილისი", "Tbilisi"), ("ბათუმი", "Batumi"), ("ქუთაისი", "Kutaisi"),
           ("რუსთავი", "Rustavi")),
}
# Ways a source writes each country.
COUNTRY_SPELLINGS = {
    "RU": ("RU", "Russia", "Россия", "Russian Federation", "РФ"),
    "IN": ("IN", "India", "भारत", "India"),
    "US": ("US", "USA", "United States", "U.S.A."),
    "GB": ("GB", "UK", "United Kingdom", "England"),
    "DE": ("DE", "Germany", "Deutschland"),
    "GE": ("GE", "Georgia", "საქართველო", "Грузия"),
}
PROVIDERS = {
    "RU": ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru", "inbox.ru", "rambler.ru"),
    "IN": ("gmail.com", "yahoo.co.in", "rediffmail.com", "outlook.com", "hotmail.com"),
    "US": ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "aol.com", "icloud.com"),
    "GB": ("gmail.com", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com", "outlook.com"),
    "DE": ("gmx.de", "web.de", "gmail.com", "t-online.de", "outlook.de"),
    "GE": ("gmail.com", "mail.ru", "yahoo.com"),
}
HANDLE_WORDS = (
    "sunny", "fox", "wolf", "star", "tiger", "blue", "happy", "magic", "dark", "little", "super",
    "cool", "night", "angel", "dragon", "silver", "lucky", "crazy", "smart", "red", "green", "ice",
    "fire",
)
COMPANY_WORDS = (
    "Vector", "Atlas", "Orion", "Nord", "Prime", "Alpha", "Delta", "Global", "Smart", "Blue",
    "Green", "Sun", "Star", "Data", "Soft", "Trans", "Stroy", "Invest", "Med", "Agro", "Polar",
    "Baltic", "Ural", "Volga", "Ganga", "Lotus", "Saffron", "Kaveri", "Himalaya", "Rhein", "Elbe",
    "Alpen", "Hansa", "Liberty", "Eagle", "Summit", "Harbor", "Pioneer", "Crown", "Oak", "Maple",
    "Kartli", "Mtatsminda", "Rioni", "Iveria",
)
COMPANY_NOUNS = (
    "Systems", "Solutions", "Group", "Trade", "Logistics", "Consulting", "Labs", "Partners",
    "Media", "Capital", "Foods", "Energy", "Motors", "Pharma", "Retail", "Design", "Services",
    "Networks", "Industries", "Holding",
)
COMPANY_SUFFIXES = {
    "RU": ("LLC", "OOO", "ООО", "JSC", "АО"), "IN": ("Pvt Ltd", "Private Limited", "Ltd"),
    "US": ("Inc.", "Inc", "LLC", "Corp."), "GB": ("Ltd", "Limited", "plc"),
    "DE": ("GmbH", "AG", "GmbH & Co. KG"), "GE": ("LLC", "შპს", "Ltd"),
}
