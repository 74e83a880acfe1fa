"""Shared parts of the artifact benchmark's scripts (stdlib only): bench/artifacts_heron.py,
bench/peer_artifacts_mlflow.py, bench/peer_artifacts_wandb.py.

Each script writes JSON lines to --out: one per measurement
    {"tool", "case", "rep", "secs", "bytes", "files", "mb_per_s", "files_per_s", "ok", ...}
(case: small_upload, small_reupload, small_changed, small_download, big_upload, big_download), a line
{"tool", "case": "unmeasurable", "what", "why"} per case a tool cannot do, and one {"tool", "case": "meta", ...}
line with its version and how it was run. MB are 10^6 bytes.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

CASES = ("small_upload", "small_reupload", "small_changed", "small_download", "big_upload", "big_download")


def args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--data", default="bench/work/artifacts-data", help="folder made by bench/artifacts_data.py")
    ap.add_argument("--work", required=True, help="scratch folder (emptied first)")
    ap.add_argument("--out", required=True, help="JSON lines are appended here")
    ap.add_argument("--repeats", "-R", type=int, default=3, help="repeats of the 1,000-file cases")
    ap.add_argument("--big-repeats", type=int, default=3, help="repeats of the 1 GiB cases (0: none)")
    return ap


def exit_on_sigterm():
    """SIGTERM (bench/run.sh's `timeout`) ends the script through its `finally` blocks, which stop the servers
    it started."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def params(data):
    with open(os.path.join(data, "params.json")) as f:
        return json.load(f)


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


class Out:
    def __init__(self, path, tool):
        self.path, self.tool = path, tool

    def write(self, rec):
        rec = {"tool": self.tool, **rec}
        line = json.dumps(rec)
        with open(self.path, "a") as f:
            f.write(line + "\n")
        print(line, flush=True)

    def case(self, case, rep, secs, nbytes, files, ok=True, **extra):
        self.write({"case": case, "rep": rep, "secs": secs, "bytes": nbytes, "files": files,
                    "mb_per_s": nbytes / secs / 1e6 if secs > 0 else None,
                    "files_per_s": files / secs if secs > 0 else None, "ok": ok, **extra})

    def unmeasurable(self, case, why):
        self.write({"case": "unmeasurable", "what": case, "why": why})


def tree_stats(path):
    """(files, bytes) of the regular files under path."""
    n = b = 0
    for root, _, fs in os.walk(path):
        for x in fs:
            p = os.path.join(root, x)
            if os.path.isfile(p) and not os.path.islink(p):
                n += 1
                b += os.path.getsize(p)
    return n, b


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def check_small(root, p, changed=False):
    """A downloaded copy of the 1,000 files under root: (ok, why)."""
    n, b = tree_stats(root)
    if (n, b) != (p["small_n"], p["small_bytes"]):
        return False, f"{n} files, {b} bytes (expected {p['small_n']}, {p['small_bytes']})"
    want = p["changed_sha256"] if changed else None
    f0 = os.path.join(root, p["changed_path"])
    if not os.path.exists(f0):
        return False, f"no {p['changed_path']}"
    if want and sha256_file(f0) != want:
        return False, f"{p['changed_path']} is not the changed file"
    return True, ""


def check_big(path, p):
    if not os.path.isfile(path):
        return False, f"no {path}"
    if os.path.getsize(path) != p["big_bytes"]:
        return False, f"{os.path.getsize(path)} bytes"
    if sha256_file(path) != p["big_sha256"]:
        return False, "sha256 differs"
    return True, ""


def find_file(root, name):
    for r, _, fs in os.walk(root):
        if name in fs:
            return os.path.join(r, name)
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, stack = [], [pid]
    while stack:
        for c in children.get(stack.pop(), []):
            out.append(c)
            stack.append(c)
    return out


def _gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class Server:
    """A server process started by this script; stop() ends it and any of its own descendants that
    outlived it, by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, cmd, log_path, env=None):
        self.log = open(log_path, "w")
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        kids = descendants(self.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            alive = [k for k in kids if not _gone(k)]
            if not alive:
                break
            for k in alive:
                try:
                    os.kill(k, sig)
                except OSError:
                    pass
            time.sleep(3)
        self.log.close()


def timed(fn):
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r
