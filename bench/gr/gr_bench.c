/* gr workloads for `make bench`, written against the C API in include/gr.h.
 *
 *   gr_bench <workload> <size> [workers]
 *
 * Every workload runs inside a "main" goroutine, as a Go program's main does: the OS main
 * thread only starts the runtime, spawns that goroutine and waits for it; except the *_thread
 * workloads (issue 18), which the OS main thread runs itself, as a plain thread. Each workload first
 * runs once at a tenth of its size (warm-up: JIT-free, but it fills stack pools and caches as a
 * long-running Go program would have them), then once measured, and prints one RESULT line.
 * parked is never warmed up: its figure is a VmHWM delta in a fresh process.
 */
#include "../common.h"
#include <gr.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

/* While include/gr.h does not declare the channel, select and sync calls yet, declare them
   here exactly as DESIGN.md section 2 does. bench.mk defines BENCH_HAVE_<fn> for each group
   the header already declares. */
#ifndef BENCH_HAVE_gr_chan_new
typedef struct gr_chan gr_chan;
int gr_chan_new(size_t elem_size, size_t capacity, gr_chan **out);
int gr_chan_send(gr_chan *ch, const void *elem, int64_t timeout_ns);
int gr_chan_recv(gr_chan *ch, void *elem, int64_t timeout_ns);
int gr_chan_close(gr_chan *ch);
void gr_chan_release(gr_chan *ch);
#endif
#ifndef BENCH_HAVE_gr_select
typedef enum gr_op { GR_SEND = 1, GR_RECV = 2 } gr_op;
typedef struct gr_case { gr_chan *chan; gr_op op; void *elem; int status; } gr_case;
int gr_select(gr_case *cases, size_t ncases, int64_t timeout_ns);
#endif
#ifndef BENCH_HAVE_gr_wg_new
typedef struct gr_wg gr_wg;
int gr_wg_new(gr_wg **out);
int gr_wg_add(gr_wg *wg, int64_t delta);
int gr_wg_done(gr_wg *wg);
int gr_wg_wait(gr_wg *wg, int64_t timeout_ns);
void gr_wg_free(gr_wg *wg);
#endif
#ifndef BENCH_HAVE_gr_mutex_new
typedef struct gr_mutex gr_mutex;
int gr_mutex_new(gr_mutex **out);
int gr_mutex_lock(gr_mutex *mu, int64_t timeout_ns);
int gr_mutex_unlock(gr_mutex *mu);
void gr_mutex_free(gr_mutex *mu);
#endif

#define CHECK(call)                                                                      \
  do {                                                                                   \
    int rc_ = (call);                                                                    \
    if (rc_ != GR_OK) {                                                                  \
      fprintf(stderr, "gr_bench: %s failed: %d (%s) at line %d\n", #call, rc_,           \
              gr_strerror(rc_), __LINE__);                                               \
      exit(2);                                                                           \
    }                                                                                    \
  } while (0)

static int workers = 2;

/* Channels, select and sync may land in libgr after the runtime: reference them weakly, so
   this program links against an early libgr and reports those workloads as unavailable. */
#pragma weak gr_chan_new
#pragma weak gr_chan_send
#pragma weak gr_chan_recv
#pragma weak gr_chan_close
#pragma weak gr_chan_release
#pragma weak gr_select
#pragma weak gr_wg_new
#pragma weak gr_wg_add
#pragma weak gr_wg_done
#pragma weak gr_wg_wait
#pragma weak gr_wg_free
#pragma weak gr_mutex_new
#pragma weak gr_mutex_lock
#pragma weak gr_mutex_unlock
#pragma weak gr_mutex_free

/* The toolbox (issue 15) may be missing from an older libgr too: weak as well. */
#pragma weak gr_rwmutex_new
#pragma weak gr_rwmutex_lock
#pragma weak gr_rwmutex_unlock
#pragma weak gr_rwmutex_rlock
#pragma weak gr_rwmutex_runlock
#pragma weak gr_rwmutex_free
#pragma weak gr_after
#pragma weak gr_cancel_new
#pragma weak gr_cancel_new_child
#pragma weak gr_cancel_done
#pragma weak gr_cancel_fire
#pragma weak gr_cancel_free

static int have_toolbox(const char *wl) {
  if (!strcmp(wl, "rwmutex"))
    return gr_rwmutex_new && gr_rwmutex_lock && gr_rwmutex_unlock && gr_rwmutex_rlock && gr_rwmutex_runlock;
  if (!strcmp(wl, "timerchurn")) return gr_after && gr_select;
  if (!strcmp(wl, "ctxfanout")) return gr_cancel_new && gr_cancel_new_child && gr_cancel_done && gr_cancel_fire;
  return 1;
}

static int have_sync(void) {
  return gr_chan_new && gr_chan_send && gr_chan_recv && gr_chan_close && gr_chan_release &&
         gr_wg_new && gr_wg_add && gr_wg_done && gr_wg_wait && gr_wg_free;
}

/* ---------------------------------------------------------------- spawn */
static void spawn_child(void *arg) { gr_wg_done((gr_wg *)arg); }

