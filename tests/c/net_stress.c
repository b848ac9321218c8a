/* Focused stress of the registration state machine with the real poller: readiness racing
 * timeouts, cancels and closes, from goroutines and plain threads at once.
 * 1. 8 pipes; writer threads put single bytes at random moments; 64 goroutines and 4
 *    threads read one byte (or gr_fd_wait) with random short timeouts, some with cancel
 *    tokens a thread fires and resets at random. Every result is one the API allows, and
 *    at the end (after a drain) every byte written was read exactly once.
 * 2. 300 rounds: waiters (goroutines and a thread) on a fresh pipe with random timeouts,
 *    maybe a byte written, then gr_fd_close at a random moment: every waiter returns OK,
 *    GR_ETIMEDOUT or GR_ECLOSED (or EBADF if it only started after the close), and once
 *    they have, the descriptor is really closed. */
#include "net_util.h"
#include <pthread.h>
#include <stdatomic.h>

#define US 1000LL
#define MS 1000000LL
#define PIPES 8
#define GREADERS 64
#define TREADERS 4

static int pr[PIPES], pw[PIPES];
static gr_cancel *toks[4];
static atomic_int stop;
static atomic_long written, got, bad;

static void one_op(unsigned *seed) {
  int i = rand_r(seed) % PIPES;
  int64_t t = (rand_r(seed) % 3000) * US;
  gr_cancel *c = rand_r(seed) % 4 == 0 ? toks[rand_r(seed) % 4] : NULL;
  char b;
  size_t n;
  int rc;
  if (rand_r(seed) % 3 == 0) {
    rc = gr_fd_wait_ex(pr[i], GR_READ, t, c);
    if (rc != GR_OK && rc != GR_ETIMEDOUT && rc != GR_EAGAIN && rc != GR_ECANCELED) atomic_fetch_add(&bad, 1);
  } else {
    rc = gr_fd_read(pr[i], &b, 1, t, c, &n);
    if (rc == GR_OK) {
      if (n != 1) atomic_fetch_add(&bad, 1);
      atomic_fetch_add(&got, 1);
    } else if (rc != GR_ETIMEDOUT && rc != GR_EAGAIN && rc != GR_ECANCELED) {
      atomic_fetch_add(&bad, 1);
    }
  }
}

static void g_reader(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  while (!atomic_load(&stop)) one_op(&seed);
}
static void *t_reader(void *arg) { g_reader(arg); return NULL; }

