#!/usr/bin/env python3
"""Concurrent chat-completion load against an OpenAI-compatible server (tq serve, samples/WebApi or llama-server).

usage: serve_load.py BASE_URL MODEL CLIENTS REQUESTS_PER_CLIENT MAX_TOKENS
Each client sends its requests one after another (streaming, temperature 0, a prompt of its own) and counts the
completion tokens the server reports in `usage`. Prints one JSON line: aggregate completion tokens/s over the wall time
of the whole run, the mean per-client decode rate, and time to first token.
"""
import json
import sys
import threading
import time
import urllib.request

base, model, clients, per_client, max_tokens = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
results = []
lock = threading.Lock()


def one(client, index):
    body = {
        "model": model,
        "messages": [{"role": "user", "content": f"Client {client}, request {index}: tell me a long story about a fox and a crow."}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    request = urllib.request.Request(base + "/v1/chat/completions", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    first = None
    tokens = None
    with urllib.request.urlopen(request, timeout=600) as response:
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if first is None and chunk.get("choices") and chunk["choices"][0].get("delta", {}).get("content"):
                first = time.perf_counter()
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
    end = time.perf_counter()
    with lock:
        results.append((tokens or 0, start, first or end, end))


def client(c):
    for i in range(per_client):
        one(c, i)


one(0, -1)  # warm-up (not counted)
results.clear()
threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
t0 = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.perf_counter() - t0
total = sum(r[0] for r in results)
decode = [(r[0] - 1) / (r[3] - r[2]) for r in results if r[0] > 1 and r[3] > r[2]]
print(json.dumps({
    "clients": clients,
    "requests": len(results),
    "completion_tokens": total,
    "wall_s": round(wall, 2),
    "aggregate_tps": round(total / wall, 2),
    "mean_stream_decode_tps": round(sum(decode) / len(decode), 2) if decode else 0,
    "mean_ttft_s": round(sum(r[2] - r[1] for r in results) / len(results), 3),
}))
