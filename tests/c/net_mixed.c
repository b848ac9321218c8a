/* Mixed callers: plain threads and goroutines wait on the same descriptors.
 * 1. 20 goroutines and 4 threads in gr_fd_wait(READ) on one pipe: one write wakes them all
 *    (level semantics: every waiter sees the data that is there).
 * 2. 40 goroutines and 4 threads each read one byte from one pipe, a writer thread writes
 *    the bytes one at a time: every byte is read exactly once.
 * 3. Writers block on a full pipe (goroutines and threads), a reader drains it: every writer
 *    finishes, every byte arrives in one piece per writer (writes of <= PIPE_BUF are atomic). */
#include "net_util.h"
#include <pthread.h>
#include <stdatomic.h>

#define MS 1000000LL

static int p[2];
static atomic_int woke, started, bytes_read;
static atomic_int seen[256];

static void g_wait(void *arg) {
  (void)arg;
  atomic_fetch_add(&started, 1);
  CHECK_OK(gr_fd_wait(p[0], GR_READ, 10000 * MS));
  atomic_fetch_add(&woke, 1);
}
static void *t_wait(void *arg) { g_wait(arg); return NULL; }

static void g_read1(void *arg) {
  (void)arg;
  atomic_fetch_add(&started, 1);
  unsigned char c;
  size_t n;
  CHECK_OK(gr_fd_read(p[0], &c, 1, 20000 * MS, NULL, &n));
  CHECK(n == 1);
  atomic_fetch_add(&seen[c], 1);
  atomic_fetch_add(&bytes_read, 1);
}
static void *t_read1(void *arg) { g_read1(arg); return NULL; }

#define CHUNK 512
static void g_write(void *arg) {
  long id = (long)arg;
  char buf[CHUNK];
  memset(buf, (char)id, sizeof buf);
  size_t n;
  for (int i = 0; i < 64; i++) {
    CHECK_OK(gr_fd_write(p[1], buf, sizeof buf, 20000 * MS, NULL, &n));
    CHECK(n == sizeof buf);
  }
}
static void *t_write(void *arg) { g_write(arg); return NULL; }

int main(void) {
  init_workers(2);
  /* 1 */
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  gr_handle *hs[64];
  pthread_t ts[8];
  for (long i = 0; i < 20; i++) CHECK_OK(gr_spawn(g_wait, NULL, &hs[i]));
  for (long i = 0; i < 4; i++) CHECK(pthread_create(&ts[i], NULL, t_wait, NULL) == 0);
  while (atomic_load(&started) < 24) gr_sleep(MS);
  gr_sleep(30 * MS);
  CHECK(atomic_load(&woke) == 0);
  CHECK(write(p[1], "!", 1) == 1);
  for (int i = 0; i < 20; i++) { CHECK_OK(gr_wait(hs[i], 10000 * MS)); gr_handle_release(hs[i]); }
  for (int i = 0; i < 4; i++) pthread_join(ts[i], NULL);
  CHECK(atomic_load(&woke) == 24);
  char c;
  CHECK(read(p[0], &c, 1) == 1);

  /* 2 */
  atomic_store(&started, 0);
  for (long i = 0; i < 40; i++) CHECK_OK(gr_spawn(g_read1, NULL, &hs[i]));
  for (long i = 0; i < 4; i++) CHECK(pthread_create(&ts[i], NULL, t_read1, NULL) == 0);
  while (atomic_load(&started) < 44) gr_sleep(MS);
  for (int i = 0; i < 44; i++) {
    unsigned char b = (unsigned char)i;
    CHECK(write(p[1], &b, 1) == 1);
    if (i % 4 == 0) gr_sleep(MS);
  }
  for (int i = 0; i < 40; i++) { CHECK_OK(gr_wait(hs[i], 20000 * MS)); gr_handle_release(hs[i]); }
  for (int i = 0; i < 4; i++) pthread_join(ts[i], NULL);
  CHECK(atomic_load(&bytes_read) == 44);
  for (int i = 0; i < 44; i++) CHECK(atomic_load(&seen[i]) == 1);

  /* 3: 12 goroutine writers, 4 thread writers, 64 x 512 bytes each through a 64 KiB pipe */
  for (long i = 0; i < 12; i++) CHECK_OK(gr_spawn(g_write, (void *)(i + 1), &hs[i]));
  for (long i = 0; i < 4; i++) CHECK(pthread_create(&ts[i], NULL, t_write, (void *)(i + 13)) == 0);
  long counts[17] = {0};
  size_t total = 0, want = 16 * 64 * CHUNK;
  char buf[CHUNK];
  gr_sleep(50 * MS); /* let the pipe fill and the writers park */
  while (total < want) {
    size_t n;
    CHECK_OK(gr_fd_read(p[0], buf, CHUNK, 20000 * MS, NULL, &n)); /* a thread reading */
    CHECK(n > 0);
    for (size_t k = 0; k < n; k++) {
      CHECK(buf[k] >= 1 && buf[k] <= 16);
      counts[(int)buf[k]]++;
    }
    total += n;
  }
  for (int i = 0; i < 12; i++) { CHECK_OK(gr_wait(hs[i], 20000 * MS)); gr_handle_release(hs[i]); }
  for (int i = 0; i < 4; i++) pthread_join(ts[i], NULL);
  for (int i = 1; i <= 16; i++) CHECK(counts[i] == 64 * CHUNK);
  printf("net_mixed: wake-all, one byte each, and blocked writers: ok\n");
  CHECK_OK(gr_fd_close(p[0]));
  CHECK_OK(gr_fd_close(p[1]));
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
