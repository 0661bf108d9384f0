#!/usr/bin/env python3
"""clang-tidy 14 with the checks of .clang-tidy (each one's reason is written there) on every
source of src/ in the build's compile database; warnings are errors (STYLE.md section 3,
issue 15). Run by ctest as Style.Tidy, so by `make test`, and by `make lint`.

Usage: check-tidy.py BUILD_DIR [FILE...]   (default: every src/**/*.cc of the compile database)
  TIDY_JOBS=N           clang-tidy processes at a time (default: the number of cores)
  IOCGRID_TIDY_CACHE=D  where clean results are remembered (default ~/.cache/iocgrid/tidy;
                        "off" analyses every file every time)

Cost (2-core CI machine, 2 jobs): analysing all 119 sources of src/ takes about 10 CPU-minutes,
5 minutes of wall time on an idle machine; parsing alone is 4.8 of those CPU-minutes, because
clang-tidy 14 parses and matches all of every translation unit, third-party headers included
(CLI11 in app/, Beast in net/). With the cache, a run analyses only the sources whose
translation unit changed since a clean run: after a typical change (a few .cc files, or one
header included by ten) Style.Tidy takes 20-60 s, most of it the dependency scan below.

The cache works as ccache does. A source is skipped only when a previous run found it clean
with the same clang-tidy binary, the same .clang-tidy, the same compile command and the same
bytes in every file its translation unit includes: `clang++ -M` with the source's own flags
lists those files (project files are hashed by content, system headers by path, size and
modification time). Findings are never cached, so a file with findings is analysed every run.
No source is left out: each one is either analysed or was analysed clean in exactly this state.
"""
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time

GCC_ONLY = {"-fno-fat-lto-objects"}
CACHE_DAYS = 30  # entries not used for this long are removed


def find_tool(env, names):
    if os.environ.get(env):
        return os.environ[env]
    for n in names:
        path = shutil.which(n)
        if path:
            return path
    return None


def compile_args(entry):
    """The entry's compiler arguments without the compiler, the output and dependency-file flags."""
    args = entry["arguments"][1:] if "arguments" in entry else shlex.split(entry["command"])[1:]
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
        elif a in ("-c", "-MD", "-MMD") or a in GCC_ONLY:
            pass
        else:
            out.append(a)
    return out


