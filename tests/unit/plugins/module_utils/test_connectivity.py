"""The probe engine: the script it runs in a pod (executed here by a real sh against a fake curl), how it reads the
output, one exec per client pod, concurrency and the whole-run bound."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex
import subprocess
import threading
import time

import pytest

from ansible_collections.multimesh.istio.plugins.module_utils import connectivity as c

PAIRS = [{"client_namespace": "a1", "client": "curl", "server_namespace": s, "url": "http://httpbin.{0}.svc:8000/get".format(s),
          "expect": "allow" if s == "a1" else "deny"} for s in ("a1", "a2")] + [
    {"client_namespace": "a2", "client": "sleep", "server_namespace": "a1", "url": "http://httpbin.a1.svc:8000/get",
     "expect": "deny"}]

FAKE_CURL = """#!/bin/sh
# Answers like curl: httpbin.a1 serves 200, httpbin.a2 resets (exit 56), anything else does not resolve (exit 6).
# NEW=1: a curl >= 7.75 (%{exitcode}, --parallel); otherwise an old one that prints %{exitcode} as it is.
answer() {
  case "$1" in
    *httpbin.a1.*) echo "0 200 0.004" ;;
    *httpbin.a2.*) echo "56 000 0.002" ;;
    *) echo "6 000 0.000" ;;
  esac
}
case " $* " in
  *file:///dev/null*) if [ "$NEW" = 1 ]; then printf 0; else printf '%%{exitcode}'; fi; exit 0 ;;
  *" --parallel "*)
    echo "old curl was asked to go parallel" >&2
    for arg; do case "$arg" in http*) echo "$arg $(answer "$arg")" ;; esac; done
    exit 6 ;;
esac
for last; do :; done
set -- $(answer "$last")
printf '%s %s' "$2" "$3"
exit "$1"
"""

URLS = ["http://httpbin.a1.svc:8000/get", "http://httpbin.a2.svc:8000/get", "http://nowhere.example/'; rm -rf x"]
EXPECTED = {0: {"rc": 0, "http_code": "200", "elapsed": 0.004}, 1: {"rc": 56, "http_code": "000", "elapsed": 0.002},
            2: {"rc": 6, "http_code": "000", "elapsed": 0.0}}


def run_script_locally(tmp_path, urls, new_curl, timeout=3):
    fake = tmp_path / "curl"
    fake.write_text(FAKE_CURL)
    fake.chmod(0o755)
    env = dict(os.environ, PATH="{0}:{1}".format(tmp_path, os.environ["PATH"]), NEW="1" if new_curl else "0")
    proc = subprocess.run(["sh", "-c", c.probe_script(urls, timeout)], env=env, stdout=subprocess.PIPE,
                          universal_newlines=True, check=True)
    return proc.stdout


@pytest.mark.parametrize("new_curl", [True, False], ids=["one-parallel-curl", "old-curl-one-per-url"])
def test_the_script_runs_every_probe_and_reports_exit_code_http_code_and_time(tmp_path, new_curl):
    out = run_script_locally(tmp_path, URLS, new_curl)
    assert c.parse_output(out, URLS) == EXPECTED
    if new_curl:
        assert len(out.splitlines()) == 3  # one process answered for all


def test_the_script_bounds_each_probe_and_runs_them_at_once():
    script = c.probe_script(["http://a", "http://b"], 4)
    assert script.count("--max-time 4") == 2
    assert "--parallel --parallel-immediate --parallel-max 2 " in script and "-o /dev/null http://a -o /dev/null http://b" in script
    assert script.count(" &\n") == 2 and script.rstrip().endswith("exit 0")
    assert "--parallel-max 300 " in c.probe_script(["http://h{0}".format(i) for i in range(400)], 4)


def test_parse_ignores_noise_and_lines_of_other_probes():
    out = "garbage\nhttp://a 0 200 0.1\nhttp://other 0 200 0.1\nhttp://b x 200\n"
    answer = {"rc": 0, "http_code": "200", "elapsed": 0.1}
    assert c.parse_output(out, ["http://a", "http://b", "http://a"]) == {0: answer, 2: answer}


def test_one_exec_per_client_pod_and_results_in_pair_order():
    calls = []

    def fake_exec(namespace, pod, container, command, timeout):
        calls.append((namespace, pod, container, command[:2], timeout))
        lines = ["{0} 0 {1} 0.01".format(url, 200 if "a1" in url else 503)
                 for url in (shlex.split(line)[1] for line in command[2].splitlines() if line.startswith("  p "))]
        return "\n".join(lines) + "\n", "", 0

    pods = {("a1", "curl"): "curl-7d-x", ("a2", "sleep"): "sleep-5c-y"}
    results = c.run_matrix(fake_exec, pods, PAIRS, 5, 20)
    assert sorted(calls) == [("a1", "curl-7d-x", "curl", ["sh", "-c"], 5 + c.EXEC_SLACK),
                             ("a2", "sleep-5c-y", "sleep", ["sh", "-c"], 5 + c.EXEC_SLACK)]
    assert [(r["server_namespace"], r["rc"], r["http_code"], r["pod"]) for r in results] == [
        ("a1", 0, "200", "curl-7d-x"), ("a2", 0, "503", "curl-7d-x"), ("a1", 0, "200", "sleep-5c-y")]
    assert c.summary(results) == {"probes": 3, "answered": 3, "errors": 0, "clients": 2, "slowest": 0.01}


def test_a_client_without_a_pod_an_exec_error_and_missing_lines_are_reported_per_probe():
    def fake_exec(namespace, pod, container, command, timeout):
        if namespace == "a2":
            raise RuntimeError("Handshake status 500 Internal Server Error")
        return "http://httpbin.a1.svc:8000/get 0 200 0.01\n", "curl: not found\n", 127

    results = c.run_matrix(fake_exec, {("a1", "curl"): "curl-1", ("a2", "sleep"): "sleep-1"}, PAIRS, 5, 20)
    assert results[0]["rc"] == 0 and "error" not in results[0]
    assert results[1]["rc"] is None
    assert results[1]["error"] == "no result from the exec into a1/curl-1 (exit status 127; stderr: curl: not found)"
    assert results[2]["error"] == "exec into a2/sleep-1 failed: Handshake status 500 Internal Server Error"
    missing = c.run_matrix(fake_exec, {}, PAIRS[:1], 5, 20)
    assert missing[0]["error"] == "no running curl pod in namespace a1" and missing[0]["rc"] is None


def test_clients_run_concurrently_and_the_whole_run_is_bounded():
    release = threading.Event()
    running = []

    def slow_exec(namespace, pod, container, command, timeout):
        running.append(namespace)
        release.wait(10)
        return "", "", 0

    started = time.time()
    results = c.run_matrix(slow_exec, {("a1", "curl"): "curl-1", ("a2", "sleep"): "sleep-1"}, PAIRS, 1, 1)
    release.set()
    assert time.time() - started < 3
    assert sorted(running) == ["a1", "a2"]
    assert {r["error"] for r in results} == {"no answer within the run's bound of 1s"}


HELLO_CURL = """#!/bin/sh
# helloworld behind the mesh: answers alternate between a pod here and one on another cluster; a body of two lines.
for last; do :; done
case "$last" in
  *helloworld.*)
    n=$(cat "$COUNTER" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > "$COUNTER"
    if [ $((n % 2)) = 0 ]; then pod=helloworld-v2-west; else pod=helloworld-v1-east; fi
    printf 'Hello version: %s, instance: %s\\nsecond line\\n200' "${pod#helloworld-}" "$pod"; exit 0 ;;
  *) printf '\\n000'; exit 6 ;;
