/* gr_dump (issue 14): goroutines parked in every wait reason, one in a blocking section and
 * one thread-bound, checked in the JSON dump: each goroutine listed once, with its state,
 * wait reason and object, its entry function, and a backtrace that contains the function
 * that parked (walked from its saved context with DWARF CFI; this file is built -O2). The
 * text dump is checked for Go's header lines; gr_stats' new counts against the same. */
#include "dump_util.h"
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
static gr_chan *c_recv, *c_send, *c_sel1, *c_sel2, *c_bound;
static gr_mutex *mu;
static gr_wg *wg;
static gr_cancel *cancel;
static int pipefd[2];
static gr_handle *h_recv;
static atomic_int started;
static _Atomic int sink; /* (every goroutine stores to it: atomically, for TSan) */

NOINLINE static void park_recv(void *a) {
  (void)a; long v; atomic_fetch_add(&started, 1);
  sink = gr_chan_recv(c_recv, &v, GR_FOREVER);
}
NOINLINE static void park_send(void *a) {
  (void)a; long v = 1; atomic_fetch_add(&started, 1);
  sink = gr_chan_send(c_send, &v, GR_FOREVER);
}
NOINLINE static void park_select(void *a) {
  (void)a; long v1, v2; atomic_fetch_add(&started, 1);
  gr_case cs[3] = {{c_sel1, GR_RECV, &v1, 0}, {c_sel2, GR_RECV, &v2, 0}, {NULL, GR_RECV, NULL, 0}};
  sink = gr_select(cs, 3, GR_FOREVER);
}
NOINLINE static void park_sleep(void *a) {
  (void)a; atomic_fetch_add(&started, 1);
  sink = gr_sleep_ex(600LL * 1000000000LL, cancel);
}
NOINLINE static void park_mutex(void *a) {
  (void)a; atomic_fetch_add(&started, 1);
  sink = gr_mutex_lock(mu, GR_FOREVER);
  gr_mutex_unlock(mu);
}
NOINLINE static void park_wg(void *a) {
  (void)a; atomic_fetch_add(&started, 1);
  sink = gr_wg_wait(wg, GR_FOREVER);
}
NOINLINE static void park_join(void *a) {
  (void)a; atomic_fetch_add(&started, 1);
  sink = gr_wait(h_recv, GR_FOREVER);
}
NOINLINE static void park_cancel(void *a) {
  (void)a; long v; atomic_fetch_add(&started, 1);
  sink = gr_chan_recv_ex(c_recv, &v, GR_FOREVER, cancel);
}
NOINLINE static void park_pinned(void *a) {
  (void)a; long v; CHECK_OK(gr_pin()); atomic_fetch_add(&started, 1);
  sink = gr_chan_recv(c_recv, &v, GR_FOREVER);
}
NOINLINE static void in_blocking(void *a) {
  (void)a; char c; atomic_fetch_add(&started, 1);
  gr_blocking_begin();
  sink = (int)read(pipefd[0], &c, 1);
  gr_blocking_end();
}
NOINLINE static void bound_recv(void *a) {
  (void)a; long v; atomic_fetch_add(&started, 1);
  sink = gr_chan_recv(c_bound, &v, GR_FOREVER);
}

static uint64_t id_of(gr_handle *h) { (void)h; return 0; }

static void expect(uint64_t id, const char *state, const char *wait, const char *fn, int need_frame) {
  char *l = line_of(id);
  if (!l) { fprintf(stderr, "goroutine %llu missing from the dump:\n%s\n", (unsigned long long)id, out); exit(1); }
  char want[160];
  snprintf(want, sizeof want, "\"state\":\"%s\"", state);
  if (!strstr(l, want)) { fprintf(stderr, "goroutine %llu: want %s in\n%s\n", (unsigned long long)id, want, l); exit(1); }
  if (wait) {
    snprintf(want, sizeof want, "\"wait\":\"%s\"", wait);
    if (!strstr(l, want)) { fprintf(stderr, "goroutine %llu: want %s in\n%s\n", (unsigned long long)id, want, l); exit(1); }
  }
  snprintf(want, sizeof want, "\"entry\":{\"pc\":");
  CHECK(strstr(l, want));
  snprintf(want, sizeof want, "\"fn\":\"%s\"", fn);
  char *entry = strstr(l, "\"entry\":"), *frames = strstr(l, "\"frames\":[");
  CHECK(entry && frames);
  if (!strstr(entry, want)) { fprintf(stderr, "goroutine %llu: entry is not %s:\n%s\n", (unsigned long long)id, fn, l); exit(1); }
  if (need_frame && !strstr(frames, want)) {
    fprintf(stderr, "goroutine %llu: no frame of %s in its backtrace:\n%s\n", (unsigned long long)id, fn, l); exit(1);
  }
  free(l);
}

