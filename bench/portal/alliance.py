#!/usr/bin/env python3
"""A large alliance on loopback (issue 14, "100-member alliances"): MEMBERS member nodes, each a
separate `iocgrid node serve` process with its own store, behind one `iocgrid portal serve`.

  python3 bench/portal/alliance.py build/release/iocgrid [--members 100] [--hung 10] [--runs 20]

1. Each member imports 2,000 public IPv4 addresses of its own plus the query addresses whose
   position is its number modulo MEMBERS (10 each for 1,000 queries and 100 members), so every
   query is held by exactly one member and the expected hits are known.
2. A 1,000-indicator search (POST /api/v1/searches, then the event stream until it ends) is
   timed RUNS times over keep-alive connections: p50, p90 and max, and every search must have
   every query's hit from its member.
3. HUNG members are frozen with SIGSTOP: their kernel still accepts connections, nothing answers,
   which is what a hung member looks like to the portal. The search runs again: it must end at
   the members' timeout (timeout_ms, 2 s here) with the other members' hits, those members
   `done` and the frozen ones `timed_out`.
4. Reported: the portal's peak RSS (VmHWM) and threads, and its TCP connections to members.

Everything runs under a temporary directory that is removed at the end; nothing is
downloaded. Exit status 0 when every check held.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def wait_url(log_path, proc, what):
    for _ in range(400):
        try:
            with open(log_path) as f:
                m = re.search(r"listening on (http://\S+)", f.read())
            if m:
                return m.group(1)
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.025)
    sys.exit(f"alliance: {what} did not start; its log:\n" + open(log_path).read())


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"alliance: {' '.join(cmd[:4])} ... failed: {r.stderr.strip()}")
    return r.stdout


class Portal:
    def __init__(self, url, key):
        host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
        self.host, self.port, self.key = host, int(port), key
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.events = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, conn, method, path, body=None):
        headers = {"Authorization": self.key, "Content-Type": "application/json"}
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=headers)
        r = conn.getresponse()
        data = r.read()
        return r.status, data

    def search(self, indicators):
        """Seconds from POST to the end of the event stream, and the final document."""
        t0 = time.perf_counter()
        status, data = self.call(self.conn, "POST", "/api/v1/searches",
                                 {"indicators": indicators, "label": "alliance bench"})
        if status != 201:
            sys.exit(f"alliance: POST /api/v1/searches answered {status}: {data[:300]}")
        sid = json.loads(data)["id"]
        self.call(self.events, "GET", f"/api/v1/searches/{sid}/events")  # ends after "done"
        elapsed = time.perf_counter() - t0
        status, data = self.call(self.conn, "GET", f"/api/v1/searches/{sid}")
        doc = json.loads(data)
        self.call(self.conn, "DELETE", f"/api/v1/searches/{sid}")
        return elapsed, doc


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def member_connections(portal_pid, member_ports):
    """The portal's established TCP connections to member ports (ss, from iproute2)."""
    r = subprocess.run(["ss", "-tnpH", "state", "established"], capture_output=True, text=True)
    n = 0
    for line in r.stdout.splitlines():
        if f"pid={portal_pid}," not in line:
            continue
        peer = line.split()[-2] if "users:" in line else line.split()[-1]
        port = int(peer.rsplit(":", 1)[1])
        n += port in member_ports
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--hung", type=int, default=10)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    binary = os.path.realpath(a.binary)
    work = tempfile.mkdtemp(prefix="iocgrid-alliance-")
    procs = []
    ok = True
    try:
        rng = random.Random(14)

        def ip():
            return f"{rng.randint(11, 42)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

        queries = sorted({ip() for _ in range(a.queries * 2)})[: a.queries]
        rng.shuffle(queries)
        t = time.perf_counter()
        members = []
        for m in range(a.members):
            name = f"m{m:03d}"
            d = os.path.join(work, name)
            os.makedirs(d)
            own = [f"{rng.randint(43, 99)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                   for _ in range(2000)]
            held = [q for i, q in enumerate(queries) if i % a.members == m]
            with open(os.path.join(d, "list.txt"), "w") as f:
                f.write("\n".join(own + held) + "\n")
            key = run([binary, "node", "keys", "create", "--data", d + "/data", "--org", name,
                       "--role", "user", "--comment", "portal"]).strip()
            with open(os.path.join(d, "portal.key"), "w") as f:
                f.write(key + "\n")
            run([binary, "node", "import", "--data", d + "/data", "--org", name, "--quiet",
                 "--input-format", "plain", os.path.join(d, "list.txt")])
            log = open(os.path.join(d, "serve.log"), "w")
            p = subprocess.Popen([binary, "node", "serve", "--data", d + "/data", "--org", name,
                                  "--listen", "127.0.0.1:0", "--threads", "1"],
                                 stdout=subprocess.DEVNULL, stderr=log)
            procs.append(p)
            members.append({"name": name, "dir": d, "proc": p, "held": set(held)})
        for mem in members:
            mem["url"] = wait_url(os.path.join(mem["dir"], "serve.log"), mem["proc"], mem["name"])
            mem["port"] = int(mem["url"].rsplit(":", 1)[1].strip("/"))
        print(f"{a.members} member nodes up in {time.perf_counter() - t:.1f} s "
              f"({2000 + a.queries // a.members} indicators each)")

        toml = ['listen = "127.0.0.1:0"', 'data = "portal-data"', "search_timeout_ms = 30000", ""]
        for mem in members:
            toml += ["[[members]]", f'name = "{mem["name"]}"', 'kind = "iocgrid"',
                     f'url = "{mem["url"]}"', f'key_file = "{mem["name"]}/portal.key"',
                     "timeout_ms = 2000", 'disclosure = "full"', 'sector = "bench"', ""]
        conf = os.path.join(work, "portal.toml")
        with open(conf, "w") as f:
            f.write("\n".join(toml))
        key = run([binary, "portal", "users", "create", "--config", conf, "--name", "analyst",
                   "--role", "analyst"]).strip()
        plog_path = os.path.join(work, "portal.log")
        portal = subprocess.Popen([binary, "portal", "serve", "--config", conf],
                                  stdout=subprocess.DEVNULL, stderr=open(plog_path, "w"))
        procs.append(portal)
        client = Portal(wait_url(plog_path, portal, "the portal"), key)

        def check(doc, frozen):
            want = {q for mem in members if mem["name"] not in frozen for q in mem["held"]}
            got = set()
            for ind in doc.get("indicators", []):
                if ind.get("hits"):
                    got.add(ind["value"])
            states = {}
            for m in doc.get("members", []):
                states.setdefault(m.get("status"), set()).add(m.get("member"))
            return got == want, got, want, states

        client.search(queries[:10])  # connections and caches warm
        times = []
        for _ in range(a.runs):
            elapsed, doc = client.search(queries)
            good, got, want, states = check(doc, set())
            if not good or doc.get("status") != "done":
                ok = False
                print(f"  WRONG: {len(got)} queries hit, {len(want)} expected; members {dict((k, len(v)) for k, v in states.items())}")
            times.append(elapsed)
        times.sort()
        p50 = statistics.median(times)
        p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
        st = proc_status(portal.pid)
        conns = member_connections(portal.pid, {m["port"] for m in members})
        print(f"search of {a.queries} IoCs x {a.members} members: p50 {p50 * 1000:.0f} ms, "
              f"p90 {p90 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms over {a.runs} runs; "
              f"every search found the {a.queries} queries' hits: {'yes' if ok else 'NO'}")
        print(f"portal: peak RSS {st['VmHWM']}, {st['Threads']} threads, {conns} connections "
              f"to members after the runs")

        frozen = {m["name"] for m in members[: a.hung]}
        for mem in members[: a.hung]:
            mem["proc"].send_signal(signal.SIGSTOP)
        elapsed, doc = client.search(queries)
        good, got, want, states = check(doc, frozen)
        timed_out = states.get("timed_out", set())
        done = states.get("done", set())
        print(f"with {a.hung} members frozen (SIGSTOP): finished in {elapsed * 1000:.0f} ms "
              f"(member timeout 2000 ms); {len(done)} members done, {len(timed_out)} timed out; "
              f"{len(got)} queries hit of the {len(want)} the others hold")
        if not good or timed_out != frozen or len(done) != a.members - a.hung or elapsed > 4.0:
            ok = False
            print(f"  WRONG: statuses {dict((k, sorted(v)[:5]) for k, v in states.items())}")
        for mem in members[: a.hung]:
            mem["proc"].send_signal(signal.SIGCONT)
        st = proc_status(portal.pid)
        print(f"portal after all searches: peak RSS {st['VmHWM']}, now {st['VmRSS']}")
    finally:
        for p in procs:
            try:
                p.send_signal(signal.SIGCONT)
                p.terminate()
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if a.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("alliance: every check held" if ok else "alliance: CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
