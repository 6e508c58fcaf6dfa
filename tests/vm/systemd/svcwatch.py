#!/usr/bin/python3
"""svcwatch.py - what the real services' processes actually had, sampled
from outside (guest-services.sh).  In the guest only (python3 is there for
Ansible); reads /proc, writes nothing but its own files.

  svcwatch.py watch OUT PERIOD COMM[,COMM...]
      until SIGTERM: every PERIOD s, each process whose comm is listed:
      pid, ppid, uid, start (s since boot, from /proc/PID/stat) and every
      oom_score_adj it was seen with (first sample time of each value).
      OUT (json) is written at SIGTERM.
  svcwatch.py check OUT WRITES [--lat LATS] --parent PID|--comm C [--uid U] --want V
                    --bound S [--since T] [--until T] [--pid P] [--not-pid PID...]
                    [--label L]
      every process (parent PID: its children; or comm C; or pid P)
      started in [since, until):
      the time from its start to the first sample showing V (or the
      daemon's logged write of V in WRITES, "uptime pid value" lines, when
      earlier); fails when that exceeds S or never happened while it lived
      past S, or when the value left V again (a write war).  With --lat
      LATS ("pid microseconds" lines: the daemon's own event -> written),
      a write is timed by that, not by the journal.  Prints one
      "INFO" line of counts and timings, then "ok" or "bad: ..." lines.
"""
import json
import os
import signal
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def uptime():
    """/proc/uptime's clock (CLOCK_BOOTTIME), which start times count in"""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def stat_of(pid):
    s = read("/proc/%s/stat" % pid)
    if s is None:
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    f = s[s.rindex(")") + 2:].split()
    return comm, int(f[1]), int(f[19]) / HZ  # ppid, starttime


def uid_of(pid):
    s = read("/proc/%s/status" % pid) or ""
    for line in s.splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return -1


