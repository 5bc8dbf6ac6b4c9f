"""Log analysis with re: compiled patterns with named groups parse generated access-log
lines in batches; counters and a latency histogram accumulate across the move, then
substitutions anonymise the slowest requests."""

import collections
import random
import re

import teleporter

LINE = re.compile(
    r'(?P<ip>\d{1,3}(?:\.\d{1,3}){3}) - (?P<user>[\w-]+) \[(?P<day>\d{2})/(?P<mon>\w{3})/2024\] '
    r'"(?P<method>GET|POST|PUT|DELETE) (?P<path>/[^ ]*) HTTP/1\.[01]" (?P<status>\d{3}) (?P<ms>\d+)ms'
)
ID_IN_PATH = re.compile(r"/(\d+)(?=/|$)")
EMAILISH = re.compile(r"\b([a-z]+)@([a-z]+\.(?:com|org))\b", re.IGNORECASE)

rng = random.Random(2024)
users = ["-", "alice", "bob", "carol"]
paths = ["/api/items/{}", "/api/items/{}/reviews", "/login", "/static/app.js", "/api/users/{}/cart"]


def generate(n):
    for _ in range(n):
        ip = ".".join(str(rng.randint(1, 254)) for _ in range(4))
        path = rng.choice(paths).format(rng.randint(1, 500))
        method = rng.choice(["GET"] * 6 + ["POST", "PUT", "DELETE"])
        status = rng.choice([200] * 8 + [201, 301, 404, 500])
        yield f'{ip} - {rng.choice(users)} [{rng.randint(1, 28):02d}/Mar/2024] "{method} {path} HTTP/1.1" {status} {rng.randint(2, 900)}ms'
    yield "garbage line that does not match"


status_counts = collections.Counter()
endpoint_counts = collections.Counter()
latency_buckets = collections.Counter()
slowest = []
bad = 0
for batch in range(6):
    for line in generate(150):
        m = LINE.fullmatch(line)
        if not m:
            bad += 1
            continue
        status_counts[m["status"]] += 1
        endpoint_counts[ID_IN_PATH.sub("/{id}", m["path"])] += 1
        latency_buckets[min(int(m["ms"]) // 100, 5)] += 1
        slowest.append((int(m["ms"]), line))
    slowest = sorted(slowest, reverse=True)[:5]
    print(f"batch {batch}: statuses {sorted(status_counts.items())}")
    if batch == 2:
        teleporter.teleport()

print("unparsed:", bad)
print("endpoints:", endpoint_counts.most_common())
print("latency histogram:", [latency_buckets[b] for b in range(6)])
for ms, line in slowest:
    print(ms, re.sub(r"\d+\.\d+\.\d+\.(\d+)", r"x.x.x.\1", line))
text = "contact Alice@Example.com or bob@test.org, not me@localhost"
print(EMAILISH.sub(lambda m: m[1][0] + "***@" + m[2].lower(), text))
print(re.split(r"[;,]\s*", "a, b;c ,d"), re.findall(r"(\w)\1", "aabbcdde"))
