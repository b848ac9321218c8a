/* Anchor: the same workloads with one OS thread (pthread) per task and a channel made of a
 * mutex and condition variables. This is what a C programmer writes without gr.
 *
 *   pthread_bench <workload> <size> [workers]
 *
 * workers < CPU count restricts the process to that many CPUs (sched_setaffinity), which is
 * how the cpu workload's "1 worker" run is made. Threads get 256 KiB stacks (gr's default
 * reservation). There is no select workload: pthreads have no select over condvar channels.
 * spawn creates and joins threads in batches of 1,000 (the kernel's pid_max caps live threads).
 */
#include "../common.h"
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

static int workers = 2;

static void die(const char *what) { fprintf(stderr, "pthread_bench: %s\n", what); exit(2); }

static pthread_t start(void *(*fn)(void *), void *arg) {
  pthread_attr_t a;
  pthread_t t;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 256 * 1024);
  if (pthread_create(&t, &a, fn, arg) != 0) die("pthread_create failed");
  pthread_attr_destroy(&a);
  return t;
}

/* ------------------------------------------------ channel: mutex + condvars, Go semantics */
typedef struct chan {
  pthread_mutex_t mu;
  pthread_cond_t not_full, not_empty, taken;
  size_t cap, slots, head, count;
  int closed;
  uint64_t sent, received; /* for capacity 0: a sender waits until its item is received */
  int64_t *buf;
} chan;

static chan *chan_new(size_t cap) {
  chan *c = calloc(1, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->not_full, NULL);
  pthread_cond_init(&c->not_empty, NULL);
  pthread_cond_init(&c->taken, NULL);
  c->cap = cap;
  c->slots = cap ? cap : 1;
  c->buf = calloc(c->slots, sizeof *c->buf);
  return c;
}

static int chan_send(chan *c, int64_t v) {
  pthread_mutex_lock(&c->mu);
  while (c->count == c->slots && !c->closed) pthread_cond_wait(&c->not_full, &c->mu);
  if (c->closed) { pthread_mutex_unlock(&c->mu); return -1; }
  c->buf[(c->head + c->count) % c->slots] = v;
  c->count++;
  uint64_t my = ++c->sent;
  pthread_cond_signal(&c->not_empty);
  if (c->cap == 0)
    while (c->received < my && !c->closed) pthread_cond_wait(&c->taken, &c->mu);
  pthread_mutex_unlock(&c->mu);
  return 0;
}

static int chan_recv(chan *c, int64_t *v) {
  pthread_mutex_lock(&c->mu);
  while (c->count == 0 && !c->closed) pthread_cond_wait(&c->not_empty, &c->mu);
  if (c->count == 0) { pthread_mutex_unlock(&c->mu); *v = 0; return -1; }
  *v = c->buf[c->head];
  c->head = (c->head + 1) % c->slots;
  c->count--;
  c->received++;
  pthread_cond_signal(&c->not_full);
  if (c->cap == 0) pthread_cond_broadcast(&c->taken);
  pthread_mutex_unlock(&c->mu);
  return 0;
}

