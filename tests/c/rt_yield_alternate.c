/* Two goroutines alternate under gr_yield on 1 worker. */
#include "harness.h"

#define ROUNDS 10000
static char trace[2 * ROUNDS + 8];
static int pos;

static void player(void *arg) {
  char c = *(const char *)arg;
  for (int i = 0; i < ROUNDS; i++) { trace[pos++] = c; gr_yield(); }
}

static gr_handle *a, *b;
/* Spawn both from one goroutine so neither starts before the other exists. */
static void starter(void *arg) {
  (void)arg;
  CHECK_OK(gr_spawn(player, "a", &a));
  CHECK_OK(gr_spawn(player, "b", &b));
}

int main(void) {
  init_workers(1);
  gr_handle *s;
  CHECK_OK(gr_spawn(starter, NULL, &s));
  CHECK_OK(gr_wait(s, GR_FOREVER));
  gr_handle_release(s);
  CHECK_OK(gr_wait(a, GR_FOREVER));
  CHECK_OK(gr_wait(b, GR_FOREVER));
  CHECK(pos == 2 * ROUNDS);
  /* After the first pair, strict alternation: no letter twice in a row. */
  for (int i = 1; i < pos; i++) {
    if (trace[i] == trace[i - 1]) { fprintf(stderr, "at %d: %.40s\n", i, trace + (i > 10 ? i - 10 : 0)); }
    CHECK(trace[i] != trace[i - 1]);
  }
  gr_handle_release(a); gr_handle_release(b);
  /* gr_yield outside a goroutine is harmless. */
  gr_yield();
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
