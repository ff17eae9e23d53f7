"""The request classifier (issue 12): which category a request belongs to and which entity
is competent to answer it, learnt from the platform's own answered requests.

Features: character 2–5-grams within words (TF-IDF, sublinear) over the one normalised
form of the text (`tawasul.core.arabic`), so spelling variants and dialect spellings share
most of their n-grams. Model: multinomial logistic regression, whose probability is the
confidence shown to staff. Below the model's threshold the classifier abstains and the
request goes to manual triage; the threshold is the lowest confidence at which the
held-out requests it would have answered are right at least `TARGET_ACCURACY` of the time
(never below `TAWASUL_SUGGESTION_THRESHOLD`). A text with no known n-gram at all has
confidence 0. Why logistic regression and not LinearSVC: docs/decisions/0012.

A trained classifier is a joblib file (a dict: the scikit-learn pipeline, the threshold,
the held-out figures). Loading one unpickles it: load only files this platform wrote.
`text_model_train` makes a new `TextModel` version from the database and activates it;
`classifier_fit` and `classifier_evaluate` are the same steps on any labelled texts (the
`tawasul classifier` command's CSV interface). Suggesting and settling the outcomes:
`tawasul.insights.suggestions`.
"""

from __future__ import annotations

import csv
import functools
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tawasul.cases.models import Request, Status
from tawasul.core.arabic import normalise_arabic
from tawasul.insights.text_models import TextModel, TextTarget

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

# scikit-learn and joblib are imported where they are used: they take about a second to
# import, which every web worker and command would otherwise pay at start.

logger = logging.getLogger(__name__)

MODEL_FORMAT = "tawasul-text-classifier/1"
TARGET_ACCURACY = 0.95  # on the requests it does not abstain on (held out)
HOLD_OUT = 0.2
KEEP_FILES = 3  # model files kept per target (the active one is the newest)
LATENCY_SAMPLE = 200  # requests timed one by one for ms_per_request
MAX_TRAINING_ROWS = 200_000  # the most recent answered requests
# A request's category and entity are final once it is answered (and stay so when the
# beneficiary objects or it closes); a reopened request has no answer any more.
ANSWERED_STATUSES = (Status.ANSWERED, Status.OBJECTED, Status.CLOSED)

Log = Callable[[str], None]


class ClassifierError(Exception):
    """Training refused (too little data), or a file that cannot be used: the message says
    which, in words an operator can act on."""


def text_prepare(text: str) -> str:
    """What the features are read from: the normalised text, case-folded (Latin words)."""
    return normalise_arabic(text).casefold()


def request_text(subject: str, description: str) -> str:
    return f"{subject}\n{description}"


def _pipeline() -> Pipeline:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            (
                "features",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    preprocessor=text_prepare,
                    sublinear_tf=True,
                    min_df=2,
                ),
            ),
            ("model", LogisticRegression(C=10.0, max_iter=1000)),
        ]
    )


# --- a trained classifier ------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """The best label for one text (among the allowed ones), its probability, and whether
    that is below the threshold (abstain: manual triage). No label when nothing is allowed."""

    label: str
    confidence: float
    abstained: bool


@dataclass(frozen=True)
class TrainedClassifier:
    pipeline: Pipeline
    threshold: float
    metrics: dict[str, Any]
    samples: int
    labels: int
    train_seconds: float

    @property
    def classes(self) -> list[str]:
        return [str(label) for label in self.pipeline["model"].classes_]

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per class; all zeros for a text with no known
        n-gram (nothing to go on)."""
        features = self.pipeline["features"].transform(texts)
        probabilities: np.ndarray = self.pipeline["model"].predict_proba(features)
        probabilities[features.getnnz(axis=1) == 0] = 0.0
        return probabilities

    def predict(
        self, texts: Sequence[str], *, allowed: frozenset[str] | None = None
    ) -> list[Prediction]:
        classes = self.classes
        results = []
        for row in self.probabilities(texts):
            best = next(
                (int(i) for i in np.argsort(-row) if allowed is None or classes[i] in allowed),
                None,
            )
            if best is None:
                results.append(Prediction(label="", confidence=0.0, abstained=True))
                continue
            confidence = float(row[best])
            results.append(
                Prediction(
                    label=classes[best],
                    confidence=confidence,
                    abstained=confidence < self.threshold,
                )
            )
        return results


def classifier_save(classifier: TrainedClassifier, path: Path) -> None:
    """Write the file next to its final name, then move it there (never half a file)."""
    import joblib
    import sklearn

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    joblib.dump(
        {
            "format": MODEL_FORMAT,
            "sklearn": sklearn.__version__,
            "pipeline": classifier.pipeline,
            "threshold": classifier.threshold,
            "metrics": classifier.metrics,
            "samples": classifier.samples,
            "labels": classifier.labels,
            "train_seconds": classifier.train_seconds,
        },
        partial,
        compress=3,
    )
    os.replace(partial, path)