/* Without WaitGroup in this libgr: join every handle with gr_wait instead (noted in the report). */
static int use_handles(void) { return !(gr_wg_new && gr_wg_add && gr_wg_done && gr_wg_wait && gr_wg_free); }
static void nop_fn(void *arg) { (void)arg; }
static void join_all(gr_handle **h, long n) {
  for (long i = 0; i < n; i++) { CHECK(gr_wait(h[i], GR_FOREVER)); gr_handle_release(h[i]); }
}

static void w_spawn(long n) {
  if (use_handles()) {
    gr_handle **h = malloc((size_t)n * sizeof *h);
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) CHECK(gr_spawn(nop_fn, NULL, &h[i]));
    join_all(h, n);
    uint64_t t1 = now_ns();
    free(h);
    printf("NOTE joined with gr_wait on handles (this libgr has no gr_wg)\n");
    report("spawn", n, t1 - t0, -1);
    return;
  }
  gr_wg *wg;
  CHECK(gr_wg_new(&wg));
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    CHECK(gr_wg_add(wg, 1));
    CHECK(gr_spawn(spawn_child, wg, NULL));
  }
  CHECK(gr_wg_wait(wg, GR_FOREVER));
  uint64_t t1 = now_ns();
  gr_wg_free(wg);
  report("spawn", n, t1 - t0, -1);
}

/* ------------------------------------------------------------- pingpong */
static gr_chan *pp_ping, *pp_pong;
static void pong_fn(void *arg) {
  (void)arg;
  int64_t v;
  while (gr_chan_recv(pp_ping, &v, GR_FOREVER) == GR_OK) CHECK(gr_chan_send(pp_pong, &v, GR_FOREVER));
}

static void pingpong_run(const char *name, long n) {
  gr_handle *h;
  CHECK(gr_chan_new(sizeof(int64_t), 0, &pp_ping));
  CHECK(gr_chan_new(sizeof(int64_t), 0, &pp_pong));
  CHECK(gr_spawn(pong_fn, NULL, &h));
  uint64_t t0 = now_ns();
  for (int64_t i = 0; i < n; i++) {
    int64_t r;
    CHECK(gr_chan_send(pp_ping, &i, GR_FOREVER));
    CHECK(gr_chan_recv(pp_pong, &r, GR_FOREVER));
    if (r != i) { fprintf(stderr, "pingpong: got %lld want %lld\n", (long long)r, (long long)i); exit(3); }
  }
  uint64_t t1 = now_ns();
  CHECK(gr_chan_close(pp_ping));
  CHECK(gr_wait(h, GR_FOREVER));
  gr_handle_release(h);
  gr_chan_release(pp_ping);
  gr_chan_release(pp_pong);
  report(name, n, t1 - t0, -1);
}
static void w_pingpong(long n) { pingpong_run("pingpong", n); }

/* ----------------------------------------------------------------- ring */
#define RING 503
static gr_chan *ring_ch[RING], *ring_done;
static void ring_fn(void *arg) {
  long i = (long)(intptr_t)arg;
  int64_t tok;
  while (gr_chan_recv(ring_ch[i], &tok, GR_FOREVER) == GR_OK) {
    if (tok == 0) { CHECK(gr_chan_send(ring_done, &i, GR_FOREVER)); return; }
    tok--;
    if (gr_chan_send(ring_ch[(i + 1) % RING], &tok, GR_FOREVER) != GR_OK) return;
  }
}

static void w_ring(long n) {
  gr_handle *h[RING];
  CHECK(gr_chan_new(sizeof(int64_t), 0, &ring_done));
  for (long i = 0; i < RING; i++) CHECK(gr_chan_new(sizeof(int64_t), 0, &ring_ch[i]));
  for (long i = 0; i < RING; i++) CHECK(gr_spawn(ring_fn, (void *)(intptr_t)i, &h[i]));
  uint64_t t0 = now_ns();
  int64_t tok = n, who;
  CHECK(gr_chan_send(ring_ch[0], &tok, GR_FOREVER));
  CHECK(gr_chan_recv(ring_done, &who, GR_FOREVER));
  uint64_t t1 = now_ns();
  if (who != n % RING) { fprintf(stderr, "ring: ended at %lld want %ld\n", (long long)who, n % RING); exit(3); }
  for (long i = 0; i < RING; i++) CHECK(gr_chan_close(ring_ch[i]));
  for (long i = 0; i < RING; i++) { CHECK(gr_wait(h[i], GR_FOREVER)); gr_handle_release(h[i]); }
  for (long i = 0; i < RING; i++) gr_chan_release(ring_ch[i]);
  gr_chan_release(ring_done);
  report("ring", n, t1 - t0, -1);
}

