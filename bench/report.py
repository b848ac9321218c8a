#!/usr/bin/env python3
"""Writes REPORT.md and the PNG charts from a results JSON written by run.py.

    python bench/report.py bench/results/latest.json [REPORT.md]
"""
import json
import os
import statistics
import sys

LOWER_IS_BETTER = {"nsop": True, "sec": True, "kib": True, "mib": True, "tput": False, "ktput": False}
# Goals stated as a gr / Go ratio: (workload, bound, higher is better, text).
# Issues 6 and 15: time at most 0.8x Go's (the context fan-out of issue 15: at most Go's).
TIME_GOALS = [(w, 0.8, False, "gr time <= 0.8x Go")
              for w in ("spawn", "pingpong", "ring", "yield", "select", "mutex", "sieve", "rwmutex", "timerchurn")]
TIME_GOALS.append(("ctxfanout", 1.0, False, "gr time <= 1.0x Go"))
# Issue 12's network goals.
NET_GOALS = [("echo_pingpong", 1.25, True, "gr throughput >= 1.25x Go"),
             ("echo_stream", 1.45, True, "gr throughput >= 1.45x Go"),
             ("idle_conns", 1.5, False, "gr memory <= 1.5x Go")]
# Issue 18's plain-thread goals.
THREAD_GOALS = [("spawn_thread", 1.0, False, "gr time <= 1.0x Go"),
                ("spawn_thread_rss", 2.0, False, "gr peak RSS <= 2x Go")]
# Issue 18's hot-path goals, stricter than issue 6's 0.8x (mutex: 0.8x, as above).
HOT_GOALS = [(w, 0.5, False, "gr time <= 0.5x Go (issue 18)") for w in ("pingpong", "ring", "select")]
# Issue 18's absolute goal: ns per yield (the bench's `yield`: wall time over all yields).
YIELD_NS = 15


def fmt(v):
    if v is None:
        return "—"
    if v >= 1000:
        return "{:,.0f}".format(v)
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    if v >= 1:
        return "%.2f" % v
    return "%.3g" % v


def ratio(doc, wid, impl, ref="go"):
    """impl's median over ref's median, or None when not comparable (missing, or a total time
    measured at different sizes)."""
    res = doc["results"][wid]
    a, b = res.get(impl, {}), res.get(ref, {})
    if a.get("status") != "ok" or b.get("status") != "ok":
        return None
    wl = next(w for w in doc["workloads"] if w["id"] == wid)
    if wl["metric"] == "sec" and a["size"] != b["size"]:
        return None
    return a["median"] / b["median"]


def paired(doc, wid, impl="gr", ref="go"):
    """Median, min and max of the per-run ratios impl/ref (run i of both were adjacent in time,
    so each pair shares machine conditions), or None."""
    res = doc["results"][wid]
    a, b = res.get(impl, {}), res.get(ref, {})
    if a.get("status") != "ok" or b.get("status") != "ok" or a["size"] != b["size"]:
        return None
    rs = [x / y for x, y in zip(a["runs"], b["runs"])]
    if not rs:
        return None
    return statistics.median(rs), min(rs), max(rs)


def paired_text(doc, wid):
    p = paired(doc, wid)
    return "%.2fx (%.2f–%.2f)" % p if p else "—"


# The share of the worker count a cpu speed-up must reach to count as at the ceiling.
CEILING = 0.99


def speedup(doc, impl):
    """cpu speed-up (1 worker time / all workers time): median, min, max over paired runs.

    With meta["cpu_paired"] each cpuN run followed the same implementation's cpu1 run, and the
    speed-up is the median of those pairs' ratios; older results ran all cpu1 rounds first,
    so there it stays the ratio of the two medians."""
    r = doc["results"]
    a, b = r.get("cpu1", {}).get(impl, {}), r.get("cpuN", {}).get(impl, {})
    if a.get("status") != "ok" or b.get("status") != "ok" or a["size"] != b["size"]:
        return None
    pairs = [x / y for x, y in zip(a["runs"], b["runs"])]
    paired_runs = doc.get("meta", {}).get("cpu_paired") and len(a["runs"]) == len(b["runs"])
    med = statistics.median(pairs) if paired_runs else a["median"] / b["median"]
    return {"median": med, "min": min(pairs), "max": max(pairs), "size": a["size"]}


