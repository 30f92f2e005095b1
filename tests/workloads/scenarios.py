"""The scenarios of known answer, as the issues state them.  usage: scenarios.py SCENARIO
  ints     the child iterates a list of 1,000,000 distinct ints (in touch_all)
  gc       the child runs gc.collect() over 500,000 GC-tracked containers
  dicts    the child sets a key in each of 250,000 dicts
  array    the child sums an array.array of 1,000,000 ints
  threads  two threads of the child touch different lists from different functions
The parent prints 'child PID' (and for array 'buffer ADDR BYTES') and waits."""
import array
import gc
import os
import sys
import threading

scenario = sys.argv[1]


def touch_all(items):
    total = 0
    for x in items:  # TOUCH-ALL
        total += x
    return total


def touch_a(items):
    for x in items:  # TOUCH-A
        pass


def touch_b(items):
    for x in items:  # TOUCH-B
        pass


if scenario == "ints":
    data = [i * 7 + 10**6 for i in range(1_000_000)]
elif scenario == "gc":
    data = [(i, [i]) for i in range(250_000)]   # 500,000 containers: 250,000 tuples, 250,000 lists
    gc.collect()
elif scenario == "dicts":
    data = [{"a": i} for i in range(250_000)]
elif scenario == "array":
    data = array.array("q", range(1_000_000))
    addr, n = data.buffer_info()
    print(f"buffer {addr:#x} {n * data.itemsize}", flush=True)
elif scenario == "threads":
    a = [i + 10**6 for i in range(300_000)]
    b = [i + 2 * 10**6 for i in range(300_000)]
    if len(sys.argv) > 2:   # which pages hold list a's ints and list b's
        import json
        pa, pb = {id(x) >> 12 for x in a}, {id(x) >> 12 for x in b}
        with open(sys.argv[2], "w") as f:
            json.dump({"a": sorted(pa - pb), "b": sorted(pb - pa)}, f)
else:
    sys.exit(f"unknown scenario {scenario}")
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    if scenario == "ints":
        touch_all(data)
    elif scenario == "gc":
        gc.collect()
    elif scenario == "dicts":
        for d in data:
            d["k"] = 1
    elif scenario == "array":
        sum(data)
    else:
        ta = threading.Thread(target=touch_a, args=(a,))
        tb = threading.Thread(target=touch_b, args=(b,))
        ta.start(), tb.start()
        ta.join(), tb.join()
    os._exit(0)
_, st = os.waitpid(pid, 0)
print(f"child {pid} exit {os.waitstatus_to_exitcode(st)}", flush=True)