def watch(out, period, comms):
    comms = set(comms.split(","))
    procs, ticks = {}, []
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        t0 = t = uptime()
        ticks.append(t)
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            st = stat_of(pid)
            if st is None:
                continue
            key = "%s@%.2f" % (pid, st[2])
            if st[0] not in comms:
                continue  # (not cached: the comm changes at exec)
            p = procs.get(key)
            adj = read("/proc/%s/oom_score_adj" % pid)
            if adj is None:
                continue
            adj = int(adj)
            t = uptime()  # when read: a scan of /proc takes long under TCG
            if p is None:
                p = procs[key] = {"pid": int(pid), "comm": st[0], "ppid": st[1],
                                  "uid": uid_of(pid), "start": st[2], "first": t,
                                  "vals": []}
            p["last"] = t
            p["ppid"] = st[1]
            if not p["vals"] or p["vals"][-1][1] != adj:
                p["vals"].append([t, adj])
        rest = period - (uptime() - t0)
        if rest > 0 and not stop:
            time.sleep(rest)
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    gaps.sort()
    meta = {"samples": len(ticks),
            "period_median": gaps[len(gaps) // 2] if gaps else 0,
            "period_max": gaps[-1] if gaps else 0}
    with open(out + ".tmp", "w") as f:
        json.dump({"meta": meta, "procs": list(procs.values())}, f)
    os.rename(out + ".tmp", out)


def writes_of(path):
    """uptime pid value lines -> {pid: [(t, value)]}"""
    w = {}
    for line in (read(path) or "").splitlines():
        f = line.split()
        if len(f) == 3:
            w.setdefault(int(f[1]), []).append((float(f[0]), int(f[2])))
    return w


def lats_of(path):
    """pid microseconds lines (the daemon's fork/exec -> written) ->
    {pid: [seconds]}"""
    w = {}
    for line in (read(path) or "").splitlines():
        f = line.split()
        if len(f) == 2:
            w.setdefault(int(f[0]), []).append(int(f[1]) / 1e6)
    return w


def check(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("writes")
    ap.add_argument("--parent", type=int)
    ap.add_argument("--comm")
    ap.add_argument("--uid", type=int)
    ap.add_argument("--want", type=int, required=True)
    ap.add_argument("--bound", type=float, required=True)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--since", type=float, default=0.0)
    ap.add_argument("--until", type=float, default=float("inf"))
    ap.add_argument("--not-pid", type=int, nargs="*", default=[])
    ap.add_argument("--label", default="processes")
    ap.add_argument("--lat")
    a = ap.parse_args(argv)
    with open(a.out) as f:
        data = json.load(f)
    writes = writes_of(a.writes)
    lats = lats_of(a.lat) if a.lat else {}
    lat, lat_s, bad, flips, short, first_ok = [], [], [], 0, 0, 0
    for p in data["procs"]:
        if a.parent is not None and p["ppid"] != a.parent:
            continue
        if a.comm is not None and p["comm"] != a.comm:
            continue
        if a.uid is not None and p["uid"] != a.uid:
            continue
        if a.pid is not None and p["pid"] != a.pid:
            continue
        if not a.since <= p["start"] < a.until or p["pid"] in a.not_pid:
            continue
        vals = [v for _, v in p["vals"]]
        # the daemon's write, timed by its log; else the first sample
        t_log = min([t for t, v in writes.get(p["pid"], [])
                     if v == a.want and t >= p["start"]] or [None], key=lambda x: x or 0)
        t_seen = ([t for t, v in p["vals"] if v == a.want] or [None])[0]
        late = [(t, v) for t, v in p["vals"] if v != a.want and t - p["start"] > a.bound
                and (t_seen is None or t < t_seen)]
        if t_log is not None:
            # the daemon's own fork/exec -> written when it logged one (the
            # journal stamps a line when journald reads it: later)
            d = min(lats.get(p["pid"]) or [t_log - p["start"]])
            lat.append(d)
            if d > a.bound:
                bad.append("pid %d (%s): the daemon wrote %d %.2f s after its start "
                           "(journal: %.2f s)" % (p["pid"], p["comm"], a.want, d,
                                                   t_log - p["start"]))
        elif t_seen is not None and vals[0] == a.want:
            first_ok += 1  # never seen with another value: set at its fork
        elif t_seen is not None:
            lat_s.append(t_seen - p["start"])
        if late:
            bad.append("pid %d (%s) still at %d %.2f s after its start" %
                       (p["pid"], p["comm"], late[-1][1], late[-1][0] - p["start"]))
        if t_seen is None and t_log is None:
            if p["last"] - p["start"] > a.bound:
                bad.append("pid %d (%s) never at %d in %.2f s: values %s" %
                           (p["pid"], p["comm"], a.want, p["last"] - p["start"], vals))
            else:
                short += 1
        if a.want in vals and vals[vals.index(a.want):] != [a.want]:
            flips += 1
            bad.append("pid %d: left %d again (values %s)" % (p["pid"], a.want, vals))
    lat.sort()
    m = data["meta"]
    n = len(lat)
    print("INFO %d %s: %d timed at %d by the daemon's log (median %.2f s, max %.2f s "
          "after their start), %d already at it when first sampled, %d by a later "
          "sample (max %.2f s); %d gone before a sample; %d left it; sampler %d samples, "
          "period median %.2f s, max %.2f s" %
          (n + len(lat_s) + first_ok + short, a.label, n, a.want,
           lat[n // 2] if lat else 0, lat[-1] if lat else 0, first_ok, len(lat_s),
           max(lat_s or [0]), short, flips, m["samples"], m["period_median"],
           m["period_max"]))
    n += first_ok + len(lat_s)
    if n == 0:
        bad.append("no %s seen" % a.label)
    for b in bad[:5]:
        print("bad: " + b)
    if len(bad) > 5:
        print("bad: ... %d in all" % len(bad))
    if not bad:
        print("ok")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "watch":
        watch(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2:]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
