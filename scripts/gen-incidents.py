#!/usr/bin/env python3
"""Make an SMS with a year of ServiceNow incident exports, for benchmarking tabular records.

    scripts/gen-incidents.py OUT_DIR [--rows 1000000] [--year 2026] [--no-git]

Writes OUT_DIR/sms.yaml (with a `tables:` entry using the `servicenow-incident` preset), one
policy, and records/incident/incidents-YYYY-MM.csv, one file a month, in the column layout of a
ServiceNow list export of the incident table (the preset's columns plus the usual extra ones).
Unless --no-git, each month is its own commit, dated at the end of that month, as a desk that
drops its monthly export into git would make them. Deterministic: the same arguments give the
same files and commit ids.
"""

import argparse
import os
import random
import subprocess

COLUMNS = [
    "number", "opened_at", "short_description", "caller_id", "category", "subcategory",
    "priority", "state", "assignment_group", "assigned_to", "business_service", "cmdb_ci",
    "resolved_at", "closed_at", "sys_updated_on", "close_code",
]
CATEGORIES = [("network", "vpn"), ("software", "email"), ("hardware", "laptop"),
              ("database", "db2"), ("inquiry", "antivirus")]
GROUPS = ["Service Desk", "Network", "Hosting", "Database", "Modern Workplace"]
SERVICES = ["Email", "VPN", "Managed Hosting", "Service Desk", "Payroll"]
PRIORITIES = ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low", "5 - Planning"]
WORDS = ("cannot connect slow error after update printer mailbox full password reset "
         "outage intermittent login fails disk space backup job failed certificate").split()


def esc(v):
    if any(c in v for c in ',"\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--year", type=int, default=2026)
    ap.add_argument("--no-git", action="store_true")
    a = ap.parse_args()
    rnd = random.Random(20000)
    os.makedirs(os.path.join(a.out, "records", "incident"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "policies"), exist_ok=True)
    with open(os.path.join(a.out, "sms.yaml"), "w") as f:
        f.write("organisation: Bench Desk Ltd\nscope: Service desk for benchmarking.\n"
                "framework: iso20000-1:2018\ntables:\n  - kind: incident\n"
                "    preset: servicenow-incident\n    keep: [assignment_group, category]\n")
    with open(os.path.join(a.out, "policies", "incident.md"), "w") as f:
        f.write("---\nid: POL-INC\ntitle: Incident management\ntype: policy\nowner: QM\n"
                "approver: CEO\nversion: \"1.0\"\nstatus: approved\napproved: %d-01-01\n"
                "clauses: [\"8.6.1\"]\n---\n\n# Incident management\n" % a.year)
    git = not a.no_git
    env = dict(os.environ, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.org",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.org",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    if git:
        subprocess.run(["git", "init", "-q", a.out], check=True, env=env)
    per_month = a.rows // 12
    n = 0
    for month in range(1, 13):
        rows = per_month + (a.rows - per_month * 12 if month == 12 else 0)
        path = os.path.join(a.out, "records", "incident", "incidents-%d-%02d.csv" % (a.year, month))
        with open(path, "w", newline="") as f:
            f.write(",".join('"%s"' % c for c in COLUMNS) + "\r\n")
            for _ in range(rows):
                n += 1
                day = rnd.randint(1, 28)
                h, m, s = rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59)
                opened = "%d-%02d-%02d %02d:%02d:%02d" % (a.year, month, day, h, m, s)
                cat, sub = rnd.choice(CATEGORIES)
                closed_day = min(28, day + rnd.randint(0, 3))
                closed = "%d-%02d-%02d %02d:%02d:%02d" % (a.year, month, closed_day, h, m, s)
                title = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 8)))
                if rnd.random() < 0.05:
                    title += ', "urgent", per caller'
                row = [
                    "INC%07d" % n, opened, title, "User %d" % rnd.randint(1, 5000), cat, sub,
                    rnd.choice(PRIORITIES), "Closed", rnd.choice(GROUPS),
                    "Agent %d" % rnd.randint(1, 120), rnd.choice(SERVICES),
                    "CI%05d" % rnd.randint(1, 20000), closed, closed, closed, "Solved (Permanently)",
                ]
                f.write(",".join(esc(v) for v in row) + "\r\n")
        if git:
            date = "%d-%02d-28T23:00:00+00:00" % (a.year, month)
            e = dict(env, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
            subprocess.run(["git", "-C", a.out, "add", "-A"], check=True, env=e)
            subprocess.run(["git", "-C", a.out, "commit", "-q", "-m",
                            "Incident export %d-%02d" % (a.year, month)], check=True, env=e)


if __name__ == "__main__":
    main()
