"""Helpers the chaos test scripts share: bounded waits, processes started here and stopped by
their PID, free ports on 127.0.0.1."""

import signal
import socket
import subprocess
import time

PROCS = []  # every process started through spawn()


def wait_until(pred, timeout_s, step_s=0.05):
    """Call @p pred until it returns a true value or @p timeout_s passed; return its value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step_s)


def spawn(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    PROCS.append(p)
    return p


def stop(p, timeout_s=5, sig=signal.SIGTERM):
    """@p sig (SIGTERM), then SIGKILL after the deadline: always by the PID of a process
    started here."""
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout_s)
    return p.returncode


def stop_all():
    for p in PROCS:
        if p.poll() is None:
            stop(p)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