/* ---------------------------------------------------------------- fanin */
#define FAN 4
static gr_chan *fan_ch;
static gr_wg *fan_prod;
static long fan_per;
static int64_t fan_sum[FAN];
static void fan_producer(void *arg) {
  (void)arg;
  for (int64_t i = 1; i <= fan_per; i++) CHECK(gr_chan_send(fan_ch, &i, GR_FOREVER));
  CHECK(gr_wg_done(fan_prod));
}
static void fan_consumer(void *arg) {
  long k = (long)(intptr_t)arg;
  int64_t v, s = 0;
  while (gr_chan_recv(fan_ch, &v, GR_FOREVER) == GR_OK) s += v;
  fan_sum[k] = s;
}

static void w_fanin(long n) {
  gr_handle *cons[FAN];
  fan_per = n / FAN;
  CHECK(gr_chan_new(sizeof(int64_t), 1024, &fan_ch));
  CHECK(gr_wg_new(&fan_prod));
  uint64_t t0 = now_ns();
  for (long k = 0; k < FAN; k++) CHECK(gr_spawn(fan_consumer, (void *)(intptr_t)k, &cons[k]));
  CHECK(gr_wg_add(fan_prod, FAN));
  for (long k = 0; k < FAN; k++) CHECK(gr_spawn(fan_producer, NULL, NULL));
  CHECK(gr_wg_wait(fan_prod, GR_FOREVER));
  CHECK(gr_chan_close(fan_ch));
  for (long k = 0; k < FAN; k++) { CHECK(gr_wait(cons[k], GR_FOREVER)); gr_handle_release(cons[k]); }
  uint64_t t1 = now_ns();
  int64_t s = 0;
  for (long k = 0; k < FAN; k++) s += fan_sum[k];
  if (s != (int64_t)FAN * fan_per * (fan_per + 1) / 2) { fprintf(stderr, "fanin: bad sum\n"); exit(3); }
  gr_wg_free(fan_prod);
  gr_chan_release(fan_ch);
  report("fanin", FAN * fan_per, t1 - t0, -1);
}

/* --------------------------------------------------------------- parked */
static gr_chan *park_ch;
static gr_wg *park_started, *park_done;
static void park_fn(void *arg) {
  (void)arg;
  int64_t v;
  CHECK(gr_wg_done(park_started));
  gr_chan_recv(park_ch, &v, GR_FOREVER); /* GR_ECLOSED once main closes it */
  CHECK(gr_wg_done(park_done));
}

static void w_parked(long n) {
  CHECK(gr_chan_new(sizeof(int64_t), 0, &park_ch));
  CHECK(gr_wg_new(&park_started));
  CHECK(gr_wg_new(&park_done));
  CHECK(gr_wg_add(park_started, n));
  CHECK(gr_wg_add(park_done, n));
  long hwm0 = vmhwm_kib();
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) CHECK(gr_spawn(park_fn, NULL, NULL));
  CHECK(gr_wg_wait(park_started, GR_FOREVER));
  gr_sleep(50 * 1000000LL); /* let the last ones reach their recv */
  long hwm1 = vmhwm_kib();
  uint64_t t1 = now_ns();
  CHECK(gr_chan_close(park_ch));
  CHECK(gr_wg_wait(park_done, GR_FOREVER));
  report("parked", n, t1 - t0, (double)(hwm1 - hwm0) / (double)n);
}

/* ---------------------------------------------------------------- yield */
static gr_wg *yield_wg;
static long yield_n;
static void yield_fn(void *arg) {
  (void)arg;
  for (long i = 0; i < yield_n; i++) gr_yield();
  if (yield_wg) CHECK(gr_wg_done(yield_wg));
}

static void w_yield(long n) {
  long g = 2L * workers;
  yield_n = n;
  if (use_handles()) {
    gr_handle *h[256];
    yield_wg = NULL;
    uint64_t t0 = now_ns();
    for (long i = 0; i < g; i++) CHECK(gr_spawn(yield_fn, NULL, &h[i]));
    join_all(h, g);
    uint64_t t1 = now_ns();
    report("yield", (uint64_t)g * n, t1 - t0, -1);
    return;
  }
  CHECK(gr_wg_new(&yield_wg));
  CHECK(gr_wg_add(yield_wg, g));
  uint64_t t0 = now_ns();
  for (long i = 0; i < g; i++) CHECK(gr_spawn(yield_fn, NULL, NULL));
  CHECK(gr_wg_wait(yield_wg, GR_FOREVER));
  uint64_t t1 = now_ns();
  gr_wg_free(yield_wg);
  report("yield", (uint64_t)g * n, t1 - t0, -1);
}

/* --------------------------------------------------------------- select */
#define NSEL 4
static gr_chan *sel_ch[NSEL];
static long sel_per;
static void sel_producer(void *arg) {
  long k = (long)(intptr_t)arg;
  for (int64_t i = 1; i <= sel_per; i++) CHECK(gr_chan_send(sel_ch[k], &i, GR_FOREVER));
}

