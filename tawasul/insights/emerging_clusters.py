"""Clusters within a category (issue 12; docs/decisions/0014-emerging-issues.md): what the
requests of one top-level category in a period are about, for the top and emerging issues.

The newest `CLUSTER_SAMPLE` requests of the category (subject and description) are split
into words, each folded by the one Arabic normaliser (`tawasul.core.arabic`), stripped of
the article (with a joined و/ب/ك/ف/ل) and of a short list of stop words written here;
TF-IDF weighs their unigrams and the bigrams of neighbouring kept words (seen in at least
two requests, in at most 90 % of them), and KMeans groups them, k from 2 to 6 chosen by
the best silhouette (cosine). Each cluster has its heaviest terms (as people spelled them),
its size and the tracking numbers nearest its centre. `random_state` fixed: the same
requests give the same clusters.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tawasul.cases.models import Category, Request
from tawasul.core.arabic import normalise_arabic
from tawasul.core.ids import tracking_number_display
from tawasul.directory import access
from tawasul.directory.access import Permission
from tawasul.directory.models import Entity
from tawasul.insights.periods import ReportPeriod

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

CLUSTER_SAMPLE = 2000  # the newest requests of the category in the period
CLUSTER_MINIMUM = 20  # fewer texts than this are not clustered
CLUSTER_K = range(2, 7)  # k tried, the best silhouette kept
CLUSTER_TERMS = 5
CLUSTER_EXAMPLES = 3
RANDOM_STATE = 0
# Words that say nothing of the subject: particles, pronouns, greetings, and what every
# request says ("please", "my son", "the ministry"). Normalised as the texts are.
_STOP_WORDS = """
في من الى إلى على عن مع او أو ثم ان إن أن كان كانت يكون تكون لا لم لن ما ماذا متى كيف اين
هل قد لقد كل بعض غير بين حتى عند بعد قبل منذ اي أي ايضا أيضا جدا فقط هذا هذه ذلك تلك هنا هناك
التي الذي الذين اللي هو هي هم هن انا أنا نحن انت أنت انتم لي له لها لنا لكم لهم به بها فيه فيها
منه منها عليه عليها اليه إليه عنه عنها وهو وهي وقد ولا ولم وما وفي ومن وان وأن ولكن لكن يا
السلام عليكم ورحمة الله وبركاته تحية طيبة شكرا شكراً الرجاء ارجو أرجو نرجو نأمل آمل امل
افيدكم أفيدكم بان بأن علما علماً حيث حول خلال دون لدى لدي عندي عندنا الان الآن حاليا
ابني ابنتي ولدي بنتي طالب طالبة الطالب الطالبة الوزارة وزارة التعليم المدرسة مدرسة يوم اليوم
تم يتم وتم رقم بخصوص بشأن بسبب نظرا اريد أريد نريد ارغب أرغب اطلب أطلب نطلب حاولت تقول يقول
لماذا ليش ليه الحين لين متى وين كذا مثل عدة اكثر أكثر
"""
_WORD = re.compile(r"[\u0621-\u065f\u0670\u06a9\u06cc\u0640A-Za-z0-9\u0660-\u0669]+")
_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")  # the article, with a joined particle


def word_key(word: str) -> str:
    """A word folded by the normaliser, lower-cased, its article stripped ("بالنتائج" →
    "نتايج"; at least three letters are left)."""
    key = normalise_arabic(word).lower()
    for prefix in _PREFIXES:
        if key.startswith(prefix) and len(key) - len(prefix) >= 3:
            return key[len(prefix) :]
    return key


STOP_WORDS = frozenset(
    folded for word in _STOP_WORDS.split() for folded in (normalise_arabic(word), word_key(word))
)


@dataclass(frozen=True)
class IssueCluster:
    terms: list[str]  # the heaviest terms of its centre, as people spelled them
    size: int
    examples: list[tuple[int, str]]  # (request id, tracking number) nearest its centre
    request_ids: list[int]  # every request of the cluster (not kept in an issue's detail)


class _Words:
    """Splits texts into normalised word keys (article stripped, stop words out) and
    remembers the commonest spelling of each key, to show terms as people wrote them."""

    def __init__(self) -> None:
        self.spelled: dict[str, Counter[str]] = defaultdict(Counter)
        self._keys: dict[str, str] = {}

    def key(self, word: str) -> str:
        """The word's key, or "" for a stop word, a digit string or a single letter."""
        if word not in self._keys:
            key = word_key(word)
            folded = normalise_arabic(word)
            if STOP_WORDS & {folded, key, folded[1:] if folded[:1] in "وف" else ""}:
                key = ""  # a stop word, or one with a joined و or ف ("وكيف")
            self._keys[word] = "" if len(key) < 2 or key.isdigit() else key
        return self._keys[word]

    def terms(self, text: str) -> list[str]:
        """The text's unigrams and the bigrams of neighbouring kept words."""
        keys = []
        for word in _WORD.findall(text):
            key = self.key(word)
            if key:
                keys.append(key)
                self.spelled[key][word] += 1
        return keys + [f"{a} {b}" for a, b in itertools.pairwise(keys)]

    def shown(self, term: str) -> str:
        return " ".join(self.spelled[key].most_common(1)[0][0] for key in term.split(" "))


