"""Request-scoped state with contextvars, as a web framework keeps it: a request id and a
user set in the current context before the move, read by deep helpers after it; copied
contexts run sub-tasks in isolation."""

import contextvars
import itertools

import teleporter

request_id = contextvars.ContextVar("request_id", default="-")
user = contextvars.ContextVar("user")
trace = contextvars.ContextVar("trace", default=())
_ids = itertools.count(1000)


def log(msg):
    print(f"[{request_id.get()}|{user.get('anonymous')}] {msg} trace={'>'.join(trace.get())}")


def span(name):
    trace.set(trace.get() + (name,))


def handle(path, who):
    request_id.set(f"req-{next(_ids)}")
    if who:
        user.set(who)
    span("handle")
    log(f"GET {path}")
    return authorize(path)


def authorize(path):
    span("authorize")
    allowed = user.get(None) is not None or path.startswith("/public")
    log(f"allowed={allowed}")
    return allowed


results = []
for path, who in [("/public/a", None), ("/private/b", "ada")]:
    ctx = contextvars.copy_context()
    results.append(ctx.run(handle, path, who))
print("isolated outer:", request_id.get(), user.get("none"), trace.get())

request_id.set("req-main")
token = user.set("grace")
span("main")
log("before move")

teleporter.teleport()

log("after move")
print("values:", request_id.get(), user.get(), trace.get())
child = contextvars.copy_context()
results.append(child.run(handle, "/private/c", None))
print("child saw:", child[request_id], child[user], child[trace])
user.reset(token)
print("after reset:", user.get("unset"), "results:", results)
print("context size:", len(contextvars.copy_context()) >= 2)
