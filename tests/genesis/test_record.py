"""The one result record: its constructors agree on fields, and it imports without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields

import pytest

from genesis.record import STATUSES, TrainResult


def test_failed_and_synthetic_records_have_every_field_and_say_their_split():
    bad = TrainResult.failed(100, 7, "oom", "out of\n memory", seed=3, batch_size=64)
    assert (bad.status, bad.split, bad.accuracy, bad.error) == ("oom", "val", None, "out of memory")
    assert (bad.macs, bad.flops, bad.params, bad.batch_size) == (100, 200, 7, 64)
    val = TrainResult.synthetic(100, 7, 0.75, seed=3, batch_size=64, final=False)
    test = TrainResult.synthetic(100, 7, 0.75, seed=3, batch_size=64, final=True)
    assert (val.split, val.val_accuracy, val.test_accuracy) == ("val", 0.75, None)
    assert (test.split, test.val_accuracy, test.test_accuracy) == ("test", None, 0.75)
    names = [f.name for f in fields(TrainResult)]
    for record in (bad, val, test):
        assert list(record.to_dict()) == names
        assert TrainResult(**json.loads(json.dumps(record.to_dict()))) == record
    assert TrainResult.failed(1, 1, "error", "x" * 900, seed=0, batch_size=1).error == "x" * 500


@pytest.mark.parametrize("status", STATUSES[1:])
def test_every_failure_status_is_a_failed_record(status):
    assert TrainResult.failed(1, 1, status, "m", seed=0, batch_size=1, final=True).split == "test"


def test_the_record_and_the_run_folder_import_without_torch_or_deap():
    code = (
        "import sys, genesis.record, genesis.runfolder; "
        "print(sorted(m for m in ('torch', 'deap', 'evolve') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
