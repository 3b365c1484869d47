"""Where the test time goes. For each test module: its wall time (module-scoped fixtures included), its tests and
failures, its assert statements, and the ansible-playbook runs and harness starts it caused, counted from the
events its child processes append to MULTIMESH_TEST_EVENTS (the callback tests/timing/callback_plugins/
multimesh_test_events.py; harness.Cluster.up). Written to build/test-times/pytest-<worker>.json;
scripts/test_times.py prints the table at the end of scripts/test.sh."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import json
import os
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "build", "test-times")
_STATE = {"offset": 0, "modules": {}, "failed": set()}


# Measured seconds per module (scripts/test_times.py --save-weights): the longest modules start first, so that the
# two xdist workers (scripts/test.sh) end together. A module not in the file counts as a short one.
WEIGHTS = os.path.join(HERE, "timing", "module-seconds.json")


def pytest_collection_modifyitems(session, config, items):
    try:
        with open(WEIGHTS) as handle:
            weights = json.load(handle)
    except FileNotFoundError:
        return
    # A stable sort: the tests of a module keep their order (module-scoped fixtures depend on it).
    items.sort(key=lambda item: -weights.get(item.nodeid.split("::")[0], 0))


def _worker():
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def pytest_configure(config):
    os.makedirs(OUT, exist_ok=True)
    events = os.path.join(OUT, "events-{0}.jsonl".format(_worker()))
    open(events, "w").close()
    os.environ["MULTIMESH_TEST_EVENTS"] = events
    plugins = os.environ.get("ANSIBLE_CALLBACK_PLUGINS")
    os.environ["ANSIBLE_CALLBACK_PLUGINS"] = os.pathsep.join(
        [os.path.join(HERE, "timing", "callback_plugins")] + ([plugins] if plugins else []))
    enabled = [c for c in os.environ.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if c]
    os.environ["ANSIBLE_CALLBACKS_ENABLED"] = ",".join(enabled + ["multimesh_test_events"])


def _new_events():
    path = os.environ["MULTIMESH_TEST_EVENTS"]
    with open(path) as handle:
        handle.seek(_STATE["offset"])
        data = handle.read()
    complete = data[:data.rfind("\n") + 1]
    _STATE["offset"] += len(complete.encode())
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


def _asserts(path):
    """assert statements in the module's source (what step 4 of the budget issue compares before and after)."""
    with open(path) as handle:
        tree = ast.parse(handle.read())
    return sum(isinstance(node, ast.Assert) for node in ast.walk(tree))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    started = time.monotonic()
    _new_events()  # what happened between tests (collection) belongs to no module
    yield
    module = item.nodeid.split("::")[0]
    entry = _STATE["modules"].get(module)
    if entry is None:
        entry = _STATE["modules"][module] = {"seconds": 0.0, "tests": 0, "failed": 0, "asserts": _asserts(str(item.path)),
                                             "playbooks": 0, "playbook_seconds": 0.0, "harness_starts": 0,
                                             "harness_seconds": 0.0}
    entry["seconds"] += time.monotonic() - started
    entry["tests"] += 1
    entry["failed"] += item.nodeid in _STATE["failed"]
    for event in _new_events():
        if event["event"] == "playbook":
            entry["playbooks"] += 1
            entry["playbook_seconds"] += event["seconds"]
        elif event["event"] == "harness-up":
            entry["harness_starts"] += 1
            entry["harness_seconds"] += event["seconds"]


def pytest_runtest_logreport(report):
    if report.failed:
        _STATE["failed"].add(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    with open(os.path.join(OUT, "pytest-{0}.json".format(_worker())), "w") as handle:
        json.dump({"exitstatus": int(exitstatus), "modules": _STATE["modules"]}, handle, indent=1, sort_keys=True)