def classifier_load(path: Path) -> TrainedClassifier:
    """Read a classifier file (see the module doc: trusted files only)."""
    import joblib

    try:
        content = joblib.load(path)
    except FileNotFoundError:
        raise ClassifierError(f"No model file at {path}.") from None
    except Exception as error:  # a wrong or damaged file: unpickling raises anything
        raise ClassifierError(f"{path} is not a classifier file ({error}).") from None
    if not isinstance(content, dict) or content.get("format") != MODEL_FORMAT:
        raise ClassifierError(f"{path} is not a classifier file made by this platform.")
    return TrainedClassifier(
        pipeline=content["pipeline"],
        threshold=float(content["threshold"]),
        metrics=dict(content["metrics"]),
        samples=int(content["samples"]),
        labels=int(content["labels"]),
        train_seconds=float(content["train_seconds"]),
    )


# --- figures and the threshold -------------------------------------------------------------


def _macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, predicted, average="macro", zero_division=0.0))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def classifier_scores(
    truth: Sequence[str],
    predicted: Sequence[str],
    confidences: Sequence[float],
    *,
    threshold: float,
) -> dict[str, Any]:
    """Accuracy and macro-F1 of every request, and of the covered ones (not abstained)."""
    n = len(truth)
    covered = [i for i in range(n) if confidences[i] >= threshold]
    covered_truth = [truth[i] for i in covered]
    covered_predicted = [predicted[i] for i in covered]

    def accuracy(t: Sequence[str], p: Sequence[str]) -> float | None:
        return sum(a == b for a, b in zip(t, p, strict=True)) / len(t) if t else None

    return {
        "n": n,
        "accuracy": _rounded(accuracy(truth, predicted)),
        "macro_f1": _rounded(_macro_f1(truth, predicted)) if n else None,
        "covered_n": len(covered),
        "covered_accuracy": _rounded(accuracy(covered_truth, covered_predicted)),
        "covered_macro_f1": _rounded(_macro_f1(covered_truth, covered_predicted))
        if covered
        else None,
        "coverage": _rounded(len(covered) / n) if n else None,
        "abstention_rate": _rounded(1 - len(covered) / n) if n else None,
        "threshold": round(threshold, 4),
    }


def threshold_choose(
    confidences: Sequence[float], correct: Sequence[bool], *, target: float, floor: float
) -> float:
    """The lowest confidence t such that the requests with confidence ≥ t are right at
    least `target` of the time (the most coverage at that accuracy), never below `floor`;
    1.0 (abstain almost always) when no t reaches the target."""
    order = np.argsort(-np.asarray(confidences, dtype=float), kind="stable")
    ranked = np.asarray(confidences, dtype=float)[order]
    right = np.cumsum(np.asarray(correct, dtype=float)[order])
    chosen = 1.0
    for i in range(len(ranked)):
        boundary = i == len(ranked) - 1 or ranked[i] > ranked[i + 1]
        if boundary and right[i] / (i + 1) >= target:
            chosen = float(ranked[i])
    return max(chosen, floor)


# --- training and evaluation ---------------------------------------------------------------


def _hold_out(labels: Sequence[str]) -> tuple[list[int], list[int], bool]:
    """Indices to train on and to hold out (20 %), stratified by label where every label
    has at least two requests and the held-out part can hold one of each."""
    from sklearn.model_selection import train_test_split

    indices = list(range(len(labels)))
    try:
        train, held = train_test_split(
            indices, test_size=HOLD_OUT, stratify=list(labels), random_state=12
        )
        return list(train), list(held), True
    except ValueError:
        train, held = train_test_split(indices, test_size=HOLD_OUT, random_state=12)
        return list(train), list(held), False


def _fit(texts: Sequence[str], labels: Sequence[str]) -> Pipeline:
    pipeline = _pipeline()
    try:
        pipeline.fit(list(texts), list(labels))
    except ValueError as error:  # e.g. no n-gram found in two requests (min_df=2)
        raise ClassifierError(f"Cannot learn from these texts: {error}") from None
    return pipeline


def _quiet(message: str) -> None:
    logger.info(message)


def _enough(texts: Sequence[str], labels: Sequence[str], minimum: int | None) -> None:
    minimum = settings.TAWASUL_CLASSIFIER_MIN_SAMPLES if minimum is None else minimum
    if len(texts) < minimum:
        raise ClassifierError(
            f"Too little data: {len(texts)} labelled requests, at least {minimum} are needed."
        )
    if len(set(labels)) < 2:
        raise ClassifierError(
            f"Too little data: {len(set(labels))} label(s); at least 2 are needed to choose."
        )