class Keys:
    """Cache keys: one per source, over everything its clang-tidy verdict depends on."""

    def __init__(self, root, clangxx, base):
        self.root = root + os.sep
        self.clangxx = clangxx
        self.base = base  # digest of clang-tidy and the .clang-tidy files
        self.memo = {}
        self.lock = threading.Lock()

    def file_digest(self, path):
        with self.lock:
            if path in self.memo:
                return self.memo[path]
        if path.startswith(self.root):
            with open(path, "rb") as f:
                d = "c" + path[len(self.root):] + ":" + hashlib.sha256(f.read()).hexdigest()
        else:
            st = os.stat(path)
            d = "s%s:%d:%d" % (path, st.st_size, st.st_mtime_ns)
        with self.lock:
            self.memo[path] = d
        return d

    def key(self, entry):
        """(key, bytes of source included) or (None, 0) when the dependencies cannot be listed."""
        args = compile_args(entry)
        r = subprocess.run([self.clangxx] + args + ["-M", "-w"], cwd=entry["directory"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return None, 0
        deps = r.stdout.replace("\\\n", " ").split(":", 1)[1].split()
        h = hashlib.sha256(self.base.encode())
        h.update("\0".join(args).replace(self.root, "<root>/").encode())
        size = 0
        for d in sorted(set(os.path.realpath(os.path.join(entry["directory"], p)) for p in deps)):
            h.update(self.file_digest(d).encode())
            size += os.path.getsize(d)
        return h.hexdigest(), size


def print_findings(outputs):
    """Each finding once: a finding in a header is reported by every file that includes it."""
    seen, printing = set(), False
    for text in outputs:
        for line in text.splitlines(keepends=True):
            if re.match(r"^/\S+:\d+:\d+: (warning|error|note):", line):
                printing = line not in seen
                seen.add(line)
            elif re.match(r"^\d+ warnings? (and \d+ errors? )?generated|^Suppressed |"
                          r"^Use -header-filter|^Error while processing", line):
                printing = False
                if line.startswith("Error while processing") and line not in seen:
                    seen.add(line)
                    sys.stdout.write(line)
            if printing:
                sys.stdout.write(line)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    started = time.monotonic()
    root = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
    build = os.path.realpath(sys.argv[1])
    tidy = find_tool("CLANG_TIDY", ["clang-tidy-14", "clang-tidy"])
    clangxx = find_tool("IOCGRID_CLANGXX", ["clang++-14", "clang++"])
    if not tidy:
        print("check-tidy: clang-tidy 14 not found; run scripts/install-deps.sh", file=sys.stderr)
        return 2
    db_path = os.path.join(build, "compile_commands.json")
    if not os.path.exists(db_path):
        print("check-tidy: %s missing; configure with cmake --preset first" % db_path,
              file=sys.stderr)
        return 2
    with open(db_path) as f:
        entries = {}
        for e in json.load(f):
            path = os.path.realpath(os.path.join(e["directory"], e["file"]))
            entries.setdefault(path, e)
    if len(sys.argv) > 2:
        files = [os.path.realpath(p) for p in sys.argv[2:]]
        missing = [p for p in files if p not in entries]
        if missing:
            print("check-tidy: not in the compile database: " + " ".join(missing), file=sys.stderr)
            return 2
    else:
        files = sorted(p for p in entries if p.startswith(os.path.join(root, "src") + os.sep))
    jobs = int(os.environ.get("TIDY_JOBS") or os.cpu_count() or 2)

    cache = os.environ.get("IOCGRID_TIDY_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "iocgrid", "tidy")
    if cache == "off" or not clangxx:
        cache = None
    keys = {p: (None, 0) for p in files}
    if cache:
        os.makedirs(cache, exist_ok=True)
        base = hashlib.sha256()
        tidy_real = os.path.realpath(tidy)
        st = os.stat(tidy_real)
        base.update(("%s:%d:%d\n" % (tidy_real, st.st_size, st.st_mtime_ns)).encode())
        base.update(subprocess.run([tidy, "--version"], capture_output=True).stdout)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in (".git", "build", "node_modules")]
            if ".clang-tidy" in filenames:
                with open(os.path.join(dirpath, ".clang-tidy"), "rb") as f:
                    base.update(dirpath[len(root):].encode() + b"\0" + f.read())
        k = Keys(root, clangxx, base.hexdigest())
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            for p, result in zip(files, pool.map(lambda p: k.key(entries[p]), files)):
                keys[p] = result
    scanned = time.monotonic() - started

    def cached(p):
        key = keys[p][0]
        if key is None or not cache:
            return False
        entry = os.path.join(cache, key)
        if not os.path.exists(entry):
            return False
        os.utime(entry)  # recently used: kept by the pruning below
        return True

    todo = [p for p in files if not cached(p)]
    # Heaviest first (the most bytes of source to parse), so no job idles at the end.
    todo.sort(key=lambda p: -keys[p][1])

    def run(p):
        r = subprocess.run([tidy, "-p", build, "--quiet", p], capture_output=True, text=True)
        if r.returncode == 0 and cache and keys[p][0]:
            open(os.path.join(cache, keys[p][0]), "w").close()
        return r.returncode, r.stdout + r.stderr

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(run, todo))
    if cache:
        old = time.time() - CACHE_DAYS * 86400
        for name in os.listdir(cache):
            path = os.path.join(cache, name)
            if os.path.getmtime(path) < old:
                os.remove(path)
    elapsed = time.monotonic() - started
    summary = "%d files, %d analysed, %d unchanged since a clean run, in %.0f s" % (
        len(files), len(todo), len(files) - len(todo), elapsed)
    if cache:
        summary += " (dependency scan %.0f s; cache %s)" % (scanned, cache)
    failed = [out for rc, out in results if rc != 0]
    if failed:
        print_findings(failed)
        print("check-tidy: findings above; %s" % summary)
        print("check-tidy: fix them, or explain a new exception in .clang-tidy")
        return 1
    print("check-tidy: clean; " + summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
