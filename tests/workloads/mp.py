"""multiprocessing and concurrent.futures workers over inherited data.
usage: mp.py METHOD PIDFILE   (METHOD: fork, forkserver, executor)
Every worker's pid goes to PIDFILE (JSON list); prints the results."""
import concurrent.futures
import json
import multiprocessing as mp
import os
import sys
import time

DATA = [[i] for i in range(200000)]


def work(k):
    s = 0
    for lst in DATA[k::8]:
        lst[0] += 1
        s += lst[0]
    time.sleep(0.05)
    return k, s, os.getpid()


def main():
    method, pidfile = sys.argv[1], sys.argv[2]
    if method == "executor":
        ctx = mp.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(max_workers=3, mp_context=ctx) as ex:
            res = list(ex.map(work, range(8)))
            workers = list(ex._processes.keys())
    else:
        ctx = mp.get_context(method)
        with ctx.Pool(3) as pool:
            res = pool.map(work, range(8), chunksize=1)
            workers = [p.pid for p in pool._pool]
            pool.close()
            pool.join()
    print("results:", [(k, s) for k, s, _ in res], flush=True)
    with open(pidfile, "w") as f:
        json.dump(sorted(set(workers) | {p for _, _, p in res}), f)


if __name__ == "__main__":
    main()