static void *writer(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  while (!atomic_load(&stop)) {
    int i = rand_r(&seed) % PIPES;
    if (write(pw[i], "b", 1) == 1) atomic_fetch_add(&written, 1);
    struct timespec ts = {0, (rand_r(&seed) % 200) * US};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static void *canceller(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  while (!atomic_load(&stop)) {
    gr_cancel *c = toks[rand_r(&seed) % 4];
    CHECK_OK(gr_cancel_fire(c));
    struct timespec ts = {0, (rand_r(&seed) % 500) * US};
    nanosleep(&ts, NULL);
    CHECK_OK(gr_cancel_reset(c));
  }
  return NULL;
}

static int cfd, cpeer;
static atomic_int c_ok, c_to, c_closed, c_late, c_bad;
static void c_note(int rc) {
  if (rc == GR_OK) atomic_fetch_add(&c_ok, 1);
  else if (rc == GR_ETIMEDOUT) atomic_fetch_add(&c_to, 1);
  else if (rc == GR_ECLOSED) atomic_fetch_add(&c_closed, 1);
  else if (rc == GR_EOS - EBADF) atomic_fetch_add(&c_late, 1); /* started after the close */
  else { fprintf(stderr, "close round: unexpected %d\n", rc); atomic_fetch_add(&c_bad, 1); }
}
static void c_waiter(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  int64_t t = (rand_r(&seed) % 5000) * US + 1;
  char b;
  size_t n;
  c_note(rand_r(&seed) % 2 ? gr_fd_wait(cfd, GR_READ, t) : gr_fd_read(cfd, &b, 1, t, NULL, &n));
}
static void *c_thread(void *arg) { c_waiter(arg); return NULL; }

int main(void) {
  init_workers(2);
  for (int i = 0; i < PIPES; i++) {
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    pr[i] = p[0];
    pw[i] = p[1];
  }
  for (int i = 0; i < 4; i++) CHECK_OK(gr_cancel_new(&toks[i]));
  gr_handle *hs[GREADERS];
  pthread_t tr[TREADERS], w[2], cn;
  for (long i = 0; i < GREADERS; i++) CHECK_OK(gr_spawn(g_reader, (void *)(i + 1), &hs[i]));
  for (long i = 0; i < TREADERS; i++) CHECK(pthread_create(&tr[i], NULL, t_reader, (void *)(i + 100)) == 0);
  for (long i = 0; i < 2; i++) CHECK(pthread_create(&w[i], NULL, writer, (void *)(i + 200)) == 0);
  CHECK(pthread_create(&cn, NULL, canceller, (void *)300) == 0);
  struct timespec ts = {2, 0};
  nanosleep(&ts, NULL);
  atomic_store(&stop, 1);
  for (int i = 0; i < GREADERS; i++) { CHECK_OK(gr_wait(hs[i], 20000 * MS)); gr_handle_release(hs[i]); }
  for (int i = 0; i < TREADERS; i++) pthread_join(tr[i], NULL);
  for (int i = 0; i < 2; i++) pthread_join(w[i], NULL);
  pthread_join(cn, NULL);
  long drained = 0;
  for (int i = 0; i < PIPES; i++) {
    char b;
    size_t n;
    while (gr_fd_read(pr[i], &b, 1, 0, NULL, &n) == GR_OK) drained++;
  }
  printf("net_stress: %ld bytes written, %ld read by waiters, %ld drained after; %ld bad results\n",
         atomic_load(&written), atomic_load(&got), drained, atomic_load(&bad));
  CHECK(atomic_load(&bad) == 0);
  CHECK(atomic_load(&got) + drained == atomic_load(&written));
  for (int i = 0; i < PIPES; i++) { CHECK_OK(gr_fd_close(pr[i])); CHECK_OK(gr_fd_close(pw[i])); }

  unsigned seed = 42;
  for (int round = 0; round < 300; round++) {
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    cfd = p[0];
    cpeer = p[1];
    gr_handle *ch[6];
    pthread_t ct;
    for (long i = 0; i < 6; i++) CHECK_OK(gr_spawn(c_waiter, (void *)(uintptr_t)rand_r(&seed), &ch[i]));
    CHECK(pthread_create(&ct, NULL, c_thread, (void *)(uintptr_t)rand_r(&seed)) == 0);
    if (rand_r(&seed) % 4 == 0) CHECK(write(cpeer, "d", 1) == 1);
    gr_sleep((rand_r(&seed) % 3000) * US);
    CHECK_OK(gr_fd_close(cfd));
    for (int i = 0; i < 6; i++) { CHECK_OK(gr_wait(ch[i], 20000 * MS)); gr_handle_release(ch[i]); }
    pthread_join(ct, NULL);
    CHECK(fcntl(cfd, F_GETFD) == -1 && errno == EBADF); /* the last one out closed it */
    close(cpeer);
  }
  printf("net_stress: close rounds: %d ok, %d timed out, %d closed, %d started after the close (EBADF), %d bad\n",
         atomic_load(&c_ok), atomic_load(&c_to), atomic_load(&c_closed), atomic_load(&c_late), atomic_load(&c_bad));
  CHECK(atomic_load(&c_bad) == 0);
  CHECK(atomic_load(&c_closed) > 0);
  for (int i = 0; i < 4; i++) gr_cancel_free(toks[i]);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
