/* The echo peer of the thread hand-off probes (thread_pingpong.c, handoff_split.c): a plain
 * thread (mode 0) or a goroutine (otherwise) running the probe's echo loop, which returns on
 * a negative value; both started and stopped alike. Include after <gr.h> and <pthread.h>. */
#ifndef GR_BENCH_ECHO_PEER_H
#define GR_BENCH_ECHO_PEER_H

struct echo_peer {
  int mode;
  pthread_t t;
  gr_handle *h;
};

static void *(*echo_peer_fn)(void *);
static void echo_peer_g(void *arg) { echo_peer_fn(arg); }

static void echo_peer_start(struct echo_peer *p, int mode, void *(*fn)(void *)) {
  p->mode = mode;
  p->h = NULL;
  echo_peer_fn = fn;
  if (mode == 0) {
    if (pthread_create(&p->t, NULL, fn, NULL) != 0) abort();
  } else if (gr_spawn(echo_peer_g, NULL, &p->h) != GR_OK) {
    abort();
  }
}

/* Sends the stop value (-1) on `ping` and waits for the peer to end. */
static void echo_peer_stop(struct echo_peer *p, gr_chan *ping) {
  int64_t stop = -1;
  if (gr_chan_send(ping, &stop, GR_FOREVER) != GR_OK) abort();
  if (p->mode == 0) {
    pthread_join(p->t, NULL);
  } else {
    gr_wait(p->h, GR_FOREVER);
    gr_handle_release(p->h);
  }
}

#endif
