#!/usr/bin/env python3
"""Clang's thread-safety analysis over every source in src/ that takes a lock (run by ctest as
Style.ThreadSafety): `IOCGRID_GUARDED_BY` and `IOCGRID_REQUIRES` (common/mutex.h) are checked by
the compiler, not only written. Each file is compiled with clang++ -fsyntax-only using its flags
from compile_commands.json, so nothing is linked and the GCC build is untouched.

Usage: check-thread-safety.py BUILD_DIR [JOBS]
"""
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

CLANG = os.environ.get("IOCGRID_CLANGXX", "clang++")
GCC_ONLY = {"-fno-fat-lto-objects"}


def main() -> int:
    build = sys.argv[1]
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    src_root = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "src"))
    with open(os.path.join(build, "compile_commands.json")) as f:
        commands = json.load(f)
    work = []
    for c in commands:
        path = os.path.realpath(os.path.join(c["directory"], c["file"]))
        if not path.startswith(src_root + os.sep):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if "Mutex" not in text and "mutex.h" not in text:
            continue
        args = shlex.split(c["command"])[1:]
        if args and args[0].endswith("c++") or args and "g++" in args[0]:
            args = args[1:]
        keep, skip = [], False
        for a in args:
            if skip:
                skip = False
                continue
            if a in ("-o", "-MF", "-MT"):
                skip = True
                continue
            if a in ("-c", "-MD") or a in GCC_ONLY or a == path or a == c["file"]:
                continue
            keep.append(a)
        work.append((path, c["directory"], keep))
    if not work:
        print("check-thread-safety: no source takes a lock?", file=sys.stderr)
        return 1

    def run(item):
        path, cwd, flags = item
        cmd = [CLANG, "-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety",
               "-Wno-unknown-warning-option"] + flags + [path]
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        return path, p.returncode, p.stderr

    failed = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for path, rc, err in pool.map(run, work):
            if rc != 0:
                failed += 1
                print(f"check-thread-safety: {os.path.relpath(path, src_root)}:\n{err}")
    print(f"check-thread-safety: {len(work)} files, {failed} with findings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