static void chan_close(chan *c) {
  pthread_mutex_lock(&c->mu);
  c->closed = 1;
  pthread_cond_broadcast(&c->not_full);
  pthread_cond_broadcast(&c->not_empty);
  pthread_cond_broadcast(&c->taken);
  pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------- spawn */
static void *nop(void *arg) { return arg; }
static void w_spawn(long n) {
  enum { BATCH = 1000 };
  pthread_t t[BATCH];
  uint64_t t0 = now_ns();
  for (long done = 0; done < n;) {
    long b = n - done < BATCH ? n - done : BATCH;
    for (long i = 0; i < b; i++) t[i] = start(nop, NULL);
    for (long i = 0; i < b; i++) pthread_join(t[i], NULL);
    done += b;
  }
  report("spawn", n, now_ns() - t0, -1);
}

/* ------------------------------------------------------------- pingpong */
static chan *ping, *pong;
static void *pong_fn(void *arg) {
  int64_t v;
  while (chan_recv(ping, &v) == 0) chan_send(pong, v);
  return arg;
}
static void w_pingpong(long n) {
  ping = chan_new(0); pong = chan_new(0);
  pthread_t t = start(pong_fn, NULL);
  uint64_t t0 = now_ns();
  for (int64_t i = 0; i < n; i++) {
    int64_t r;
    chan_send(ping, i);
    chan_recv(pong, &r);
    if (r != i) die("pingpong mismatch");
  }
  uint64_t t1 = now_ns();
  chan_close(ping);
  pthread_join(t, NULL);
  report("pingpong", n, t1 - t0, -1);
}

/* ----------------------------------------------------------------- ring */
#define RING 503
static chan *ring_ch[RING], *ring_done;
static void *ring_fn(void *arg) {
  long i = (long)(intptr_t)arg;
  int64_t tok;
  while (chan_recv(ring_ch[i], &tok) == 0) {
    if (tok == 0) { chan_send(ring_done, i); return NULL; }
    if (chan_send(ring_ch[(i + 1) % RING], tok - 1) != 0) return NULL;
  }
  return NULL;
}
static void w_ring(long n) {
  pthread_t t[RING];
  int64_t who;
  ring_done = chan_new(0);
  for (long i = 0; i < RING; i++) ring_ch[i] = chan_new(0);
  for (long i = 0; i < RING; i++) t[i] = start(ring_fn, (void *)(intptr_t)i);
  uint64_t t0 = now_ns();
  chan_send(ring_ch[0], n);
  chan_recv(ring_done, &who);
  uint64_t t1 = now_ns();
  if (who != n % RING) die("ring ended at the wrong place");
  for (long i = 0; i < RING; i++) chan_close(ring_ch[i]);
  for (long i = 0; i < RING; i++) pthread_join(t[i], NULL);
  report("ring", n, t1 - t0, -1);
}

/* ---------------------------------------------------------------- fanin */
#define FAN 4
static chan *fan_ch;
static long fan_per;
static int64_t fan_sum[FAN];
static void *fan_prod(void *arg) {
  for (int64_t i = 1; i <= fan_per; i++) chan_send(fan_ch, i);
  return arg;
}
static void *fan_cons(void *arg) {
  long k = (long)(intptr_t)arg;
  int64_t v, s = 0;
  while (chan_recv(fan_ch, &v) == 0) s += v;
  fan_sum[k] = s;
  return NULL;
}
static void w_fanin(long n) {
  pthread_t p[FAN], c[FAN];
  fan_per = n / FAN;
  fan_ch = chan_new(1024);
  uint64_t t0 = now_ns();
  for (long k = 0; k < FAN; k++) c[k] = start(fan_cons, (void *)(intptr_t)k);
  for (long k = 0; k < FAN; k++) p[k] = start(fan_prod, NULL);
  for (long k = 0; k < FAN; k++) pthread_join(p[k], NULL);
  chan_close(fan_ch);
  for (long k = 0; k < FAN; k++) pthread_join(c[k], NULL);
  uint64_t t1 = now_ns();
  int64_t s = 0;
  for (long k = 0; k < FAN; k++) s += fan_sum[k];
  if (s != (int64_t)FAN * fan_per * (fan_per + 1) / 2) die("fanin: bad sum");
  report("fanin", FAN * fan_per, t1 - t0, -1);
}

/* --------------------------------------------------------------- parked */
static chan *park_ch, *park_started;
static void *park_fn(void *arg) {
  int64_t v;
  chan_send(park_started, 1);
  chan_recv(park_ch, &v);
  return arg;
}
static void w_parked(long n) {
  pthread_t *t = calloc((size_t)n, sizeof *t);
  park_ch = chan_new(0);
  park_started = chan_new((size_t)n);
  long hwm0 = vmhwm_kib();
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) t[i] = start(park_fn, NULL);
  for (long i = 0; i < n; i++) { int64_t v; chan_recv(park_started, &v); }
  usleep(50000);
  long hwm1 = vmhwm_kib();
  uint64_t t1 = now_ns();
  chan_close(park_ch);
  for (long i = 0; i < n; i++) pthread_join(t[i], NULL);
  report("parked", n, t1 - t0, (double)(hwm1 - hwm0) / (double)n);
}

/* ---------------------------------------------------------------- yield */
static long yield_n;
static void *yield_fn(void *arg) {
  for (long i = 0; i < yield_n; i++) sched_yield();
  return arg;
}
static void w_yield(long n) {
  long g = 2L * workers;
  pthread_t t[64];
  yield_n = n;
  uint64_t t0 = now_ns();
  for (long i = 0; i < g; i++) t[i] = start(yield_fn, NULL);
  for (long i = 0; i < g; i++) pthread_join(t[i], NULL);
  report("yield", (uint64_t)g * n, now_ns() - t0, -1);
}

