/* Worker pool with results (gobyexample.com/worker-pools), joined by a WaitGroup.
 *
 * Three workers receive jobs from a buffered channel and send results back; a WaitGroup
 * tells when every worker has finished, after which the results channel is closed and the
 * main thread sums what came back. */
#include <stdio.h>
#include "gr.h"

#define NJOBS 9
#define NWORKERS 3

static gr_chan *jobs, *results;
static gr_wg *wg;

static void worker(void *arg) {
  long id = (long)arg, job;
  while (gr_chan_recv(jobs, &job, GR_FOREVER) == GR_OK) { /* GR_ECLOSED: no more jobs */
    printf("worker %ld started  job %ld\n", id, job);
    gr_sleep(10 * 1000000); /* 10 ms of "work": parks the goroutine, not a thread */
    printf("worker %ld finished job %ld\n", id, job);
    long r = job * 2;
    gr_chan_send(results, &r, GR_FOREVER);
  }
  gr_wg_done(wg);
}

static void closer(void *arg) {
  (void)arg;
  gr_wg_wait(wg, GR_FOREVER);
  gr_chan_close(results);
}

int main(void) {
  if (gr_chan_new(sizeof(long), NJOBS, &jobs) || gr_chan_new(sizeof(long), NJOBS, &results) || gr_wg_new(&wg)) return 1;
  gr_wg_add(wg, NWORKERS);
  for (long w = 1; w <= NWORKERS; w++) gr_spawn(worker, (void *)w, NULL);
  for (long j = 1; j <= NJOBS; j++) gr_chan_send(jobs, &j, GR_FOREVER);
  gr_chan_close(jobs);
  gr_spawn(closer, NULL, NULL);

  long r, sum = 0, n = 0;
  while (gr_chan_recv(results, &r, GR_FOREVER) == GR_OK) { sum += r; n++; }
  printf("%ld results, sum %ld\n", n, sum);
  gr_chan_release(jobs);
  gr_chan_release(results);
  gr_wg_free(wg);
  return (n == NJOBS && sum == NJOBS * (NJOBS + 1)) ? 0 : 1;
}
