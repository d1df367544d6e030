"""The fictional people behind the sample files, and which rows of which file each one fills."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    """One real-world (fictional) customer; ``phone`` is E.164 digits without '+'."""

    key: str
    given: str
    family: str
    patronymic: str
    country: str
    city: str
    phone: str
    email: str
    company: str

    @property
    def full(self) -> str:
        """Given name first, as most exports write it."""
        return f"{self.given} {self.family}"


def _p(key: str, given: str, family: str, country: str, city: str, phone: str, email: str,
       company: str = "", patronymic: str = "") -> Person:
    return Person(key, given, family, patronymic, country, city, phone, email, company)


PEOPLE: tuple[Person, ...] = (
    # Customers sheet (40 people)
    _p("ivanov", "Иван", "Иванов", "Russia", "Moscow", "79123456789", "ivan.ivanov@mail.ru",
       'ООО "Ромашка"', "Иванович"),
    _p("smirnova", "Анна", "Смирнова", "Russia", "Saint Petersburg", "79161234567",
       "anna.smirnova@yandex.ru", 'АО "Вектор"'),
    _p("volkov", "Dmitry", "Volkov", "Russia", "Kazan", "79035551234", "d.volkov@gmail.com",
       'ООО "Ромашка"'),
    _p("novikova", "Ольга", "Новикова", "Russia", "Novosibirsk", "79264567890",
       "olga.novikova@mail.ru", "ИП Новикова О.В."),
    _p("sokolov", "Alexey", "Sokolov", "Russia", "Moscow", "79857778899", "a.sokolov@inbox.ru",
       "Globex LLC"),
    _p("morozova", "Ekaterina", "Morozova", "Russia", "Yekaterinburg", "79221112233",
       "kate.morozova@gmail.com", "Initech Ltd."),
    _p("popov", "Павел", "Попов", "Russia", "Samara", "79277001122", "ppopov@yandex.ru",
       'ООО "ТехноСтрой"'),
    _p("lebedeva", "Mariya", "Lebedeva", "Russia", "Moscow", "79031234500",
       "m.lebedeva@mail.ru", 'ООО "Ромашка"'),
    _p("rahul", "राहुल", "शर्मा", "India", "Mumbai", "919876543210", "rahul.sharma@gmail.com",
       "Sharma Exports Pvt Ltd"),
    _p("priya", "Priya", "Patel", "India", "Ahmedabad", "919824012345", "priya.patel@outlook.com",
       "Globex LLC"),
    _p("amit", "Amit", "Kumar", "India", "New Delhi", "919811122233", "amit.kumar@yahoo.co.in",
       "Kumar Textiles"),
    _p("sneha", "Sneha", "Reddy", "India", "Hyderabad", "919849011223", "sneha.reddy@gmail.com",
       "Initech Ltd."),
    _p("vikram", "Vikram", "Singh", "India", "Jaipur", "919829034567", "vikram.singh@rediffmail.com",
       "Rajputana Crafts"),
    _p("ananya", "Ananya", "Iyer", "India", "Chennai", "919840123456", "ananya.iyer@gmail.com",
       "Globex LLC"),
    _p("arjun", "Arjun", "Mehta", "India", "Pune", "919822098765", "arjun.mehta@hotmail.com",
       "Mehta Logistics"),
    _p("john", "John", "Smith", "US", "San Francisco", "14155550132", "john.smith@gmail.com",
       "Globex LLC"),
    _p("emily", "Emily", "Johnson", "US", "New York", "12125550187", "emily.johnson@yahoo.com",
       "Initech Ltd."),
    _p("michael", "Michael", "Brown", "US", "Chicago", "13125550143", "mbrown@outlook.com",
       "Northwind Traders Inc."),
    _p("sarah", "Sarah", "Davis", "US", "Austin", "15125550166", "sarah.davis@gmail.com",
       "Fabrikam Inc."),
    _p("david", "David", "Wilson", "US", "Seattle", "12065550119", "dwilson@fabrikam.com",
       "Fabrikam Inc."),
    _p("jessica", "Jessica", "Miller", "US", "Boston", "16175550124", "jess.miller@gmail.com",
       "Tailspin Toys"),
    _p("chris", "Chris", "Taylor", "US", "Denver", "13035550171", "chris.taylor@initech.com",
       "Initech Ltd."),
    _p("brian", "Brian", "Clark", "US", "Portland", "15035550190", "brian.clark@gmail.com",
       "Wingtip Toys"),
    _p("james", "James", "Wilson", "UK", "London", "442079460958", "james.wilson@outlook.com",
       "Initech Ltd."),
    _p("olivia", "Olivia", "Clarke", "UK", "Manchester", "447911123123", "olivia.clarke@gmail.com",
       "Contoso Ltd"),
    _p("harry", "Harry", "Evans", "UK", "Cardiff", "447911123456", "harry.evans@btinternet.com",
       "Evans & Sons Ltd"),
    _p("charlotte", "Charlotte", "Hughes", "UK", "Leeds", "447911123789",
       "charlotte.hughes@gmail.com", "Globex LLC"),
    _p("george", "George", "Wright", "UK", "Bristol", "442079460321", "g.wright@contoso.co.uk",
       "Contoso Ltd"),
    _p("lukas", "Lukas", "Müller", "Germany", "Berlin", "4915123456789", "lukas.mueller@web.de",
       "Contoso GmbH"),
    _p("anna_s", "Anna", "Schmidt", "Germany", "Munich", "4917612345678", "anna.schmidt@gmx.de",
       "Schmidt Maschinenbau GmbH"),
    _p("jonas", "Jonas", "Weber", "Germany", "Hamburg", "4916098765432", "jonas.weber@gmail.com",
       "Weber & Co. KG"),
    _p("lea", "Lea", "Fischer", "Germany", "Cologne", "4915787654321", "lea.fischer@t-online.de",
       "Contoso GmbH"),
    _p("felix", "Felix", "Wagner", "Germany", "Frankfurt", "496912345678", "f.wagner@fabrikam.de",
       "Fabrikam GmbH"),
    _p("giorgi", "Giorgi", "Beridze", "Georgia", "Tbilisi", "995555123456",
       "giorgi.beridze@gmail.com", "Tbilisi Wine House LLC"),
    _p("nino", "Nino", "Kapanadze", "Georgia", "Batumi", "995599234567", "nino.k@mail.ge",
       "Black Sea Tours"),
    _p("levan", "Levan", "Gelashvili", "Georgia", "Tbilisi", "995577345678",
       "levan.gelashvili@gmail.com", "Globex LLC"),
    _p("camille", "Camille", "Dubois", "France", "Paris", "33612345678", "camille.dubois@orange.fr",
       "Dubois SARL"),
    _p("lucia", "Lucía", "García", "Spain", "Madrid", "34612345678", "lucia.garcia@gmail.com",
       "García e Hijos S.L."),
    _p("mehmet", "Mehmet", "Yılmaz", "Turkey", "Istanbul", "905321234567",
       "mehmet.yilmaz@gmail.com", "Yılmaz Tekstil A.Ş."),
    _p("aigerim", "Aigerim", "Nurlanova", "Kazakhstan", "Almaty", "77011234567",
       "aigerim.n@mail.kz", "Steppe Trade LLP"),
    # Leads sheet only (11 people)
    _p("fedorov", "Nikolai", "Fedorov", "Russia", "Moscow", "79998887766", "n.fedorov@gmail.com",
       "", "Petrovich"),
    _p("orlova", "Svetlana", "Orlova", "Russia", "Saint Petersburg", "79112223344",
       "svetlana.orlova@yandex.ru"),
    _p("kavya", "Kavya", "Nair", "India", "Kochi", "919847012345", "kavya.nair@gmail.com"),
    _p("rohan", "Rohan", "Gupta", "India", "Bengaluru", "919880012345", "rohan.gupta@outlook.com"),
    _p("ashley", "Ashley", "Moore", "US", "Miami", "13055550148", "ashley.moore@gmail.com"),
    _p("daniel", "Daniel", "Anderson", "US", "Phoenix", "16025550177", "dan.anderson@yahoo.com"),
    _p("amelia", "Amelia", "Turner", "UK", "Edinburgh", "447911123234", "amelia.turner@gmail.com"),
    _p("hannah", "Hannah", "Becker", "Germany", "Stuttgart", "4917698765432",
       "hannah.becker@gmx.de"),
    _p("tamar", "Tamar", "Lomidze", "Georgia", "Kutaisi", "995591456789", "tamar.lomidze@gmail.com"),
    _p("isabella", "Isabella", "Rossi", "Italy", "Milan", "393471234567", "isabella.rossi@libero.it"),
    _p("wei", "Wei", "Zhang", "China", "Shanghai", "8613812345678", "zhang.wei@163.com"),
    # legacy CSV only (9 people)
    _p("kozlov", "Андрей", "Козлов", "Russia", "", "79031112233", "kozlov.a@mail.ru",
       'ООО "Альфа"', "Петрович"),
    _p("vasilieva", "Татьяна", "Васильева", "Russia", "", "79154445566", "t.vasilieva@yandex.ru",
       'АО "Вектор"'),
    _p("mikhailov", "Михаил", "Михайлов", "Russia", "", "79057778811", "mikhailov.ms@gmail.com",
       "ИП Михайлов", "Сергеевич"),
    _p("egorova", "Наталья", "Егорова", "Russia", "", "79263334455", "egorova.nv@mail.ru",
       'ООО "Ромашка"', "Викторовна"),
    _p("pavlov", "Артём", "Павлов", "Russia", "", "79169990011", "artem.pavlov@yandex.ru",
       'ООО "СтройИнвест"'),
    _p("semenova", "Юлия", "Семёнова", "Russia", "", "79217776655", "yulia.semenova@mail.ru", ""),
    _p("golubev", "Игорь", "Голубев", "Russia", "", "79025554433", "golubev.in@inbox.ru",
       'ООО "ТехноСтрой"', "Николаевич"),
    _p("kuznetsova", "Елена", "Кузнецова", "Russia", "", "79853332211", "e.kuznetsova@gmail.com",
       'АО "Вектор"', "Андреевна"),
    _p("bogdanov", "Роман", "Богданов", "Russia", "", "79601234567", "r.bogdanov@mail.ru", ""),
    # web form only (9 people)
    _p("neha", "Neha", "Joshi", "India", "", "919819076543", "neha.joshi@gmail.com"),
    _p("laura", "Laura", "Thomas", "US", "", "14045550163", "laura.thomas@gmail.com"),
    _p("kevin", "Kevin", "White", "US", "", "17025550135", "kevin.white@outlook.com"),
    _p("megan", "Megan", "Harris", "US", "", "16195550112", "megan.harris@yahoo.com"),
    _p("oliver", "Oliver", "Bennett", "UK", "", "447911123567", "oliver.bennett@gmail.com"),
    _p("sophie", "Sophie", "Walker", "UK", "", "447911123890", "sophie.walker@hotmail.co.uk"),
    _p("max", "Maximilian", "Schulz", "Germany", "", "4915211223344", "max.schulz@web.de"),
    _p("davit", "Davit", "Tsiklauri", "Georgia", "", "995593567890", "davit.tsiklauri@gmail.com"),
    _p("maria", "Maria", "Gonzalez", "US", "", "", ""),
)

BY_KEY: dict[str, Person] = {p.key: p for p in PEOPLE}
