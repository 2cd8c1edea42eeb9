#!/usr/bin/env python3
"""Where the CPU went during one load run, for run.sh: the server under test, the load
generator, and everything else on the machine (another build or test disturbs a benchmark;
this says how much).

    cpu.py snapshot PID            -> "BUSY TOTAL TREE" (clock ticks: the machine's busy and
                                      total time from /proc/stat, and the user+system time of
                                      PID and its live descendants: warden's JavaScript
                                      workers, Node's cluster workers)
    cpu.py record EXAMPLE SERVER PHASE BEFORE AFTER LOADGEN_TIME REPORT_FILE
                                   -> one JSON line for run.sh's results: the load
                                      generator's report and "cpu": cores used on average by
                                      the machine, the server, the load generator and the rest

LOADGEN_TIME is bash's `time` of the load generator with TIMEFORMAT='%R %U %S'. Linux only;
only the Python standard library.
"""

import json
import os
import sys

HZ = os.sysconf("SC_CLK_TCK")


def machine():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def tree(root):
    children, ticks = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2 :].split()
        pid, ppid = int(name), int(rest[1])
        children.setdefault(ppid, []).append(pid)
        ticks[pid] = int(rest[11]) + int(rest[12])
    total, stack = 0, [root]
    while stack:
        p = stack.pop()
        total += ticks.get(p, 0)
        stack.extend(children.get(p, []))
    return total


def main():
    if sys.argv[1] == "snapshot":
        busy, total = machine()
        print(busy, total, tree(int(sys.argv[2])))
        return
    example, server, phase, before, after, lg_time, report_file = sys.argv[2:9]
    b = [int(x) for x in before.split()]
    a = [int(x) for x in after.split()]
    _real, user, system = (float(x) for x in lg_time.split())
    ncpu = os.cpu_count() or 1
    total = max(a[1] - b[1], 1)
    machine_cores = (a[0] - b[0]) / total * ncpu
    wall = total / ncpu / HZ
    server_cores = (a[2] - b[2]) / HZ / wall
    loadgen_cores = (user + system) / wall
    cpu = {
        "machine": round(machine_cores, 2),
        "server": round(server_cores, 2),
        "loadgen": round(loadgen_cores, 2),
        "other": round(max(0.0, machine_cores - server_cores - loadgen_cores), 2),
    }
    with open(report_file) as f:
        report = json.load(f)
    print(json.dumps({"example": example, "server": server, "phase": phase, "cpu": cpu, "report": report}))


if __name__ == "__main__":
    main()
