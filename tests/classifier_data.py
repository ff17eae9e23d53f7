"""Short labelled Arabic requests for the classifier tests, made up here (no outside data).

Five topics of an education ministry, each a handful of phrasings put together with an
opening and a closing, then written the ways people write: hamza dropped, ta marbuta as
ha, alef maqsura as ya, harakat, tatweel, stretched letters and Arabic-Indic digits. The
same seed gives the same rows.
"""

from __future__ import annotations

import random

TOPICS: dict[str, list[str]] = {
    "exams": [
        "لم تظهر نتيجة اختبار ابني في نظام نور",
        "تأخرت نتائج الاختبارات النهائية للصف الثالث",
        "درجة الرياضيات في الشهادة خاطئة وأطلب المراجعة",
        "أريد إعادة تصحيح ورقة اختبار العلوم",
        "نتيجة الاختبار التحصيلي لا تظهر",
        "رصد الدرجات غير صحيح في مادة اللغة الإنجليزية",
    ],
    "transfer": [
        "أطلب نقل معلمة من الرياض إلى جدة",
        "رفض طلب النقل الخارجي للمعلم بدون سبب",
        "متى تصدر نتائج حركة نقل المعلمين",
        "أرغب في النقل إلى مدرسة قريبة من سكني",
        "لم يتم تنفيذ قرار نقلي إلى المدينة المنورة",
        "طلب نقل خارجي لظروف عائلية لزوجتي المعلمة",
    ],
    "buses": [
        "الحافلة المدرسية لا تصل في الموعد كل صباح",
        "السائق يقود الحافلة بسرعة كبيرة وهذا خطر على الطالبات",
        "لم يتم تسجيل ابنتي في النقل المدرسي",
        "الباص لم يأت اليوم وتأخر الأطفال عن الطابور",
        "مكيف الحافلة معطل والطلاب يعانون من الحر",
        "مسار الحافلة تغير ولم يعد يمر على حينا",
    ],
    "buildings": [
        "تسرب مياه من سقف الفصل في المدرسة",
        "المكيفات معطلة في مبنى المدرسة منذ أسبوع",
        "دورات المياه في المدرسة غير نظيفة ومكسورة",
        "الإنارة في الممرات لا تعمل والمبنى مظلم",
        "سور المدرسة متهالك ويحتاج إلى صيانة عاجلة",
        "المقاعد في الفصول مكسورة ولا تكفي الطلاب",
    ],
    "certificates": [
        "أحتاج إلى نسخة بدل فاقد من شهادة التخرج",
        "أطلب تصديق الشهادة الثانوية للدراسة في الخارج",
        "خطأ في اسمي في شهادة المرحلة المتوسطة",
        "كيف أحصل على وثيقة التخرج إلكترونيا",
        "لم تصدر شهادة ابني بعد انتهاء العام الدراسي",
        "معادلة شهادة من مدرسة دولية",
    ],
}
OPENINGS = ["", "السلام عليكم", "لو سمحتم", "أرجو المساعدة", "مرحبا", "بعد التحية"]
CLOSINGS = ["", "شكرا لكم", "في أسرع وقت", "رقم الطلب ١٢٣٤٥", "وجزاكم الله خيرا", "منذ 3 أيام"]
NONSENSE = ["qwx zzv kkpt", "lorem ipsum dolor sit amet", "12345 67890"]


def _misspelt(text: str, chance: random.Random) -> str:
    """The text as someone might type it: one or more of the usual variants."""
    if chance.random() < 0.5:
        text = text.replace("أ", "ا").replace("إ", "ا")
    if chance.random() < 0.4:
        text = text.replace("ة ", "ه ").removesuffix("ة") + ("ه" if text.endswith("ة") else "")
    if chance.random() < 0.3:
        text = text.replace("ى ", "ي ")
    if chance.random() < 0.3:
        text = text.replace("م", "مـ", 1).replace("ل", "لَ", 1)
    if chance.random() < 0.2:
        text = text.replace("ا", "اااا", 1)
    return text


def labelled_requests(per_topic: int = 60, *, seed: int = 12) -> list[tuple[str, str]]:
    """(text, topic) pairs, `per_topic` of each topic, shuffled."""
    chance = random.Random(seed)
    rows = []
    for topic, phrases in TOPICS.items():
        for _index in range(per_topic):
            parts = [chance.choice(OPENINGS), chance.choice(phrases), chance.choice(CLOSINGS)]
            rows.append((_misspelt(" ".join(p for p in parts if p), chance), topic))
    chance.shuffle(rows)
    return rows


def csv_text(rows: list[tuple[str, str]]) -> str:
    """The rows as a UTF-8 CSV with the columns `text,label`."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    return out.getvalue()


def request_of(topic: str, index: int, *, seed: int = 7) -> tuple[str, str]:
    """A subject and a description about `topic`, the `index`-th of its kind."""
    chance = random.Random(f"{seed}-{topic}-{index}")
    phrase = chance.choice(TOPICS[topic])
    description = " ".join(
        p for p in (chance.choice(OPENINGS), phrase, chance.choice(CLOSINGS)) if p
    )
    return _misspelt(phrase, chance)[:200], _misspelt(description, chance)


def answered_requests(beneficiary, routes, *, per_topic: int) -> list:
    """`per_topic` requests of each topic in `routes` ({topic: (category, entity)}),
    submitted through the service and then marked answered (the state the classifier
    learns from; the answer's own workflow is tested elsewhere)."""
    from django.utils import timezone

    from tawasul.cases.models import Request, Status
    from tawasul.cases.services import request_submit

    made = []
    for topic, (category, entity) in routes.items():
        for index in range(per_topic):
            subject, description = request_of(topic, index)
            made.append(
                request_submit(
                    beneficiary=beneficiary,
                    kind="complaint",
                    category=category,
                    subject=subject,
                    description=description,
                    entity=entity,
                ).pk
            )
    Request.objects.filter(pk__in=made).update(status=Status.ANSWERED, answered_at=timezone.now())
    return made
