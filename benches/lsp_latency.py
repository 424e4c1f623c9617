#!/usr/bin/env python3
"""glyphsieve lsp latency: time from a didChange to its publishDiagnostics.

A workspace of 1,000 rules (20 files of 50) in a temporary folder; one file is
opened and edited 30 times (each edit alternately adds and removes a typo);
prints the median and the worst. Usage: benches/lsp_latency.py [BINARY]
"""
import json, os, subprocess, sys, tempfile, time

binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/glyphsieve")
root = tempfile.mkdtemp()
os.makedirs(f"{root}/rules")
with open(f"{root}/glyphsieve.yaml", "w") as f:
    f.write("rules: [rules/]\n")
for k in range(20):
    with open(f"{root}/rules/r{k}.rule", "w") as f:
        for i in range(50):
            n = k * 50 + i
            prev = f"r{n - 1} or " if n % 50 else ""
            f.write(f"## Rule {n}.\nrule r{n}: bool = {prev}vram_gb >= {n % 97} and tdp_watts < {300 + n}\n\n")
p = subprocess.Popen([binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=root)

def send(m):
    b = json.dumps(m).encode()
    p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(b) + b)
    p.stdin.flush()

def recv():
    n = 0
    while True:
        line = p.stdout.readline().strip()
        if not line:
            break
        if line.startswith(b"Content-Length:"):
            n = int(line.split(b":")[1])
    return json.loads(p.stdout.read(n))

def wait_diags(uri):
    while True:
        m = recv()
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
            return m["params"]["diagnostics"]

uri = f"file://{root}/rules/r0.rule"
send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
      "params": {"processId": None, "rootUri": f"file://{root}", "capabilities": {}}})
recv()
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
text = open(f"{root}/rules/r0.rule").read()
send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": {"textDocument": {"uri": uri, "languageId": "glyphsieve", "version": 1, "text": text}}})
wait_diags(uri)
times = []
for v in range(30):
    new = text.replace("vram_gb >= 0", "vram_gbb >= 0") if v % 2 == 0 else text
    t = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didChange",
          "params": {"textDocument": {"uri": uri, "version": v + 2}, "contentChanges": [{"text": new}]}})
    d = wait_diags(uri)
    times.append((time.perf_counter() - t) * 1000)
    assert (len(d) > 0) == (v % 2 == 0), d
send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
send({"jsonrpc": "2.0", "method": "exit"})
p.wait()
times.sort()
print(f"1000 rules, 20 files: change to diagnostics median {times[len(times) // 2]:.1f} ms, worst {times[-1]:.1f} ms")
