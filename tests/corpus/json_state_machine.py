"""A workflow engine persisted as JSON: workflow definitions loaded from JSON, an Enum
state machine per ticket, an event log serialised with a custom encoder/decoder hook;
events are half applied before the move and the log is saved and reloaded after it."""

import enum
import json
import sys
from pathlib import Path

import teleporter

DEFINITION = json.loads("""
{"name": "support", "transitions": {
  "OPEN": {"assign": "ASSIGNED", "close": "CLOSED"},
  "ASSIGNED": {"reply": "WAITING", "resolve": "RESOLVED"},
  "WAITING": {"customer_reply": "ASSIGNED", "timeout": "CLOSED"},
  "RESOLVED": {"reopen": "ASSIGNED", "close": "CLOSED"}}}
""")


class State(str, enum.Enum):
    OPEN = "OPEN"
    ASSIGNED = "ASSIGNED"
    WAITING = "WAITING"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


class Ticket:
    def __init__(self, tid, title):
        self.tid, self.title, self.state, self.trail = tid, title, State.OPEN, []

    def fire(self, event):
        target = DEFINITION["transitions"].get(self.state.value, {}).get(event)
        if target is None:
            self.trail.append(f"!{event}")
            return False
        self.trail.append(f"{self.state.value}->{target}")
        self.state = State(target)
        return True


def encode(obj):
    if isinstance(obj, Ticket):
        return {"__ticket__": obj.tid, "title": obj.title, "state": obj.state.value, "trail": obj.trail}
    raise TypeError(type(obj).__name__)


def decode(d):
    if "__ticket__" in d:
        t = Ticket(d["__ticket__"], d["title"])
        t.state, t.trail = State(d["state"]), d["trail"]
        return t
    return d


tickets = {i: Ticket(i, f"issue #{i}") for i in range(1, 6)}
paths = {
    1: ["assign", "reply", "customer_reply", "resolve", "close"],
    2: ["assign", "resolve", "reopen", "reply", "timeout"],
    3: ["close", "assign"],
    4: ["assign", "reply", "customer_reply", "reply", "customer_reply", "resolve"],
    5: ["assign", "resolve", "close", "reopen"],
}
events = [(tid, paths[tid][k]) for k in range(6) for tid in tickets if k < len(paths[tid])]
for n, (tid, event) in enumerate(events):
    tickets[tid].fire(event)
    if n == len(events) // 2:
        print("midway:", {t.tid: t.state.value for t in tickets.values()})
        teleporter.teleport()

print("final:", {t.tid: t.state.value for t in tickets.values()})
path = Path(sys.argv[1]) / "tickets.json"
path.write_text(json.dumps({"workflow": DEFINITION["name"], "tickets": list(tickets.values())}, default=encode, indent=2))
loaded = json.loads(path.read_text(), object_hook=decode)
print("reloaded:", [(t.tid, t.state.name, len(t.trail)) for t in loaded["tickets"]])
print("trail of 3:", loaded["tickets"][2].trail)
print("json size:", len(path.read_text()), "compact:", len(json.dumps(json.loads(path.read_text()), separators=(",", ":"))))
print("enum json:", json.dumps([State.OPEN, State.CLOSED]), State("WAITING") is State.WAITING)
path.unlink()
