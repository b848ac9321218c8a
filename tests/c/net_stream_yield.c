/* A goroutine whose descriptor operations keep succeeding yields its processor when the
 * monitor asks, instead of holding it until the monitor retakes it for another thread.
 *
 * What broke (issue 12, echo_stream): the bench's writer goroutines stream into sockets with
 * room, so gr_fd_write returned without parking for tens of milliseconds; gr_fd_* was no safe
 * point, so the monitor retook the processor and started another M each time, and three or
 * more threads fought over two CPUs (13 worker threads were seen in 4 s of echo_stream).
 *
 * One worker. A reader goroutine reads a socket one byte at a time while data is queued
 * (every read succeeds at once: no park) until a flag says stop; a second goroutine, queued
 * behind it in the one processor's queue, sets the flag. It runs because the reader yields at
 * the monitor's request (after ~10 ms): no processor is retaken and no thread is added, even
 * on a loaded machine (the monitor retakes only from a thread that had CPU time to answer and
 * did not, `sched/monitor.rs`). The
 * queued data would last far longer than the monitor's period (about 200,000 one-byte reads),
 * so the reader cannot simply run out of data and park instead. */
#include "net_util.h"
#include <stdatomic.h>

static int rd, wr;
static atomic_int stop;
static atomic_long reads;

static void reader(void *arg) {
  (void)arg;
  char c;
  size_t n;
  while (!atomic_load(&stop)) {
    CHECK_OK(gr_fd_read(rd, &c, 1, 10LL * 1000000000LL, NULL, &n));
    CHECK(n == 1);
    atomic_fetch_add(&reads, 1);
  }
}

/* Behind the reader in the queue; once the reader has started, it runs only if the reader
 * gives the processor up (its yields put it behind the reader again). */
static void stopper(void *arg) {
  (void)arg;
  while (atomic_load(&reads) == 0) gr_yield();
  atomic_store(&stop, 1);
}

/* Spawns the two from a goroutine, so that both sit in the one processor's local queue (the
 * reader first), as the bench's goroutines do. */
static gr_handle *r, *st;
static void spawner(void *arg) {
  (void)arg;
  CHECK_OK(gr_spawn(reader, NULL, &r));
  CHECK_OK(gr_spawn(stopper, NULL, &st));
}

static gr_stats stats(void) {
  gr_stats s = {0};
  s.size = sizeof s;
  CHECK_OK(gr_stats_get(&s));
  return s;
}

int main(void) {
  init_workers(1);
  tcp_pair(&wr, &rd);
  /* Queue as much as the connection holds (the writer's buffer and the reader's). */
  CHECK(fcntl(wr, F_SETFL, O_NONBLOCK) == 0);
  char buf[4096];
  memset(buf, 'x', sizeof buf);
  long queued = 0;
  for (int idle = 0; idle < 20;) {
    ssize_t k = write(wr, buf, sizeof buf);
    if (k > 0) {
      queued += k;
      idle = 0;
    } else {
      CHECK(errno == EAGAIN);
      idle++;
      usleep(1000); /* let loopback move the data to the receive queue */
    }
  }
  CHECK(queued >= 100000);
  gr_stats s0 = stats();
  gr_handle *m;
  CHECK_OK(gr_spawn(spawner, NULL, &m));
  CHECK_OK(gr_wait(m, 30LL * 1000000000LL));
  CHECK_OK(gr_wait(st, 30LL * 1000000000LL));
  CHECK_OK(gr_wait(r, 30LL * 1000000000LL));
  gr_stats s1 = stats();
  long n = atomic_load(&reads);
  printf("queued %ld bytes, read %ld before the stopper ran; threads %llu -> %llu, retakes %llu -> %llu\n", queued, n,
         (unsigned long long)s0.threads, (unsigned long long)s1.threads, (unsigned long long)s0.retakes_total,
         (unsigned long long)s1.retakes_total);
  CHECK(n < queued); /* the stopper ran while the reader could still read */
  CHECK(s1.retakes_total == s0.retakes_total);
  CHECK(s1.threads <= 2); /* the worker and the monitor: no thread was added */
  gr_handle_release(m);
  gr_handle_release(r);
  gr_handle_release(st);
  close(wr);
  gr_fd_close(rd);
  CHECK_OK(gr_shutdown(5LL * 1000000000LL));
  return 0;
}
