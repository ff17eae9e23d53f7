"""`tawasul classifier`: train the routing classifiers, or train and evaluate one on files.

    tawasul classifier train [--target category|entity]
        a new version of each target (both by default) from the answered requests,
        made active at once
    tawasul classifier train --csv FILE --text-column text --label-column label --out MODEL
        a classifier file from a labelled UTF-8 CSV (nothing written to the database)
    tawasul classifier evaluate --model MODEL --csv FILE --text-column text --label-column label
        its figures on a labelled CSV (--threshold T: as if it abstained below T)

Each prints its steps with counts and seconds; the last line of `evaluate` and of a file
`train` is one JSON object (accuracy, macro_f1, n, the same for the requests not abstained
on — covered_* —, abstention_rate, threshold, and for evaluate ms_per_request). A file
that cannot be used stops the command with a message and exit status 1.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tawasul.insights.classifier import (
    TARGET_ACCURACY,
    ClassifierError,
    classifier_evaluate,
    classifier_fit,
    classifier_load,
    classifier_save,
    labelled_csv_read,
    text_model_train,
)
from tawasul.insights.text_models import TextTarget


def _columns(parser: CommandParser) -> None:
    parser.add_argument("--text-column", default="text", help="column of the text (text)")
    parser.add_argument("--label-column", default="label", help="column of the label (label)")


class Command(BaseCommand):
    help = "Train the routing classifiers (from the database or a CSV file), or evaluate one."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        train = actions.add_parser("train", help="train a new version (or a file with --csv)")
        train.add_argument("--target", choices=TextTarget.values, help="default: both")
        train.add_argument("--csv", type=Path, help="train on this labelled CSV instead")
        train.add_argument("--out", type=Path, help="the model file to write (with --csv)")
        train.add_argument("--threshold", type=float, help="fixed abstention threshold")
        train.add_argument(
            "--target-accuracy",
            type=float,
            default=TARGET_ACCURACY,
            help="accuracy wanted on what is not abstained (held out), default 0.95",
        )
        train.add_argument("--min-samples", type=int, help="with --csv (default: the setting)")
        _columns(train)
        evaluate = actions.add_parser("evaluate", help="figures of a model on a labelled CSV")
        evaluate.add_argument("--model", type=Path, required=True)
        evaluate.add_argument("--csv", type=Path, required=True)
        evaluate.add_argument("--threshold", type=float, help="instead of the model's own")
        _columns(evaluate)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "evaluate":
                self._evaluate(options)
            elif options["csv"] is not None:
                self._train_file(options)
            else:
                self._train(options)
        except ClassifierError as error:
            raise CommandError(str(error)) from None

    def _log(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _read(self, options: dict[str, Any]) -> tuple[list[str], list[str]]:
        started = time.perf_counter()
        texts, labels = labelled_csv_read(
            options["csv"], text_column=options["text_column"], label_column=options["label_column"]
        )
        self._log(
            f"{options['csv']}: {len(texts):,} labelled requests, {len(set(labels)):,} labels, "
            f"read in {time.perf_counter() - started:.1f} s"
        )
        return texts, labels

    def _train(self, options: dict[str, Any]) -> None:
        if options["out"] is not None:
            raise CommandError("--out goes with --csv (a file trained from a CSV file).")
        targets = [options["target"]] if options["target"] else TextTarget.values
        for target in targets:
            text_model = text_model_train(
                target=target,
                threshold=options["threshold"],
                target_accuracy=options["target_accuracy"],
                log=self._log,
            )
            self._log(json.dumps({"target": target, "version": text_model.version}))

    def _train_file(self, options: dict[str, Any]) -> None:
        if options["out"] is None:
            raise CommandError("--csv needs --out, the model file to write.")
        texts, labels = self._read(options)
        trained = classifier_fit(
            texts,
            labels,
            threshold=options["threshold"],
            target_accuracy=options["target_accuracy"],
            minimum=options["min_samples"],
            log=self._log,
        )
        try:
            classifier_save(trained, options["out"])
        except OSError as error:
            raise CommandError(f"Cannot write {options['out']}: {error.strerror}.") from None
        self._log(f"saved to {options['out']}")
        summary = {
            **trained.metrics,
            "samples": trained.samples,
            "labels": trained.labels,
            "train_seconds": trained.train_seconds,
        }
        self._log(json.dumps(summary, ensure_ascii=False))

    def _evaluate(self, options: dict[str, Any]) -> None:
        texts, labels = self._read(options)
        classifier = classifier_load(options["model"])
        if options["threshold"] is not None:
            classifier = replace(classifier, threshold=options["threshold"])
        figures = classifier_evaluate(classifier, texts, labels, log=self._log)
        self._log(json.dumps(figures, ensure_ascii=False))
