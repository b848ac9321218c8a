/* Issue 11, defect 8: reading stats must not start the runtime: after gr_stats_get (which
 * may report GR_ESTATE or zeros), gr_init with a configuration still succeeds and applies it.
 * Today gr_stats_get starts a default runtime and gr_init then fails with GR_ESTATE. */
#include "harness.h"

int main(void) {
  gr_stats st = {.size = sizeof st};
  int rc = gr_stats_get(&st);
  printf("gr_stats_get before gr_init: %d (%s)\n", rc, gr_strerror(rc));
  gr_config c; gr_config_init(&c); c.workers = 3;
  rc = gr_init(&c);
  if (rc != GR_OK) { fprintf(stderr, "gr_init after gr_stats_get: %d (%s), want GR_OK\n", rc, gr_strerror(rc)); return 1; }
  CHECK_OK(gr_stats_get(&st));
  CHECK(st.workers == 3);
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return 0;
}
