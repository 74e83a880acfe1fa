"""The artifact benchmark's input files (stdlib only), made once and kept under bench/work/artifacts-data
(git-ignored); made again only when the sizes asked for differ from those recorded in its params.json.

    small/          N files of K KiB each, random bytes: f0000.bin ... f0999.bin, in one folder
    small-changed/  the same files, hard links, except small/f0000.bin, which has other random bytes
    big.bin         one file of M MiB, random bytes
    params.json     the sizes, the sha256 of big.bin and of the changed file, and the totals

usage: python3 bench/artifacts_data.py --dir bench/work/artifacts-data [--small-n 1000] [--small-kib 4] [--big-mib 1024]
Prints params.json.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys

CHUNK = 16 << 20


def small_name(i):
    return f"f{i:04d}.bin"


def make(d, n, kib, mib):
    os.makedirs(d, exist_ok=True)
    for sub in ("small", "small-changed"):
        shutil.rmtree(os.path.join(d, sub), ignore_errors=True)
    for i in range(n):
        p = os.path.join(d, "small", small_name(i))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(os.urandom(kib * 1024))
    # the changed copy: hard links to the same files (no extra space), one file replaced
    changed = small_name(0)
    for i in range(n):
        src, dst = os.path.join(d, "small", small_name(i)), os.path.join(d, "small-changed", small_name(i))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if small_name(i) == changed:
            with open(dst, "wb") as f:
                f.write(os.urandom(kib * 1024))
        else:
            os.link(src, dst)
    big = os.path.join(d, "big.bin")
    h = hashlib.sha256()
    tmp = big + ".tmp"
    with open(tmp, "wb") as f:
        for left in range(mib * (1 << 20), 0, -CHUNK):
            b = os.urandom(min(CHUNK, left))
            h.update(b)
            f.write(b)
    os.replace(tmp, big)
    with open(os.path.join(d, "small-changed", changed), "rb") as f:
        changed_sha = hashlib.sha256(f.read()).hexdigest()
    return {"small_n": n, "small_kib": kib, "big_mib": mib,
            "small_bytes": n * kib * 1024, "big_bytes": mib * (1 << 20),
            "big_sha256": h.hexdigest(), "changed_path": changed.replace(os.sep, "/"), "changed_sha256": changed_sha}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--small-n", type=int, default=1000)
    ap.add_argument("--small-kib", type=int, default=4)
    ap.add_argument("--big-mib", type=int, default=1024)
    a = ap.parse_args()
    pj = os.path.join(a.dir, "params.json")
    try:
        with open(pj) as f:
            p = json.load(f)
        if (p["small_n"], p["small_kib"], p["big_mib"]) == (a.small_n, a.small_kib, a.big_mib) \
                and os.path.getsize(os.path.join(a.dir, "big.bin")) == p["big_bytes"]:
            print(json.dumps(p))
            return
    except (OSError, ValueError, KeyError):
        pass
    print(f"making {a.dir}: {a.small_n} x {a.small_kib} KiB and {a.big_mib} MiB of random bytes", file=sys.stderr)
    if os.path.exists(pj):
        os.remove(pj)
    p = make(a.dir, a.small_n, a.small_kib, a.big_mib)
    with open(pj, "w") as f:
        json.dump(p, f)
    print(json.dumps(p))


if __name__ == "__main__":
    main()
