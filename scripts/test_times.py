"""The table of where scripts/test.sh spent its time: each step (build/test-times/steps.tsv, written by test.sh),
then each pytest module with its tests, asserts, ansible-playbook runs and harness starts (build/test-times/
pytest-*.json, written by tests/conftest.py). Keeps the whole in build/test-times.json and prints it.
--save-weights also writes each module's seconds to tests/timing/module-seconds.json (the order of the modules)."""

import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, "build", "test-times")


def load():
    steps = []
    try:
        with open(os.path.join(DIR, "steps.tsv")) as handle:
            for line in handle:
                name, seconds = line.rstrip("\n").rsplit("\t", 1)
                steps.append({"step": name, "seconds": round(float(seconds), 1)})
    except FileNotFoundError:
        pass
    modules = {}
    for path in sorted(glob.glob(os.path.join(DIR, "pytest-*.json"))):
        with open(path) as handle:
            worker = os.path.basename(path)[len("pytest-"):-len(".json")]
            for name, entry in json.load(handle)["modules"].items():
                modules[name] = dict(entry, worker=worker)
    return steps, modules


def slow_tasks(limit=15):
    """[(task, seconds, runs)] of the tasks that took longest over every playbook run of the session."""
    totals = {}
    for path in glob.glob(os.path.join(DIR, "events-*.jsonl")):
        with open(path) as handle:
            for line in handle:
                event = json.loads(line)
                for task, seconds in event.get("slow_tasks", {}).items():
                    total = totals.setdefault(task, [0.0, 0])
                    total[0] += seconds
                    total[1] += 1
    ordered = sorted(totals.items(), key=lambda kv: -kv[1][0])[:limit]
    return [(task, round(seconds, 1), runs) for task, (seconds, runs) in ordered]


def table(steps, modules):
    lines = ["{0:<72} {1:>8}".format("step", "seconds")]
    lines += ["{0:<72} {1:>8.0f}".format(s["step"][:72], s["seconds"]) for s in steps]
    lines.append("{0:<72} {1:>8.0f}".format("total", sum(s["seconds"] for s in steps)))
    lines += ["", "{0:<52} {1:>7} {2:>5} {3:>5} {4:>7} {5:>5} {6:>7} {7:>5} {8:>5}".format(
        "pytest module", "seconds", "tests", "fail", "asserts", "plays", "play s", "ups", "up s")]
    ordered = sorted(modules.items(), key=lambda kv: -kv[1]["seconds"])
    for name, m in ordered:
        lines.append("{0:<52} {1:>7.0f} {2:>5} {3:>5} {4:>7} {5:>5} {6:>7.0f} {7:>5} {8:>5.0f}".format(
            name[-52:], m["seconds"], m["tests"], m["failed"], m["asserts"], m["playbooks"], m["playbook_seconds"],
            m["harness_starts"], m["harness_seconds"]))
    total = dict((key, sum(m[key] for m in modules.values())) for key in (
        "seconds", "tests", "failed", "asserts", "playbooks", "playbook_seconds", "harness_starts", "harness_seconds"))
    lines.append("{0:<52} {seconds:>7.0f} {tests:>5} {failed:>5} {asserts:>7} {playbooks:>5} {playbook_seconds:>7.0f} "
                 "{harness_starts:>5} {harness_seconds:>5.0f}".format("all modules (summed over workers)", **total))
    return "\n".join(lines)


def task_table(tasks):
    lines = ["", "{0:<86} {1:>7} {2:>5}".format("slowest tasks (over all playbook runs; >= 1 s each)", "seconds", "runs")]
    lines += ["{0:<86} {1:>7.0f} {2:>5}".format(task[:86], seconds, runs) for task, seconds, runs in tasks]
    return "\n".join(lines)


def save_weights(modules):
    """tests/timing/module-seconds.json: each module's seconds, which tests/conftest.py orders the modules by."""
    path = os.path.join(ROOT, "tests", "timing", "module-seconds.json")
    with open(path, "w") as handle:
        json.dump(dict((name, round(m["seconds"])) for name, m in modules.items()), handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("wrote " + os.path.relpath(path, ROOT))


def main():
    steps, modules = load()
    if "--save-weights" in sys.argv[1:]:
        save_weights(modules)
    tasks = slow_tasks()
    with open(os.path.join(ROOT, "build", "test-times.json"), "w") as handle:
        json.dump({"steps": steps, "modules": modules, "slow_tasks": tasks}, handle, indent=1, sort_keys=True)
    print("\n=== where the time went (build/test-times.json)")
    print(table(steps, modules))
    print(task_table(tasks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
