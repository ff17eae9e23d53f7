"""The demo ministry as data: real entity names of the Saudi Ministry of Education.

Every tuple is (code, name_ar, name_en, region). Region codes are the thirteen
administrative regions of Saudi Arabia. The loader adds each entity with the
treebeard manager API and opens a care centre where the data says so.
"""

from __future__ import annotations

import datetime as dt

# The thirteen administrative regions: code → (Arabic, English).
REGIONS: dict[str, tuple[str, str]] = {
    "riyadh": ("الرياض", "Riyadh"),
    "makkah": ("مكة المكرمة", "Makkah"),
    "madinah": ("المدينة المنورة", "Madinah"),
    "eastern": ("الشرقية", "Eastern Province"),
    "qassim": ("القصيم", "Qassim"),
    "asir": ("عسير", "Asir"),
    "tabuk": ("تبوك", "Tabuk"),
    "hail": ("حائل", "Hail"),
    "northern-borders": ("الحدود الشمالية", "Northern Borders"),
    "jazan": ("جازان", "Jazan"),
    "najran": ("نجران", "Najran"),
    "baha": ("الباحة", "Al-Baha"),
    "jouf": ("الجوف", "Al-Jouf"),
}

MINISTRY = ("moe", "وزارة التعليم", "Ministry of Education", "riyadh")
CENTRAL_CENTRE = (
    "مركز رعاية المستفيدين بوزارة التعليم",
    "Ministry of Education Beneficiary Care Centre",
)

# Sectors hold the departments and universities; deputyships (kind `agency`) have
# no centre of their own, so what is sent to them lands at the central centre.
GENERAL_EDUCATION = ("general-education", "قطاع التعليم العام", "General Education", "")
HIGHER_EDUCATION = (
    "higher-education",
    "قطاع التعليم الجامعي والبحث العلمي",
    "Higher Education and Scientific Research",
    "",
)
DEPUTYSHIPS = (
    ("human-resources", "وكالة الوزارة للموارد البشرية", "Deputyship for Human Resources", ""),
    (
        "planning-development",
        "وكالة الوزارة للتخطيط والتطوير",
        "Deputyship for Planning and Development",
        "",
    ),
    (
        "private-education",
        "الإدارة العامة للتعليم الأهلي والأجنبي",
        "General Administration of Private and Foreign Education",
        "",
    ),
    ("scholarships", "وكالة الوزارة للبعثات", "Deputyship for Scholarships", ""),
)

