"""Great Expectations suites judged once per sample: the same rows give the stored outcome, other rows run GX."""

import json
from dataclasses import asdict

import pandas as pd

from orchestration.quality import validate, validate_once


def orders(statuses: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": [f"O{i}" for i in range(len(statuses))],
        "status": statuses,
        "total_amount": [10.0] * len(statuses),
        "discount_amount": [0.0] * len(statuses),
        "currency": ["CNY"] * len(statuses),
    })


def test_the_same_rows_reuse_the_stored_outcome_and_other_rows_are_validated(tmp_path):
    good = orders(["completed", "pending", "refunded"])
    first = validate_once(good, "accepted_orders", tmp_path)
    assert asdict(first) == asdict(validate(good, "accepted_orders"))
    assert not first.critical_failures

    # plant a different outcome under the stored digest: only a reuse of the stored outcome can return it
    stored = tmp_path / "accepted_orders.json"
    kept = json.loads(stored.read_text())
    kept["outcome"]["description"] = "planted"
    stored.write_text(json.dumps(kept))
    assert validate_once(good.copy(), "accepted_orders", tmp_path).description == "planted"

    # one value changed is other rows: GX runs again and sees the bad status
    bad = good.copy()
    bad.loc[1, "status"] = "lost"
    again = validate_once(bad, "accepted_orders", tmp_path)
    assert again.description != "planted"
    assert [o.column for o in again.critical_failures] == ["status"]


def test_a_damaged_store_is_validated_again(tmp_path):
    frame = orders(["completed"])
    (tmp_path / "accepted_orders.json").write_text("{not json")
    assert not validate_once(frame, "accepted_orders", tmp_path).critical_failures
    assert json.loads((tmp_path / "accepted_orders.json").read_text())["outcome"]["rows_validated"] == 1


WORKER_SCRIPT = """
import json, multiprocessing, sys
from dataclasses import asdict
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_expectations import orders
from orchestration import quality

bad = orders(["completed", "lost"])
quality.start_worker()
(worker,) = multiprocessing.active_children()
in_worker = asdict(quality.validate_once(bad, "accepted_orders", Path({store!r}, "first")))
imported_here = "great_expectations" in sys.modules
print("worker done", file=sys.stderr, flush=True)
worker.kill()
worker.join()
after_kill = asdict(quality.validate_once(bad, "accepted_orders", Path({store!r}, "second")))
quality.stop_worker()
print(json.dumps({{"in_worker": in_worker, "imported_here": imported_here, "after_kill": after_kill,
                  "here": asdict(quality.validate(bad, "accepted_orders"))}}))
"""


def test_a_started_worker_validates_in_its_own_process_and_a_dead_one_falls_back_to_this_one(tmp_path):
    """`segments run` imports GX in a worker on the other core; the outcome is the one GX gives in-process, and a
    worker that died (killed, out of memory) leaves the check to validate where it runs."""
    import subprocess
    import sys
    from pathlib import Path

    script = WORKER_SCRIPT.format(tests=str(Path(__file__).parent), store=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert not result["imported_here"]
    assert result["in_worker"] == result["here"] == result["after_kill"]
    assert [o["column"] for o in result["in_worker"]["outcomes"] if not o["success"]] == ["status"]
    # the worker draws no progress bars on the terminal (GX draws them when it validates in this process)
    assert "Calculating Metrics" not in done.stderr.split("worker done")[0]
