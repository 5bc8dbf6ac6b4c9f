"""An HTTP client job with requests against a small JSON API that the program starts
itself (a subprocess on 127.0.0.1, ephemeral port); a requests.Session is used before and
after the move, and the server is stopped at the end."""

import subprocess
import sys
import time
from pathlib import Path

import requests

import teleporter

SERVER = r"""
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

store = {}

class Handler(BaseHTTPRequestHandler):
    def _send(self, code, obj):
        body = json.dumps(obj, sort_keys=True).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        key = self.path.strip("/")
        if key == "":
            self._send(200, {"keys": sorted(store)})
        elif key in store:
            self._send(200, {"key": key, "value": store[key]})
        else:
            self._send(404, {"error": "missing", "key": key})

    def do_PUT(self):
        data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        store[self.path.strip("/")] = data
        self._send(201, {"stored": self.path.strip("/")})

    def do_POST(self):
        if self.path == "/shutdown":
            self._send(200, {"bye": True})
            self.wfile.flush()
            os._exit(0)
        self._send(404, {"error": "no such action"})

    def log_message(self, *args):
        pass

srv = HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
"""

port_file = Path(sys.argv[1]) / "port"
server = subprocess.Popen([sys.executable, "-c", SERVER, str(port_file)],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = None
try:
    for _ in range(600):
        if port_file.exists():
            break
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port_file.read_text()}"
    http = requests.Session()
    http.headers["User-Agent"] = "corpus-client/1.0"
    for i in range(5):
        r = http.put(f"{base}/item{i}", json={"n": i, "square": i * i}, timeout=10)
        print("PUT", i, r.status_code, r.json())
    print("listing:", http.get(base + "/", timeout=10).json())

    teleporter.teleport()

    for key in ("item2", "item4", "nope"):
        r = http.get(f"{base}/{key}", timeout=10)
        print("GET", key, r.status_code, r.headers["Content-Type"], r.json())
    r = http.put(f"{base}/after", json={"moved": True}, timeout=10)
    print("PUT after", r.status_code)
    print("listing:", http.get(base + "/", timeout=10).json())
    try:
        http.get(f"{base}/missing", timeout=10).raise_for_status()
    except requests.HTTPError as exc:
        print("HTTPError:", exc.response.status_code)
    http.close()
finally:
    # Ask the server to stop (works from any process); terminate() only reaches it
    # while it is still this process's own child.
    if base is not None:
        try:
            requests.post(f"{base}/shutdown", timeout=5)
        except requests.RequestException:
            pass
    server.terminate()
    server.wait(timeout=10)
    port_file.unlink(missing_ok=True)
print("server stopped")
