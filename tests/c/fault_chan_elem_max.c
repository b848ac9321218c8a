/* Issue 11, defect 8: a channel's element size has a documented limit; gr_chan_new refuses
 * sizes beyond it with GR_EINVAL and writes nothing (today gr_chan_new(SIZE_MAX, 0)
 * succeeds). */
#include "harness.h"
#include <stdint.h>

int main(void) {
  init_workers(2);
  size_t sizes[] = {SIZE_MAX, (size_t)1 << 40};
  int failed = 0;
  for (int i = 0; i < 2; i++) {
    gr_chan *c = NULL;
    int rc = gr_chan_new(sizes[i], 0, &c);
    if (rc != GR_EINVAL || c) { fprintf(stderr, "gr_chan_new(%zu, 0): %d (%s), want GR_EINVAL\n", sizes[i], rc, gr_strerror(rc)); failed++; }
    if (c) gr_chan_release(c);
  }
  CHECK_OK(gr_shutdown(GR_FOREVER));
  return failed != 0;
}