/* ---------------------------------------------------------------- sieve */
struct filt { chan *in, *out; int64_t prime; };
static void *gen_fn(void *arg) {
  for (int64_t i = 2;; i++) if (chan_send(arg, i) != 0) return NULL;
}
static void *filt_fn(void *arg) {
  struct filt *f = arg;
  int64_t i;
  while (chan_recv(f->in, &i) == 0)
    if (i % f->prime != 0 && chan_send(f->out, i) != 0) break;
  return NULL;
}
static void w_sieve(long n) {
  chan **ch = calloc((size_t)n + 1, sizeof *ch);
  pthread_t *t = calloc((size_t)n + 1, sizeof *t);
  struct filt *f = calloc((size_t)n, sizeof *f);
  int64_t prime = 0;
  uint64_t t0 = now_ns();
  ch[0] = chan_new(0);
  t[n] = start(gen_fn, ch[0]);
  for (long i = 0; i < n; i++) {
    chan_recv(ch[i], &prime);
    ch[i + 1] = chan_new(0);
    f[i] = (struct filt){ch[i], ch[i + 1], prime};
    t[i] = start(filt_fn, &f[i]);
  }
  uint64_t t1 = now_ns();
  if (prime != nth_prime(n)) die("sieve: wrong prime");
  for (long i = 0; i <= n; i++) chan_close(ch[i]);
  for (long i = 0; i <= n; i++) pthread_join(t[i], NULL);
  report("sieve", n, t1 - t0, -1);
}

/* ---------------------------------------------------------------- mutex */
#define MUTEX_G 1000
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long mu_k, mu_counter;
static void *mutex_fn(void *arg) {
  for (long i = 0; i < mu_k; i++) {
    pthread_mutex_lock(&mu);
    mu_counter++;
    pthread_mutex_unlock(&mu);
  }
  return arg;
}
static void w_mutex(long k) {
  pthread_t t[MUTEX_G];
  mu_k = k; mu_counter = 0;
  uint64_t t0 = now_ns();
  for (long i = 0; i < MUTEX_G; i++) t[i] = start(mutex_fn, NULL);
  for (long i = 0; i < MUTEX_G; i++) pthread_join(t[i], NULL);
  uint64_t t1 = now_ns();
  if (mu_counter != MUTEX_G * k) die("mutex: bad counter");
  report("mutex", (uint64_t)MUTEX_G * k, t1 - t0, -1);
}

/* ------------------------------------------------------------------ cpu */
static long *cpu_out;
static void *cpu_fn(void *arg) {
  cpu_out[(intptr_t)arg] = fib(FIB_N);
  return NULL;
}
static void w_cpu(long n) {
  pthread_t *t = calloc((size_t)n, sizeof *t);
  cpu_out = calloc((size_t)n, sizeof *cpu_out);
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) t[i] = start(cpu_fn, (void *)(intptr_t)i);
  for (long i = 0; i < n; i++) pthread_join(t[i], NULL);
  uint64_t t1 = now_ns();
  for (long i = 0; i < n; i++) if (cpu_out[i] != FIB_27) die("cpu: bad fib");
  report("cpu", n, t1 - t0, -1);
}

struct workload { const char *name; void (*fn)(long); long min_warm; };
static const struct workload table[] = {
  {"spawn", w_spawn, 100}, {"pingpong", w_pingpong, 100}, {"ring", w_ring, 100},
  {"fanin", w_fanin, 1000}, {"parked", w_parked, 0}, {"yield", w_yield, 100},
  {"sieve", w_sieve, 50}, {"mutex", w_mutex, 10}, {"cpu", w_cpu, 10},
};

int main(int argc, char **argv) {
  const struct workload *w = NULL;
  if (argc < 3) { fprintf(stderr, "usage: %s <workload> <size> [workers]\n", argv[0]); return 64; }
  for (size_t i = 0; i < sizeof table / sizeof *table; i++)
    if (strcmp(table[i].name, argv[1]) == 0) w = &table[i];
  if (!w) { fprintf(stderr, "pthread_bench: workload %s not available\n", argv[1]); return 65; }
  long size = atol(argv[2]);
  if (argc > 3) workers = atoi(argv[3]);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (workers < ncpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < workers; i++) CPU_SET(i, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  if (w->min_warm > 0) {
    long s = size / 10 > w->min_warm ? size / 10 : w->min_warm;
    w->fn(s < size ? s : size);
  }
  w->fn(size);
  return 0;
}
