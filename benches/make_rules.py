#!/usr/bin/env python3
"""Write N varied rules over the peer benchmark's columns (benches/peer_schema.yaml).

usage: make_rules.py N > benches/hundred_rules.rule
Each rule mixes comparisons, arithmetic, and/or, if and functions, so the
evaluator's cost is measured on realistic expressions.
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
print(f"# {n} generated rules for benchmarks (benches/make_rules.py {n}).")
print("let usable = max(vram_gb - 2, 0)")
shapes = [
    "rule r{i}: bool = vram_gb >= {a} and tdp_w <= {w} and mig_capable >= 1",
    "rule r{i}: float = price / max(vram_gb, 0) * {b}",
    "rule r{i}: int default 0 = floor(usable / {s})",
    "rule r{i}: bool = tdp_w <= {w} or vram_gb >= {a}",
    "rule r{i}: float = if tdp_w > {w} then price - {a} else price + {a}",
    "rule r{i}: bool = not (vram_gb < {a}) and coalesce(mig_capable, 0) != 0",
    "rule r{i}: int = clamp(round(vram_gb * {b}), 0, {w})",
    "rule r{i}: float = min(price, {w}.5) + max(tdp_w, {a})",
]
for i in range(n):
    shape = shapes[i % len(shapes)]
    print(shape.format(i=i, a=8 + i % 40, w=150 + (i * 7) % 300, b=1 + i % 5, s=3.5 + i % 4))
