/* Built with ThreadSanitizer: every hand-off gr offers orders plain (non-atomic) memory the
 * way Go's memory model says, so TSan reports nothing (a report makes the program exit
 * 66). Goroutines and plain threads in each role; data passed by pointer, so that the
 * receiving side reads what the sending side wrote. */
#include "harness.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define N 8

typedef struct { long v[16]; } blob;

static blob *make_blob(long x) {
  blob *b = malloc(sizeof *b);
  for (int i = 0; i < 16; i++) b->v[i] = x + i;
  return b;
}
static void eat_blob(blob *b, long x) {
  for (int i = 0; i < 16; i++) CHECK(b->v[i] == x + i);
  free(b);
}

/* --- spawn and join: the spawner's writes reach the goroutine, its writes the joiner. */
static long spawned[N], joined[N];
static void spawn_child(void *arg) {
  long i = (long)arg;
  CHECK(spawned[i] == i * 3);
  spawned[i] = 0;
  joined[i] = i * 5;
}
static void spawn_parent(void *arg) {
  long i = (long)arg;
  spawned[i] = i * 3;
  gr_handle *h;
  CHECK_OK(gr_spawn(spawn_child, arg, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  CHECK(joined[i] == i * 5 && spawned[i] == 0);
}
static void test_spawn_join(void) {
  gr_handle *h[N];
  for (long i = 0; i < N; i++) {
    spawned[i] = i * 3;
    gr_spawn_opts o; gr_spawn_opts_init(&o);
    if (i % 3 == 2) o.flags = GR_SPAWN_BOUND;
    CHECK_OK(gr_spawn_ex(i % 2 ? spawn_child : spawn_parent, (void *)i, &o, &h[i]));
  }
  for (long i = 0; i < N; i++) {
    if (i % 4 == 0) gr_sleep(2000000); /* some end before the join looks: its fast path */
    CHECK_OK(gr_wait(h[i], GR_FOREVER));
    gr_handle_release(h[i]);
    CHECK(joined[i] == i * 5);
  }
}

/* --- unbuffered channel: pointers both ways; and the reverse edge (the receive happens
 * before the send completes): the receiver writes before receiving, the sender reads after
 * its send returns. */
static gr_chan *unbuf;
static long rev[200];
static void unbuf_receiver(void *arg) {
  (void)arg;
  for (long i = 0; i < 200; i++) {
    rev[i] = i;
    blob *b;
    CHECK_OK(gr_chan_recv(unbuf, &b, GR_FOREVER));
    eat_blob(b, i);
  }
}
static void *unbuf_receiver_thread(void *arg) { unbuf_receiver(arg); return NULL; }
static void unbuf_sender(void) {
  for (long i = 0; i < 200; i++) {
    blob *b = make_blob(i);
    CHECK_OK(gr_chan_send(unbuf, &b, GR_FOREVER));
    CHECK(rev[i] == i);
  }
}
static void unbuf_sender_g(void *arg) { (void)arg; unbuf_sender(); }
static void test_unbuffered(void) {
  CHECK_OK(gr_chan_new(sizeof(blob *), 0, &unbuf));
  for (int mode = 0; mode < 3; mode++) { /* g -> g, thread -> g, g -> thread */
    gr_handle *hr = NULL, *hs = NULL;
    pthread_t t;
    if (mode == 2) pthread_create(&t, NULL, unbuf_receiver_thread, NULL);
    else CHECK_OK(gr_spawn(unbuf_receiver, NULL, &hr));
    if (mode == 0) CHECK_OK(gr_spawn(unbuf_sender_g, NULL, &hs));
    else unbuf_sender();
    if (hs) { CHECK_OK(gr_wait(hs, GR_FOREVER)); gr_handle_release(hs); }
    if (hr) { CHECK_OK(gr_wait(hr, GR_FOREVER)); gr_handle_release(hr); } else pthread_join(t, NULL);
  }
  gr_chan_release(unbuf);
}

/* --- buffered channels: a pool of buffers cycling through `full` and `empty` (the
 * receiver's reads happen before the buffer is refilled), with the ring both passed
 * through and bypassed (parked peers). */
#define NBUF 4
static blob pool[NBUF];
static gr_chan *full, *empty;
static void producer(void *arg) {
  (void)arg;
  for (long i = 0; i < 400; i++) {
    long k;
    CHECK_OK(gr_chan_recv(empty, &k, GR_FOREVER));
    for (int j = 0; j < 16; j++) pool[k].v[j] = i + j;
    CHECK_OK(gr_chan_send(full, &k, GR_FOREVER));
    if (i % 7 == 0) gr_yield();
  }
}
static void consumer(void *arg) {
  (void)arg;
  for (long i = 0; i < 400; i++) {
    long k;
    CHECK_OK(gr_chan_recv(full, &k, GR_FOREVER));
    for (int j = 0; j < 16; j++) CHECK(pool[k].v[j] == i + j);
    CHECK_OK(gr_chan_send(empty, &k, GR_FOREVER));
    if (i % 5 == 0) gr_sleep(100000);
  }
}
static void *consumer_thread(void *arg) { consumer(arg); return NULL; }
static void test_buffered(void) {
  CHECK_OK(gr_chan_new(sizeof(long), NBUF, &full));
  CHECK_OK(gr_chan_new(sizeof(long), NBUF, &empty));
  for (int mode = 0; mode < 2; mode++) {
    for (long k = 0; k < NBUF; k++) CHECK_OK(gr_chan_send(empty, &k, GR_FOREVER));
    gr_handle *hp, *hc = NULL;
    pthread_t t;
    CHECK_OK(gr_spawn(producer, NULL, &hp));
    if (mode == 0) CHECK_OK(gr_spawn(consumer, NULL, &hc)); else pthread_create(&t, NULL, consumer_thread, NULL);
    CHECK_OK(gr_wait(hp, GR_FOREVER)); gr_handle_release(hp);
    if (hc) { CHECK_OK(gr_wait(hc, GR_FOREVER)); gr_handle_release(hc); } else pthread_join(t, NULL);
    long k;
    for (int i = 0; i < NBUF; i++) CHECK_OK(gr_chan_recv(empty, &k, GR_FOREVER));
  }
  gr_chan_release(full);
  gr_chan_release(empty);
}

/* --- a buffered channel of capacity 1 as a lock (send takes it, receive gives it back):
 * the k-th receive happens before the (k+1)-th send completes. */
static gr_chan *sem;
static long sem_counter;
static void sem_user(void *arg) {
  (void)arg;
  for (int i = 0; i < 300; i++) {
    int one = 1;
    CHECK_OK(gr_chan_send(sem, &one, GR_FOREVER));
    sem_counter++;
    if (i % 3 == 0) gr_yield();
    CHECK_OK(gr_chan_recv(sem, &one, GR_FOREVER));
  }
}
static void test_semaphore(void) {
  CHECK_OK(gr_chan_new(sizeof(int), 1, &sem));
  gr_handle *h[4];
  for (int i = 0; i < 4; i++) CHECK_OK(gr_spawn(sem_user, NULL, &h[i]));
  for (int i = 0; i < 4; i++) { CHECK_OK(gr_wait(h[i], GR_FOREVER)); gr_handle_release(h[i]); }
  CHECK(sem_counter == 4 * 300);
  gr_chan_release(sem);
}

/* --- close: what the closer did happens before a receive that sees the channel closed. */
static gr_chan *closing;
static long closed_data;
static void closer(void *arg) {
  (void)arg;
  gr_sleep(1000000);
  closed_data = 42;
  CHECK_OK(gr_chan_close(closing));
}
static void close_waiter(void *arg) {
  (void)arg;
  long v;
  CHECK_RC(gr_chan_recv(closing, &v, GR_FOREVER), GR_ECLOSED);
  CHECK(closed_data == 42);
}
static void test_close(void) {
  CHECK_OK(gr_chan_new(sizeof(long), 2, &closing));
  gr_handle *w, *c;
  CHECK_OK(gr_spawn(close_waiter, NULL, &w)); /* parked when the close comes */
  CHECK_OK(gr_spawn(closer, NULL, &c));
  CHECK_OK(gr_wait(w, GR_FOREVER));
  long v;
  CHECK_RC(gr_chan_recv(closing, &v, 0), GR_ECLOSED); /* sees it closed without waiting */
  CHECK(closed_data == 42);
  CHECK_OK(gr_wait(c, GR_FOREVER));
  gr_handle_release(w); gr_handle_release(c);
  gr_chan_release(closing);
}

/* --- select, both directions. */
static gr_chan *sel_a, *sel_b;
static void select_sender(void *arg) {
  (void)arg;
  for (long i = 0; i < 100; i++) {
    blob *b = make_blob(i);
    gr_case cs[2] = {{sel_a, GR_SEND, &b, 0}, {sel_b, GR_SEND, &b, 0}};
    CHECK(gr_select(cs, 2, GR_FOREVER) >= 0);
  }
}
static void test_select(void) {
  CHECK_OK(gr_chan_new(sizeof(blob *), 0, &sel_a));
  CHECK_OK(gr_chan_new(sizeof(blob *), 1, &sel_b));
  gr_handle *h;
  CHECK_OK(gr_spawn(select_sender, NULL, &h));
  for (long i = 0; i < 100; i++) {
    blob *x, *y;
    gr_case cs[2] = {{sel_a, GR_RECV, &x, 0}, {sel_b, GR_RECV, &y, 0}};
    int k = gr_select(cs, 2, GR_FOREVER);
    CHECK(k == 0 || k == 1);
    blob *b = k == 0 ? x : y; /* (the two channels may deliver out of order) */
    eat_blob(b, b->v[0]);
  }
  CHECK_OK(gr_wait(h, GR_FOREVER)); gr_handle_release(h);
  gr_chan_release(sel_a); gr_chan_release(sel_b);
}

/* --- Mutex: goroutines and threads, contended (parks, hand-offs) and not (fast paths). */
static gr_mutex *mu;
static long mu_counter;
static void locker(void *arg) {
  long n = (long)arg;
  for (long i = 0; i < n; i++) {
    CHECK_OK(gr_mutex_lock(mu, GR_FOREVER));
    mu_counter++;
    if (i % 16 == 0) gr_yield(); /* hold it across a park now and then */
    CHECK_OK(gr_mutex_unlock(mu));
  }
}
static void *locker_thread(void *arg) { locker(arg); return NULL; }
static void test_mutex(void) {
  CHECK_OK(gr_mutex_new(&mu));
  gr_handle *h[4];
  pthread_t t[2];
  for (int i = 0; i < 4; i++) CHECK_OK(gr_spawn(locker, (void *)500L, &h[i]));
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, locker_thread, (void *)100L);
  for (int i = 0; i < 4; i++) { CHECK_OK(gr_wait(h[i], GR_FOREVER)); gr_handle_release(h[i]); }
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  CHECK(mu_counter == 4 * 500 + 2 * 100);
  gr_mutex_free(mu);
}

/* --- WaitGroup: each done happens before the wait returns. */
static gr_wg *wg;
static long wg_slots[N];
static void wg_worker(void *arg) {
  long i = (long)arg;
  gr_sleep(100000 * (i % 3));
  wg_slots[i] = i + 100;
  CHECK_OK(gr_wg_done(wg));
}
static void *wg_waiter_thread(void *arg) {
  (void)arg;
  CHECK_OK(gr_wg_wait(wg, GR_FOREVER));
  for (long i = 0; i < N; i++) CHECK(wg_slots[i] == i + 100);
  return NULL;
}
static void test_waitgroup(void) {
  CHECK_OK(gr_wg_new(&wg));
  CHECK_OK(gr_wg_add(wg, N));
  pthread_t t;
  pthread_create(&t, NULL, wg_waiter_thread, NULL);
  for (long i = 0; i < N; i++) CHECK_OK(gr_spawn(wg_worker, (void *)i, NULL));
  CHECK_OK(gr_wg_wait(wg, GR_FOREVER));
  for (long i = 0; i < N; i++) CHECK(wg_slots[i] == i + 100);
  pthread_join(t, NULL);
  CHECK_OK(gr_wg_wait(wg, 0)); /* already zero: the fast path */
  gr_wg_free(wg);
}

/* --- cancel: what the canceller did happens before a wait ends cancelled (a parked one,
 * and one that starts after the fire). */
static gr_cancel *cancel;
static gr_chan *never;
static long cancel_data;
static void cancelled_waiter(void *arg) {
  (void)arg;
  long v;
  CHECK_RC(gr_chan_recv_ex(never, &v, GR_FOREVER, cancel), GR_ECANCELED);
  CHECK(cancel_data == 7);
}
static void test_cancel(void) {
  CHECK_OK(gr_cancel_new(&cancel));
  CHECK_OK(gr_chan_new(sizeof(long), 0, &never));
  gr_handle *h;
  CHECK_OK(gr_spawn(cancelled_waiter, NULL, &h));
  gr_sleep(2000000);
  cancel_data = 7;
  CHECK_OK(gr_cancel_fire(cancel));
  CHECK_OK(gr_wait(h, GR_FOREVER)); gr_handle_release(h);
  CHECK_OK(gr_spawn(cancelled_waiter, NULL, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER)); gr_handle_release(h);
  gr_chan_release(never);
  gr_cancel_free(cancel);
}

/* --- stacks are reused: a goroutine's locals, at the addresses its predecessor on that
 * stack used, are not a race with the predecessor. */
static __attribute__((noinline)) long use_locals(long seed) {
  volatile long a[64];
  for (int i = 0; i < 64; i++) a[i] = seed + i;
  long s = 0;
  for (int i = 0; i < 64; i++) s += a[i];
  return s;
}
static void stack_user(void *arg) {
  long i = (long)arg;
  CHECK(use_locals(i) == 64 * i + 2016);
  gr_yield();
  CHECK(use_locals(i + 1) == 64 * (i + 1) + 2016);
}
static void test_stack_reuse(void) {
  for (long i = 0; i < 300; i++) {
    gr_handle *h[3];
    for (int k = 0; k < 3; k++) CHECK_OK(gr_spawn(stack_user, (void *)(i + k), &h[k]));
    for (int k = 0; k < 3; k++) { CHECK_OK(gr_wait(h[k], GR_FOREVER)); gr_handle_release(h[k]); }
  }
}

/* --- errno and C thread-locals from goroutines: they share their worker's. (In a
 * function of its own: the compiler keeps `errno`'s address, `__errno_location()`, across
 * calls, so a loop around a park would use the old thread's.) */
static __thread long tl_counter;
static __attribute__((noinline)) void touch_thread_locals(void) {
  errno = 0;
  CHECK(read(-1, NULL, 0) < 0 && errno == EBADF);
  tl_counter++;
}
static void tls_user(void *arg) {
  (void)arg;
  for (int i = 0; i < 50; i++) {
    touch_thread_locals();
    gr_yield();
  }
}
static void test_thread_locals(void) {
  gr_handle *h[N];
  for (int i = 0; i < N; i++) CHECK_OK(gr_spawn(tls_user, NULL, &h[i]));
  for (int i = 0; i < N; i++) { CHECK_OK(gr_wait(h[i], GR_FOREVER)); gr_handle_release(h[i]); }
}

/* --- shutdown: every goroutine's end happens before gr_shutdown returns (detached ones
 * included). */
static long detached_data[N];
static void detached(void *arg) {
  long i = (long)arg;
  gr_sleep(1000000);
  detached_data[i] = i + 1;
}
static void test_shutdown(void) {
  for (long i = 0; i < N; i++) CHECK_OK(gr_spawn(detached, (void *)i, NULL));
  CHECK_OK(gr_shutdown(GR_FOREVER));
  for (long i = 0; i < N; i++) CHECK(detached_data[i] == i + 1);
}

int main(void) {
  init_workers(2);
  struct { const char *name; void (*fn)(void); } tests[] = {
    {"spawn and join", test_spawn_join}, {"unbuffered channel", test_unbuffered},
    {"buffered channels", test_buffered}, {"capacity-1 channel as a lock", test_semaphore},
    {"close", test_close}, {"select", test_select}, {"mutex", test_mutex},
    {"waitgroup", test_waitgroup}, {"cancel", test_cancel}, {"reused stacks", test_stack_reuse},
    {"errno and thread-locals", test_thread_locals}, {"shutdown", test_shutdown},
  };
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    double t0 = now_s();
    tests[i].fn();
    printf("%-30s ok (%.2f s)\n", tests[i].name, now_s() - t0);
  }
  return 0;
}