def issue_clusters(
    *,
    category: Category,
    period: ReportPeriod,
    user: User | None = None,
    entity: Entity | None = None,
    sample: int = CLUSTER_SAMPLE,
) -> list[IssueCluster]:
    """The sub-issues of a top-level category in the period: its newest `sample` requests
    in scope (the user's, narrowed to `entity`) clustered by their words, largest first.
    Deterministic for the same requests; empty under `CLUSTER_MINIMUM` texts."""
    requests = Request.objects.all() if user is None else access.requests_for(user, Permission.VIEW)
    if entity is not None:
        requests = requests.filter(entity__path__startswith=entity.path)
    texts = list(
        requests.filter(
            category__in=Category.objects.filter(path__startswith=category.path).values("pk"),
            created_at__gte=period.start,
            created_at__lt=period.end,
        )
        .order_by("-created_at", "-pk")
        .values_list("pk", "tracking_number", "subject", "description")[:sample]
    )
    if len(texts) < CLUSTER_MINIMUM:
        return []
    return clusters_of_texts([(pk, number, f"{s}\n{d}") for pk, number, s, d in texts])


def _best_kmeans(matrix: Any) -> tuple[float, Any] | None:
    """The KMeans model with the best silhouette (cosine) for k in `CLUSTER_K`, and it."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    best: tuple[float, Any] | None = None
    for k in CLUSTER_K:
        if k >= matrix.shape[0]:
            break
        model = KMeans(n_clusters=k, n_init=5, random_state=RANDOM_STATE).fit(matrix)
        if len(set(model.labels_)) < 2:
            continue
        quality = float(
            silhouette_score(
                matrix,
                model.labels_,
                metric="cosine",
                sample_size=min(matrix.shape[0], 1000),
                random_state=RANDOM_STATE,
            )
        )
        if best is None or quality > best[0]:
            best = (quality, model)
    return best


def clusters_of_texts(texts: Sequence[tuple[int, str, str]]) -> list[IssueCluster]:
    """KMeans clusters of (request id, tracking number, text), k by silhouette."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from threadpoolctl import threadpool_limits

    words = _Words()
    documents = [words.terms(text) for _pk, _number, text in texts]
    vectorizer = TfidfVectorizer(
        analyzer=lambda terms: terms, min_df=2, max_df=0.9, sublinear_tf=True, max_features=5000
    )
    try:
        matrix = vectorizer.fit_transform(documents)
    except ValueError:  # no term left (every text empty or made of stop words)
        return []
    # One thread: on a busy web or queue node OpenMP's threads made the fits ten times
    # slower (3.8 s instead of 0.3 s for 2,000 texts on two shared cores).
    with threadpool_limits(limits=1):
        best = _best_kmeans(matrix)
    if best is None:
        return []
    model, names = best[1], vectorizer.get_feature_names_out()
    closeness = matrix @ model.cluster_centers_.T  # each text against each centre
    clusters = []
    for index, centre in enumerate(model.cluster_centers_):
        members = [row for row, label in enumerate(model.labels_) if label == index]
        nearest = sorted(members, key=lambda row: (-float(closeness[row, index]), row))
        clusters.append(
            IssueCluster(
                terms=[words.shown(term) for term in _telling(names[centre.argsort()[::-1]])],
                size=len(members),
                examples=[
                    (texts[row][0], tracking_number_display(texts[row][1]))
                    for row in nearest[:CLUSTER_EXAMPLES]
                ],
                request_ids=[texts[row][0] for row in members],
            )
        )
    return sorted(clusters, key=lambda cluster: (-cluster.size, cluster.terms))


def _telling(terms: Sequence[str]) -> list[str]:
    """The first `CLUSTER_TERMS` terms (heaviest first) that add a word: "النقل" is left
    out after "النقل المدرسي", and "غياب معلم" after "غياب" and "معلم"."""
    chosen: list[str] = []
    covered: set[str] = set()
    for term in terms:
        keys = set(term.split(" "))
        if not keys <= covered:
            chosen.append(term)
            covered |= keys
        if len(chosen) == CLUSTER_TERMS:
            break
    return chosen


def cluster_as_json(cluster: IssueCluster) -> dict[str, Any]:
    """A cluster as stored in `EmergingIssue.detail` (ids and tracking numbers only)."""
    return {
        "terms": cluster.terms,
        "size": cluster.size,
        "examples": [{"id": pk, "tracking": number} for pk, number in cluster.examples],
    }
