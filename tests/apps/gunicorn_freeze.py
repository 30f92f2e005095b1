"""gunicorn config: freeze the preloaded app's objects before workers fork,
so the cyclic collector in a worker leaves them (and their pages) alone.
usage: gunicorn --preload -c tests/apps/gunicorn_freeze.py bigapp:app"""
import gc


def when_ready(server):
    # runs once in the master, after --preload loaded the app, before the
    # first worker is forked
    gc.collect()
    gc.freeze()
    server.log.info("gc frozen: %d objects", gc.get_freeze_count())
