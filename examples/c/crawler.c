/* A rate-limited crawler (the shape of Go's errgroup + time.Ticker + semaphore examples).
 *
 * The "web" is simulated: page p links to pages 2p+1 and 2p+2 (up to NPAGES), and fetching
 * one takes a few milliseconds of gr_sleep. One page hangs for 10 seconds. The crawl runs as
 * a task group bound to a context with a 300 ms deadline:
 *  - a ticker paces the fetches (at most one every 2 ms, for all tasks together);
 *  - a weighted semaphore allows at most 4 fetches in flight;
 *  - every task found a new link spawns one more task into the group;
 *  - the deadline ends the hanging fetch (gr_sleep_ex returns GR_ECANCELED) and with it
 *    the crawl: the group's first failure, and the context says why (GR_ETIMEDOUT).
 * The program ends by itself in about 300 ms. */
#include <stdio.h>
#include <stdlib.h>
#include "gr.h"

#define NPAGES 60
#define HANGING 41 /* this page never answers in time */

static gr_ticker *pace;
static gr_sem *inflight;
static gr_group *crawl;
static gr_mutex *mu;
static char seen[NPAGES];
static int fetched;

static int visit(void *arg, gr_cancel *ctx);

/* Starts a task for page p unless someone did already. */
static int follow(long p, gr_cancel *ctx) {
  if (p >= NPAGES) return GR_OK;
  gr_mutex_lock(mu, GR_FOREVER);
  int fresh = !seen[p];
  seen[p] = 1;
  gr_mutex_unlock(mu);
  if (!fresh) return GR_OK;
  /* No limit on the group: the semaphore bounds the fetches, not the tasks. */
  return gr_group_go_ex(crawl, visit, (void *)p, GR_FOREVER, ctx);
}

/* One task: wait for the pace, take a slot, fetch, follow the links. */
static int visit(void *arg, gr_cancel *ctx) {
  long p = (long)arg;
  /* Wait for the next tick, or for the crawl to end. */
  int64_t tick;
  gr_case cases[2] = {
      {.chan = gr_ticker_chan(pace), .op = GR_RECV, .elem = &tick},
      {.chan = gr_cancel_done(ctx), .op = GR_RECV, .elem = NULL},
  };
  int which = gr_select(cases, 2, GR_FOREVER);
  if (which != 0) return GR_ECANCELED; /* the context ended first */
  int rc = gr_sem_acquire_ex(inflight, 1, GR_FOREVER, ctx);
  if (rc != GR_OK) return rc;
  /* "Fetch": 3-10 ms, and one page that hangs. */
  int64_t latency = p == HANGING ? 10000000000LL : (3 + p % 8) * 1000000LL;
  rc = gr_sleep_ex(latency, ctx);
  gr_sem_release(inflight, 1);
  if (rc != GR_OK) return rc; /* cancelled mid-fetch: the group's first failure */
  gr_mutex_lock(mu, GR_FOREVER);
  fetched++;
  gr_mutex_unlock(mu);
  if ((rc = follow(2 * p + 1, ctx)) != GR_OK) return rc;
  return follow(2 * p + 2, ctx);
}

int main(void) {
  gr_cancel *deadline;
  if (gr_cancel_new_timeout(NULL, 300 * 1000000LL, &deadline) || gr_ticker_new(2 * 1000000LL, &pace) ||
      gr_sem_new(4, &inflight) || gr_mutex_new(&mu) || gr_group_new(deadline, 0, &crawl)) {
    fprintf(stderr, "crawler: setup failed\n");
    return 1;
  }
  int64_t t0 = gr_now();
  if (follow(0, gr_group_context(crawl)) != GR_OK) return 1;
  int rc = gr_group_wait(crawl, GR_FOREVER);
  double ms = (double)(gr_now() - t0) / 1e6;

  int code = 0;
  const char *why = gr_group_error(crawl, &code);
  printf("crawled %d of %d pages in %.0f ms\n", fetched, NPAGES, ms);
  if (rc == GR_EPANIC) {
    printf("first failure: %s (%s)\n", why ? why : "?", gr_strerror(code));
    printf("the crawl's context ended with %s\n", gr_strerror(gr_cancel_err(deadline)));
  } else {
    printf("every page fetched before the deadline\n");
  }
  int ok = rc == GR_EPANIC && code == GR_ECANCELED && gr_cancel_err(deadline) == GR_ETIMEDOUT &&
           fetched > 0 && fetched < NPAGES;

  gr_group_free(crawl);
  gr_ticker_free(pace);
  gr_sem_free(inflight);
  gr_mutex_free(mu);
  gr_cancel_free(deadline);
  return ok ? 0 : 1;
}
