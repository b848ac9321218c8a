"""Issue 15, the toolbox: timers and tickers, RWMutex, Once, Cond, Semaphore, Context, Group.

Each type is used from goroutines, from plain threads (the main thread and threading.Thread),
and from a mix of both; every blocking call takes a timeout and ends under a cancelled
Context. Timing assertions leave room for a loaded machine (they check order and bounds
that hold however late a thread runs).
"""

import threading
import time

import pytest

import goroutines as gr


def in_thread(fn, *args):
    """Runs fn(*args) on a new OS thread; returns its result or re-raises its exception."""
    out = {}

    def run():
        try:
            out["v"] = fn(*args)
        except BaseException as e:  # re-raised below
            out["e"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join(60)
    assert not t.is_alive()
    if "e" in out:
        raise out["e"]
    return out.get("v")


def parked_in(reason, n=1):
    """Waits until n goroutines are parked for `reason` (a key of stats()["waiting"])."""
    deadline = time.monotonic() + 30
    while gr.stats()["waiting"][reason] < n:
        assert time.monotonic() < deadline, f"no goroutine parked in {reason}"
        time.sleep(0.001)


def everywhere(fn):
    """fn() from the main thread, a goroutine and a new thread."""
    return [fn(), gr.go(fn).wait(), in_thread(fn)]


# ---------------------------------------------------------------------------- timers


def test_after_fires_after_its_deadline_with_the_due_time():
    def one():
        t0 = gr.monotonic()
        v = gr.after(0.02).recv()
        t1 = gr.monotonic()
        assert v >= t0 + 0.02 - 1e-6 and t1 >= v
        return True

    assert everywhere(one) == [True, True, True]


def test_monotonic_is_time_monotonic():
    a, b, c = time.monotonic(), gr.monotonic(), time.monotonic()
    assert a - 1e-3 <= b <= c + 1e-3


def test_after_in_select_as_a_timeout():
    def one():
        ch = gr.Chan()
        i, v = gr.select(ch, gr.after(0.01))
        return i

    assert everywhere(one) == [1, 1, 1]


def test_timer_stop_says_whether_it_was_pending_and_leaves_no_value():
    t = gr.Timer(0.01)
    assert t.stop() is True
    assert t.stop() is False
    time.sleep(0.03)
    assert t.c.try_recv() == (None, False)  # no stale value after stop (Go 1.23)


def test_timer_fired_but_unreceived_counts_as_pending():
    t = gr.Timer(0.001)
    time.sleep(0.02)  # fired, nobody received
    assert t.stop() is True  # and the value is discarded
    assert t.c.try_recv() == (None, False)


def test_timer_reset_drops_the_old_value():
    t = gr.Timer(0.001)
    time.sleep(0.02)
    assert t.reset(0.05) is True  # the old firing was pending: dropped
    assert t.c.try_recv() == (None, False)
    t0 = gr.monotonic()
    v = t.c.recv(timeout=5)
    assert v >= t0 + 0.05 - 0.005
    assert t.reset(0.01) is False  # received: nothing pending
    assert t.c.recv(timeout=5) > v


def test_random_stop_reset_never_deliver_a_stale_value():
    import random

    rng = random.Random(15)
    t = gr.Timer(3600)
    window = None  # when the current setting is due: (earliest, latest)
    for _ in range(500):
        op = rng.randrange(3)
        d = rng.choice([0.0, 0.0005, 0.002, 3600.0])
        if op == 0:
            t.stop()
            window = None
        elif op == 1:
            before = gr.monotonic()
            t.reset(d)
            window = (before + d, gr.monotonic() + d)
        else:
            v, ok = t.c.try_recv()
            if ok:
                assert window is not None, "a value after stop"
                assert window[0] - 1e-6 <= v <= window[1] + 1e-6, "a value of an old setting"
                window = None
    t.stop()


def test_ticker_drops_ticks_for_a_slow_receiver():
    tk = gr.Ticker(0.05)
    time.sleep(0.4)  # ~8 periods pass unreceived
    ready = []
    while True:
        v, ok = tk.c.try_recv()
        if not ok:
            break
        ready.append(v)
    # The one tick kept, and at most one more if a period ended during the loop (a loaded
    # machine): never the 8 that passed.
    assert 1 <= len(ready) <= 2
    second = tk.c.recv(timeout=5)
    assert second > ready[-1]
    tk.stop()
    time.sleep(0.02)
    assert tk.c.try_recv() == (None, False)  # nothing after stop


def test_ticker_iterates_and_resets():
    tk = gr.Ticker(0.002)
    ticks = []
    for v in tk:
        ticks.append(v)
        if len(ticks) == 3:
            break
    assert ticks == sorted(ticks)
    tk.reset(3600)
    with pytest.raises(TimeoutError):
        tk.c.recv(timeout=0.02)
    tk.stop()
    with pytest.raises(ValueError):
        gr.Ticker(0)


def test_ticker_in_goroutines_and_select():
    def one():
        tk = gr.Ticker(0.002)
        quit = gr.after(0.05)
        n = 0
        while True:
            i, _ = gr.select(tk.c, quit)
            if i == 1:
                break
            n += 1
        tk.stop()
        return n > 0

    assert everywhere(one) == [True, True, True]


def test_many_pending_timers_cost_no_threads():
    before = gr.stats()["threads"]
    ts = [gr.Timer(3600) for _ in range(10_000)]
    chans = [gr.after(3600) for _ in range(1000)]
    assert gr.stats()["threads"] <= before + 1
    assert all(t.stop() for t in ts)
    del chans


# ---------------------------------------------------------------------------- RWMutex


def test_rwmutex_readers_share_writers_exclude():
    rw = gr.RWMutex()
    rw.rlock()
    assert rw.try_rlock()  # a second reader
    assert not rw.try_lock()
    rw.runlock()
    rw.runlock()
    assert rw.try_lock()
    assert not rw.try_rlock()
    rw.unlock()
    with pytest.raises(gr.StateError):
        rw.unlock()
    with pytest.raises(gr.StateError):
        rw.runlock()


def test_rwmutex_context_managers_and_timeouts():
    rw = gr.RWMutex()
    with rw.write:
        with pytest.raises(TimeoutError):
            gr.go(lambda: rw.rlock(timeout=0.01)).wait()
        with pytest.raises(TimeoutError):
            in_thread(lambda: rw.read.acquire(timeout=0.01))
    with rw.read:
        with pytest.raises(TimeoutError):
            in_thread(lambda: rw.lock(timeout=0.01))
        assert gr.go(lambda: rw.try_rlock() and (rw.runlock() or True)).wait()
    with rw:  # the write lock
        assert not rw.try_rlock()


def test_rwmutex_writer_preference():
    rw = gr.RWMutex()
    rw.rlock()
    order = []
    w = gr.go(lambda: (rw.lock(), order.append("w"), rw.unlock()))
    parked_in("rwmutex_write")  # the writer is waiting
    assert not rw.try_rlock()  # new readers wait behind it
    r = gr.go(lambda: (rw.rlock(), order.append("r"), rw.runlock()))
    parked_in("rwmutex_read")
    rw.runlock()
    w.wait(5)
    r.wait(5)
    assert order == ["w", "r"]


def test_rwmutex_mixed_goroutines_and_threads_keep_exclusion():
    rw = gr.RWMutex()
    state = {"readers": 0, "writer": False, "bad": 0, "writes": 0}
    lock = threading.Lock()

    def worker(n):
        for i in range(n):
            if i % 10 == 0:
                with rw.write:
                    if state["writer"] or state["readers"]:
                        state["bad"] += 1
                    state["writer"] = True
                    state["writes"] += 1
                    state["writer"] = False
            else:
                with rw.read:
                    with lock:
                        state["readers"] += 1
                        if state["writer"]:
                            state["bad"] += 1
                    with lock:
                        state["readers"] -= 1

    gs = [gr.go(worker, 200) for _ in range(8)]
    ts = [threading.Thread(target=worker, args=(200,)) for _ in range(3)]
    for t in ts:
        t.start()
    worker(200)
    for g in gs:
        g.wait(30)
    for t in ts:
        t.join(30)
    assert state["bad"] == 0 and state["writes"] == 12 * 20


# ---------------------------------------------------------------------------- Once


def test_once_runs_exactly_once_and_concurrent_callers_wait():
    o = gr.Once()
    calls = []

    def init():
        calls.append(1)
        time.sleep(0.02)  # callers arriving now wait for it
        return "ready"

    gs = [gr.go(o.do, init) for _ in range(10)]
    ths = [in_thread(o.do, init) for _ in range(2)]
    assert [g.wait(10) for g in gs] == ["ready"] * 10
    assert ths == ["ready"] * 2
    assert o.do(init) == "ready" and calls == [1] and o.done and not o.failed


def test_once_failure_is_final_and_reported_to_every_caller():
    o = gr.Once()

    def boom():
        raise KeyError("config")

    with pytest.raises(KeyError):
        o.do(boom)
    assert o.failed and not o.done  # done: ran and returned; failed: ran and raised
    with pytest.raises(KeyError):
        o.do(lambda: 1)  # never runs again; the failure is reported
    with pytest.raises(KeyError):
        gr.go(o.do, lambda: 1).wait()
    with pytest.raises(KeyError):
        in_thread(o.do, lambda: 1)


def test_once_recursive_call_is_an_error_not_a_deadlock():
    o = gr.Once()
    with pytest.raises(gr.StateError):
        o.do(lambda: o.do(lambda: None))


# ---------------------------------------------------------------------------- Cond


def test_cond_signal_broadcast_and_timeout():
    c = gr.Cond()
    ready = []
    woken = []

    def waiter(i):
        with c:
            ready.append(i)
            while i not in woken:
                c.wait()
        return i

    gs = [gr.go(waiter, i) for i in range(4)]
    t = threading.Thread(target=waiter, args=(4,))
    t.start()
    deadline = time.monotonic() + 10
    while len(ready) < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    with c:
        woken.extend(range(5))
        c.broadcast()
    assert sorted(g.wait(10) for g in gs) == [0, 1, 2, 3]
    t.join(10)
    with c:
        assert c.wait(0.01) is False  # timed out, the mutex held again
        assert not c.mutex.try_lock()
    c.signal()  # nobody waits: nothing happens
    c.notify()
    c.notify_all()


def test_cond_with_an_existing_mutex():
    mu = gr.Mutex()
    c = gr.Cond(mu)
    assert c.mutex is mu
    box = []

    def producer():
        with mu:
            box.append(1)
            c.signal()

    with mu:
        gr.go(producer)
        while not box:
            assert c.wait(10)
    with pytest.raises(gr.StateError):
        c.wait(0.01)  # the mutex is not held


# ---------------------------------------------------------------------------- Semaphore


def test_semaphore_weighted_fifo():
    s = gr.Semaphore(10)
    s.acquire(8)
    order = []
    big = gr.go(lambda: (s.acquire(5), order.append("big")))
    parked_in("semaphore")
    assert not s.try_acquire(1)  # a waiter is first in line: FIFO, as x/sync/semaphore
    small = gr.go(lambda: (s.acquire(1), order.append("small")))
    parked_in("semaphore", 2)
    assert order == []  # 2 free, and small fits, but waits behind big
    s.release(3)  # 5 free: big's turn, and nothing left for small
    big.wait(5)
    time.sleep(0.02)
    assert order == ["big"]
    s.release(1)
    small.wait(5)
    assert order == ["big", "small"]
    s.release(10)
    with pytest.raises(ValueError):
        s.acquire(11)  # never could
    with pytest.raises(gr.StateError):
        s.release(1)  # none held


def test_semaphore_timeouts_threads_and_context_manager():
    s = gr.Semaphore(1)
    with s:
        with pytest.raises(TimeoutError):
            in_thread(lambda: s.acquire(timeout=0.01))
        with pytest.raises(TimeoutError):
            gr.go(lambda: s.acquire(1, timeout=0.01)).wait()
    assert s.try_acquire() and not s.try_acquire()
    s.release()
    assert s.size == 1


# ---------------------------------------------------------------------------- Context


def test_context_tree_cancel_and_reasons():
    root = gr.Context()
    child = root.with_cancel()
    grand = child.with_timeout(3600)
    other = root.with_cancel()
    assert not grand.cancelled() and grand.err() is None
    assert grand.deadline is not None and grand.deadline > gr.monotonic()
    assert root.deadline is None
    child.cancel()
    assert child.cancelled() and grand.cancelled() and not other.cancelled()
    assert type(grand.err()) is gr.Cancelled
    root.cancel()
    assert other.cancelled()


def test_context_deadline_reason_is_deadline_exceeded():
    ctx = gr.with_timeout(0.01)
    assert ctx.wait(5) is True
    e = ctx.err()
    assert isinstance(e, gr.DeadlineExceeded) and isinstance(e, gr.Cancelled) and isinstance(e, TimeoutError)
    child = ctx.with_cancel()  # a child of an ended context ends at once, with its reason
    assert isinstance(child.err(), gr.DeadlineExceeded)


def test_context_done_in_select_and_wait():
    def one():
        ctx = gr.with_cancel()
        assert ctx.wait(0.01) is False
        gr.go(lambda: (gr.sleep(0.01), ctx.cancel()))
        i, v = gr.select(ctx.done, gr.after(10))
        assert i == 0 and v is gr.CLOSED
        return True

    assert everywhere(one) == [True, True, True]


def test_blocking_calls_end_under_a_cancelled_context():
    ch = gr.Chan()
    mu = gr.Mutex()
    mu.lock()
    rw = gr.RWMutex()
    rw.lock()
    sem = gr.Semaphore(1)
    sem.acquire()
    wg = gr.WaitGroup()
    wg.add(1)
    release = gr.Chan()
    blocked = gr.go(release.recv)
    calls = [
        lambda: ch.recv(),
        lambda: ch.send(1),
        lambda: mu.lock(),
        lambda: rw.rlock(),
        lambda: sem.acquire(),
        lambda: gr.sleep(3600),
        lambda: gr.select(ch),
        lambda: gr.Timer(3600).c.recv(),
        lambda: wg.wait(),
        lambda: blocked.wait(),
        lambda: gr.Context().wait(),
    ]

    def under(ctx, call):
        with ctx:
            call()

    for call in calls:
        ctx = gr.with_timeout(0.01)
        with pytest.raises(gr.DeadlineExceeded):
            under(ctx, call)  # main thread
        ctx = gr.with_cancel()
        g = gr.go(under, ctx, call)
        time.sleep(0.002)
        ctx.cancel()
        with pytest.raises(gr.Cancelled) as ei:
            g.wait(10)
        assert not isinstance(ei.value, gr.DeadlineExceeded)
        ctx = gr.with_timeout(0.01)
        with pytest.raises(gr.DeadlineExceeded):
            in_thread(under, ctx, call)
    mu.unlock()
    rw.unlock()
    sem.release()
    release.send(None)
    blocked.wait(5)


def test_goroutines_inherit_the_current_context():
    ctx = gr.with_cancel()
    with ctx:
        assert gr.current_context() is ctx
        g = gr.go(lambda: gr.current_context())
        assert g.wait(5) is ctx
        inner = gr.with_cancel()  # a child of the current context
    assert gr.current_context() is None
    assert ctx.cancelled() and inner.cancelled()  # leaving the block cancels it (defer cancel())


# ---------------------------------------------------------------------------- Group


def test_group_waits_for_every_task():
    done = []
    with gr.Group() as g:
        for i in range(20):
            g.go(lambda i=i: (gr.sleep(0.001 * (i % 3)), done.append(i)))
    assert sorted(done) == list(range(20))


def test_group_first_failure_cancels_the_rest_and_is_raised():
    cancelled = []

    def slow(i):
        try:
            gr.sleep(30)
        except gr.Cancelled:
            cancelled.append(i)
            raise

    t0 = time.monotonic()
    with pytest.raises(ValueError, match="bad"):
        with gr.Group() as g:
            for i in range(5):
                g.go(slow, i)
            g.go(lambda: (gr.sleep(0.01), (_ for _ in ()).throw(ValueError("bad"))))
            gr.sleep(30)  # the body is cancelled too
    assert time.monotonic() - t0 < 20
    assert sorted(cancelled) == [0, 1, 2, 3, 4]
    assert g.context.cancelled()


def test_group_several_failures_are_an_exception_group():
    def fail(e):
        raise e

    with pytest.raises(ExceptionGroup) as ei:
        with gr.Group() as g:
            b = gr.WaitGroup()
            b.add(2)

            def both(e):
                b.done()
                b.wait()  # both are running before either fails
                fail(e)

            g.go(both, KeyError("a"))
            g.go(both, IndexError("b"))
    kinds = sorted(type(e).__name__ for e in ei.value.exceptions)
    assert kinds == ["IndexError", "KeyError"]


def test_group_body_exception_cancels_tasks():
    with pytest.raises(RuntimeError, match="body"):
        with gr.Group() as g:
            g.go(gr.sleep, 30)
            raise RuntimeError("body")


def test_group_limit_bounds_concurrency():
    running = [0, 0]  # now, most
    lock = threading.Lock()

    def task():
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        gr.sleep(0.005)
        with lock:
            running[0] -= 1

    with gr.Group(limit=3) as g:
        for _ in range(15):
            g.go(task)
    assert 1 <= running[1] <= 3
    with pytest.raises(ValueError):
        gr.Group(limit=0)


def test_group_under_a_deadline_raises_deadline_exceeded():
    ctx = gr.with_timeout(0.02)
    with pytest.raises(gr.DeadlineExceeded):
        with gr.Group(parent=ctx) as g:
            for _ in range(3):
                g.go(gr.sleep, 30)


def test_group_cancel_is_not_an_error():
    with gr.Group() as g:
        g.go(gr.sleep, 30)
        g.cancel()
    with pytest.raises(RuntimeError):
        g.go(lambda: None)


def test_group_from_a_thread_and_a_goroutine():
    def one():
        out = []
        with gr.Group(limit=2) as g:
            for i in range(6):
                g.go(out.append, i)
        return sorted(out)

    assert everywhere(one) == [list(range(6))] * 3


def test_group_tasks_run_under_the_group_context():
    with gr.Group() as g:
        assert gr.current_context() is g.context
        h = g.go(gr.current_context)
    assert h.wait() is g.context
    assert gr.current_context() is None
