"""Counts ansible-playbook runs and times their tasks for the test-time table (tests/conftest.py enables it in test
sessions only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: multimesh_test_events
type: aggregate
short_description: record each playbook run, its duration and its slow tasks for the test-time table
description:
  - Appends one JSON line per playbook run to the file named by MULTIMESH_TEST_EVENTS; prints nothing.
  - A task's time is from its start to the next task's start (the linear strategy runs one task at a time).
requirements:
  - enabled through ANSIBLE_CALLBACKS_ENABLED by tests/conftest.py
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

# Tasks shorter than this are left out of the event (they add up in the playbook's total).
SLOW_TASK_SECONDS = 1.0


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "multimesh_test_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._started = time.monotonic()
        self._playbook = ""
        self._task = None
        self._slow = {}

    def _end_task(self):
        if self._task:
            name, started = self._task
            seconds = time.monotonic() - started
            if seconds >= SLOW_TASK_SECONDS:
                self._slow[name] = round(self._slow.get(name, 0) + seconds, 2)
        self._task = None

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._end_task()
        self._task = (task.get_name(), time.monotonic())

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        self._end_task()
        path = os.environ.get("MULTIMESH_TEST_EVENTS")
        if path:
            with open(path, "a") as handle:
                handle.write(json.dumps({"event": "playbook", "playbook": self._playbook, "slow_tasks": self._slow,
                                         "seconds": round(time.monotonic() - self._started, 2)}) + "\n")
