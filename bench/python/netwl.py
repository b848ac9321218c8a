"""Issue 13's Python rows, shared shape for asyncio, gevent and gr (Python): each program passes
its own primitives.

- echo: C loopback TCP connections to a connection-per-task echo server in the same process;
  each client sends 512 bytes and waits for the echo, N requests in all (N / C per client);
  TCP_NODELAY on both ends. Reports requests (ops) and the wall time from the first request
  to the last echo.
- sleepfan: N tasks each sleeping 10 ms; reports the wall time from the first spawn to the
  last wake, and (NOTE) the process's OS threads while they sleep.
"""
CONNS = 100
MSG = 512
SLEEP_S = 0.010


def threads_now():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1