static void w_select(long n) {
  gr_handle *h[NSEL];
  int64_t vals[NSEL], sum = 0;
  gr_case cases[NSEL];
  sel_per = n / NSEL;
  for (long k = 0; k < NSEL; k++) CHECK(gr_chan_new(sizeof(int64_t), 0, &sel_ch[k]));
  for (long k = 0; k < NSEL; k++) CHECK(gr_spawn(sel_producer, (void *)(intptr_t)k, &h[k]));
  long total = NSEL * sel_per;
  uint64_t t0 = now_ns();
  for (long i = 0; i < total; i++) {
    for (long k = 0; k < NSEL; k++) {
      cases[k].chan = sel_ch[k]; cases[k].op = GR_RECV; cases[k].elem = &vals[k]; cases[k].status = 0;
    }
    int idx = gr_select(cases, NSEL, GR_FOREVER);
    if (idx < 0 || idx >= NSEL || cases[idx].status != GR_OK) { fprintf(stderr, "select: %d\n", idx); exit(3); }
    sum += vals[idx];
  }
  uint64_t t1 = now_ns();
  if (sum != (int64_t)NSEL * sel_per * (sel_per + 1) / 2) { fprintf(stderr, "select: bad sum\n"); exit(3); }
  for (long k = 0; k < NSEL; k++) { CHECK(gr_wait(h[k], GR_FOREVER)); gr_handle_release(h[k]); gr_chan_release(sel_ch[k]); }
  report("select", total, t1 - t0, -1);
}

/* ---------------------------------------------------------------- sieve */
/* Go's concurrent prime sieve (the one in the Go tour / test/chan/sieve1.go). */
struct filter_arg { gr_chan *in, *out; int64_t prime; };
static void generate_fn(void *arg) {
  gr_chan *ch = arg;
  for (int64_t i = 2;; i++) if (gr_chan_send(ch, &i, GR_FOREVER) != GR_OK) return;
}
static void filter_fn(void *arg) {
  struct filter_arg *f = arg;
  int64_t i;
  while (gr_chan_recv(f->in, &i, GR_FOREVER) == GR_OK)
    if (i % f->prime != 0 && gr_chan_send(f->out, &i, GR_FOREVER) != GR_OK) break;
  free(f);
}

static void w_sieve(long n) {
  gr_chan **chans = calloc((size_t)n + 1, sizeof *chans);
  int64_t prime = 0;
  uint64_t t0 = now_ns();
  CHECK(gr_chan_new(sizeof(int64_t), 0, &chans[0]));
  CHECK(gr_spawn(generate_fn, chans[0], NULL));
  for (long i = 0; i < n; i++) {
    CHECK(gr_chan_recv(chans[i], &prime, GR_FOREVER));
    struct filter_arg *f = malloc(sizeof *f);
    CHECK(gr_chan_new(sizeof(int64_t), 0, &chans[i + 1]));
    f->in = chans[i]; f->out = chans[i + 1]; f->prime = prime;
    CHECK(gr_spawn(filter_fn, f, NULL));
  }
  uint64_t t1 = now_ns();
  if (prime != nth_prime(n)) { fprintf(stderr, "sieve: got %lld\n", (long long)prime); exit(3); }
  /* Closing every channel ends the generator and all filters (detached). The channels are
     leaked on purpose: a goroutine may still be inside an operation on one. */
  for (long i = 0; i <= n; i++) gr_chan_close(chans[i]);
  free(chans);
  report("sieve", n, t1 - t0, -1);
}

/* ---------------------------------------------------------------- mutex */
#define MUTEX_G 1000
static gr_mutex *mu;
static gr_wg *mu_wg;
static long mu_k, mu_counter;
static void mutex_fn(void *arg) {
  (void)arg;
  for (long i = 0; i < mu_k; i++) {
    CHECK(gr_mutex_lock(mu, GR_FOREVER));
    mu_counter++;
    CHECK(gr_mutex_unlock(mu));
  }
  CHECK(gr_wg_done(mu_wg));
}

/* size = increments per goroutine; 1000 goroutines. */
static void w_mutex(long k) {
  mu_k = k; mu_counter = 0;
  CHECK(gr_mutex_new(&mu));
  CHECK(gr_wg_new(&mu_wg));
  CHECK(gr_wg_add(mu_wg, MUTEX_G));
  uint64_t t0 = now_ns();
  for (long i = 0; i < MUTEX_G; i++) CHECK(gr_spawn(mutex_fn, NULL, NULL));
  CHECK(gr_wg_wait(mu_wg, GR_FOREVER));
  uint64_t t1 = now_ns();
  if (mu_counter != MUTEX_G * k) { fprintf(stderr, "mutex: counter %ld\n", mu_counter); exit(3); }
  gr_mutex_free(mu);
  gr_wg_free(mu_wg);
  report("mutex", (uint64_t)MUTEX_G * k, t1 - t0, -1);
}

/* -------------------------------------------------------------- rwmutex */
/* size = operations per goroutine; 1000 goroutines; 99% reads (every 100th op a write). */
#define RW_G 1000
static gr_rwmutex *rw;
static gr_wg *rw_wg;
static long rw_k;
static volatile long rw_value;
static long rw_sink[RW_G];
static void rwmutex_fn(void *arg) {
  long id = (long)(intptr_t)arg, sum = 0;
  for (long i = 0; i < rw_k; i++) {
    if (i % 100 == 99) {
      CHECK(gr_rwmutex_lock(rw, GR_FOREVER));
      rw_value++;
      CHECK(gr_rwmutex_unlock(rw));
    } else {
      CHECK(gr_rwmutex_rlock(rw, GR_FOREVER));
      sum += rw_value;
      CHECK(gr_rwmutex_runlock(rw));
    }
  }
  rw_sink[id] = sum;
  CHECK(gr_wg_done(rw_wg));
}

