/* A pipeline with close (go.dev/blog/pipelines): gen -> sq -> sum.
 *
 * Each stage is a goroutine that receives until its input is closed, then closes its own
 * output, so the end of the stream flows down the pipeline. */
#include <stdio.h>
#include "gr.h"

typedef struct { gr_chan *in, *out; } stage;

static void gen(void *arg) {
  gr_chan *out = arg;
  for (long i = 1; i <= 100; i++) gr_chan_send(out, &i, GR_FOREVER);
  gr_chan_close(out);
}

static void sq(void *arg) {
  stage *s = arg;
  long v;
  while (gr_chan_recv(s->in, &v, GR_FOREVER) == GR_OK) {
    v *= v;
    gr_chan_send(s->out, &v, GR_FOREVER);
  }
  gr_chan_close(s->out);
}

int main(void) {
  gr_chan *nums, *squares;
  if (gr_chan_new(sizeof(long), 0, &nums) || gr_chan_new(sizeof(long), 4, &squares)) return 1;
  stage s = { nums, squares };
  gr_spawn(gen, nums, NULL);
  gr_spawn(sq, &s, NULL);

  long v, sum = 0;
  int rc;
  while ((rc = gr_chan_recv(squares, &v, GR_FOREVER)) == GR_OK) sum += v;
  printf("sum of squares 1..100 = %ld (pipeline ended: %s)\n", sum, gr_strerror(rc));
  gr_chan_release(nums);
  gr_chan_release(squares);
  return sum == 338350 ? 0 : 1;
}
