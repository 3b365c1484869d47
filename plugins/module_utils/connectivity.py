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
# One line per request of a repeated probe: "R <curl exit code> <HTTP code> <url> <first line of the body>".
_REPEAT_LINE = re.compile(r"^R (\d+) (\d{3}) (\S+) ?(.*)$")
# Characters of a body's first line kept (the server's own words: evidence, nothing more).
BODY_CHARS = 200
# Time the exec itself may take beyond the probes (API server, stream set-up, process start).
EXEC_SLACK = 5
_FORMAT = "%{url} %{exitcode} %{http_code} %{time_total}\\n"


def probe_script(urls, probe_timeout, repeated=()):
    """A POSIX shell script that probes every URL at once, each bounded by curl --max-time, and prints one line per
    probe. With curl >= 7.75 (%{exitcode} per transfer) one curl process runs them all (--parallel), so a client
    costs one process however many servers it probes; older curl gets one background curl per URL, where `$?` after
    an assignment from a command substitution is that curl's exit status.

    repeated: (url, count) probes that ask count times, one request after the other (which servers answer shows only
    over several answers), in the background beside the others; each request prints its exit code, HTTP code and
    its body's first line (at most BODY_CHARS characters)."""
    timeout = int(probe_timeout)
    lines = []
    if repeated:
        lines.append("r() {{ i=0; while [ $i -lt \"$2\" ]; do i=$((i+1)); o=$(curl -s --max-time {0} -w '\\n%{{http_code}}' "
                     "\"$1\" 2>/dev/null); c=$?; echo \"R $c $(printf '%s' \"$o\" | tail -n 1 | cut -c1-3) $1 "
                     "$(printf '%s' \"$o\" | head -n 1 | tr -d '\\r' | cut -c1-{1})\"; done; }}".format(timeout, BODY_CHARS))
        lines += ["r {0} {1} &".format(quote(url), int(count)) for url, count in repeated]
    if urls:
        lines += _single_probes(urls, timeout)
    lines += ["wait", "exit 0"]
    return "\n".join(lines) + "\n"


def _single_probes(urls, timeout):
    quoted = [quote(url) for url in urls]
    lines = ["if [ \"$(curl -s -o /dev/null -w '%{exitcode}' --max-time 2 file:///dev/null 2>/dev/null)\" = 0 ]; then",
             "  curl --parallel --parallel-immediate --parallel-max {0} -s --no-progress-meter -w '{1}' --max-time {2} {3} "
             "2>/dev/null".format(min(max(len(urls), 1), 300), _FORMAT, timeout, " ".join("-o /dev/null " + url for url in quoted)),
             "else",
             "  p() {{ o=$(curl -s -o /dev/null -w '%{{http_code}} %{{time_total}}' --max-time {0} \"$1\" 2>/dev/null); "
             "echo \"$1 $? ${{o:-000 0}}\"; }}".format(timeout)]
    lines += ["  p {0} &".format(url) for url in quoted]
    return lines + ["  wait", "fi"]


def _probe_lines(stdout, urls, pattern, url_group):
    """(indexes in urls, match) for every line of stdout that pattern matches, whose URL (match group url_group) was
    probed; noise and lines of other URLs are passed over."""
    positions = {}
    for index, url in enumerate(urls):
        positions.setdefault(url, []).append(index)
    for line in (stdout or "").splitlines():
        match = pattern.match(line.rstrip("\r\n"))
        if match and match.group(url_group) in positions:
            yield positions[match.group(url_group)], match


def parse_output(stdout, urls):
    """{index in urls: {rc, http_code, elapsed}} for every well-formed line whose URL was probed; probes without
    a line are absent."""
    results = {}
    for indexes, match in _probe_lines(stdout, urls, _LINE, 1):
        for index in indexes:
            results[index] = {"rc": int(match.group(2)), "http_code": match.group(3), "elapsed": round(float(match.group(4)), 3)}
    return results


def parse_repeated(stdout, urls):
    """{index in urls: [{rc, http_code, body}, ...]} of the repeated probes, one entry per request answered."""
    results = {}
    for indexes, match in _probe_lines(stdout, urls, _REPEAT_LINE, 3):
        answer = {"rc": int(match.group(1)), "http_code": match.group(2), "body": match.group(4)[:BODY_CHARS]}
        for index in indexes:
            results.setdefault(index, []).append(answer)
    return results


def _repeated_result(answers):
    """One repeated probe's result: rc 0 and the first answer's HTTP code when any request was answered, else the
    last failure's; every answer kept."""
    done = [a for a in answers if a["rc"] == 0] or answers[-1:]
    return {"rc": done[0]["rc"], "http_code": done[0]["http_code"], "answers": answers}


def group_by_client(pairs):
    """[((client namespace, client), [pair index, ...])] in the order the pairs came."""
    groups = {}
    for index, pair in enumerate(pairs):
        groups.setdefault((pair["client_namespace"], pair["client"]), []).append(index)
    return list(groups.items())


def exec_seconds(pairs, probe_timeout):
    """How long one client's exec may take: its longest probe (a repeated one asks one request after the other)."""
    return max([int(p.get("repeat") or 1) for p in pairs] or [1]) * probe_timeout + EXEC_SLACK


def _probe_client(exec_fn, pod, container, namespace, pairs, indexes, probe_timeout, out):
    single = [i for i in indexes if not pairs[i].get("repeat")]
    repeated = [i for i in indexes if pairs[i].get("repeat")]
    script = probe_script([pairs[i]["url"] for i in single], probe_timeout,
                          [(pairs[i]["url"], pairs[i]["repeat"]) for i in repeated])
    started = time.time()
    try:
        stdout, stderr, status = exec_fn(namespace, pod, container, ["sh", "-c", script],
                                         exec_seconds([pairs[i] for i in indexes], probe_timeout))
    except Exception as exc:  # any failure of the exec is reported per probe, never raised past the engine
        stdout, stderr, status = "", "", None
        error = "exec into {0}/{1} failed: {2}".format(namespace, pod, exc)
    else:
        error = None
    elapsed = round(time.time() - started, 3)
    found = {}
    for position, answer in parse_output(stdout, [pairs[i]["url"] for i in single]).items():
        found[single[position]] = answer
    for position, answers in parse_repeated(stdout, [pairs[i]["url"] for i in repeated]).items():
        found[repeated[position]] = dict(_repeated_result(answers), elapsed=elapsed)
    for index in indexes:
        result = dict(found.get(index) or {"rc": None, "http_code": None, "elapsed": elapsed})
        if index not in found:
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
