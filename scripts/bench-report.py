#!/usr/bin/env python3
"""bench-report.py OUT RUNS SAME_RATE - the HTML page of a bench-compare.sh run.

Reads the recache-bench JSON reports and cpu.tsv that bench-compare.sh left in OUT and
prints one self-contained HTML page (inline SVG, no scripts, no external resources):
GET latency percentiles per server (medians over the runs), throughput per second over
the first run of each depth, and server CPU per operation; then the table.
"""
import html
import json
import os
import statistics
import sys

OUT, RUNS, RATE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
SERVERS = ["recache", "memcached", "redis"]
COLORS = {"recache": "#d1495b", "memcached": "#00798c", "redis": "#edae49"}
PCTS = [("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p99_9", "p99.9")]


def load(name):
    path = os.path.join(OUT, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None


def cpu_table():
    cpu = {}
    path = os.path.join(OUT, "cpu.tsv")
    for line in open(path) if os.path.exists(path) else []:
        name, value = line.split()
        cpu[name] = float(value)
    return cpu


def bars(title, groups, unit, log=False):
    """Grouped bar chart: groups = [(label, {server: value})]."""
    w, h, left, bottom = 760, 300, 70, 40
    top = max((v for _, vals in groups for v in vals.values()), default=1) or 1
    gw = (w - left - 20) / max(len(groups), 1)
    bw = gw / (len(SERVERS) + 1)
    out = [f'<svg width="{w}" height="{h}" role="img"><title>{html.escape(title)}</title>']
    out.append(f'<text x="{left}" y="16" font-weight="bold">{html.escape(title)}</text>')
    for i in range(5):
        y = h - bottom - (h - bottom - 30) * i / 4
        out.append(f'<line x1="{left}" x2="{w - 20}" y1="{y}" y2="{y}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" font-size="11">'
                   f'{top * i / 4:.0f}</text>')
    for g, (label, vals) in enumerate(groups):
        x0 = left + g * gw
        for k, s in enumerate(SERVERS):
            v = vals.get(s)
            if v is None:
                continue
            bh = (h - bottom - 30) * v / top
            x = x0 + (k + 0.5) * bw
            out.append(f'<rect x="{x:.1f}" y="{h - bottom - bh:.1f}" width="{bw * 0.9:.1f}" '
                       f'height="{bh:.1f}" fill="{COLORS[s]}"><title>{s} {label}: {v:g} '
                       f'{unit}</title></rect>')
        out.append(f'<text x="{x0 + gw / 2:.1f}" y="{h - bottom + 16}" text-anchor="middle" '
                   f'font-size="12">{html.escape(label)}</text>')
    out.append(f'<text x="12" y="{h / 2}" font-size="11" transform="rotate(-90 12 {h / 2})">'
               f'{html.escape(unit)}</text></svg>')
    return "\n".join(out)


def lines(title, series, unit):
    """Line chart of per-second series: series = {server: [values]}."""
    w, h, left, bottom = 760, 260, 70, 34
    top = max((v for vals in series.values() for v in vals), default=1) or 1
    n = max((len(v) for v in series.values()), default=1)
    out = [f'<svg width="{w}" height="{h}" role="img"><title>{html.escape(title)}</title>',
           f'<text x="{left}" y="16" font-weight="bold">{html.escape(title)}</text>']
    for i in range(5):
        y = h - bottom - (h - bottom - 30) * i / 4
        out.append(f'<line x1="{left}" x2="{w - 20}" y1="{y}" y2="{y}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" font-size="11">'
                   f'{top * i / 4:.0f}</text>')
    for s, vals in series.items():
        pts = " ".join(f"{left + (w - left - 20) * i / max(n - 1, 1):.1f},"
                       f"{h - bottom - (h - bottom - 30) * v / top:.1f}"
                       for i, v in enumerate(vals))
        out.append(f'<polyline fill="none" stroke="{COLORS[s]}" stroke-width="2" points="{pts}">'
                   f'<title>{s}</title></polyline>')
    out.append(f'<text x="{w / 2}" y="{h - 6}" text-anchor="middle" font-size="11">seconds of the '
               f'measured window</text><text x="12" y="{h / 2}" font-size="11" '
               f'transform="rotate(-90 12 {h / 2})">{html.escape(unit)}</text></svg>')
    return "\n".join(out)


def median_pct(server, mode, key):
    vals = []
    for run in range(1, RUNS + 1):
        j = load(f"{server}-{mode}-r{run}")
        if j and "get" in j["latency_us"]:
            vals.append(j["latency_us"]["get"][key])
    return statistics.median(vals) if vals else None


charts = []
for mode, label in (("p1", "pipeline 1"), ("p16", "pipeline 16"),
                    (f"rate{RATE}", f"open loop at {RATE}/s")):
    groups = [(name, {s: median_pct(s, mode, key) for s in SERVERS}) for key, name in PCTS]
    charts.append(bars(f"GET latency percentiles, {label} (us, median of {RUNS} runs)", groups,
                       "microseconds"))
for mode, label in (("p1", "pipeline 1"), ("p16", "pipeline 16")):
    series = {}
    for s in SERVERS:
        j = load(f"{s}-{mode}-r1")
        if j and "throughput_per_second" in j:
            series[s] = j["throughput_per_second"]
    charts.append(lines(f"Throughput per second, {label} (run 1)", series, "operations/s"))
cpu = cpu_table()
groups = []
for mode, label in (("p1", "pipeline 1"), ("p16", "pipeline 16"), (f"rate{RATE}", "same load")):
    vals = {}
    for s in SERVERS:
        xs = [cpu[f"{s}-{mode}-r{r}"] for r in range(1, RUNS + 1) if f"{s}-{mode}-r{r}" in cpu]
        if xs:
            vals[s] = statistics.median(xs)
    groups.append((label, vals))
charts.append(bars("Server CPU per operation (us, user + system, median)", groups, "us/op"))

table = open(os.path.join(OUT, "table.md")).read() if os.path.exists(
    os.path.join(OUT, "table.md")) else ""
legend = " ".join(f'<span style="color:{COLORS[s]}">&#9632; {s}</span>' for s in SERVERS)
print(f"""<!doctype html><html><head><meta charset="utf-8"><title>recache bench-compare</title>
<style>body{{font-family:sans-serif;max-width:800px;margin:2em auto}}pre{{font-size:12px;
overflow-x:auto}}svg{{display:block;margin:1.5em 0}}</style></head><body>
<h1>recache against memcached and Redis</h1><p>{legend}</p>
{''.join(charts)}
<h2>Table</h2><pre>{html.escape(table)}</pre></body></html>""")