static void w_rwmutex(long k) {
  rw_k = k; rw_value = 0;
  CHECK(gr_rwmutex_new(&rw));
  CHECK(gr_wg_new(&rw_wg));
  CHECK(gr_wg_add(rw_wg, RW_G));
  uint64_t t0 = now_ns();
  for (long i = 0; i < RW_G; i++) CHECK(gr_spawn(rwmutex_fn, (void *)(intptr_t)i, NULL));
  CHECK(gr_wg_wait(rw_wg, GR_FOREVER));
  uint64_t t1 = now_ns();
  if (rw_value != RW_G * (k / 100)) { fprintf(stderr, "rwmutex: %ld writes\n", rw_value); exit(3); }
  gr_rwmutex_free(rw);
  gr_wg_free(rw_wg);
  report("rwmutex", (uint64_t)RW_G * k, t1 - t0, -1);
}

/* ------------------------------------------------------------ timerchurn */
/* size = selects: each against a ready (closed) channel and a fresh after(1 h) that never
   fires (Go's `select { case <-ready: case <-time.After(time.Hour): }`). */
static void w_timerchurn(long n) {
  gr_chan *ready;
  CHECK(gr_chan_new(sizeof(int64_t), 0, &ready));
  CHECK(gr_chan_close(ready));
  int64_t v;
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    gr_chan *t;
    CHECK(gr_after(3600LL * 1000000000LL, &t));
    gr_case cs[2] = {{ready, GR_RECV, NULL, 0}, {t, GR_RECV, &v, 0}};
    if (gr_select(cs, 2, GR_FOREVER) != 0) { fprintf(stderr, "timerchurn: the timer fired\n"); exit(3); }
    gr_chan_release(t);
  }
  uint64_t t1 = now_ns();
  gr_chan_release(ready);
  report("timerchurn", n, t1 - t0, -1);
}

/* ------------------------------------------------------------- ctxfanout */
/* size = descendants of one root context, each with a goroutine waiting on its done
   channel; measures the cancel of the root until the last waiter has woken. */
static gr_wg *fan_started, *fan_woke;
static void fan_fn(void *arg) {
  gr_cancel *c = arg;
  gr_chan *d = gr_cancel_done(c);
  char b;
  CHECK(gr_wg_done(fan_started));
  if (gr_chan_recv(d, &b, GR_FOREVER) != GR_ECLOSED) { fprintf(stderr, "ctxfanout: not closed\n"); exit(3); }
  CHECK(gr_wg_done(fan_woke));
}

static void w_ctxfanout(long n) {
  gr_cancel *root;
  gr_cancel **kids = malloc((size_t)n * sizeof *kids);
  CHECK(gr_cancel_new(&root));
  CHECK(gr_wg_new(&fan_started));
  CHECK(gr_wg_new(&fan_woke));
  CHECK(gr_wg_add(fan_started, n));
  CHECK(gr_wg_add(fan_woke, n));
  for (long i = 0; i < n; i++) {
    CHECK(gr_cancel_new_child(root, &kids[i]));
    CHECK(gr_spawn(fan_fn, kids[i], NULL));
  }
  CHECK(gr_wg_wait(fan_started, GR_FOREVER));
  CHECK(gr_sleep(20 * 1000000)); /* let the last ones park */
  uint64_t t0 = now_ns();
  CHECK(gr_cancel_fire(root));
  CHECK(gr_wg_wait(fan_woke, GR_FOREVER));
  uint64_t t1 = now_ns();
  for (long i = 0; i < n; i++) gr_cancel_free(kids[i]);
  gr_cancel_free(root);
  gr_wg_free(fan_started);
  gr_wg_free(fan_woke);
  free(kids);
  report("ctxfanout", n, t1 - t0, -1);
}

/* ------------------------------------------------------------------ cpu */
static gr_wg *cpu_wg;
static long *cpu_out;
static void cpu_fn(void *arg) {
  long i = (long)(intptr_t)arg;
  cpu_out[i] = fib(FIB_N);
  if (cpu_wg) CHECK(gr_wg_done(cpu_wg));
}

