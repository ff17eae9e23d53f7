"""The request classifier: trained and evaluated on short Arabic requests made up here
(tests/classifier_data.py), through the `tawasul classifier` command's CSV interface and
from the platform's own answered requests; abstention, versions and their activation,
suggestions made after a submission commits (real Huey, immediate), their outcomes once
the requests are answered, and too little data refused. Real scikit-learn throughout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from huey.contrib.djhuey import HUEY

from tawasul.cases.models import Category, EventKind, Request, Status
from tawasul.cases.services import (
    request_answer,
    request_claim,
    request_recategorise,
    request_start,
    request_submit,
)
from tawasul.insights.classifier import (
    ClassifierError,
    classifier_fit,
    classifier_load,
    text_model_train,
    threshold_choose,
)
from tawasul.insights.classifier_tasks import classifiers_retrain
from tawasul.insights.suggestions import suggest, suggestions_settle
from tawasul.insights.text_models import Suggestion, SuggestionOutcome, TextModel, TextTarget
from tests.classifier_data import (
    NONSENSE,
    answered_requests,
    csv_text,
    labelled_requests,
    request_of,
)

EVALUATION_KEYS = {
    "accuracy",
    "macro_f1",
    "n",
    "covered_accuracy",
    "covered_macro_f1",
    "covered_n",
    "abstention_rate",
    "threshold",
    "ms_per_request",
}


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("classifier", *args, stdout=out)
    return out.getvalue().strip().splitlines()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A training file (60 requests of each of five topics) and an evaluation file (20 of
    each, other phrasings drawn with another seed)."""
    tmp_path = tmp_path_factory.mktemp("classifier")
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    train.write_text(csv_text(labelled_requests(60)), encoding="utf-8")
    test.write_text(csv_text(labelled_requests(20, seed=99)), encoding="utf-8")
    return {"train": train, "test": test, "model": tmp_path / "out" / "topics.joblib"}


@pytest.fixture(scope="module")
def trained_file(files: dict[str, Path]) -> Path:
    model = files["model"].with_name("kept.joblib")
    run("train", "--csv", str(files["train"]), "--out", str(model))
    return model


# --- the file interface ---------------------------------------------------------------------


def test_train_then_evaluate_a_csv_ends_with_one_json_line(files, trained_file) -> None:
    # given a model trained on the training file (above)
    # when it is evaluated on the other file
    lines = run(
        "evaluate",
        "--model",
        str(trained_file),
        "--csv",
        str(files["test"]),
        "--text-column",
        "text",
        "--label-column",
        "label",
    )
    # then the last line is one JSON object with the figures, the first ones say what ran
    figures = json.loads(lines[-1])
    assert figures.keys() >= EVALUATION_KEYS
    assert figures["n"] == 100
    assert figures["accuracy"] >= 0.9
    assert figures["macro_f1"] >= 0.9
    assert figures["covered_n"] == round(100 * (1 - figures["abstention_rate"]))
    assert figures["covered_accuracy"] >= figures["accuracy"]
    assert 0 < figures["ms_per_request"] < 100
    assert any("100 labelled requests, 5 labels" in line for line in lines[:-1])


def test_training_a_csv_prints_its_steps_and_held_out_figures(files) -> None:
    lines = run("train", "--csv", str(files["train"]), "--out", str(files["model"]))
    assert files["model"].exists()
    assert any("training on 240, holding out 60 (stratified)" in line for line in lines)
    summary = json.loads(lines[-1])
    assert summary["samples"] == 300
    assert summary["labels"] == 5
    assert summary["n"] == 60
    assert summary["accuracy"] >= 0.9
    assert summary["threshold"] >= 0.5  # never below TAWASUL_SUGGESTION_THRESHOLD
    assert summary["train_seconds"] > 0


def test_spelling_variants_of_a_request_get_the_same_label(trained_file) -> None:
    classifier = classifier_load(trained_file)
    written = [
        "لم تظهر نتيجة الاختبار في نظام نور",
        "لم تَظهر نتيجه الإختبار فى نظام نـــور",
        "الحافلة المدرسية لا تصل في الموعد",
        "الحافله المدرسيه لا تصل فى الموعد",
    ]
    labels = [p.label for p in classifier.predict(written)]
    assert labels == ["exams", "exams", "buses", "buses"]