def goals(doc):
    """(goal text, gr figure, Go figure, ratio text, status) rows for the issue's goals."""
    rows = []
    res = doc["results"]

    def status_of(wid):
        g, o = res.get(wid, {}).get("gr", {}), res.get(wid, {}).get("go", {})
        if g.get("status") != "ok":
            return "NOT MEASURED (gr: %s)" % (g.get("note") or g.get("status", "not run"))
        if o.get("status") != "ok":
            return "NOT MEASURED (Go: %s)" % (o.get("note") or o.get("status", "not run"))
        return None

    def ratio_goals(goal_list):
        for wid, bound, higher, text in goal_list:
            if wid not in res:
                continue
            unit = next(w["unit"] for w in doc["workloads"] if w["id"] == wid)
            s = status_of(wid)
            r = ratio(doc, wid, "gr")
            if s is None:
                s = "met" if (r >= bound if higher else r <= bound) else "**NOT MET**"
            rows.append(("%s: %s" % (wid, text), figure(res[wid].get("gr", {}), unit),
                         figure(res[wid].get("go", {}), unit), "%.2fx" % r if r else "—", paired_text(doc, wid), s))

    ratio_goals(TIME_GOALS)
    if "fanin" in res:
        s = status_of("fanin")
        r = ratio(doc, "fanin", "gr")
        if s is None:
            s = "met" if r >= 1.0 else "**NOT MET**"
        rows.append(("fanin: gr throughput >= Go", figure(res["fanin"].get("gr", {}), "M msgs/s"),
                     figure(res["fanin"].get("go", {}), "M msgs/s"), "%.2fx" % r if r else "—",
                     paired_text(doc, "fanin"), s))
    for wid in ("parked100k", "parked1m"):
        if wid not in res:
            continue
        s = status_of(wid)
        r = ratio(doc, wid, "gr")
        if s is None:
            s = "met" if r <= 1.6 else "**NOT MET**"
        rows.append(("%s: gr memory <= 1.6x Go" % wid, figure(res[wid].get("gr", {}), "KiB"),
                     figure(res[wid].get("go", {}), "KiB"), "%.2fx" % r if r else "—", paired_text(doc, wid), s))
    ratio_goals(NET_GOALS)
    ratio_goals(THREAD_GOALS)
    ratio_goals(HOT_GOALS)
    if "yield" in res:
        g = res["yield"].get("gr", {})
        text = "yield: <= %d ns per yield (issue 18)" % YIELD_NS
        if g.get("status") == "ok":
            rows.append((text, figure(g, "ns/yield"), "—", "—", "—",
                         "met" if g["median"] <= YIELD_NS else "**NOT MET**"))
        else:
            rows.append((text, "—", "—", "—", "—", "NOT MEASURED (gr: %s)" % (g.get("note") or g.get("status", "not run"))))
    if "pingpong_thread" in res:
        # Against gr's own goroutine <-> goroutine round trip, not Go (issue 18: the physics).
        t, g = res["pingpong_thread"].get("gr", {}), res.get("pingpong", {}).get("gr", {})
        if t.get("status") == "ok" and g.get("status") == "ok":
            r = t["median"] / g["median"]
            rows.append(("pingpong_thread: gr <= 5x gr's pingpong", figure(t, "ns"),
                         "(gr pingpong %s)" % figure(g, "ns"), "%.2fx" % r, "—",
                         "met" if r <= 5 else "**NOT MET**"))
        else:
            rows.append(("pingpong_thread: gr <= 5x gr's pingpong", figure(t, "ns"), "—", "—", "—",
                         "NOT MEASURED (run it with pingpong)"))
    if "cpu1" in res and "cpuN" in res:
        g, o = speedup(doc, "gr"), speedup(doc, "go")
        if g and o:
            # A speed-up cannot pass the number of CPUs the workers have: where both reach
            # 99% of that ceiling they are tied, and the order of the two is the machine's
            # noise, not a policy (bench/README.md, "Method").
            workers = doc.get("meta", {}).get("workers", 2)
            if g["median"] >= o["median"]:
                s = "met"
            elif min(g["median"], o["median"]) >= CEILING * workers:
                s = "met (both at the %d-CPU ceiling)" % workers
            else:
                s = "**NOT MET**"
            rows.append(("cpu: gr speed-up >= Go's", "%.2fx" % g["median"], "%.2fx" % o["median"],
                         "%.2fx" % (g["median"] / o["median"]), "—", s))
        else:
            rows.append(("cpu: gr speed-up >= Go's", "—", "—", "—", "—",
                         "NOT MEASURED (%s)" % ("gr" if not g else "Go")))
    return rows