/* Runs in a goroutine so that it learns its children's ids through gr_self. */
static uint64_t ids[16];
static void spawn_as(int i, gr_fn fn, gr_handle **h, uint32_t flags) {
  gr_spawn_opts o; gr_spawn_opts_init(&o); o.flags = flags;
  CHECK_OK(gr_spawn_ex(fn, NULL, &o, h));
  (void)i;
}

int main(void) {
  init_workers(2);
  CHECK_OK(gr_chan_new(8, 0, &c_recv)); CHECK_OK(gr_chan_new(8, 0, &c_send));
  CHECK_OK(gr_chan_new(8, 0, &c_sel1)); CHECK_OK(gr_chan_new(8, 0, &c_sel2));
  CHECK_OK(gr_chan_new(8, 0, &c_bound));
  CHECK_OK(gr_mutex_new(&mu)); CHECK_OK(gr_mutex_lock(mu, GR_FOREVER));
  CHECK_OK(gr_wg_new(&wg)); CHECK_OK(gr_wg_add(wg, 1));
  CHECK_OK(gr_cancel_new(&cancel));
  CHECK(pipe(pipefd) == 0);

  gr_fn fns[] = {park_recv, park_send, park_select, park_sleep, park_mutex, park_wg, park_join, park_cancel,
                 park_pinned, in_blocking, bound_recv};
  const char *names[] = {"park_recv", "park_send", "park_select", "park_sleep", "park_mutex", "park_wg", "park_join",
                         "park_cancel", "park_pinned", "in_blocking", "bound_recv"};
  enum { N = 11 };
  gr_handle *hs[N];
  for (int i = 0; i < N; i++) {
    spawn_as(i, fns[i], &hs[i], i == 10 ? GR_SPAWN_BOUND : 0);
    if (i == 0) h_recv = hs[0]; /* before park_join is spawned (it reads it at once) */
  }
  (void)id_of;
  while (atomic_load(&started) < N) gr_sleep(1000000);

  /* Ids: spawned in order from this thread, ids are consecutive from the first. */
  CHECK_OK(gr_dump_to(collect, NULL, NULL, GR_DUMP_JSON));
  /* The first goroutine's id: the smallest id in the dump with entry park_recv. */
  uint64_t first = 0;
  for (uint64_t id = 1; id < 1000 && !first; id++) {
    char *l = line_of(id);
    if (l && strstr(l, "\"fn\":\"park_recv\"")) first = id;
    free(l);
  }
  CHECK(first);
  for (int i = 0; i < N; i++) ids[i] = first + (uint64_t)i;

  /* Wait until every goroutine has parked (the dump is retaken until it is stable). */
  for (int tries = 0;; tries++) {
    int ok = 1;
    for (int i = 0; i < N && ok; i++) {
      char *l = line_of(ids[i]);
      ok = l && (i == 9 ? strstr(l, "\"state\":\"blocking\"") != NULL
                        : (strstr(l, "\"state\":\"parked\"") || strstr(l, "\"state\":\"sleeping\"")));
      free(l);
    }
    if (ok) break;
    CHECK(tries < 500);
    gr_sleep(10000000);
    outlen = 0; out[0] = 0;
    CHECK_OK(gr_dump_to(collect, NULL, NULL, GR_DUMP_JSON));
  }

  expect(ids[0], "parked", "chan receive", "park_recv", 1);
  expect(ids[1], "parked", "chan send", "park_send", 1);
  expect(ids[2], "parked", "select", "park_select", 1);
  expect(ids[3], "sleeping", "sleep", "park_sleep", 1);
  expect(ids[4], "parked", "mutex lock", "park_mutex", 1);
  expect(ids[5], "parked", "WaitGroup wait", "park_wg", 1);
  expect(ids[6], "parked", "join", "park_join", 1);
  expect(ids[7], "parked", "chan receive", "park_cancel", 1);
  expect(ids[8], "parked", "chan receive", "park_pinned", 1);
  expect(ids[9], "blocking", NULL, "in_blocking", 0);
  expect(ids[10], "parked", "chan receive", "bound_recv", 0);

  /* Objects: the channel address is the same on every line that waits on it. */
  char *l0 = line_of(ids[0]), *l7 = line_of(ids[7]), *l2 = line_of(ids[2]), *l6 = line_of(ids[6]);
  char *l3 = line_of(ids[3]), *l8 = line_of(ids[8]), *l10 = line_of(ids[10]);
  char *ch0 = strstr(l0, "\"chan\":\""), *ch7 = strstr(l7, "\"chan\":\"");
  CHECK(ch0 && ch7 && strncmp(ch0, ch7, 26) == 0);
  CHECK(strstr(l2, "\"select\":[") && strstr(l2, "\"op\":\"recv\"") && strstr(l2, "\"chan\":null"));
  char want[64]; snprintf(want, sizeof want, "\"join\":%llu", (unsigned long long)ids[0]);
  CHECK(strstr(l6, want));
  CHECK(strstr(l7, "\"cancel\":\"0x"));
  CHECK(strstr(l3, "\"timeout_ms\":") && strstr(l3, "\"cancel\":\"0x"));
  CHECK(strstr(l8, "\"pinned\":") && !strstr(l8, "\"pinned\":null"));
  CHECK(strstr(l10, "\"kind\":\"bound\"") && strstr(l10, "\"bound\":true"));
  /* The spawn site: the caller of gr_spawn_ex (spawn_as, which gcc may inline into main). */
  char *sp0 = strstr(l0, "\"spawn\":{\"pc\":");
  CHECK(sp0 && (strstr(sp0, "\"fn\":\"main\"") || strstr(sp0, "\"fn\":\"spawn_as\"")));
  CHECK(strstr(l0, "\"parent\":0"));
  free(l0); free(l7); free(l2); free(l6); free(l3); free(l8); free(l10);

  /* Each goroutine once; the header lines; the main thread is not a goroutine. */
  int nlines = 0;
  for (char *p = out; (p = strstr(p, "{\"type\":\"goroutine\"")); p++) nlines++;
  CHECK(nlines == N);
  CHECK(strstr(out, "{\"type\":\"dump\",") && strstr(out, "{\"type\":\"stats\",") && strstr(out, "{\"type\":\"worker\","));
  CHECK(strstr(out, "{\"type\":\"proc\","));

  /* Text: Go's header line per goroutine. */
  outlen = 0; out[0] = 0;
  CHECK_OK(gr_dump_to(collect, NULL, NULL, GR_DUMP_TEXT));
  snprintf(want, sizeof want, "goroutine %llu [chan receive, ", (unsigned long long)ids[0]);
  CHECK(strstr(out, want));
  snprintf(want, sizeof want, "goroutine %llu [sleep, ", (unsigned long long)ids[3]);
  CHECK(strstr(out, want));
  CHECK(strstr(out, "  park_recv+0x"));
  if (getenv("SHOW")) fputs(out, stderr);
  CHECK(strstr(out, "  gr_chan_recv")); /* gr_chan_recv tail-calls gr_chan_recv_ex */
  CHECK(!strstr(out, "additional frames elided"));
  CHECK_RC(gr_dump_to(NULL, NULL, NULL, 0), GR_EINVAL);
  CHECK_RC(gr_dump(1, 0x100), GR_EINVAL);
  CHECK_RC(gr_dump(-1, GR_DUMP_TEXT), GR_EINVAL);
  CHECK_RC(gr_goroutine_label(GR_KIND_PYTHON, NULL), GR_ESTATE);

  /* gr_stats: the new fields; an old-size struct still works and gets only its fields. */
  gr_stats st; memset(&st, 0xff, sizeof st); st.size = sizeof st;
  CHECK_OK(gr_stats_get(&st));
  CHECK(st.goroutines == N);
  CHECK(st.waiting[GR_WAIT_CHAN_RECV] == 4 && st.waiting[GR_WAIT_CHAN_SEND] == 1 && st.waiting[GR_WAIT_SELECT] == 1);
  CHECK(st.waiting[GR_WAIT_SLEEP] == 1 && st.waiting[GR_WAIT_MUTEX] == 1 && st.waiting[GR_WAIT_WAITGROUP] == 1);
  CHECK(st.waiting[GR_WAIT_JOIN] == 1 && st.sleeping == 1 && st.blocking == 1 && st.parked == 9);
  CHECK(st.timers >= 1 && st.threads_blocking >= 1 && st.plain_threads >= 1);
  struct { uint32_t size, workers; uint64_t g, t, s, st, canary; } old;
  memset(&old, 0xab, sizeof old); old.size = 40;
  CHECK_OK(gr_stats_get((gr_stats *)&old));
  CHECK(old.g == N && old.canary == 0xababababababababULL);
  old.size = 39;
  CHECK_RC(gr_stats_get((gr_stats *)&old), GR_EINVAL);

  /* Let everyone go. */
  CHECK_OK(gr_chan_close(c_recv)); CHECK_OK(gr_chan_close(c_send));
  CHECK_OK(gr_chan_close(c_sel1)); CHECK_OK(gr_chan_close(c_bound));
  CHECK_OK(gr_cancel_fire(cancel));
  CHECK_OK(gr_mutex_unlock(mu));
  CHECK_OK(gr_wg_done(wg));
  CHECK(write(pipefd[1], "x", 1) == 1);
  for (int i = 0; i < N; i++) { CHECK_OK(gr_wait(hs[i], GR_FOREVER)); gr_handle_release(hs[i]); }
  gr_chan_release(c_recv); gr_chan_release(c_send); gr_chan_release(c_sel1); gr_chan_release(c_sel2);
  gr_chan_release(c_bound); gr_mutex_free(mu); gr_wg_free(wg); gr_cancel_free(cancel);
  free(out);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  printf("dump_reasons: %d goroutines checked\n", N);
  return 0;
}
