# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""The verification report: one record per check (what must hold, what was observed, pass/fail/skipped with
the evidence) and its formats - JSON-ready summary, JUnit XML, a connectivity matrix for people."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from xml.sax.saxutils import escape, quoteattr

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"


def check(name, category, expected, observed, status, evidence=None, reason=None):
    out = {"name": name, "category": category, "expected": expected, "observed": observed, "status": status,
           "evidence": evidence if evidence is not None else {}}
    if reason:
        out["reason"] = reason
    return out


def report(checks):
    counts = {status: sum(1 for c in checks if c["status"] == status) for status in (PASS, FAIL, SKIPPED)}
    return {"passed": counts[FAIL] == 0, "counts": counts, "checks": checks,
            "failed": [c["name"] for c in checks if c["status"] == FAIL],
            "skipped": [{"name": c["name"], "reason": c.get("reason")} for c in checks if c["status"] == SKIPPED]}


def junit(rep, suite="multimesh.istio verification"):
    """JUnit XML: one testcase per check, grouped by category as classname."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<testsuite name={0} tests="{1}" failures="{2}" skipped="{3}">'.format(
                 quoteattr(suite), len(rep["checks"]), rep["counts"][FAIL], rep["counts"][SKIPPED])]
    for item in rep["checks"]:
        lines.append('  <testcase classname={0} name={1}>'.format(quoteattr(item["category"]), quoteattr(item["name"])))
        text = "expected: {0}\nobserved: {1}\n{2}".format(item["expected"], item["observed"], item.get("reason") or "")
        if item["status"] == FAIL:
            lines.append('    <failure message={0}>{1}</failure>'.format(quoteattr(item.get("reason") or item["observed"]), escape(text)))
        elif item["status"] == SKIPPED:
            lines.append('    <skipped message={0}/>'.format(quoteattr(item.get("reason") or "skipped")))
        lines.append("  </testcase>")
    lines.append("</testsuite>")
    return "\n".join(lines) + "\n"


def matrix(rep):
    """Connectivity as a table a person reads at a glance: rows clients, columns servers, cells observed/OK; then
    the probes across clusters, one line each."""
    across = ["{0}: {1}{2}".format(c["name"], "" if c["status"] == PASS else c["status"].upper() + " ", c["observed"])
              for c in rep["checks"] if c["category"] == "cross-cluster"]
    return "\n".join([_table(rep)] + (["across clusters:"] + across if across else []))


def _table(rep):
    probes = [c for c in rep["checks"] if c["category"] == "connectivity"]
    if not probes:
        return "no connectivity probes (no namespace runs both a client and httpbin)"
    clients, servers, cells = [], [], {}
    for probe in probes:
        client, server = probe["name"][len("connectivity "):].split(" -> ")
        clients += [client] if client not in clients else []
        servers += [server] if server not in servers else []
        observed = probe["observed"].replace("HTTP ", "")
        cells[(client, server)] = ("" if probe["status"] == PASS else "FAIL ") + observed
    width = max([len(s) for s in servers + clients] + [len(v) for v in cells.values()] + [6]) + 2
    rows = ["from \\ to".ljust(width) + "".join(s.ljust(width) for s in servers)]
    for client in clients:
        rows.append(client.ljust(width) + "".join(cells.get((client, s), "-").ljust(width) for s in servers))
    return "\n".join(rows)
