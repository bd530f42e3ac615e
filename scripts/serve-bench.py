#!/usr/bin/env python3
"""Time the rebuilds of `auditbook serve` after single edits (BENCHMARKS.md, "Site").

Usage: serve-bench.py AUDITBOOK CORPUS [SERVE ARGS...]

CORPUS is a copy of a corpus made by ../shared/bench/gen_corpus.py (it is edited: use a copy).
The server runs with `--port 0 --as-of 2026-11-26`; its log goes to CORPUS/../serve-bench.log.
For each edit the script prints the server's own build time and phases (from its log line) and the
time from the write until /__auditbook/version changes, which includes the 250 ms the watcher
waits for a burst of events to end. Python standard library only.
"""
import os
import re
import subprocess
import sys
import time
import urllib.request

binary, corpus = sys.argv[1], os.path.abspath(sys.argv[2])
log_path = os.path.join(os.path.dirname(corpus), "serve-bench.log")
log = open(log_path, "w")
server = subprocess.Popen(
    [binary, "serve", corpus, "--port", "0", "--as-of", "2026-11-26"] + sys.argv[3:],
    stdout=subprocess.PIPE, stderr=log, text=True)
port = int(re.search(r":(\d+)/", server.stdout.readline()).group(1))


def version():
    url = f"http://127.0.0.1:{port}/__auditbook/version"
    return urllib.request.urlopen(url).read().decode()


def builds():
    with open(log_path) as f:
        return [line.strip() for line in f if line.startswith("built in")]


def edit(label, rel, old, new):
    path = os.path.join(corpus, rel)
    text = open(path).read()
    assert old in text, (rel, old)
    v0, n0 = version(), len(builds())
    t0 = time.monotonic()
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))
    while version() == v0:
        time.sleep(0.005)
    served = time.monotonic() - t0
    while len(builds()) == n0:
        time.sleep(0.01)
    line = builds()[-1]
    own = float(re.match(r"built in ([0-9.]+) s", line).group(1))
    print(f"{label:40s} rebuild {own:5.2f} s  write->served {served:5.2f} s  | {line[line.index('(load'):]}",
          flush=True)
    time.sleep(1.0)


print("first build:", builds()[-1], flush=True)
policies = sorted(os.listdir(os.path.join(corpus, "policies")))
first = "policies/" + policies[0]
edit("first edit of a clean tree", first, "\n## ", "\nAn added sentence.\n\n## ")
for i in range(3):
    edit(f"the same document again ({i + 1})", first,
         "An added sentence" + ("." if i == 0 else f" {i - 1}."), f"An added sentence {i}.")
for name in policies[1:4]:
    edit(f"another document ({name})", "policies/" + name, "\n## ", "\nAnother sentence.\n\n## ")
rel = "policies/" + policies[5]
title = re.search(r"^title: (.*)$", open(os.path.join(corpus, rel)).read(), re.M).group(1)
edit("a document's title", rel, "title: " + title, "title: " + title + " (revised)")
incidents = sorted(os.listdir(os.path.join(corpus, "records", "incident")))
rel = "records/incident/" + incidents[0]
title = re.search(r'^title: "(.*)"$', open(os.path.join(corpus, rel)).read(), re.M).group(1)
edit("a record's title", rel, f'title: "{title}"', f'title: "{title} (revised)"')
server.terminate()
server.wait()
