#!/usr/bin/env python3
"""Lines of non-domain code per function (issue 19): config.rs + main.rs + error.rs,
without blank lines, comments and #[cfg(test)] modules; and the kit example. Run from
the repository root: python3 bench/boilerplate_lines.py"""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else "."
def count(path):
    if not os.path.exists(path): return 0
    n = 0; skip_depth = None; depth = 0; pending_test = False
    for line in open(path):
        s = line.strip()
        if skip_depth is not None:
            depth += line.count("{") - line.count("}")
            if depth <= skip_depth: skip_depth = None
            continue
        if s.startswith("#[cfg(test)]"): pending_test = True; continue
        if pending_test and s.startswith("mod "):
            pending_test = False
            if s.endswith(";"): continue
            skip_depth = depth; depth += line.count("{") - line.count("}"); continue
        pending_test = False
        depth += line.count("{") - line.count("}")
        if not s or s.startswith("//"): continue
        n += 1
    return n
total = 0
rows = []
for f in sorted(os.listdir(os.path.join(root, "functions"))):
    src = os.path.join(root, "functions", f, "src")
    parts = [count(os.path.join(src, x)) for x in ("config.rs", "main.rs", "error.rs")]
    rows.append((f, *parts, sum(parts))); total += sum(parts)
rows.append(("all functions", "", "", "", total))
def example(path):
    """An example step: everything but its tests and its `// ---- The domain` section."""
    n = 0; domain = False
    for line in open(path):
        s = line.strip()
        if s.startswith("#[cfg(test)]"): break
        if s.startswith("// ---- The domain"): domain = True
        if s.startswith("// ---- What the kit"): domain = False
        if domain or not s or s.startswith("//"): continue
        n += 1
    return n
ex = os.path.join(root, "shared/kit/examples")
if os.path.isdir(ex):
    for e in sorted(os.listdir(ex)):
        if e.endswith(".rs"): rows.append(("example " + e, 0, example(os.path.join(ex, e)), 0, example(os.path.join(ex, e))))
print(f"{'function':28} {'config':>6} {'main':>5} {'error':>5} {'total':>5}")
for r in rows: print(f"{r[0]:28} {r[1]:6} {r[2]:5} {r[3]:5} {r[4]:5}")
