"""The demo category taxonomy: two levels, Arabic and English, slugs as codes.

Each top-level entry is (code, name_ar, name_en, kinds, scope, subcategories),
each subcategory (code, name_ar, name_en). `kinds` restricts the kinds of request
a category takes (empty: all). `scope` tells the demo loader where such requests
are sent: `school` (education departments), `university`, `ministry` (the
central centre and the deputyships) or `any`.
"""

from __future__ import annotations

INQUIRY, COMPLAINT, SUGGESTION, OBSERVATION, PRAISE = (
    "inquiry",
    "complaint",
    "suggestion",
    "observation",
    "praise",
)
NOT_PRAISE = (INQUIRY, COMPLAINT, SUGGESTION, OBSERVATION)

Subcategory = tuple[str, str, str]
TopCategory = tuple[str, str, str, tuple[str, ...], str, tuple[Subcategory, ...]]

CATEGORIES: tuple[TopCategory, ...] = (
    (
        "exam-results",
        "نتائج الاختبارات",
        "Exam results",
        NOT_PRAISE,
        "school",
        (
            ("results-delay", "تأخر رصد الدرجات", "Late grade entry"),
            ("grade-review", "التظلم من الدرجات", "Grade review"),
            ("national-tests", "الاختبارات الوطنية (نافس)", "National tests (Nafes)"),
            ("certificate-printing", "طباعة الشهادات", "Printing certificates"),
        ),
    ),
    (
        "teacher-transfer",
        "نقل المعلمين",
        "Teacher transfer",
        (INQUIRY, COMPLAINT),
        "school",
        (
            ("external-transfer", "النقل الخارجي", "External transfer"),
            ("internal-transfer", "النقل الداخلي", "Internal transfer"),
            ("transfer-results", "نتائج حركة النقل", "Transfer results"),
            ("exceptional-transfer", "النقل للظروف الخاصة", "Transfer for special circumstances"),
        ),
    ),
    (
        "salaries",
        "الرواتب والبدلات",
        "Salaries and allowances",
        (INQUIRY, COMPLAINT),
        "school",
        (
            ("salary-delay", "تأخر صرف الراتب", "Late salary"),
            ("allowances", "البدلات", "Allowances"),
            ("annual-increment", "العلاوة السنوية", "Annual increment"),
            ("deductions", "الحسميات", "Deductions"),
        ),
    ),
    (
        "noor",
        "نظام نور",
        "Noor system",
        NOT_PRAISE,
        "school",
        (
            ("noor-account", "الدخول وكلمة المرور", "Sign-in and password"),
            ("noor-grades", "رصد الدرجات في نور", "Grades in Noor"),
            ("noor-data", "تحديث بيانات الطالب", "Updating student data"),
            ("noor-student-move", "نقل الطالب في نور", "Moving a student in Noor"),
        ),
    ),
    (
        "scholarships",
        "الابتعاث",
        "Scholarships",
        NOT_PRAISE,
        "ministry",
        (
            ("scholarship-programs", "برامج الابتعاث", "Scholarship programmes"),
            ("scholarship-allowances", "مخصصات المبتعثين", "Scholarship allowances"),
            ("scholarship-extension", "تمديد البعثة", "Scholarship extension"),
            ("cultural-attache", "الملحقيات الثقافية", "Cultural attachés"),
        ),
    ),
    (
        "equivalency",
        "معادلة الشهادات",
        "Certificate equivalency",
        (INQUIRY, COMPLAINT, OBSERVATION),
        "ministry",
        (
            ("university-equivalency", "معادلة الشهادات الجامعية", "University degrees"),
            ("school-equivalency", "معادلة شهادات التعليم العام", "School certificates"),
            ("equivalency-delay", "تأخر طلبات المعادلة", "Delayed equivalency requests"),
        ),
    ),
    (
        "school-transport",
        "النقل المدرسي",
        "School transport",
        NOT_PRAISE,
        "school",
        (
            ("transport-registration", "التسجيل في النقل المدرسي", "Registration"),
            ("bus-delay", "تأخر الحافلات", "Late buses"),
            ("transport-safety", "سلامة الحافلات والسائقين", "Bus and driver safety"),
        ),
    ),
    (
        "buildings",
        "المباني والصيانة",
        "Buildings and maintenance",
        NOT_PRAISE,
        "school",
        (
            ("maintenance", "صيانة المدارس", "School maintenance"),
            ("air-conditioning", "التكييف", "Air conditioning"),
            ("rented-buildings", "المباني المستأجرة", "Rented buildings"),
            ("school-safety", "الأمن والسلامة المدرسية", "School safety"),
        ),
    ),
    (
        "curricula",
        "المناهج والكتب الدراسية",
        "Curricula and textbooks",
        NOT_PRAISE,
        "school",
        (
            ("textbook-delivery", "تأخر تسليم الكتب", "Late textbooks"),
            ("curriculum-content", "محتوى المناهج", "Curriculum content"),
            ("study-plans", "الخطط الدراسية", "Study plans"),
        ),
    ),
    (
        "admissions",
        "القبول والتسجيل",
        "Admissions and registration",
        NOT_PRAISE,
        "school",
        (
            ("first-grade", "تسجيل الصف الأول الابتدائي", "First-grade registration"),
            ("school-change", "النقل بين المدارس", "Changing schools"),
            ("non-saudi-students", "تسجيل الطلاب غير السعوديين", "Non-Saudi students"),
        ),
    ),
    (
        "student-affairs",
        "شؤون الطلاب",
        "Student affairs",
        NOT_PRAISE,
        "school",
        (
            ("attendance-behaviour", "السلوك والمواظبة", "Behaviour and attendance"),
            ("bullying", "التنمر", "Bullying"),
            ("school-health", "الصحة المدرسية", "School health"),
            ("counselling", "التوجيه والإرشاد", "Guidance and counselling"),
        ),
    ),
    (
        "staff-affairs",
        "شؤون الموظفين",
        "Staff affairs",
        (INQUIRY, COMPLAINT, OBSERVATION),
        "school",
        (
            ("leaves", "الإجازات", "Leave"),
            ("retirement", "التقاعد", "Retirement"),
            ("promotions", "الترقيات", "Promotions"),
            ("performance-review", "تقويم الأداء الوظيفي", "Performance review"),
        ),
    ),
    (
        "special-education",
        "التربية الخاصة",
        "Special education",
        NOT_PRAISE,
        "school",
        (
            ("learning-difficulties", "صعوبات التعلم", "Learning difficulties"),
            ("autism", "برامج التوحد", "Autism programmes"),
            ("gifted", "الموهوبون", "Gifted students"),
            ("inclusion", "الدمج", "Inclusion"),
        ),
    ),
    (
        "kindergartens",
        "رياض الأطفال",
        "Kindergartens",
        NOT_PRAISE,
        "school",
        (
            ("kg-registration", "التسجيل في رياض الأطفال", "Registration"),
            ("kg-staff", "معلمات رياض الأطفال", "Kindergarten teachers"),
            ("kg-facilities", "مرافق رياض الأطفال", "Facilities"),
        ),
    ),
    (
        "madrasati",
        "منصة مدرستي",
        "Madrasati platform",
        NOT_PRAISE,
        "school",
        (
            ("madrasati-login", "الدخول إلى المنصة", "Signing in"),
            ("madrasati-assignments", "الواجبات والاختبارات", "Assignments and quizzes"),
            ("madrasati-lessons", "الدروس الافتراضية", "Virtual lessons"),
        ),
    ),
    (
        "university-admission",
        "القبول الجامعي",
        "University admission",
        NOT_PRAISE,
        "university",
        (
            ("admission-results", "نتائج القبول", "Admission results"),
            ("weighted-score", "شروط القبول والنسبة الموزونة", "Criteria and weighted score"),
            ("university-transfer", "التحويل بين الجامعات", "Transfer between universities"),
        ),
    ),
    (
        "mukafaa",
        "المكافآت الجامعية",
        "Student rewards (mukafaa)",
        (INQUIRY, COMPLAINT),
        "university",
        (
            ("mukafaa-delay", "تأخر صرف المكافأة", "Late payment"),
            ("mukafaa-stopped", "إيقاف المكافأة", "Reward stopped"),
            ("mukafaa-eligibility", "الأحقية في المكافأة", "Eligibility"),
        ),
    ),
    (
        "academic-complaints",
        "الشكاوى الأكاديمية",
        "Academic complaints",
        (COMPLAINT, OBSERVATION),
        "university",
        (
            ("grading-dispute", "الاعتراض على الدرجات", "Disputed grades"),
            ("faculty-conduct", "تعامل أعضاء هيئة التدريس", "Faculty conduct"),
            ("course-registration", "تسجيل المقررات", "Course registration"),
            ("graduation-delay", "تأخر التخرج", "Delayed graduation"),
        ),
    ),
    (
        "private-schools",
        "التعليم الأهلي",
        "Private schools",
        NOT_PRAISE,
        "ministry",
        (
            ("private-licensing", "ترخيص المدارس الأهلية", "Licensing"),
            ("private-fees", "الرسوم الدراسية", "Tuition fees"),
            ("private-teachers", "معلمو المدارس الأهلية", "Private-school teachers"),
        ),
    ),
    (
        "thanks",
        "شكر وتقدير",
        "Thanks and appreciation",
        (PRAISE,),
        "any",
        (
            ("thanks-school", "شكر منسوبي المدارس", "Thanks to school staff"),
            ("thanks-centre", "شكر مركز رعاية المستفيدين", "Thanks to the care centre"),
            ("thanks-university", "شكر منسوبي الجامعات", "Thanks to university staff"),
        ),
    ),
    (
        "ideas",
        "الاقتراحات والمبادرات",
        "Suggestions and initiatives",
        (SUGGESTION, OBSERVATION),
        "any",
        (
            ("learning-quality", "تطوير العملية التعليمية", "Better teaching and learning"),
            ("digital-services", "تطوير الخدمات الإلكترونية", "Better digital services"),
        ),
    ),
)