@pytest.mark.parametrize("nonsense", NONSENSE)
def test_a_nonsense_text_abstains(trained_file, nonsense) -> None:
    (prediction,) = classifier_load(trained_file).predict([nonsense])
    assert prediction.abstained
    assert prediction.confidence < 0.5


def test_an_unrelated_arabic_text_abstains(trained_file) -> None:
    (prediction,) = classifier_load(trained_file).predict(["كرة القدم مباراة الهلال والنصر"])
    assert prediction.abstained


BAD_FILES = {
    "missing": (None, "No file at"),
    "empty": (b"", "is empty"),
    "no label column": ("text,topic\nنص الطلب,exams\n".encode(), "has no column label"),
    "not utf-8": ("text,label\nلم تظهر النتيجة,exams\n".encode("cp1256"), "is not UTF-8"),
    "header only": (b"text,label\n", "has no row with both a text and a label"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_csv_is_refused_with_a_message(tmp_path, case) -> None:
    content, message = BAD_FILES[case]
    csv = tmp_path / "bad.csv"
    if content is not None:
        csv.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run("train", "--csv", str(csv), "--out", str(tmp_path / "m.joblib"))
    with pytest.raises(CommandError, match=message):
        run("evaluate", "--model", str(tmp_path / "m.joblib"), "--csv", str(csv))


def test_evaluate_refuses_a_file_that_is_not_a_model(files) -> None:
    with pytest.raises(CommandError, match="not a classifier file"):
        run("evaluate", "--model", str(files["train"]), "--csv", str(files["test"]))


def test_a_bad_csv_on_the_command_line_exits_1_without_a_traceback(tmp_path) -> None:
    csv = tmp_path / "latin.csv"
    csv.write_bytes("text,label\nمرحبا,x\n".encode("cp1256"))
    done = subprocess.run(  # noqa: S603
        [
            str(Path(sys.executable).with_name("tawasul")),
            "classifier",
            "train",
            "--csv",
            str(csv),
            "--out",
            str(tmp_path / "m.joblib"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TAWASUL_VAR_DIR": str(tmp_path / "var")},
        check=False,
        timeout=60,
    )
    assert done.returncode == 1
    assert "is not UTF-8" in done.stderr
    assert "Traceback" not in done.stderr


def test_too_little_data_is_refused(tmp_path) -> None:
    rows = labelled_requests(60)
    with pytest.raises(ClassifierError, match="at least 50 are needed"):
        classifier_fit([t for t, _l in rows[:49]], [label for _t, label in rows[:49]])
    with pytest.raises(ClassifierError, match="at least 2 are needed"):
        classifier_fit([t for t, _l in rows], ["exams"] * len(rows))
    one_label = tmp_path / "one.csv"
    one_label.write_text(csv_text([(t, "exams") for t, _l in rows]), encoding="utf-8")
    with pytest.raises(CommandError, match="at least 2 are needed"):
        run("train", "--csv", str(one_label), "--out", str(tmp_path / "m.joblib"))


@pytest.mark.parametrize(
    ("confidences", "correct", "expected"),
    [
        ([0.9, 0.8, 0.7, 0.6], [True, True, True, True], 0.6),  # all right: keep every one
        ([0.9, 0.8, 0.7, 0.6], [True, True, True, False], 0.7),  # drop the wrong tail
        ([0.9, 0.8, 0.7, 0.6], [False, True, True, True], 1.0),  # never reaches the target
        ([0.9, 0.9, 0.5], [True, False, True], 1.0),  # a tie is taken whole
        ([0.4, 0.3], [True, True], 0.5),  # never below the floor
    ],
)
def test_the_threshold_is_the_lowest_confidence_reaching_the_target(
    confidences, correct, expected
) -> None:
    assert threshold_choose(confidences, correct, target=0.95, floor=0.5) == expected


# --- from the platform's answered requests --------------------------------------------------


@pytest.fixture
def models_dir(settings, tmp_path) -> Path:
    settings.TAWASUL_MODEL_DIR = tmp_path / "models"
    settings.TAWASUL_CLASSIFIER_MIN_SAMPLES = 30
    return settings.TAWASUL_MODEL_DIR


@pytest.fixture
def buses(ministry) -> Category:
    return Category.objects.add_root(
        instance=Category(code="buses", name_ar="النقل المدرسي", name_en="School buses")
    )


@pytest.fixture
def routes(ministry, buses) -> dict:
    """Each topic's category and the entity that answers it."""
    return {
        "exams": (ministry.exams, ministry.riyadh),
        "transfer": (ministry.transfer, ministry.makkah),
        "buses": (buses, ministry.university),
    }


@pytest.fixture
def immediate_queue():
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


@pytest.fixture
def history(db, sara, routes) -> list[int]:
    return answered_requests(sara, routes, per_topic=14)


@pytest.mark.django_db
@pytest.mark.usefixtures("models_dir")
def test_too_little_history_is_refused_and_the_weekly_job_skips(sara, routes) -> None:
    answered_requests(sara, routes, per_topic=5)  # 15 answered, 30 needed
    with pytest.raises(ClassifierError, match="15 labelled requests, at least 30"):
        text_model_train(target=TextTarget.CATEGORY)
    with pytest.raises(CommandError, match="at least 30"):
        run("train", "--target", "entity")
    assert classifiers_retrain() == {"category": None, "entity": None}
    assert not TextModel.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("history")
def test_each_training_is_a_new_active_version_and_three_files_are_kept(
    models_dir, django_capture_on_commit_callbacks
) -> None:
    lines = run("train", "--target", "category")
    assert any("category: 42 answered requests read" in line for line in lines)
    assert json.loads(lines[-1]) == {"target": "category", "version": 1}
    first = TextModel.objects.get(target=TextTarget.CATEGORY)
    assert first.is_active
    assert (first.samples, first.labels) == (42, 3)
    assert first.metrics["n"] == 9
    assert first.metrics["accuracy"] >= 0.8
    assert first.threshold >= 0.5
    assert first.train_seconds > 0
    assert (models_dir / first.path).exists()

    for _again in range(3):
        with django_capture_on_commit_callbacks(execute=True):  # old files go after commit
            text_model_train(target=TextTarget.CATEGORY)
    versions = TextModel.objects.filter(target=TextTarget.CATEGORY)
    assert [(m.version, m.is_active) for m in versions] == [
        (4, True),
        (3, False),
        (2, False),
        (1, False),
    ]
    assert sorted(p.name for p in models_dir.glob("category-*")) == [
        "category-v2.joblib",
        "category-v3.joblib",
        "category-v4.joblib",
    ]
    # the other target is trained on its own
    assert text_model_train(target=TextTarget.ENTITY).version == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("models_dir", "immediate_queue")
def test_without_an_active_model_there_is_no_suggestion(
    sara, ministry, django_capture_on_commit_callbacks
) -> None:
    subject, description = request_of("exams", 1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        request = request_submit(
            beneficiary=sara,
            kind="complaint",
            category=ministry.exams,
            subject=subject,
            description=description,
        )
    assert callbacks  # the receiver ran after commit, and found nothing to do
    assert not Suggestion.objects.exists()
    assert suggest(request) == []


@pytest.fixture
def trained(history, models_dir) -> dict[str, TextModel]:
    return {target: text_model_train(target=target) for target in TextTarget.values}


@pytest.mark.django_db
@pytest.mark.usefixtures("immediate_queue")
def test_a_submitted_request_gets_its_suggestions_once_committed(
    trained, sara, ministry, buses, django_capture_on_commit_callbacks
) -> None:
    # given active models; when a request about the buses is filed under exams, to Riyadh
    subject, description = request_of("buses", 100)
    with django_capture_on_commit_callbacks(execute=True):
        request = request_submit(
            beneficiary=sara,
            kind="complaint",
            category=ministry.exams,
            subject=subject,
            description=description,
            entity=ministry.riyadh,
        )
        assert not Suggestion.objects.filter(request=request).exists()  # not before commit
    # then both suggestions were made by the queued job, with the active versions
    made = {s.target: s for s in Suggestion.objects.filter(request=request)}
    assert made.keys() == {"category", "entity"}
    assert made["category"].category_id == buses.pk
    assert made["entity"].entity_id == ministry.university.pk
    assert made["category"].model == trained["category"]
    assert 0 < made["category"].confidence <= 1
    assert made["category"].outcome == SuggestionOutcome.PENDING
    # asking again makes nothing new
    assert {s.pk for s in suggest(request)} == {s.pk for s in made.values()}


@pytest.mark.django_db
@pytest.mark.usefixtures("trained")
def test_a_missing_model_file_means_no_suggestion_not_an_error(sara, ministry, models_dir):
    for file in models_dir.iterdir():
        file.unlink()
    subject, description = request_of("exams", 100)
    request = request_submit(
        beneficiary=sara,
        kind="inquiry",
        category=ministry.exams,
        subject=subject,
        description=description,
    )
    assert suggest(request) == []


@pytest.mark.django_db
@pytest.mark.usefixtures("trained")
def test_settling_marks_kept_suggestions_accepted_and_changed_ones_corrected(
    sara, ministry, buses, staff
) -> None:
    def submitted(topic: str) -> Request:
        subject, description = request_of(topic, 200)
        return request_submit(
            beneficiary=sara,
            kind="complaint",
            category=ministry.exams,
            subject=subject,
            description=description,
            entity=ministry.riyadh,
        )

    def answered(request: Request) -> None:
        request_claim(request=request, by=staff.riyadh_agent)
        request_start(request=request, by=staff.riyadh_agent)
        request_answer(request=request, by=staff.riyadh_agent, resolution="تمت المعالجة، شكرا لكم")

    # given an exams request kept under exams, a buses request filed under exams and
    # moved to buses by the agent, and one still open
    kept, moved, open_ = submitted("exams"), submitted("buses"), submitted("transfer")
    for request in (kept, moved, open_):
        suggest(request)
    request_recategorise(request=moved, by=staff.riyadh_agent, category=buses)
    answered(kept)
    answered(moved)
    # when the hourly job runs
    assert suggestions_settle() == {"accepted": 3, "corrected": 1}
    # then the category suggestions say what staff did, who answered and when
    kept_category = Suggestion.objects.get(request=kept, target=TextTarget.CATEGORY)
    assert kept_category.category_id == ministry.exams.pk
    assert kept_category.outcome == SuggestionOutcome.ACCEPTED
    assert kept_category.final_category_id == ministry.exams.pk
    assert kept_category.decided_by == staff.riyadh_agent
    answer = kept.events.get(kind=EventKind.ANSWERED)
    assert kept_category.decided_at == answer.created_at
    moved_category = Suggestion.objects.get(request=moved, target=TextTarget.CATEGORY)
    assert moved_category.category_id == buses.pk
    assert moved_category.outcome == SuggestionOutcome.ACCEPTED  # the agent did what it said
    # the entity suggestions: exams → Riyadh (kept), buses → the university (not followed)
    kept_entity = Suggestion.objects.get(request=kept, target=TextTarget.ENTITY)
    assert kept_entity.outcome == SuggestionOutcome.ACCEPTED
    moved_entity = Suggestion.objects.get(request=moved, target=TextTarget.ENTITY)
    assert moved_entity.entity_id == ministry.university.pk
    assert moved_entity.outcome == SuggestionOutcome.CORRECTED
    assert moved_entity.final_entity_id == ministry.riyadh.pk
    # the open request waits; a second run changes nothing
    waiting = Suggestion.objects.filter(request=open_).values_list("outcome", flat=True)
    assert set(waiting) == {SuggestionOutcome.PENDING}
    assert suggestions_settle() == {"accepted": 0, "corrected": 0}
    assert Request.objects.get(pk=moved.pk).status == Status.ANSWERED