/* size = number of fib(27) tasks; the driver runs it with 1 worker and with all. */
static void w_cpu(long n) {
  cpu_out = calloc((size_t)n, sizeof *cpu_out);
  if (use_handles()) {
    gr_handle **h = malloc((size_t)n * sizeof *h);
    cpu_wg = NULL;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) CHECK(gr_spawn(cpu_fn, (void *)(intptr_t)i, &h[i]));
    join_all(h, n);
    uint64_t t1 = now_ns();
    for (long i = 0; i < n; i++) if (cpu_out[i] != FIB_27) { fprintf(stderr, "cpu: bad fib\n"); exit(3); }
    free(h);
    free(cpu_out);
    report("cpu", n, t1 - t0, -1);
    return;
  }
  CHECK(gr_wg_new(&cpu_wg));
  CHECK(gr_wg_add(cpu_wg, n));
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) CHECK(gr_spawn(cpu_fn, (void *)(intptr_t)i, NULL));
  CHECK(gr_wg_wait(cpu_wg, GR_FOREVER));
  uint64_t t1 = now_ns();
  for (long i = 0; i < n; i++) if (cpu_out[i] != FIB_27) { fprintf(stderr, "cpu: bad fib\n"); exit(3); }
  free(cpu_out);
  gr_wg_free(cpu_wg);
  report("cpu", n, t1 - t0, -1);
}

/* ----------------------------------------------------------------- echo (issue 12)
 * Loopback TCP in the style of Go's net.Listen / Accept / go handle(conn): a goroutine per
 * server connection echoing what it reads; client goroutines in the same process. */
#pragma weak gr_fd_read
#pragma weak gr_fd_write
#pragma weak gr_fd_accept
#pragma weak gr_fd_connect
#pragma weak gr_fd_close
static int have_fd(void) { return gr_fd_read && gr_fd_write && gr_fd_accept && gr_fd_connect && gr_fd_close; }

#define ECHO_MSG 512
static int echo_listener(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4096)) { perror("listen"); exit(2); }
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  *port = ntohs(a.sin_port);
  return fd;
}

static int echo_dial(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (fd < 0) { perror("socket"); exit(2); }
  CHECK(gr_fd_connect(fd, (struct sockaddr *)&a, sizeof a, GR_FOREVER, NULL));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* The server: a goroutine per connection (Go's `go handle(conn)`), echoing until EOF. */
static void echo_handle(void *arg) {
  int fd = (int)(intptr_t)arg;
  char buf[ECHO_MSG];
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  for (;;) {
    size_t n, w;
    if (gr_fd_read(fd, buf, sizeof buf, GR_FOREVER, NULL, &n) != GR_OK || n == 0) break;
    if (gr_fd_write(fd, buf, n, GR_FOREVER, NULL, &w) != GR_OK) break;
  }
  gr_fd_close(fd);
}

struct acceptor { int lfd; long conns; gr_wg *done; };
static void echo_accept(void *arg) {
  struct acceptor *a = arg;
  for (long i = 0; i < a->conns; i++) {
    int c;
    CHECK(gr_fd_accept(a->lfd, NULL, NULL, SOCK_CLOEXEC, GR_FOREVER, NULL, &c));
    CHECK(gr_spawn(echo_handle, (void *)(intptr_t)c, NULL));
  }
  CHECK(gr_wg_done(a->done));
}

static void read_full(int fd, char *buf, size_t len) {
  size_t got = 0, n;
  while (got < len) {
    CHECK(gr_fd_read(fd, buf + got, len - got, GR_FOREVER, NULL, &n));
    if (n == 0) { fprintf(stderr, "echo: early EOF\n"); exit(3); }
    got += n;
  }
}

/* Opens `conns` connections to a fresh echo server: client fds into out[]. */
static int echo_setup(long conns, int *out, gr_wg **accepted) {
  uint16_t port;
  int lfd = echo_listener(&port);
  static struct acceptor a;
  a.lfd = lfd;
  a.conns = conns;
  CHECK(gr_wg_new(&a.done));
  CHECK(gr_wg_add(a.done, 1));
  CHECK(gr_spawn(echo_accept, &a, NULL));
  for (long i = 0; i < conns; i++) out[i] = echo_dial(port);
  *accepted = a.done;
  return lfd;
}

struct pp_client { int fd; long rounds; gr_wg *wg; };
static void pp_client_fn(void *arg) {
  struct pp_client *c = arg;
  char out[ECHO_MSG], in[ECHO_MSG];
  memset(out, (char)c->fd, sizeof out);
  for (long i = 0; i < c->rounds; i++) {
    out[0] = (char)i;
    size_t w;
    CHECK(gr_fd_write(c->fd, out, sizeof out, GR_FOREVER, NULL, &w));
    read_full(c->fd, in, sizeof in);
    if (memcmp(in, out, sizeof in) != 0) { fprintf(stderr, "echo: bad echo\n"); exit(3); }
  }
  CHECK(gr_wg_done(c->wg));
}

#define PP_CONNS 1000
/* echo ping-pong: 1,000 connections, each client sends 512 bytes and waits for the echo;
 * n requests in total. */
static void w_echo_pingpong(long n) {
  long conns = n < PP_CONNS ? n : PP_CONNS, per = n / conns;
  int *fds = malloc(sizeof(int) * (size_t)conns);
  struct pp_client *cl = malloc(sizeof *cl * (size_t)conns);
  gr_wg *accepted, *wg;
  int lfd = echo_setup(conns, fds, &accepted);
  CHECK(gr_wg_wait(accepted, GR_FOREVER));
  CHECK(gr_wg_new(&wg));
  CHECK(gr_wg_add(wg, conns));
  uint64_t t0 = now_ns();
  for (long i = 0; i < conns; i++) {
    cl[i] = (struct pp_client){fds[i], per, wg};
    CHECK(gr_spawn(pp_client_fn, &cl[i], NULL));
  }
  CHECK(gr_wg_wait(wg, GR_FOREVER));
  uint64_t t1 = now_ns();
  for (long i = 0; i < conns; i++) gr_fd_close(fds[i]);
  gr_fd_close(lfd);
  gr_wg_free(wg);
  gr_wg_free(accepted);
  free(cl);
  free(fds);
  gr_sleep(20 * 1000000LL); /* let the server goroutines see EOF and close */
  report("echo_pingpong", conns * per, t1 - t0, -1);
}

#define ST_CONNS 4
struct st_client { int fd; long msgs; gr_wg *wg; };
static void st_writer(void *arg) {
  struct st_client *c = arg;
  char out[ECHO_MSG];
  memset(out, 'w', sizeof out);
  for (long i = 0; i < c->msgs; i++) {
    size_t w;
    CHECK(gr_fd_write(c->fd, out, sizeof out, GR_FOREVER, NULL, &w));
  }
  CHECK(gr_wg_done(c->wg));
}
static void st_reader(void *arg) {
  struct st_client *c = arg;
  char in[ECHO_MSG];
  for (long i = 0; i < c->msgs; i++) {
    read_full(c->fd, in, sizeof in);
    if (in[0] != 'w' || in[ECHO_MSG - 1] != 'w') { fprintf(stderr, "echo: bad stream\n"); exit(3); }
  }
  CHECK(gr_wg_done(c->wg));
}

/* echo streaming: 4 connections, 512-byte messages, pipelined: a writer and a reader
 * goroutine per client connection; n messages in total. */
static void w_echo_stream(long n) {
  int fds[ST_CONNS];
  struct st_client cl[ST_CONNS];
  gr_wg *accepted, *wg;
  int lfd = echo_setup(ST_CONNS, fds, &accepted);
  CHECK(gr_wg_wait(accepted, GR_FOREVER));
  CHECK(gr_wg_new(&wg));
  CHECK(gr_wg_add(wg, 2 * ST_CONNS));
  long per = n / ST_CONNS;
  uint64_t t0 = now_ns();
  for (int i = 0; i < ST_CONNS; i++) {
    cl[i] = (struct st_client){fds[i], per, wg};
    CHECK(gr_spawn(st_reader, &cl[i], NULL));
    CHECK(gr_spawn(st_writer, &cl[i], NULL));
  }
  CHECK(gr_wg_wait(wg, GR_FOREVER));
  uint64_t t1 = now_ns();
  for (int i = 0; i < ST_CONNS; i++) gr_fd_close(fds[i]);
  gr_fd_close(lfd);
  gr_wg_free(wg);
  gr_wg_free(accepted);
  gr_sleep(20 * 1000000LL);
  report("echo_stream", per * ST_CONNS, t1 - t0, -1);
}

/* Current VmRSS in KiB. */
static long vmrss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) { kib = strtol(line + 6, NULL, 10); break; }
  fclose(f);
  return kib;
}

