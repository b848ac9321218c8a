/* Helpers for the toolbox suites (tb_*.c): run one function as goroutines, thread-bound
   goroutines and plain pthreads at once, and join them all. */
#ifndef GR_TEST_TOOLBOX_H
#define GR_TEST_TOOLBOX_H
#include "harness.h"
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define MIX_MAX 64
typedef struct mix {
  int n;
  int kind[MIX_MAX];
  gr_handle *g[MIX_MAX];
  pthread_t t[MIX_MAX];
} mix;

typedef struct mix_call { gr_fn fn; void *arg; } mix_call;
static mix_call mix_calls[MIX_MAX];
static void *mix_thread(void *p) { mix_call *c = p; c->fn(c->arg); return NULL; }

/* Starts fn(arg) the i-th way: 0 goroutine, 1 bound goroutine, 2 pthread. */
static inline void mix_start(mix *m, int how, gr_fn fn, void *arg) {
  CHECK(m->n < MIX_MAX);
  int k = m->n++;
  m->kind[k] = how % 3;
  if (m->kind[k] == 0) {
    CHECK_OK(gr_spawn(fn, arg, &m->g[k]));
  } else if (m->kind[k] == 1) {
    gr_spawn_opts o; gr_spawn_opts_init(&o); o.flags = GR_SPAWN_BOUND;
    CHECK_OK(gr_spawn_ex(fn, arg, &o, &m->g[k]));
  } else {
    static int slot;
    mix_call *c = &mix_calls[slot++ % MIX_MAX];
    c->fn = fn; c->arg = arg;
    CHECK(pthread_create(&m->t[k], NULL, mix_thread, c) == 0);
  }
}

static inline void mix_join(mix *m) {
  for (int k = 0; k < m->n; k++) {
    if (m->kind[k] == 2) { pthread_join(m->t[k], NULL); continue; }
    CHECK_OK(gr_wait(m->g[k], GR_FOREVER));
    gr_handle_release(m->g[k]);
  }
  m->n = 0;
}

/* Runs fn(arg) once in a goroutine and waits for it (Go's main). */
static inline void in_goroutine(gr_fn fn, void *arg) {
  gr_handle *h;
  CHECK_OK(gr_spawn(fn, arg, &h));
  CHECK_OK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
}

static inline int64_t ms_ns(int64_t ms) { return ms * 1000000; }
#endif
