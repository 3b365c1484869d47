"""A fake istioctl for unit tests: records its argv and replays real outputs.

Rules come from $FAKE_ISTIOCTL_DIR/rules.json, a list of {"argv": [...], "stdout": "...", "stdout_file": "...",
"stderr": "...", "rc": 0, "sleep": 0}; the first rule whose argv is a prefix of the call answers. Every call is
appended to $FAKE_ISTIOCTL_DIR/calls.jsonl, and the content of its -f files to inputs.jsonl. A call no rule answers exits 64 and says so on stderr."""

import json
import os
import sys
import time


def main(argv):
    state = os.environ["FAKE_ISTIOCTL_DIR"]
    with open(os.path.join(state, "calls.jsonl"), "a") as log:
        log.write(json.dumps(argv) + "\n")
    # Keep what -f pointed at: the module removes its temporary files before a test can look at them.
    inputs = {}
    for index, arg in enumerate(argv[:-1]):
        if arg == "-f" and os.path.exists(argv[index + 1]):
            with open(argv[index + 1]) as handle:
                inputs[argv[index + 1]] = handle.read()
    with open(os.path.join(state, "inputs.jsonl"), "a") as log:
        log.write(json.dumps(inputs) + "\n")
    with open(os.path.join(state, "rules.json")) as handle:
        rules = json.load(handle)
    for rule in rules:
        if argv[:len(rule["argv"])] == rule["argv"]:
            time.sleep(rule.get("sleep", 0))
            out = rule.get("stdout", "")
            if rule.get("stdout_file"):
                with open(rule["stdout_file"]) as handle:
                    out = handle.read()
            sys.stdout.write(out)
            sys.stderr.write(rule.get("stderr", ""))
            return rule.get("rc", 0)
    sys.stderr.write("fake istioctl: no rule for {0}\n".format(argv))
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