# The regional general administrations of education: one per region, then the
# governorate departments (47 in all), each with its care centre.
REGIONAL_DEPARTMENTS = (
    (
        "edu-riyadh",
        "الإدارة العامة للتعليم بمنطقة الرياض",
        "General Administration of Education in Riyadh Region",
        "riyadh",
    ),
    (
        "edu-makkah",
        "الإدارة العامة للتعليم بمنطقة مكة المكرمة",
        "General Administration of Education in Makkah Region",
        "makkah",
    ),
    (
        "edu-madinah",
        "الإدارة العامة للتعليم بمنطقة المدينة المنورة",
        "General Administration of Education in Madinah Region",
        "madinah",
    ),
    (
        "edu-eastern",
        "الإدارة العامة للتعليم بالمنطقة الشرقية",
        "General Administration of Education in the Eastern Province",
        "eastern",
    ),
    (
        "edu-qassim",
        "الإدارة العامة للتعليم بمنطقة القصيم",
        "General Administration of Education in Qassim Region",
        "qassim",
    ),
    (
        "edu-asir",
        "الإدارة العامة للتعليم بمنطقة عسير",
        "General Administration of Education in Asir Region",
        "asir",
    ),
    (
        "edu-tabuk",
        "الإدارة العامة للتعليم بمنطقة تبوك",
        "General Administration of Education in Tabuk Region",
        "tabuk",
    ),
    (
        "edu-hail",
        "الإدارة العامة للتعليم بمنطقة حائل",
        "General Administration of Education in Hail Region",
        "hail",
    ),
    (
        "edu-northern-borders",
        "الإدارة العامة للتعليم بمنطقة الحدود الشمالية",
        "General Administration of Education in the Northern Borders Region",
        "northern-borders",
    ),
    (
        "edu-jazan",
        "الإدارة العامة للتعليم بمنطقة جازان",
        "General Administration of Education in Jazan Region",
        "jazan",
    ),
    (
        "edu-najran",
        "الإدارة العامة للتعليم بمنطقة نجران",
        "General Administration of Education in Najran Region",
        "najran",
    ),
    (
        "edu-baha",
        "الإدارة العامة للتعليم بمنطقة الباحة",
        "General Administration of Education in Al-Baha Region",
        "baha",
    ),
    (
        "edu-jouf",
        "الإدارة العامة للتعليم بمنطقة الجوف",
        "General Administration of Education in Al-Jouf Region",
        "jouf",
    ),
    (
        "edu-jeddah",
        "الإدارة العامة للتعليم بمحافظة جدة",
        "General Administration of Education in Jeddah Governorate",
        "makkah",
    ),
    (
        "edu-taif",
        "الإدارة العامة للتعليم بمحافظة الطائف",
        "General Administration of Education in Taif Governorate",
        "makkah",
    ),
    (
        "edu-ahsa",
        "الإدارة العامة للتعليم بمحافظة الأحساء",
        "General Administration of Education in Al-Ahsa Governorate",
        "eastern",
    ),
    (
        "edu-hafr-albatin",
        "الإدارة العامة للتعليم بمحافظة حفر الباطن",
        "General Administration of Education in Hafr Al-Batin Governorate",
        "eastern",
    ),
    (
        "edu-kharj",
        "إدارة التعليم بمحافظة الخرج",
        "Education Department of Al-Kharj Governorate",
        "riyadh",
    ),
    (
        "edu-qurayyat",
        "إدارة التعليم بمحافظة القريات",
        "Education Department of Al-Qurayyat Governorate",
        "jouf",
    ),
    (
        "edu-bisha",
        "إدارة التعليم بمحافظة بيشة",
        "Education Department of Bisha Governorate",
        "asir",
    ),
    (
        "edu-qunfudhah",
        "إدارة التعليم بمحافظة القنفذة",
        "Education Department of Al-Qunfudhah Governorate",
        "makkah",
    ),
    (
        "edu-laith",
        "إدارة التعليم بمحافظة الليث",
        "Education Department of Al-Laith Governorate",
        "makkah",
    ),
    (
        "edu-sabya",
        "إدارة التعليم بمحافظة صبيا",
        "Education Department of Sabya Governorate",
        "jazan",
    ),
    (
        "edu-mahayel",
        "إدارة التعليم بمحافظة محايل عسير",
        "Education Department of Mahayel Asir Governorate",
        "asir",
    ),
    (
        "edu-namas",
        "إدارة التعليم بمحافظة النماص",
        "Education Department of Al-Namas Governorate",
        "asir",
    ),
    (
        "edu-sarat-abidah",
        "إدارة التعليم بمحافظة سراة عبيدة",
        "Education Department of Sarat Abidah Governorate",
        "asir",
    ),
    (
        "edu-majmaah",
        "إدارة التعليم بمحافظة المجمعة",
        "Education Department of Al-Majmaah Governorate",
        "riyadh",
    ),
    (
        "edu-shaqra",
        "إدارة التعليم بمحافظة شقراء",
        "Education Department of Shaqra Governorate",
        "riyadh",
    ),
    (
        "edu-wadi-aldawasir",
        "إدارة التعليم بمحافظة وادي الدواسر",
        "Education Department of Wadi Ad-Dawasir Governorate",
        "riyadh",
    ),
    (
        "edu-aflaj",
        "إدارة التعليم بمحافظة الأفلاج",
        "Education Department of Al-Aflaj Governorate",
        "riyadh",
    ),
    (
        "edu-quwayiyah",
        "إدارة التعليم بمحافظة القويعية",
        "Education Department of Al-Quwayiyah Governorate",
        "riyadh",
    ),
    (
        "edu-zulfi",
        "إدارة التعليم بمحافظة الزلفي",
        "Education Department of Al-Zulfi Governorate",
        "riyadh",
    ),
    (
        "edu-dawadmi",
        "إدارة التعليم بمحافظة الدوادمي",
        "Education Department of Al-Dawadmi Governorate",
        "riyadh",
    ),
    (
        "edu-afif",
        "إدارة التعليم بمحافظة عفيف",
        "Education Department of Afif Governorate",
        "riyadh",
    ),
    (
        "edu-ghat",
        "إدارة التعليم بمحافظة الغاط",
        "Education Department of Al-Ghat Governorate",
        "riyadh",
    ),
    (
        "edu-hotat-bani-tamim",
        "إدارة التعليم بمحافظة حوطة بني تميم",
        "Education Department of Hotat Bani Tamim Governorate",
        "riyadh",
    ),
    (
        "edu-mithnab",
        "إدارة التعليم بمحافظة المذنب",
        "Education Department of Al-Mithnab Governorate",
        "qassim",
    ),
    (
        "edu-unaizah",
        "إدارة التعليم بمحافظة عنيزة",
        "Education Department of Unaizah Governorate",
        "qassim",
    ),
    (
        "edu-rass",
        "إدارة التعليم بمحافظة الرس",
        "Education Department of Al-Rass Governorate",
        "qassim",
    ),
    (
        "edu-bukayriyah",
        "إدارة التعليم بمحافظة البكيرية",
        "Education Department of Al-Bukayriyah Governorate",
        "qassim",
    ),
    (
        "edu-mikhwah",
        "إدارة التعليم بمحافظة المخواة",
        "Education Department of Al-Mikhwah Governorate",
        "baha",
    ),
    (
        "edu-ula",
        "إدارة التعليم بمحافظة العلا",
        "Education Department of Al-Ula Governorate",
        "madinah",
    ),
    (
        "edu-yanbu",
        "إدارة التعليم بمحافظة ينبع",
        "Education Department of Yanbu Governorate",
        "madinah",
    ),
    (
        "edu-mandaq",
        "إدارة التعليم بمحافظة المندق",
        "Education Department of Al-Mandaq Governorate",
        "baha",
    ),
    (
        "edu-tabarjal",
        "إدارة التعليم بمحافظة طبرجل",
        "Education Department of Tabarjal Governorate",
        "jouf",
    ),
    (
        "edu-rafha",
        "إدارة التعليم بمحافظة رفحاء",
        "Education Department of Rafha Governorate",
        "northern-borders",
    ),
    (
        "edu-hinakiyah",
        "إدارة التعليم بمحافظة الحناكية",
        "Education Department of Al-Hinakiyah Governorate",
        "madinah",
    ),
)

