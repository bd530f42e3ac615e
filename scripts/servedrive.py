#!/usr/bin/env python3
"""Measure `auditbook serve` rebuilds after one edit, in wall time and in the server's CPU time.

Usage: servedrive.py AUDITBOOK CORPUS N [--out DIR] [SERVE ARGS...]

CORPUS is a private copy of a corpus made by gen_corpus.py (it is edited: use a copy, and run
`git -C CORPUS update-index -q --refresh` after copying it). The server runs as
`auditbook serve CORPUS --port 0 --as-of 2026-11-26 [--out DIR] [SERVE ARGS...]`; its log goes to
CORPUS/../servedrive.log. The script waits for the first build (the server prints its address
once the first build is done), then N times appends a sentence to the body of the first policy
(sorted by file name) and waits until `/__auditbook/version` changes. For the first build and
for each rebuild it prints the wall time (from the write until the new version is served, which
includes the 250 ms the watcher waits for a burst of events to end), the server's CPU time over
that span (utime + stime of the whole process, from /proc/PID/stat) and the server's own log
line with its phases. Linux only; Python standard library only.
"""
import os
import re
import subprocess
import sys
import time
import urllib.request

binary, corpus, n = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3])
extra = sys.argv[4:]
log_path = os.path.join(os.path.dirname(corpus), "servedrive.log")
log = open(log_path, "w")
ticks = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    """utime + stime of the process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # Fields after the command name: state is index 0, so utime (14) and stime (15) are 11, 12.
    return (int(fields[11]) + int(fields[12])) / ticks


def builds():
    with open(log_path) as f:
        return [line.strip() for line in f if line.startswith("built in")]


t0 = time.monotonic()
server = subprocess.Popen(
    [binary, "serve", corpus, "--port", "0", "--as-of", "2026-11-26"] + extra,
    stdout=subprocess.PIPE, stderr=log, text=True)
# The address is printed once the first build is done.
port = int(re.search(r":(\d+)/", server.stdout.readline()).group(1))
first_wall, first_cpu = time.monotonic() - t0, cpu(server.pid)


def version():
    url = f"http://127.0.0.1:{port}/__auditbook/version"
    return urllib.request.urlopen(url).read().decode()


def phases(line):
    return line[line.index("("):] if "(" in line else line


print(f"first build: wall {first_wall:6.2f} s  CPU {first_cpu:6.2f} s  | "
      f"{phases(builds()[-1]) if builds() else '?'}", flush=True)
policies = sorted(p for p in os.listdir(os.path.join(corpus, "policies")) if p.endswith(".md"))
path = os.path.join(corpus, "policies", policies[0])
walls, cpus = [], []
for i in range(n):
    v0, n0 = version(), len(builds())
    c0 = cpu(server.pid)
    t0 = time.monotonic()
    with open(path, "a") as f:
        f.write(f"\nA sentence added by servedrive ({i + 1}).\n")
    while version() == v0:
        time.sleep(0.005)
    wall = time.monotonic() - t0
    while len(builds()) == n0:
        time.sleep(0.01)
    used = cpu(server.pid) - c0
    walls.append(wall)
    cpus.append(used)
    print(f"rebuild {i + 1}: wall {wall:6.2f} s  CPU {used:6.2f} s  | {phases(builds()[-1])}",
          flush=True)
    # Let the server settle (the polling above is the only load it gets).
    time.sleep(1.0)
if n:
    print(f"rebuilds: wall {min(walls):.2f}-{max(walls):.2f} s, "
          f"CPU {min(cpus):.2f}-{max(cpus):.2f} s", flush=True)
server.terminate()
server.wait()