PY_ANCHORS = {"pythreads": "threading", "asyncio": "asyncio", "gevent": "gevent"}


def python_goals(doc):
    """Issue 4's goals for gr (Python), against the Python anchors of the same run: (goal, gr
    (Python) figure, anchor figure, ratio, paired ratio, status) rows."""
    rows = []
    res = doc["results"]
    units = {w["id"]: w["unit"] for w in doc["workloads"]}
    metrics = {w["id"]: w["metric"] for w in doc["workloads"]}
    wants = [("spawn", None, 0.5, "time <= 0.5x the fastest of threading, asyncio, gevent"),
             ("pingpong", None, 0.5, "time <= 0.5x the fastest of threading, asyncio, gevent"),
             ("parked100k", "gevent", 1.0, "memory <= gevent's"),
             # issue 13: await aio.wait(go(f)) against await asyncio.to_thread(f)
             ("aio_bridge", "asyncio", 0.25, "round trip <= 0.25x asyncio.to_thread's"),
             # issue 13 (both anchors are asyncio and gevent: no threads row runs these)
             ("py_echo", None, 1.2, "throughput >= 1.2x the faster of gevent and asyncio"),
             ("py_sleep", None, 1.5, "wall time <= 1.5x the faster of gevent and asyncio")]
    for wid, ref, limit, text in wants:
        if wid not in res:
            continue
        g = res[wid].get("pygr", {})
        refs = [ref] if ref else [a for a in PY_ANCHORS
                                  if res[wid].get(a, {}).get("status") == "ok"]
        refs = [a for a in refs if res[wid].get(a, {}).get("status") == "ok"]
        goal = "%s: gr (Python) %s" % (wid, text)
        if g.get("status") != "ok" or not refs:
            rows.append((goal, "—", "—", "—", "—", "NOT MEASURED (%s)" % (
                "gr (Python)" if g.get("status") != "ok" else "anchors")))
            continue
        higher = not LOWER_IS_BETTER[metrics[wid]]  # a throughput: the goal is a floor
        pick = max if higher else min
        best = pick(refs, key=lambda a: res[wid][a]["median"])
        r = g["median"] / res[wid][best]["median"]
        p = paired(doc, wid, "pygr", best)
        rows.append((goal, figure(g, units[wid]),
                     "%s (%s%s)" % (figure(res[wid][best], units[wid]), PY_ANCHORS[best],
                                    ", other size" if res[wid][best]["size"] != g["size"] else ""),
                     "%.2fx" % r, "%.2fx (%.2f–%.2f)" % p if p else "—",
                     "met" if (r >= limit if higher else r <= limit) else "**NOT MET**"))
    return rows


def java_goals(doc):
    """Issue 16's goals for gr (Java), each in absolute terms and against Java 25 virtual
    threads in the same run: (goal, gr (Java) figure, anchor figure, ratio, paired ratio,
    status) rows."""
    rows = []
    res = doc["results"]
    units = {w["id"]: w["unit"] for w in doc["workloads"]}
    wants = [("spawnjoin", 2000.0, 1.5, "go() + join() one at a time from a plain thread"),
             ("pingpong", 1000.0, 1.0, "Java thread <-> Java goroutine round trip")]
    for wid, limit_ns, limit_ratio, text in wants:
        if wid not in res:
            continue
        g, v = res[wid].get("javagr", {}), res[wid].get("jvirt", {})
        if g.get("status") != "ok":
            why = "NOT MEASURED (gr (Java): %s)" % (g.get("note") or g.get("status", "not run"))
            rows.append(("%s: %s <= %s ns" % (wid, text, fmt(limit_ns)), "—", "—", "—", "—", why))
            rows.append(("%s: gr (Java) <= %sx Java 25 virtual threads" % (wid, limit_ratio), "—", "—", "—", "—", why))
            continue
        rows.append(("%s: %s <= %s ns" % (wid, text, fmt(limit_ns)), figure(g, units[wid]), "—", "—", "—",
                     "met" if g["median"] <= limit_ns else "**NOT MET**"))
        goal = "%s: gr (Java) <= %sx Java 25 virtual threads" % (wid, limit_ratio)
        if v.get("status") != "ok":
            rows.append((goal, figure(g, units[wid]), "—", "—", "—",
                         "NOT MEASURED (virtual threads: %s)" % (v.get("note") or v.get("status", "not run"))))
            continue
        r = g["median"] / v["median"]
        p = paired(doc, wid, "javagr", "jvirt")
        rows.append((goal, figure(g, units[wid]),
                     figure(v, units[wid]) + (" (other size)" if v["size"] != g["size"] else ""),
                     "%.2fx" % r, "%.2fx (%.2f–%.2f)" % p if p else "—",
                     "met" if r <= limit_ratio else "**NOT MET**"))
    return rows


