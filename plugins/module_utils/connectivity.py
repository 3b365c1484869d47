# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The connectivity probe engine: one exec per client pod runs all of that client's curls in parallel, and all
client pods are exec'd concurrently. The Kubernetes exec is passed in as a function, so the engine is tested
without a cluster and the module stays thin."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import threading
import time

try:
    from shlex import quote
except ImportError:  # pragma: no cover - Python 2 has it in pipes
    from pipes import quote

# One line per probe: "<url> <curl exit code> <HTTP code> <seconds>".
_LINE = re.compile(r"^(.+) (\d+) (\d{3}) ([0-9.]+)$")
# Time the exec itself may take beyond the probes (API server, stream set-up, process start).
EXEC_SLACK = 5
_FORMAT = "%{url} %{exitcode} %{http_code} %{time_total}\\n"


def probe_script(urls, probe_timeout):
    """A POSIX shell script that probes every URL at once, each bounded by curl --max-time, and prints one line per
    probe. With curl >= 7.75 (%{exitcode} per transfer) one curl process runs them all (--parallel), so a client
    costs one process however many servers it probes; older curl gets one background curl per URL, where `$?` after
    an assignment from a command substitution is that curl's exit status."""
    timeout = int(probe_timeout)
    quoted = [quote(url) for url in urls]
    lines = ["if [ \"$(curl -s -o /dev/null -w '%{exitcode}' --max-time 2 file:///dev/null 2>/dev/null)\" = 0 ]; then",
             "  curl --parallel --parallel-immediate --parallel-max {0} -s --no-progress-meter -w '{1}' --max-time {2} {3} "
             "2>/dev/null".format(min(max(len(urls), 1), 300), _FORMAT, timeout, " ".join("-o /dev/null " + url for url in quoted)),
             "else",
             "  p() {{ o=$(curl -s -o /dev/null -w '%{{http_code}} %{{time_total}}' --max-time {0} \"$1\" 2>/dev/null); "
             "echo \"$1 $? ${{o:-000 0}}\"; }}".format(timeout)]
    lines += ["  p {0} &".format(url) for url in quoted]
    lines += ["  wait", "fi", "exit 0"]
    return "\n".join(lines) + "\n"


def parse_output(stdout, urls):
    """{index in urls: {rc, http_code, elapsed}} for every well-formed line whose URL was probed; probes without
    a line are absent."""
    positions = {}
    for index, url in enumerate(urls):
        positions.setdefault(url, []).append(index)
    results = {}
    for line in (stdout or "").splitlines():
        match = _LINE.match(line.rstrip("\r\n"))
        if match and match.group(1) in positions:
            for index in positions[match.group(1)]:
                results[index] = {"rc": int(match.group(2)), "http_code": match.group(3),
                                  "elapsed": round(float(match.group(4)), 3)}
    return results


def group_by_client(pairs):
    """[((client namespace, client), [pair index, ...])] in the order the pairs came."""
    groups = {}
    for index, pair in enumerate(pairs):
        groups.setdefault((pair["client_namespace"], pair["client"]), []).append(index)
    return list(groups.items())


def _probe_client(exec_fn, pod, container, namespace, pairs, indexes, probe_timeout, out):
    urls = [pairs[i]["url"] for i in indexes]
    script = probe_script(urls, probe_timeout)
    started = time.time()
    try:
        stdout, stderr, status = exec_fn(namespace, pod, container, ["sh", "-c", script], probe_timeout + EXEC_SLACK)
    except Exception as exc:  # any failure of the exec is reported per probe, never raised past the engine
        stdout, stderr, status = "", "", None
        error = "exec into {0}/{1} failed: {2}".format(namespace, pod, exc)
    else:
        error = None
    parsed = parse_output(stdout, urls)
    for position, index in enumerate(indexes):
        result = dict(parsed.get(position) or {"rc": None, "http_code": None, "elapsed": round(time.time() - started, 3)})
        if position not in parsed:
            result["error"] = error or "no result from the exec into {0}/{1} (exit status {2}{3})".format(
                namespace, pod, status, "; stderr: " + stderr.strip()[:200] if stderr and stderr.strip() else "")
        result["pod"] = pod
        out[index] = result


def run_matrix(exec_fn, pods, pairs, probe_timeout, timeout):
    """Probe every pair. pods: {(namespace, client): pod name or None}. exec_fn(namespace, pod, container, command,
    timeout) returns (stdout, stderr, exit status). One thread per client pod; the whole run ends after `timeout`
    seconds, and a probe without an answer by then says so. Returns one result per pair, in order."""
    out = {}
    threads = []
    for (namespace, client), indexes in group_by_client(pairs):
        pod = pods.get((namespace, client))
        if not pod:
            for index in indexes:
                out[index] = {"rc": None, "http_code": None, "elapsed": 0, "pod": None,
                              "error": "no running {0} pod in namespace {1}".format(client, namespace)}
            continue
        thread = threading.Thread(target=_probe_client, args=(exec_fn, pod, client, namespace, pairs, indexes,
                                                              probe_timeout, out))
        thread.daemon = True
        thread.start()
        threads.append(thread)
    deadline = time.time() + timeout
    for thread in threads:
        thread.join(max(0, deadline - time.time()))
    results = []
    for index, pair in enumerate(pairs):
        result = out.get(index) or {"rc": None, "http_code": None, "elapsed": timeout, "pod": None,
                                    "error": "no answer within the run's bound of {0}s".format(timeout)}
        results.append(dict(pair, **result))
    return results


def summary(results):
    answered = [r for r in results if r.get("rc") is not None]
    return {"probes": len(results), "answered": len(answered), "errors": len(results) - len(answered),
            "clients": len(set((r["client_namespace"], r["client"]) for r in results)),
            "slowest": max([r.get("elapsed") or 0 for r in results] or [0])}