# The public universities, each with its beneficiary-care centre.
UNIVERSITIES = (
    ("ksu", "جامعة الملك سعود", "King Saud University", "riyadh"),
    ("kau", "جامعة الملك عبدالعزيز", "King Abdulaziz University", "makkah"),
    (
        "kfupm",
        "جامعة الملك فهد للبترول والمعادن",
        "King Fahd University of Petroleum and Minerals",
        "eastern",
    ),
    (
        "imamu",
        "جامعة الإمام محمد بن سعود الإسلامية",
        "Imam Mohammad Ibn Saud Islamic University",
        "riyadh",
    ),
    ("uqu", "جامعة أم القرى", "Umm Al-Qura University", "makkah"),
    ("iu", "الجامعة الإسلامية بالمدينة المنورة", "Islamic University of Madinah", "madinah"),
    ("kfu", "جامعة الملك فيصل", "King Faisal University", "eastern"),
    ("kku", "جامعة الملك خالد", "King Khalid University", "asir"),
    ("qu", "جامعة القصيم", "Qassim University", "qassim"),
    ("taibahu", "جامعة طيبة", "Taibah University", "madinah"),
    ("tu", "جامعة الطائف", "Taif University", "makkah"),
    ("jazanu", "جامعة جازان", "Jazan University", "jazan"),
    ("uoh", "جامعة حائل", "University of Ha'il", "hail"),
    ("ju", "جامعة الجوف", "Jouf University", "jouf"),
    ("ut", "جامعة تبوك", "University of Tabuk", "tabuk"),
    ("bu", "جامعة الباحة", "Al-Baha University", "baha"),
    ("nu", "جامعة نجران", "Najran University", "najran"),
    ("nbu", "جامعة الحدود الشمالية", "Northern Border University", "northern-borders"),
    (
        "pnu",
        "جامعة الأميرة نورة بنت عبدالرحمن",
        "Princess Nourah bint Abdulrahman University",
        "riyadh",
    ),
    ("iau", "جامعة الإمام عبدالرحمن بن فيصل", "Imam Abdulrahman Bin Faisal University", "eastern"),
    ("psau", "جامعة الأمير سطام بن عبدالعزيز", "Prince Sattam bin Abdulaziz University", "riyadh"),
    ("su", "جامعة شقراء", "Shaqra University", "riyadh"),
    ("mu", "جامعة المجمعة", "Majmaah University", "riyadh"),
    ("uj", "جامعة جدة", "University of Jeddah", "makkah"),
    ("ub", "جامعة بيشة", "University of Bisha", "asir"),
    ("uhb", "جامعة حفر الباطن", "University of Hafr Al Batin", "eastern"),
    ("seu", "الجامعة السعودية الإلكترونية", "Saudi Electronic University", "riyadh"),
    (
        "ksau-hs",
        "جامعة الملك سعود بن عبدالعزيز للعلوم الصحية",
        "King Saud bin Abdulaziz University for Health Sciences",
        "riyadh",
    ),
)