def _held_out_figures(
    pipeline: Pipeline,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    threshold: float | None,
    target_accuracy: float,
) -> tuple[float, dict[str, Any]]:
    """The threshold and the figures of a classifier trained without these requests: at
    `threshold`, or else at the one chosen on them (`held_out_threshold`, raised to the
    setting)."""
    measured = TrainedClassifier(
        pipeline, threshold=0.0, metrics={}, samples=0, labels=0, train_seconds=0.0
    )
    predictions = measured.predict(texts)
    predicted = [p.label for p in predictions]
    confidences = [p.confidence for p in predictions]
    correct = [a == b for a, b in zip(labels, predicted, strict=True)]
    chosen = threshold_choose(confidences, correct, target=target_accuracy, floor=0.0)
    if threshold is None:
        threshold = max(chosen, settings.TAWASUL_SUGGESTION_THRESHOLD)
    metrics = classifier_scores(labels, predicted, confidences, threshold=threshold)
    metrics.update(target_accuracy=target_accuracy, held_out_threshold=round(chosen, 4))
    return threshold, metrics


def classifier_fit(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    threshold: float | None = None,
    target_accuracy: float = TARGET_ACCURACY,
    minimum: int | None = None,
    log: Log = _quiet,
) -> TrainedClassifier:
    """Train on 80 % and measure on the held-out 20 % (figures, threshold), then train the
    classifier kept on every request. `threshold` fixes the threshold instead. Fewer than
    `minimum` requests (default: the setting) or fewer than 2 labels: `ClassifierError`."""
    _enough(texts, labels, minimum)
    started = time.perf_counter()
    train, held, stratified = _hold_out(labels)
    log(
        f"{len(texts):,} requests, {len(set(labels)):,} labels: training on {len(train):,}, "
        f"holding out {len(held):,} ({'stratified' if stratified else 'not stratified'})"
    )
    step = time.perf_counter()
    measured = _fit([texts[i] for i in train], [labels[i] for i in train])
    log(f"trained on {len(train):,} requests in {time.perf_counter() - step:.1f} s")
    threshold, metrics = _held_out_figures(
        measured,
        [texts[i] for i in held],
        [labels[i] for i in held],
        threshold=threshold,
        target_accuracy=target_accuracy,
    )
    metrics["stratified"] = stratified
    log(
        f"held out {len(held):,}: accuracy {metrics['accuracy']}, macro-F1 "
        f"{metrics['macro_f1']}; threshold {threshold:.3f} abstains on "
        f"{metrics['abstention_rate']} with covered accuracy {metrics['covered_accuracy']}"
    )
    step = time.perf_counter()
    pipeline = _fit(texts, labels)
    log(f"trained on all {len(texts):,} requests in {time.perf_counter() - step:.1f} s")
    return TrainedClassifier(
        pipeline=pipeline,
        threshold=threshold,
        metrics=metrics,
        samples=len(texts),
        labels=len(set(labels)),
        train_seconds=round(time.perf_counter() - started, 2),
    )


def classifier_evaluate(
    classifier: TrainedClassifier,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    log: Log = _quiet,
) -> dict[str, Any]:
    """The figures on labelled texts, with and without abstention, and the milliseconds
    one request takes on its own (as a suggestion is made)."""
    if not texts:
        raise ClassifierError("Nothing to evaluate: no labelled requests.")
    step = time.perf_counter()
    predictions = classifier.predict(texts)
    log(f"{len(texts):,} requests classified in {time.perf_counter() - step:.1f} s")
    sample = list(texts[:LATENCY_SAMPLE])
    step = time.perf_counter()
    for text in sample:
        classifier.predict([text])
    per_request = (time.perf_counter() - step) * 1000 / len(sample)
    figures = classifier_scores(
        list(labels),
        [p.label for p in predictions],
        [p.confidence for p in predictions],
        threshold=classifier.threshold,
    )
    known = set(classifier.classes)
    figures.update(
        ms_per_request=round(per_request, 3),
        unknown_labels=sorted({label for label in labels if label not in known}),
    )
    return figures


# --- labelled CSV files --------------------------------------------------------------------


