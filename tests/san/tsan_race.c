/* ThreadSanitizer still reports real races between goroutines: gr's annotations add only
 * the edges of Go's memory model, never one through the worker, the stack or the record
 * that two goroutines happen to share. Each mode runs in a child built with TSan, which
 * must exit 66 (a report) naming the racy variable. */
#include "harness.h"
#include "child.h"

static long racy_concurrent, racy_sequential, racy_after_send, racy_after_unlock;
static gr_chan *ch;
static gr_mutex *mu;

/* Two goroutines write one global, each yielding between writes. */
static void writer(void *arg) {
  for (int i = 0; i < 200; i++) { racy_concurrent += (long)arg; gr_yield(); }
}

/* One goroutine writes and ends; the next, spawned later on the same single worker (so on
 * the same thread, likely the same stack and record), writes too: no edge joins them. */
static void seq_writer(void *arg) { racy_sequential = (long)arg; }

/* The sender writes after its send: only what came before the send reaches the receiver. */
static void sender(void *arg) {
  (void)arg;
  long v = 1;
  CHECK_OK(gr_chan_send(ch, &v, GR_FOREVER));
  racy_after_send = 2;
}
static void receiver(void *arg) {
  (void)arg;
  long v;
  CHECK_OK(gr_chan_recv(ch, &v, GR_FOREVER));
  racy_after_send += v;
}

/* Both write after unlocking: the mutex orders only what it guards. */
static void unlocker(void *arg) {
  CHECK_OK(gr_mutex_lock(mu, GR_FOREVER));
  CHECK_OK(gr_mutex_unlock(mu));
  gr_yield();
  racy_after_unlock = (long)arg;
}

static void child(const char *mode) {
  init_workers(strcmp(mode, "sequential") == 0 ? 1 : 2);
  gr_handle *a, *b;
  if (strcmp(mode, "concurrent") == 0) {
    CHECK_OK(gr_spawn(writer, (void *)1, &a));
    CHECK_OK(gr_spawn(writer, (void *)2, &b));
  } else if (strcmp(mode, "sequential") == 0) {
    /* Detached, and watched through the counters only (a join, even a poll that finds it
       done, would order it before what follows). */
    CHECK_OK(gr_spawn(seq_writer, (void *)1, NULL));
    gr_stats st = { .size = sizeof st };
    do { gr_sleep(1000000); CHECK_OK(gr_stats_get(&st)); } while (st.goroutines != 0);
    CHECK_OK(gr_spawn(seq_writer, (void *)2, &b));
    a = NULL;
  } else if (strcmp(mode, "after_send") == 0) {
    CHECK_OK(gr_chan_new(sizeof(long), 0, &ch));
    CHECK_OK(gr_spawn(sender, NULL, &a));
    CHECK_OK(gr_spawn(receiver, NULL, &b));
  } else {
    CHECK_OK(gr_mutex_new(&mu));
    CHECK_OK(gr_spawn(unlocker, (void *)1, &a));
    CHECK_OK(gr_spawn(unlocker, (void *)2, &b));
  }
  CHECK_OK(gr_wait(b, GR_FOREVER));
  if (a) CHECK_OK(gr_wait(a, GR_FOREVER));
  gr_handle_release(a);
  gr_handle_release(b);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  /* Read after the joins (so the stores are not optimised away). */
  printf("%ld %ld %ld %ld\n", racy_concurrent, racy_sequential, racy_after_send, racy_after_unlock);
  exit(0);
}

int main(int argc, char **argv) {
  if (argc > 1) child(argv[1]);
  static char out[1 << 16];
  struct { const char *mode, *var; } cases[] = {
    {"concurrent", "racy_concurrent"},
    {"sequential", "racy_sequential"},
    {"after_send", "racy_after_send"},
    {"after_unlock", "racy_after_unlock"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int st = run_child(argv[0], cases[i].mode, NULL, out, sizeof out);
    char loc[128];
    snprintf(loc, sizeof loc, "Location is global '%s'", cases[i].var);
    expect(cases[i].mode, out, "WARNING: ThreadSanitizer: data race", 1);
    expect(cases[i].mode, out, loc, 1);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 66) {
      fprintf(stderr, "%s: child status %d, want exit 66:\n%s\n", cases[i].mode, st, out);
      return 1;
    }
    printf("%-12s race on %s reported\n", cases[i].mode, cases[i].var);
  }
  return 0;
}
