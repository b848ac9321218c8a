/* The classic Go goroutines example (gobyexample.com/goroutines), ported to gr.
 *
 *   f("direct")            runs synchronously,
 *   go f("goroutine")      runs concurrently,
 *   go func(msg){...}      an "anonymous" function runs as a goroutine too,
 *
 * and the goroutines are joined with gr_wait, never with sleeps. Like Go's version the two
 * goroutines' lines may interleave. */
#include <stdio.h>
#include "gr.h"

static void f(void *arg) {
  const char *from = arg;
  for (int i = 0; i < 3; i++) printf("%s : %d\n", from, i);
}

static void anonymous(void *arg) { printf("%s\n", (const char *)arg); }

int main(void) {
  f("direct");

  gr_handle *g1, *g2;
  if (gr_spawn(f, "goroutine", &g1) != GR_OK) return 1;
  if (gr_spawn(anonymous, "going", &g2) != GR_OK) return 1;

  gr_wait(g1, GR_FOREVER);
  gr_wait(g2, GR_FOREVER);
  gr_handle_release(g1);
  gr_handle_release(g2);
  printf("done\n");
  return gr_shutdown(GR_FOREVER) == GR_OK ? 0 : 1;
}