/* idle connections: n connected, idle, each with a server goroutine parked in read; RSS
 * growth per connection (both ends live in this process). The number is capped by
 * RLIMIT_NOFILE (two descriptors a connection), the same way in every implementation. */
static void w_idle_conns(long n) {
  struct rlimit r;
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
  long cap = ((long)r.rlim_cur - 64) / 2;
  if (n > cap) { printf("NOTE RLIMIT_NOFILE %ld allows %ld connections\n", (long)r.rlim_cur, cap); n = cap; }
  int *fds = malloc(sizeof(int) * (size_t)n);
  gr_sleep(50 * 1000000LL);
  long rss0 = vmrss_kib();
  gr_wg *accepted;
  int lfd = echo_setup(n, fds, &accepted);
  uint64_t t0 = now_ns();
  CHECK(gr_wg_wait(accepted, GR_FOREVER));
  gr_sleep(200 * 1000000LL); /* every server goroutine parked in its read */
  long rss1 = vmrss_kib();
  uint64_t t1 = now_ns();
  for (long i = 0; i < n; i++) gr_fd_close(fds[i]);
  gr_fd_close(lfd);
  gr_wg_free(accepted);
  free(fds);
  report("idle_conns", n, t1 - t0, (double)(rss1 - rss0) / (double)n);
}

/* ------------------------------------------------ from a plain thread (issue 18)
 * The same work driven from the OS main thread, as C programs, Python's main thread and Java
 * threads drive gr: these run outside any goroutine (main() calls them directly). */

/* spawn_thread: N goroutines, each an atomic add and gr_wg_done, spawned from the thread,
 * then gr_wg_wait from it. Also reports the peak RSS (VmHWM) of the whole process, in KiB. */
static _Atomic long st_count;
static void st_child(void *arg) {
  atomic_fetch_add_explicit(&st_count, 1, memory_order_relaxed);
  gr_wg_done((gr_wg *)arg);
}