def goal_table(L, rows, title, intro, cols):
    """Appends a binding's goal table (rows from python_goals or java_goals) to L, if any."""
    if not rows:
        return
    L.append("## " + title)
    L.append("")
    L.append(intro)
    L.append("")
    L.append("| goal | %s | %s | ratio | paired ratio (min–max) | status |" % cols)
    L.append("|---|---|---|---|---|---|")
    for g in rows:
        L.append("| %s |" % " | ".join(g))
    L.append("")


def figure(r, unit):
    if r.get("status") != "ok":
        return "—"
    return "%s %s" % (fmt(r["median"]), unit)


def cell(doc, wid, impl, metric):
    r = doc["results"][wid].get(impl)
    if r is None:
        return ""
    if r["status"] != "ok":
        return {"n/a": "n/a", "skipped": "skipped", "failed": "FAILED", "unavailable": "unavailable"}.get(r["status"], r["status"])
    s = fmt(r["median"])
    if r["size"] != r["default_size"]:
        s += " †"
    rt = ratio(doc, wid, impl)
    if impl != "go" and rt is not None:
        s += " (%.2fx)" % rt
    return s


def charts(doc, outdir):
    """One log-scale bar chart per workload, plus overview.png. Returns the file names."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    label = dict((i[0], i[1]) for i in doc["impls"])
    files = []
    wls = doc["workloads"]

    def draw(ax, w):
        import math
        from matplotlib.ticker import NullFormatter
        res = doc["results"][w["id"]]
        items = [(i, r) for i, r in res.items() if r.get("status") == "ok"]
        if not items:
            ax.set_title(w["id"] + " (no data)")
            ax.axis("off")
            return
        names = [label.get(i, i) + (" (n=%s)" % "{:,}".format(r["size"]) if r["size"] != r["default_size"] else "")
                 for i, r in items]
        meds = [r["median"] for _, r in items]
        lo = [r["median"] - r["min"] for _, r in items]
        hi = [r["max"] - r["median"] for _, r in items]
        colors = ["#d62728" if i == "gr" else "#1f77b4" if i == "go" else
                  "#ff9896" if i in ("pygr", "javagr") else "#9e9e9e" for i, _ in items]
        y = range(len(items))
        left = 10 ** math.floor(math.log10(min(r["min"] for _, r in items)) - 0.3)
        ax.barh(y, [m - left for m in meds], left=left, xerr=[lo, hi], color=colors, capsize=2)
        ax.set_yticks(list(y))
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlim(left, max(r["max"] for _, r in items) * 4)
        ax.xaxis.set_minor_formatter(NullFormatter())
        better = "lower is better" if LOWER_IS_BETTER[w["metric"]] else "higher is better"
        ax.set_xlabel("%s (%s, log scale)" % (w["unit"], better), fontsize=8)
        ax.set_title("%s (n=%s unless shown)" % (w["id"], "{:,}".format(w["default_size"])), fontsize=10)
        for yy, m in zip(y, meds):
            ax.text(m, yy, "  " + fmt(m), va="center", fontsize=7)

    def draw_speedup(ax):
        items = [(i, speedup(doc, i)) for i in label]
        items = [(i, s) for i, s in items if s]
        if not items:
            ax.axis("off")
            return
        y = range(len(items))
        ax.barh(y, [s["median"] for _, s in items],
                xerr=[[s["median"] - s["min"] for _, s in items], [s["max"] - s["median"] for _, s in items]],
                color=["#d62728" if i == "gr" else "#1f77b4" if i == "go" else "#9e9e9e" for i, _ in items],
                capsize=2)
        ax.set_yticks(list(y))
        ax.set_yticklabels([label[i] + " (n=%d)" % s["size"] for i, s in items], fontsize=8)
        ax.invert_yaxis()
        ax.axvline(1.0, color="k", lw=0.5)
        ax.set_xlabel("speed-up, 1 CPU time / all CPUs time (higher is better, linear)", fontsize=8)
        ax.set_title("cpu speed-up (fib(27) tasks)", fontsize=10)
        for yy, (_, s) in zip(y, items):
            ax.text(s["median"], yy, "  %.2fx" % s["median"], va="center", fontsize=7)

    for w in wls:
        fig, ax = plt.subplots(figsize=(7, 0.45 * max(3, len(doc["results"][w["id"]])) + 1.2))
        draw(ax, w)
        fig.tight_layout()
        name = "chart_%s.png" % w["id"]
        fig.savefig(os.path.join(outdir, name), dpi=90)
        plt.close(fig)
        files.append(name)
    have_cpu = "cpu1" in doc["results"] and "cpuN" in doc["results"]
    if have_cpu:
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(label) + 1.2))
        draw_speedup(ax)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "chart_cpu_speedup.png"), dpi=90)
        plt.close(fig)
        files.append("chart_cpu_speedup.png")
    cols = 3
    n = len(wls) + (1 if have_cpu else 0)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 3.3 * rows), squeeze=False)
    for ax, w in zip(axes.flat, wls):
        draw(ax, w)
    if have_cpu:
        draw_speedup(list(axes.flat)[len(wls)])
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle("gr (red) vs Go (blue) and anchors; bars: median, whiskers: min/max; (n=...) = scaled-down size",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "overview.png"), dpi=80)
    plt.close(fig)
    files.insert(0, "overview.png")
    return files


def write_all(doc, outdir, report_path):
    files = charts(doc, outdir)
    rel = os.path.relpath(outdir, os.path.dirname(os.path.abspath(report_path)))
    m = doc["meta"]
    impls = [i for i in doc["impls"]]
    L = []
    L.append("# gr benchmark report")
    L.append("")
    if m.get("quick"):
        L.append("**QUICK run** (`make bench QUICK=1`): small sizes, for development checks only.")
        L.append("")
    L.append("Generated by `%s` (bench/run.py) on %s; %d measured runs per figure; total wall "
             "time of the runs %.0f s." % (m["command"], m["date"], m["runs"], m["wall_seconds"]))
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append("- CPU: %s, %d CPUs online, %s memory; kernel %s" % (m["cpu"], m["ncpu"], m["memory"], m["versions"]["kernel"]))
    L.append("- Workers: %d (gr `gr_config.workers`, Go `GOMAXPROCS`, Java virtual-thread parallelism) "
             "unless the workload says otherwise" % m["workers"])
    L.append("- Load average at start %s, at end %s (the machine is shared; ratios are taken within one run)"
             % ("/".join(m["loadavg_start"]), "/".join(m["loadavg_end"])))
    v = m["versions"]
    L.append("- Versions: gr %s (git %s); %s; %s; Java 17: %s; Java 25: %s; Python %s, gevent %s"
             % (v["gr"], v["git"], v["gcc"], v["go"], v["java17"], v["java25"], v["python"], v["gevent"]))
    L.append("")
    try:
        loads = [float(m["loadavg_start"][0]), float(m["loadavg_end"][0])]
        loads += list(m.get("load_by_workload", {}).values())
        load = max(loads)
    except (KeyError, ValueError, IndexError):
        load = 0.0
    if load > m["ncpu"]:
        L.append("> **Busy machine**: the 1-minute load average reached %.1f on %d CPUs during this "
                 "run (other jobs were running). Absolute figures are inflated and noisy; the "
                 "ratios to Go, taken from interleaved runs, are the figures to read, and the "
                 "cpu speed-ups (which need two idle CPUs) understate what an idle machine gives."
                 % (load, m["ncpu"]))
        L.append("")
    rows = goals(doc)
    L.append("## Goals from issues 6, 12, 15 and 18 (2 processors)")
    L.append("")
    met = [r for r in rows if r[-1].startswith("met")]
    # The goal's text, not only its workload: a workload may have goals from two issues.
    missed = [r[0].replace(":", "", 1) for r in rows if "NOT MET" in r[-1]]
    unmeasured = [r[0].split(":")[0] for r in rows if r[-1].startswith("NOT MEASURED")]
    L.append("gr meets %d of %d goals in this run.%s%s" % (
        len(met), len(rows),
        " Not met: %s." % "; ".join(missed) if missed else "",
        " Not measured: %s." % ", ".join(unmeasured) if unmeasured else ""))
    L.append("")
    L.append("Status is judged on the ratio of the medians (gr / Go). The paired column is the "
             "median (min–max) of the per-run ratios, run i of gr against run i of Go, which ran "
             "next to each other: it shows how far the verdict could move with the machine's noise.")
    L.append("")
    L.append("| goal | gr | Go | gr / Go | paired gr / Go (min–max) | status |")
    L.append("|---|---|---|---|---|---|")
    for g in rows:
        L.append("| %s |" % " | ".join(g))
    L.append("")
    goal_table(L, python_goals(doc), "Goals from issue 4 (the Python binding, 2 workers)",
               "gr (Python) against the fastest Python anchor of the same run, at the same size "
               "(spawn and pingpong: ratio <= 0.5; parked memory: <= gevent's).",
               ("gr (Python)", "anchor"))
    goal_table(L, java_goals(doc), "Goals from issue 16 (the Java binding, 2 workers)",
               "gr (Java) in absolute terms and against Java 25 virtual threads of the same run "
               "(spawnjoin: `Thread.ofVirtual().start()` + `join()`; pingpong: a platform thread "
               "and a virtual thread over two SynchronousQueues).",
               ("gr (Java)", "virtual threads"))
    L.append("## Medians")
    L.append("")
    L.append("Each cell is the median; in parentheses, the ratio to Go's median from the same run "
             "(for fanin a throughput ratio, higher is better; otherwise lower is better). "
             "† = run at a scaled-down size (see Sizes); per-op figures stay comparable, total "
             "times (sieve, cpu) get no ratio when sizes differ. n/a = the workload does not "
             "apply; skipped = the implementation is not available on this machine.")
    L.append("")
    L.append("| workload | unit | " + " | ".join(lbl for _, lbl in impls) + " |")
    L.append("|---|---|" + "---|" * len(impls))
    for w in doc["workloads"]:
        L.append("| %s | %s | %s |" % (w["id"], w["unit"], " | ".join(cell(doc, w["id"], i, w["metric"]) for i, _ in impls)))
    if "cpu1" in doc["results"] and "cpuN" in doc["results"]:
        sp = []
        for i, _ in impls:
            s = speedup(doc, i)
            sp.append("%.2fx" % s["median"] if s else "—")
        L.append("| cpu speed-up | cpu1 / cpuN | %s |" % " | ".join(sp))
    L.append("")
    L.append("## Spreads (min – max over the runs)")
    L.append("")
    L.append("load = the 1-minute load average when the workload's first run started; busy = "
             "the share of all CPUs in use (by anything) just before each round of runs, after "
             "waiting up to %s s for it to fall under 25%%." % m.get("quiet_wait", "?"))
    L.append("")
    lw = m.get("load_by_workload", {})
    bw = m.get("busy_before_rounds", {})
    L.append("| workload | load | busy | " + " | ".join(lbl for _, lbl in impls) + " |")
    L.append("|---|---|---|" + "---|" * len(impls))
    for w in doc["workloads"]:
        cells = ["%.1f" % lw[w["id"]] if w["id"] in lw else "?",
                 " ".join("%.0f%%" % (b * 100) for b in bw.get(w["id"], [])) or "—"]
        for i, _ in impls:
            r = doc["results"][w["id"]].get(i, {})
            if r.get("status") == "ok":
                spread = (r["max"] - r["min"]) / r["median"] * 100 if r["median"] else 0
                cells.append("%s – %s (±%.0f%%)" % (fmt(r["min"]), fmt(r["max"]), spread / 2))
            else:
                cells.append("")
        L.append("| %s | %s |" % (w["id"], " | ".join(cells)))
    L.append("")
    L.append("## Sizes")
    L.append("")
    L.append("| workload | what | default | " + " | ".join(lbl for _, lbl in impls) + " |")
    L.append("|---|---|---|" + "---|" * len(impls))
    for w in doc["workloads"]:
        cells = []
        for i, _ in impls:
            r = doc["results"][w["id"]].get(i, {})
            if r.get("status") == "ok":
                s = "{:,}".format(r["size"])
                cells.append(s + (" †" if r["size"] != r["default_size"] else ""))
            else:
                cells.append("—")
        L.append("| %s | %s | %s | %s |" % (w["id"], w["what"], "{:,}".format(w["default_size"]), " | ".join(cells)))
    L.append("")
    variants = [(lbl, w["id"], doc["results"][w["id"]][i]["variant"]) for w in doc["workloads"]
                for i, lbl in impls if doc["results"][w["id"]].get(i, {}).get("variant")]
    if variants:
        L.append("## Variants")
        L.append("")
        for lbl, wid, note in variants:
            L.append("- %s / %s: %s" % (lbl, wid, note))
        L.append("")
    notes = []
    for w in doc["workloads"]:
        for i, lbl in impls:
            r = doc["results"][w["id"]].get(i, {})
            if r.get("status") in ("failed", "n/a", "skipped", "unavailable") and r.get("note"):
                notes.append((r["status"], lbl, w["id"], r["note"]))
    if notes:
        L.append("## Not measured")
        L.append("")
        groups = {}
        for st, lbl, wid, note in notes:
            groups.setdefault((st, note), []).append(lbl if st == "skipped" else "%s / %s" % (lbl, wid))
        for (st, note), where in groups.items():
            where = list(dict.fromkeys(where))
            L.append("- %s (%s): %s" % ("**FAILED**" if st == "failed" else st, note, ", ".join(where)))
        L.append("")
    L.append("## Method")
    L.append("")
    L.append("- Every implementation runs the same program shape (bench/gr, bench/go, bench/pthread, "
             "bench/java, bench/python). gr (C and Python) runs each workload inside a main goroutine "
             "(`goroutines.run` in Python), as Go does; asyncio runs inside `asyncio.run`.")
    L.append("- Each process first runs the workload at a tenth of its size (warm-up: JIT, pools), then "
             "the measured run; parked is measured in a fresh process without warm-up (VmHWM is a peak).")
    L.append("- The runs of one workload are interleaved across implementations (run 1 of each, then "
             "run 2, ...), so gr and Go share machine conditions; each figure is the median of %d runs."
             % m["runs"])
    L.append("- Unbuffered channels: gr and Go channels, gevent `Channel`, Java `SynchronousQueue`, a "
             "mutex+condvar rendezvous for pthreads; Python threads and asyncio use a capacity-1 queue "
             "(they have no rendezvous queue).")
    L.append("- cpu1 runs every implementation restricted to CPU 0 (sched_setaffinity) with 1 worker; "
             "cpuN on all CPUs. asyncio and gevent use one thread, and Python threads hold the GIL, so "
             "their speed-up is about 1 by construction." +
             (" Each cpuN run follows the same implementation's cpu1 run, and the speed-up is the "
              "median of those pairs' ratios." if m.get("cpu_paired") else ""))
    L.append("- Python and thread anchors are scaled down (†) so that the whole suite fits in about 15 "
             "minutes; per-op figures (ns/op, KiB/goroutine, msgs/s) remain comparable.")
    L.append("")
    if files:
        L.append("## Charts")
        L.append("")
        L.append("![overview](%s)" % os.path.join(rel, files[0]))
        L.append("")
        L.append("Per workload: " + ", ".join("[%s](%s)" % (f[6:-4].replace("_", " "), os.path.join(rel, f)) for f in files[1:]))
        L.append("")
    with open(report_path, "w") as f:
        f.write("\n".join(L))
    print("bench: wrote %s and %d charts in %s" % (report_path, len(files), outdir), flush=True)


if __name__ == "__main__":
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results", "latest.json")
    doc = json.load(open(src))
    dst = sys.argv[2] if len(sys.argv) > 2 else (
        os.path.join(os.path.dirname(src), "REPORT.md") if doc["meta"].get("quick")
        else os.path.join(os.path.dirname(os.path.abspath(__file__)), "REPORT.md"))
    write_all(doc, os.path.dirname(os.path.abspath(src)), dst)