# Education offices (kind `office`, no centre): their requests land at the parent's centre.
OFFICES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "edu-riyadh": (
        (
            "riyadh-north-office",
            "مكتب التعليم بشمال الرياض",
            "North Riyadh Education Office",
            "riyadh",
        ),
        (
            "riyadh-east-office",
            "مكتب التعليم بشرق الرياض",
            "East Riyadh Education Office",
            "riyadh",
        ),
    ),
    "edu-jeddah": (
        (
            "jeddah-north-office",
            "مكتب التعليم بشمال جدة",
            "North Jeddah Education Office",
            "makkah",
        ),
        (
            "jeddah-south-office",
            "مكتب التعليم بجنوب جدة",
            "South Jeddah Education Office",
            "makkah",
        ),
    ),
}

# How many requests an entity receives, relative to a small department (1.0).
VOLUME_WEIGHTS: dict[str, float] = {
    "edu-riyadh": 14.0,
    "edu-jeddah": 9.0,
    "edu-makkah": 6.0,
    "edu-eastern": 7.0,
    "edu-madinah": 5.0,
    "edu-ahsa": 4.0,
    "edu-taif": 3.5,
    "edu-qassim": 3.5,
    "edu-asir": 3.5,
    "edu-jazan": 3.0,
    "edu-tabuk": 2.5,
    "edu-hail": 2.0,
    "edu-kharj": 2.0,
    "edu-hafr-albatin": 2.0,
    "edu-najran": 1.8,
    "edu-jouf": 1.5,
    "edu-northern-borders": 1.5,
    "edu-baha": 1.5,
    "ksu": 5.0,
    "kau": 4.0,
    "imamu": 2.5,
    "uqu": 2.5,
    "pnu": 2.0,
    "riyadh-north-office": 1.5,
    "jeddah-north-office": 1.0,
}
UNIVERSITY_WEIGHT = 0.8


def centre_names(entity_name_ar: str, entity_name_en: str) -> tuple[str, str]:
    """The Arabic and English names of an entity's care centre."""
    return (
        f"مركز رعاية المستفيدين - {entity_name_ar}",
        f"Beneficiary Care Centre - {entity_name_en}",
    )


# --- the business calendar --------------------------------------------------------

CALENDAR_NAME = "Saudi working week"
WORKING_DAYS = (7, 1, 2, 3, 4)  # ISO weekdays: Sunday to Thursday
OPENS_AT = dt.time(8, 0)
CLOSES_AT = dt.time(15, 0)
# (name_ar, name_en, kind, month, day, length_days). The Eid lengths are those of
# the Labour Law's implementing regulations: Eid al-Fitr four days from 1 Shawwal,
# Eid al-Adha four days from the Day of Arafah (9 Dhu al-Hijjah).
HOLIDAYS = (
    ("يوم التأسيس", "Founding Day", "gregorian", 2, 22, 1),
    ("اليوم الوطني", "National Day", "gregorian", 9, 23, 1),
    ("إجازة عيد الفطر", "Eid al-Fitr holiday", "hijri", 10, 1, 4),
    ("إجازة عيد الأضحى", "Eid al-Adha holiday", "hijri", 12, 9, 4),
)