esac
"""


def test_a_repeated_probe_asks_several_times_and_keeps_each_answers_first_line(tmp_path):
    """Issue 28 item 4: which cluster answered shows only over several answers (helloworld names its pod)."""
    fake = tmp_path / "curl"
    fake.write_text(HELLO_CURL)
    fake.chmod(0o755)
    env = dict(os.environ, PATH="{0}:{1}".format(tmp_path, os.environ["PATH"]), COUNTER=str(tmp_path / "n"))
    hello, gone = "http://helloworld.a1.svc.cluster.local:5000/hello", "http://helloworld-nowhere/x"
    script = c.probe_script([], 3, [(hello, 4)])
    out = subprocess.run(["sh", "-c", script], env=env, stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    answers = c.parse_repeated(out, [hello])[0]
    assert [a["body"] for a in answers] == ["Hello version: v1-east, instance: helloworld-v1-east",
                                            "Hello version: v2-west, instance: helloworld-v2-west"] * 2
    assert set((a["rc"], a["http_code"]) for a in answers) == {(0, "200")}
    # Through the engine, beside single probes of the same client: one exec, the repeated probe's exec bound grows.
    pairs = [{"client_namespace": "a1", "client": "curl", "url": hello, "repeat": 4},
             {"client_namespace": "a1", "client": "curl", "url": gone, "repeat": 2}]
    calls = []

    def local_exec(namespace, pod, container, command, timeout):
        calls.append(timeout)
        proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, universal_newlines=True, check=True)
        return proc.stdout, "", 0
    results = c.run_matrix(local_exec, {("a1", "curl"): "curl-1"}, pairs, 3, 30)
    assert calls == [4 * 3 + c.EXEC_SLACK]
    assert (results[0]["rc"], results[0]["http_code"], len(results[0]["answers"])) == (0, "200", 4)
    assert (results[1]["rc"], results[1]["http_code"]) == (6, "000") and [a["body"] for a in results[1]["answers"]] == ["", ""]
    # A line too long is cut; a line of another probe is not taken.
    noise = "R 0 200 {0} {1}\nR 0 200 http://other/ x\n".format(hello, "y" * 500)
    assert [len(a["body"]) for a in c.parse_repeated(noise, [hello])[0]] == [c.BODY_CHARS]
