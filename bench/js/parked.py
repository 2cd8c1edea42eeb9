#!/usr/bin/env python3
"""Many runs at once in one JavaScript worker (BENCHMARKS.md, "JavaScript in worker
processes"). Starts `WARDEN __js-worker` and loads bench/js/rule.js followed by a second rule.

- `park`: the second rule holds its login (it loops: the sandbox has no way to block without
  CPU, `Atomics.wait` refuses); sends N runs with Auth0-size inputs, waits until the worker has
  a thread per run, and reports the worker's RSS before and after, per run held.
- `burst`: the second rule calls back at once; sends N runs at once and times until the N
  answers are back, twice (the first burst starts the threads and their runtimes, the second
  finds them warm).

Usage: bench/js/parked.py WARDEN N park|burst"""

import json
import os
import struct
import subprocess
import sys
import threading
import time

SECOND = {
    "park": "function hold(user, context, callback) { while (true) {} }",
    "burst": "function done(user, context, callback) { callback(null, user, context); }",
}


def frame(doc):
    body = json.dumps(doc).encode()
    return struct.pack("<I", len(body)) + body


def read_frame(f):
    head = f.read(4)
    (n,) = struct.unpack("<I", head)
    return json.loads(f.read(n))


def status(pid, key):
    with open(f"/proc/{pid}/status") as s:
        for line in s:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main():
    warden, n = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3]
    here = os.path.dirname(os.path.abspath(__file__))
    rule = open(os.path.join(here, "rule.js")).read()
    user = json.load(open(os.path.join(here, "user.json")))
    context = json.load(open(os.path.join(here, "context.json")))
    worker = subprocess.Popen([warden, "__js-worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    load = {
        "Load": {
            "rules": [
                {"name": "enrichTokens", "file": {"path": "rule.js", "text": rule}},
                {"name": "second", "file": {"path": "second.js", "text": SECOND[mode]}},
            ],
            "modules": [],
            "bytecode": None,
            "config": {},
            "limits": {"timeout_ms": 60000, "memory_bytes": 64 << 20, "stack_bytes": 512 << 10},
            "runs": n,
        }
    }
    worker.stdin.write(frame(load))
    worker.stdin.flush()
    loaded = read_frame(worker.stdout)
    assert not loaded["Loaded"]["errors"], loaded
    time.sleep(0.5)
    before = status(worker.pid, "VmRSS")
    state = {
        "user": user, "context": context, "now": 0, "id_token": [], "access_token": [], "scope": None,
        "multifactor": None, "redirect": None, "saml_configuration": None, "primary_user": None,
        "effects": [], "logs": [],
    }
    steps = [[0, {"first": True, "last": False, "end": False}], [1, {"first": False, "last": True, "end": True}]]

    def send(first):
        for i in range(first, first + n):
            run = {"Run": {"id": i, "steps": steps, "login": i, "budget_ms": 60000, "config": None, "state": state}}
            worker.stdin.write(frame(run))
        worker.stdin.flush()

    if mode == "park":
        start = time.time()
        send(1)
        while status(worker.pid, "Threads") < n + 2:
            time.sleep(0.05)
        # Every thread has its run in hand; give the last ones time to load their runtime.
        time.sleep(max(1.0, n / 200))
        after = status(worker.pid, "VmRSS")
        took = time.time() - start
        print(f"runs={n} rss_before={before / 1024:.1f} MiB rss_after={after / 1024:.1f} MiB "
              f"per_run={(after - before) / n:.0f} KiB ({took:.1f} s to park them)")
    else:
        for burst, first in (("cold", 1), ("warm", n + 1)):
            start = time.time()
            # Written while the answers are read, as the host does.
            writer = threading.Thread(target=send, args=(first,))
            writer.start()
            for _ in range(n):
                answer = read_frame(worker.stdout)
                assert answer["Ran"]["stop"] is None, answer
            writer.join()
            took = time.time() - start
            print(f"runs={n} {burst}: {took * 1000:.0f} ms for all answers, threads={status(worker.pid, 'Threads') - 1} "
                  f"rss={status(worker.pid, 'VmRSS') / 1024:.1f} MiB")
    worker.kill()
    worker.wait()


main()
