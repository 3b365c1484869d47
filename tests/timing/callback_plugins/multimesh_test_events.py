"""Counts ansible-playbook runs for the test-time table (tests/conftest.py enables it in test sessions only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: multimesh_test_events
type: aggregate
short_description: record each playbook run and its duration for the test-time table
description:
  - Appends one JSON line per playbook run to the file named by MULTIMESH_TEST_EVENTS; prints nothing.
requirements:
  - enabled through ANSIBLE_CALLBACKS_ENABLED by tests/conftest.py
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "multimesh_test_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._started = time.monotonic()
        self._playbook = ""

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("MULTIMESH_TEST_EVENTS")
        if path:
            with open(path, "a") as handle:
                handle.write(json.dumps({"event": "playbook", "playbook": self._playbook,
                                         "seconds": round(time.monotonic() - self._started, 2)}) + "\n")