static void w_spawn_thread(long n) {
  gr_wg *wg;
  CHECK(gr_wg_new(&wg));
  atomic_store(&st_count, 0);
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    CHECK(gr_wg_add(wg, 1));
    CHECK(gr_spawn(st_child, wg, NULL));
  }
  CHECK(gr_wg_wait(wg, GR_FOREVER));
  uint64_t t1 = now_ns();
  if (atomic_load(&st_count) != n) { fprintf(stderr, "spawn_thread: %ld ran\n", atomic_load(&st_count)); exit(3); }
  gr_wg_free(wg);
  report("spawn_thread", n, t1 - t0, (double)vmhwm_kib());
}

/* pingpong_thread: the thread sends on ping, a goroutine echoes on pong (unbuffered). */
static void w_pingpong_thread(long n) { pingpong_run("pingpong_thread", n); }

/* spawn_wait_thread: spawn one goroutine (it returns at once), gr_wait for it, repeat. */
static void w_spawn_wait_thread(long n) {
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    gr_handle *h;
    CHECK(gr_spawn(nop_fn, NULL, &h));
    CHECK(gr_wait(h, GR_FOREVER));
    gr_handle_release(h);
  }
  uint64_t t1 = now_ns();
  report("spawn_wait_thread", n, t1 - t0, -1);
}

/* ----------------------------------------------------------------- main */
/* thread: run from the OS main thread, outside any goroutine (issue 18's rows). */
struct workload { const char *name; void (*fn)(long); long min_warm; int thread; };
static const struct workload table[] = {
  {"spawn", w_spawn, 1000, 0}, {"pingpong", w_pingpong, 1000, 0}, {"ring", w_ring, 1000, 0},
  {"fanin", w_fanin, 1000, 0}, {"parked", w_parked, 0, 0}, {"yield", w_yield, 1000, 0},
  {"select", w_select, 1000, 0}, {"sieve", w_sieve, 100, 0}, {"mutex", w_mutex, 10, 0},
  {"cpu", w_cpu, 10, 0}, {"echo_pingpong", w_echo_pingpong, 1000, 0}, {"echo_stream", w_echo_stream, 1000, 0},
  {"idle_conns", w_idle_conns, 0, 0}, {"spawn_thread", w_spawn_thread, 1000, 1},
  {"pingpong_thread", w_pingpong_thread, 1000, 1}, {"spawn_wait_thread", w_spawn_wait_thread, 1000, 1},
  {"rwmutex", w_rwmutex, 100, 0}, {"timerchurn", w_timerchurn, 1000, 0}, {"ctxfanout", w_ctxfanout, 1000, 0},
};
static const struct workload *chosen;
static long size;

static void main_goroutine(void *arg) {
  (void)arg;
  if (chosen->min_warm > 0) {
    long w = size / 10 > chosen->min_warm ? size / 10 : chosen->min_warm;
    if (w > size) w = size;
    chosen->fn(w); /* warm-up; the driver keeps only the last RESULT line */
  }
  chosen->fn(size);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "version") == 0) { printf("%s\n", gr_version()); return 0; }
  if (argc < 3) {
    fprintf(stderr, "usage: %s <spawn|pingpong|ring|fanin|parked|yield|select|sieve|mutex|cpu|echo_pingpong|echo_stream|idle_conns|rwmutex|timerchurn|ctxfanout|spawn_thread|pingpong_thread|spawn_wait_thread> <size> [workers]\n", argv[0]);
    return 64;
  }
  for (size_t i = 0; i < sizeof table / sizeof *table; i++)
    if (strcmp(table[i].name, argv[1]) == 0) chosen = &table[i];
  if (!chosen) { fprintf(stderr, "unknown workload %s\n", argv[1]); return 64; }
  int runtime_only = !strcmp(argv[1], "spawn") || !strcmp(argv[1], "yield") || !strcmp(argv[1], "cpu");
  if ((!runtime_only && !have_sync()) || (strcmp(argv[1], "select") == 0 && !gr_select) || !have_toolbox(argv[1]) ||
      (strcmp(argv[1], "mutex") == 0 && !(gr_mutex_new && gr_mutex_lock && gr_mutex_unlock)) ||
      ((!strncmp(argv[1], "echo_", 5) || !strcmp(argv[1], "idle_conns")) && !have_fd())) {
    fprintf(stderr, "gr_bench: this libgr lacks the channel/select/sync calls %s needs\n", argv[1]);
    return 65;
  }
  size = atol(argv[2]);
  if (argc > 3) workers = atoi(argv[3]);
  gr_config cfg;
  gr_config_init(&cfg);
  cfg.workers = (uint32_t)workers;
  CHECK(gr_init(&cfg));
  if (chosen->thread) {
    main_goroutine(NULL); /* the same warm-up and run, on this plain thread */
  } else {
    gr_handle *h;
    CHECK(gr_spawn(main_goroutine, NULL, &h));
    CHECK(gr_wait(h, GR_FOREVER));
  }
  fflush(stdout);
  _exit(0); /* the measurement is printed; do not let a slow shutdown count against anything */
}