def labelled_csv_read(
    path: Path, *, text_column: str, label_column: str
) -> tuple[list[str], list[str]]:
    """Texts and labels of a UTF-8 CSV file; rows with an empty text or label are skipped.
    Any problem is a `ClassifierError` saying what is wrong with the file."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in (text_column, label_column) if c not in columns]
            if not columns:
                raise ClassifierError(f"{path} is empty.")
            if missing:
                raise ClassifierError(
                    f"{path} has no column {', '.join(missing)} "
                    f"(its columns: {', '.join(columns)})."
                )
            texts, labels = [], []
            for row in reader:
                text = (row.get(text_column) or "").strip()
                label = (row.get(label_column) or "").strip()
                if text and label:
                    texts.append(text)
                    labels.append(label)
    except FileNotFoundError:
        raise ClassifierError(f"No file at {path}.") from None
    except IsADirectoryError:
        raise ClassifierError(f"{path} is a folder, not a CSV file.") from None
    except PermissionError:
        raise ClassifierError(f"{path} cannot be read (permission denied).") from None
    except UnicodeDecodeError:
        raise ClassifierError(f"{path} is not UTF-8 text; save it as UTF-8.") from None
    except csv.Error as error:
        raise ClassifierError(f"{path} is not a readable CSV file ({error}).") from None
    if not texts:
        raise ClassifierError(f"{path} has no row with both a text and a label.")
    return texts, labels


# --- versions in the database --------------------------------------------------------------


def model_dir() -> Path:
    return Path(settings.TAWASUL_MODEL_DIR)


def model_path(text_model: TextModel) -> Path:
    """Where a version's file is (`path` is kept relative to TAWASUL_MODEL_DIR)."""
    return model_dir() / text_model.path


def training_rows(target: str) -> tuple[list[str], list[str]]:
    """Text (subject and description) and final label (category or answering entity id)
    of the most recent answered requests, oldest first; staff corrections are in them."""
    field = "category_id" if target == TextTarget.CATEGORY else "entity_id"
    active = {f"{target}__is_active": True}
    rows = list(
        Request.objects.filter(status__in=ANSWERED_STATUSES, answered_at__isnull=False, **active)
        .order_by("-answered_at", "-id")
        .values_list("subject", "description", field)[:MAX_TRAINING_ROWS]
    )
    rows.reverse()
    return [request_text(s, d) for s, d, _label in rows], [str(label) for *_t, label in rows]


def text_model_train(
    *,
    target: str,
    threshold: float | None = None,
    target_accuracy: float = TARGET_ACCURACY,
    log: Log = _quiet,
) -> TextModel:
    """Train a new version for `target` from the answered requests, save its file and make
    it the active one (the old one deactivated in the same transaction); keep the files of
    the last `KEEP_FILES` versions. Too little data raises `ClassifierError`."""
    if target not in TextTarget.values:
        raise ClassifierError(f"Unknown target {target!r}: category or entity.")
    step = time.perf_counter()
    texts, labels = training_rows(target)
    log(f"{target}: {len(texts):,} answered requests read in {time.perf_counter() - step:.1f} s")
    trained = classifier_fit(
        texts, labels, threshold=threshold, target_accuracy=target_accuracy, log=log
    )
    with transaction.atomic():
        list(TextModel.objects.select_for_update().filter(target=target).order_by("pk"))
        last = TextModel.objects.filter(target=target).aggregate(last=Max("version"))["last"]
        version = (last or 0) + 1
        name = f"{target}-v{version}.joblib"
        classifier_save(trained, model_dir() / name)
        TextModel.objects.filter(target=target, is_active=True).update(is_active=False)
        text_model = TextModel.objects.create(
            target=target,
            version=version,
            path=name,
            trained_at=timezone.now(),
            train_seconds=trained.train_seconds,
            samples=trained.samples,
            labels=trained.labels,
            metrics=trained.metrics,
            threshold=trained.threshold,
            is_active=True,
        )
        transaction.on_commit(functools.partial(model_files_prune, target=target))
    log(f"{target}: version {version} active ({name}, {trained.train_seconds:.1f} s)")
    return text_model


def model_files_prune(*, target: str) -> list[str]:
    """Delete the files of a target's versions older than its last `KEEP_FILES` (and any
    left by a failed training); the names deleted."""
    kept = set(
        TextModel.objects.filter(target=target)
        .order_by("-version")
        .values_list("path", flat=True)[:KEEP_FILES]
    )
    deleted = []
    for file in model_dir().glob(f"{target}-v*.joblib"):
        if file.name not in kept:
            file.unlink(missing_ok=True)
            deleted.append(file.name)
    return sorted(deleted)


def text_models_active() -> dict[str, TextModel]:
    return {m.target: m for m in TextModel.objects.filter(is_active=True)}


@functools.lru_cache(maxsize=8)
def _loaded(path: str, version: int) -> TrainedClassifier:
    return classifier_load(Path(path))


def text_model_classifier(text_model: TextModel) -> TrainedClassifier:
    """The version's classifier, read from its file once per process."""
    return _loaded(str(model_path(text_model)), text_model.version)
