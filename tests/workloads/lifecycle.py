"""How forked children live and end.  usage: lifecycle.py PIDFILE
Children: "threads" (4 threads mutate inherited and new lists while the
parent sends it SIGUSR1), "exec" (execs /bin/true), "nested" (forks a
grandchild that writes inherited memory), "_exit3" (os._exit(3)),
"sysexit5" (sys.exit(5)), "masked" (writes inherited lists from a thread
that blocks every signal, as faulthandler's watchdog and multiprocessing's
resource sharer do, then from its main thread with SIGSEGV and SIGBUS
blocked), "threadexit" (forked while 8 other threads live, so glibc's
stack cache is full of inherited stacks; its threads' exits free their TLS
vectors, on inherited heap pages, with every signal blocked). Prints a deterministic line per child; PIDFILE
receives {"name": pid, ..., "grandchild": pid} as JSON."""
import json
import os
import signal
import sys
import threading
import time

data = [list(range(i, i + 4)) for i in range(100000)]
pids = {}


def fork(name, body):
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            code = body()
        except SystemExit:
            raise
        except BaseException as e:
            print(f"{name}: exception {e!r}", flush=True)
            os._exit(99)
        os._exit(code or 0)
    pids[name] = pid
    return pid


def reap(name):
    _, status = os.waitpid(pids[name], 0)
    if os.WIFSIGNALED(status):
        print(f"{name}: signal {os.WTERMSIG(status)}", flush=True)
    else:
        print(f"{name}: exit {os.WEXITSTATUS(status)}", flush=True)


def threads_child():
    got = []
    signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
    r_ready = int(os.environ["LC_READY_FD"])
    os.write(r_ready, b"r")
    results = [0] * 4

    def work(k):
        mine = []
        for rep in range(3):
            for i in range(k, len(data), 4):
                data[i][rep % 4] += 1
                mine.append(i)
        results[k] = sum(sum(data[i]) for i in range(k, len(data), 4)) + len(mine)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(f"threads: sums {results}", flush=True)
    return 0


def nested_child():
    for lst in data[:50000]:
        lst[0] = -1
    sys.stdout.flush()
    g = os.fork()
    if g == 0:
        for lst in data[50000:]:
            lst[1] = -2
        os._exit(0)
    with open(os.environ["LC_GRANDCHILD"], "w") as f:
        f.write(str(g))
    _, st = os.waitpid(g, 0)
    print(f"nested: grandchild exit {os.waitstatus_to_exitcode(st)}", flush=True)
    return 0


def exit3_child():
    for lst in data[:20000]:
        lst.append(0)
    os._exit(3)


def sysexit5_child():
    for lst in data[:20000]:
        lst.append(0)
    sys.exit(5)


def masked_child():
    def blocked():
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        for lst in data[:30000]:
            lst[3] = 7
    t = threading.Thread(target=blocked)
    t.start()
    t.join()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGSEGV, signal.SIGBUS})
    for lst in data[30000:60000]:
        lst[3] = 8
    print(f"masked: {sum(lst[3] for lst in data[:60000])}", flush=True)
    return 0


def threadexit_child():
    for _ in range(3):
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
    print("threadexit: 3 threads joined", flush=True)
    return 0


def exec_child():
    for lst in data[:20000]:
        lst[2] = 0
    os.execv("/bin/true", ["true"])


pidfile = sys.argv[1]
gcfile = pidfile + ".grandchild"
os.environ["LC_GRANDCHILD"] = gcfile
r, w = os.pipe()
os.environ["LC_READY_FD"] = str(w)
fork("threads", threads_child)
os.read(r, 1)
for _ in range(50):
    try:
        os.kill(pids["threads"], signal.SIGUSR1)
    except ProcessLookupError:
        break
    time.sleep(0.002)
reap("threads")
for name, body in (("exec", exec_child), ("nested", nested_child),
                   ("_exit3", exit3_child), ("sysexit5", sysexit5_child), ("masked", masked_child)):
    fork(name, body)
    reap(name)
waiting = threading.Event()
others = [threading.Thread(target=waiting.wait) for _ in range(8)]
for t in others:
    t.start()
fork("threadexit", threadexit_child)
waiting.set()
for t in others:
    t.join()
reap("threadexit")
with open(gcfile) as f:
    pids["grandchild"] = int(f.read())
with open(pidfile, "w") as f:
    json.dump(pids, f)
