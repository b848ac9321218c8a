/* gr_fuzz: a seeded random-operation fuzzer over gr's C API, and its soak (issue 11).
 *
 *   gr_fuzz [--seed N] [--seconds S | --ops N] [--workers W] [--actors A] [--quiet]
 *   gr_fuzz --soak MINUTES [--seed N]              (make soak)
 *   gr_fuzz --cycle-minutes MINUTES | --cycles N   (make soak MODE=cycle)
 *
 * Actors (plain threads, coroutine goroutines and thread-bound goroutines; the seed picks
 * 3-10 of them and 1-4 workers) run random operations for S seconds (or N operations each):
 * channel sends and receives on channels of several element sizes and capacities (some with
 * a drop function) that are closed and replaced mid-run, selects with NULL channels,
 * repeated cases and discarding receives, timeouts (poll, short, forever), cancel tokens
 * fired and reset, Mutex and WaitGroup (freed right after the wait), spawns of transient
 * actors of every kind (bound, local, other stack sizes, failing with gr_goroutine_fail)
 * joined with timeouts, sleeps, yields, pin/unpin, blocking sections, stats and bad input.
 *
 * Accounting: every value sent is a unique token (actor uid, sequence) and elements carry
 * check words. Each token is marked when a send of it is accepted (GR_OK) and when it is
 * received or dropped by a channel's drop function (a second receipt fails at once:
 * duplicated). At the end every channel is closed and drained, and the ledger must balance
 * exactly: no token received that was not accepted (invented), and the accepted tokens never
 * received are exactly the receives that discarded their value (a select case with a NULL
 * element): nothing lost. Every return code is checked against what the call may return for
 * its arguments, and outputs of failed calls against their contract (a failed send keeps its
 * value, an unchosen select case is untouched...).
 *
 * A failure prints the seed and the command that replays it: every actor draws its
 * operations from its own generator seeded from the seed, so a replay runs the same
 * operation sequences (the interleaving, which the OS decides, may differ: run the replay a
 * few times). A watchdog fails the run on a hang (a round overstays its budget by 60 s) or a
 * stall (no operation completes for 15 s: a lost wake-up), with what every actor was doing.
 * Exit 0 prints one line: "gr_fuzz: ok seed=... ops=... ops/s=... accepted=... received=...".
 *
 * Soak: the same churn of every primitive, with a constant-memory ledger (counts and sums,
 * no discarding receives), and the process's RSS, threads, fds and mappings sampled every
 * second (--soak) or after every gr_init / short round / gr_shutdown cycle (--cycle-*),
 * then judged flat after the warm-up. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "gr.h"
#include "resources.h"
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ config */
#define NSLOTS 6         /* shared channel slots */
#define NCANCEL 3        /* shared cancel tokens */
#define MAXACT 16        /* long-lived actors */
#define MAXKIDS 8        /* pending children per actor */
#define MAXESZ 40
static const size_t ESZ[] = {8, 16, 40};
static const size_t CAPS[] = {0, 0, 1, 4, 64};

static uint64_t g_seed;
static unsigned g_workers, g_actors;
static double g_seconds;
static long g_ops;
static int g_quiet;
static char g_mode[64] = "--seconds 2"; /* how this run was asked for, for the replay line */
static int g_ticking;                   /* the main thread ticks (a timed round) */
static atomic_int g_stop;
static atomic_long g_progress; /* operations completed, for the watchdog */

static double now_s(void) {
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --------------------------------------------------------------- failures */
static void fail(const char *fmt, ...) {
  char msg[512];
  va_list ap; va_start(ap, fmt); vsnprintf(msg, sizeof msg, fmt, ap); va_end(ap);
  fprintf(stderr, "gr_fuzz: FAIL seed=%llu workers=%u actors=%u: %s\n", (unsigned long long)g_seed, g_workers, g_actors, msg);
  resources now = resources_now();
  fprintf(stderr, "gr_fuzz: at the failure: rss %ld KiB, threads %ld, fds %ld, mappings %ld\n", now.rss_kib, now.threads, now.fds, now.maps);
  fprintf(stderr, "gr_fuzz: replay: gr_fuzz --seed %llu --workers %u --actors %u %s\n", (unsigned long long)g_seed, g_workers, g_actors, g_mode);
  fflush(stderr);
  _exit(1);
}
#define REQUIRE(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)
#define RC_IN(rc, ...) rc_in((rc), (const int[]){__VA_ARGS__, 99}, #__VA_ARGS__, __LINE__)
static void rc_in(int rc, const int *ok, const char *names, int line) {
  for (; *ok != 99; ok++) if (rc == *ok) return;
  fail("line %d: return code %d (%s), expected one of %s", line, rc, gr_strerror(rc), names);
}

/* -------------------------------------------------------------------- PRNG */
typedef struct { uint64_t s; } rng_t;
static uint64_t rnext(rng_t *r) { /* splitmix64 */
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static uint32_t rbelow(rng_t *r, uint32_t n) { return (uint32_t)(((rnext(r) >> 32) * n) >> 32); }
static int rpct(rng_t *r, unsigned pct) { return rbelow(r, 100) < pct; }
/* Log-uniform in [lo, hi): as many short waits as long ones. */
static int64_t rlog(rng_t *r, int64_t lo, int64_t hi) {
  double u = (rnext(r) >> 11) * (1.0 / 9007199254740992.0);
  return (int64_t)(lo * exp(u * log((double)hi / lo)));
}
static uint64_t mix(uint64_t x) { rng_t r = {x}; return rnext(&r); }

/* ------------------------------------------------------------------ ledger
 * uid -> two bitmaps over the uid's sequence numbers: accepted sends, receipts. A uid's
 * bitmaps are allocated before any of its tokens is sent, and published (release) through
 * a chunked table that never moves. */
#define UCHUNK 4096
#define MAXUCHUNK 4096
typedef struct { uint32_t cap; _Atomic uint64_t *sent, *recv; } uidrec;
static _Atomic(uidrec *) uchunks[MAXUCHUNK];
static atomic_uint next_uid = 1;
static pthread_mutex_t uid_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_long discards;

static uint32_t ledger_new_uid(uint32_t cap) {
  pthread_mutex_lock(&uid_mu);
  uint32_t uid = atomic_load(&next_uid);
  REQUIRE(uid / UCHUNK < MAXUCHUNK, "too many token spaces");
  uidrec *ch = atomic_load_explicit(&uchunks[uid / UCHUNK], memory_order_acquire);
  if (!ch) {
    ch = calloc(UCHUNK, sizeof *ch);
    REQUIRE(ch, "out of memory");
    atomic_store_explicit(&uchunks[uid / UCHUNK], ch, memory_order_release);
  }
  uidrec *u = &ch[uid % UCHUNK];
  u->cap = cap;
  u->sent = calloc((cap + 63) / 64, sizeof(uint64_t));
  u->recv = calloc((cap + 63) / 64, sizeof(uint64_t));
  REQUIRE(u->sent && u->recv, "out of memory");
  atomic_store_explicit(&next_uid, uid + 1, memory_order_release);
  pthread_mutex_unlock(&uid_mu);
  return uid;
}

static uidrec *uid_get(uint32_t uid) {
  if (uid == 0 || uid >= atomic_load_explicit(&next_uid, memory_order_acquire)) return NULL;
  uidrec *ch = atomic_load_explicit(&uchunks[uid / UCHUNK], memory_order_acquire);
  return ch ? &ch[uid % UCHUNK] : NULL;
}

/* The soak's ledger (--soak, --cycles): counts and sums of the tokens accepted and received,
 * equal at the end of every round. Constant memory, so resources can be judged flat; it
 * cannot name the token at fault, and the soak makes no discarding receives. */
static int g_sums;
static atomic_ulong sum_sent, sum_recv;
static atomic_long n_sent, n_recv;

static void mark(uint64_t tok, int recv) {
  if (g_sums) {
    atomic_fetch_add(recv ? &sum_recv : &sum_sent, mix(tok));
    atomic_fetch_add(recv ? &n_recv : &n_sent, 1);
    return;
  }
  uint32_t uid = (uint32_t)(tok >> 32), seq = (uint32_t)tok;
  uidrec *u = uid_get(uid);
  REQUIRE(u && seq < u->cap, "invented value: token %016llx names no token space", (unsigned long long)tok);
  _Atomic uint64_t *w = (recv ? u->recv : u->sent) + seq / 64;
  uint64_t bit = 1ull << (seq % 64);
  uint64_t old = atomic_fetch_or(w, bit);
  REQUIRE(!(old & bit), "%s value %016llx", recv ? "duplicated: received twice" : "sent twice:", (unsigned long long)tok);
}

/* ---------------------------------------------------------------- elements */
static void fill(unsigned char *buf, size_t esz, uint64_t tok) {
  uint64_t w[MAXESZ / 8];
  w[0] = tok;
  for (size_t i = 1; i < esz / 8; i++) w[i] = mix(tok + i);
  memcpy(buf, w, esz);
}

static uint64_t check_elem(const unsigned char *buf, size_t esz) {
  uint64_t w[MAXESZ / 8];
  memcpy(w, buf, esz);
  for (size_t i = 1; i < esz / 8; i++)
    REQUIRE(w[i] == mix(w[0] + i), "corrupted element (size %zu, token %016llx, word %zu)", esz, (unsigned long long)w[0], i);
  return w[0];
}

static int all_zero(const unsigned char *buf, size_t n) {
  for (size_t i = 0; i < n; i++) if (buf[i]) return 0;
  return 1;
}

/* ------------------------------------------------------------------- slots */
typedef struct { pthread_mutex_t mu; gr_chan *ch; size_t esz, cap; int drop, dead; } slot_t;
static slot_t slots[NSLOTS];
static gr_cancel *cancels[NCANCEL], *tick_tok;
static gr_mutex *g_mu;
static atomic_long mu_holder;
static gr_wg *shared_wg;

/* The channel in slot i, retained (NULL once the run is over). */
static gr_chan *slot_get(int i, size_t *esz, size_t *cap) {
  pthread_mutex_lock(&slots[i].mu);
  int live = slots[i].ch != NULL;
  gr_chan *c = live ? gr_chan_retain(slots[i].ch) : NULL;
  *esz = slots[i].esz; *cap = slots[i].cap;
  pthread_mutex_unlock(&slots[i].mu);
  if (live) REQUIRE(c, "gr_chan_retain of a live channel returned NULL");
  return c;
}

/* Receives everything left in a closed channel. */
static long drain(gr_chan *c, size_t esz) {
  unsigned char buf[MAXESZ];
  long n = 0;
  for (;;) {
    int rc = gr_chan_recv(c, buf, 0);
    RC_IN(rc, GR_OK, GR_ECLOSED);
    if (rc == GR_ECLOSED) { REQUIRE(all_zero(buf, esz), "receive on a closed channel did not zero the element"); return n; }
    mark(check_elem(buf, esz), 1);
    n++;
  }
}

/* gr_chan_new_with_drop's function: an element left in a freed channel counts as received
 * (exactly once: a second call for it fails as a duplicate). */
static atomic_long dropped;
static void drop_elem(void *elem, void *ctx) {
  mark(check_elem(elem, (size_t)(uintptr_t)ctx), 1);
  atomic_fetch_add(&dropped, 1);
}

static gr_chan *new_chan(rng_t *r, size_t *esz, size_t *cap, int *drop) {
  *esz = ESZ[rbelow(r, 3)];
  *cap = CAPS[rbelow(r, 5)];
  gr_chan *c = NULL;
  if ((*drop = rpct(r, 30))) RC_IN(gr_chan_new_with_drop(*esz, *cap, drop_elem, (void *)(uintptr_t)*esz, &c), GR_OK);
  else RC_IN(gr_chan_new(*esz, *cap, &c), GR_OK);
  REQUIRE(gr_chan_cap(c) == *cap, "gr_chan_cap");
  return c;
}

/* Closed channels whose draining is left to the end of the run (their drop function, if
 * any, then runs on release; those without one are drained first). */
#define MAXPENDING 64
static struct { gr_chan *ch; size_t esz; int drop; } pending[MAXPENDING];
static int npending;
static pthread_mutex_t pending_mu = PTHREAD_MUTEX_INITIALIZER;

/* Closes slot i's channel and puts a new one in its place (unless the run is over). */
static long slot_replace(rng_t *r, int i) {
  size_t esz, cap;
  int drop;
  gr_chan *n = new_chan(r, &esz, &cap, &drop);
  pthread_mutex_lock(&slots[i].mu);
  if (slots[i].dead) { pthread_mutex_unlock(&slots[i].mu); gr_chan_release(n); return 0; }
  gr_chan *old = slots[i].ch;
  size_t oesz = slots[i].esz;
  int odrop = slots[i].drop;
  slots[i].ch = n; slots[i].esz = esz; slots[i].cap = cap; slots[i].drop = drop;
  pthread_mutex_unlock(&slots[i].mu);
  RC_IN(gr_chan_close(old), GR_OK);
  RC_IN(gr_chan_close(old), GR_ECLOSED);
  /* Drained here, or (half the time) left to whoever releases it last: its buffered
   * elements then go to its drop function (or, without one, are lost: counted below). */
  long got = 0;
  int kept = 0;
  if (rpct(r, 50)) {
    pthread_mutex_lock(&pending_mu);
    if (npending < MAXPENDING) {
      pending[npending].ch = gr_chan_retain(old);
      pending[npending].esz = oesz;
      pending[npending].drop = odrop;
      npending++;
      kept = 1;
    }
    pthread_mutex_unlock(&pending_mu);
  } else if (odrop && rpct(r, 50)) {
    kept = 1; /* the last release (ours or a holder's) drops what is left */
  }
  if (!kept) got = drain(old, oesz);
  gr_chan_release(old);
  return got;
}

/* ------------------------------------------------------------------ actors */
enum { K_THREAD, K_CORO, K_BOUND };
static const char *KIND[] = {"thread", "goroutine", "bound goroutine"};

typedef struct counters {
  long ops, sends, recvs, selects, sel_sends, sel_recvs, replaces, drained, timeouts, polls,
      cancelled, closed, spawns, joins, mutex, wg, sleeps, pins, bad;
} counters;
static counters total;
static pthread_mutex_t total_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct actor {
  int kind, depth;
  long id;
  rng_t rng;
  uint32_t uid, seq, cap;
  long budget;             /* operations left (transient actors and --ops), -1: until stop */
  counters c;
  const char *_Atomic doing;
  gr_wg *parent_wg;        /* transient: done when finished */
  int fails;               /* transient: ends with gr_goroutine_fail (its join: GR_EPANIC) */
  atomic_int *finished;    /* transient: set when finished */
  gr_handle *kids[MAXKIDS];
  struct actor *kidact[MAXKIDS];
  int nkids;
} actor;

static actor *actors[MAXACT];
static int kinds[MAXACT]; /* the long-lived actors' kinds (for the report) */
static atomic_long next_actor_id;

static uint64_t new_token(actor *a) {
  if (g_sums) return (uint64_t)a->id << 32 | a->seq++;
  if (a->seq == a->cap) {
    a->cap = a->depth ? 64 : 65536;
    a->uid = ledger_new_uid(a->cap);
    a->seq = 0;
  }
  return (uint64_t)a->uid << 32 | a->seq++;
}

static void check_context(actor *a) {
  int ctx = gr_context();
  uint64_t self = gr_self();
  switch (a->kind) {
  case K_THREAD: REQUIRE(ctx == GR_CTX_THREAD && self == 0, "thread context %d self %llu", ctx, (unsigned long long)self); break;
  case K_CORO: REQUIRE(ctx == GR_CTX_COROUTINE && self != 0, "goroutine context %d", ctx); break;
  case K_BOUND: REQUIRE(ctx == GR_CTX_BOUND && self != 0, "bound context %d", ctx); break;
  }
}

/* A timeout for a wait: poll, short, or forever. A wait forever needs a way out, or the
 * actors would end up all waiting: a channel (the main thread replaces one now and then,
 * which closes it, and closes them all at the end) or the tick token (the main thread fires
 * it every other tick and resets it in between, and fires it for good at the end; the
 * shared tokens may be reset after the end by a transient actor still at work). An --ops
 * run has no main-thread ticks: there, forever is 20 ms. */
static int64_t pick_timeout(actor *a, gr_cancel **c, int has_chan) {
  rng_t *r = &a->rng;
  unsigned x = rbelow(r, 100);
  int64_t to = x < 30 ? 0 : x < 94 ? rlog(r, 1000, 2000000) : GR_FOREVER;
  *c = NULL;
  if (rpct(r, 25)) *c = cancels[rbelow(r, NCANCEL)];
  if (to == GR_FOREVER && !g_ticking) to = 20000000;
  if (to == GR_FOREVER && !has_chan) *c = tick_tok;
  return to;
}

/* The codes a wait may end with besides success, given its timeout and cancel token. */
static void check_wait_rc(int rc, int64_t to, gr_cancel *c, actor *a, int line) {
  if (rc == GR_EAGAIN) { REQUIRE(to == 0, "line %d: GR_EAGAIN with timeout %lld", line, (long long)to); a->c.polls++; return; }
  if (rc == GR_ETIMEDOUT) { REQUIRE(to > 0, "line %d: GR_ETIMEDOUT with timeout %lld", line, (long long)to); a->c.timeouts++; return; }
  if (rc == GR_ECANCELED) { REQUIRE(c != NULL, "line %d: GR_ECANCELED without a token", line); a->c.cancelled++; return; }
  fail("line %d: unexpected %d (%s) from a %s", line, rc, gr_strerror(rc), KIND[a->kind]);
}

static void op_send(actor *a) {
  size_t esz, cap;
  gr_chan *ch = slot_get(rbelow(&a->rng, NSLOTS), &esz, &cap);
  if (!ch) return;
  uint64_t tok = new_token(a);
  unsigned char buf[MAXESZ];
  fill(buf, esz, tok);
  gr_cancel *c;
  int64_t to = pick_timeout(a, &c, 1);
  int rc = (c || rpct(&a->rng, 50)) ? gr_chan_send_ex(ch, buf, to, c) : gr_chan_send(ch, buf, to);
  if (rc == GR_OK) { mark(tok, 0); a->c.sends++; }
  else if (rc == GR_ECLOSED) a->c.closed++;
  else check_wait_rc(rc, to, c, a, __LINE__);
  if (rc != GR_OK) REQUIRE(check_elem(buf, esz) == tok, "a failed send changed its element");
  REQUIRE(gr_chan_len(ch) <= cap, "gr_chan_len above capacity");
  gr_chan_release(ch);
}

static void op_recv(actor *a) {
  size_t esz, cap;
  gr_chan *ch = slot_get(rbelow(&a->rng, NSLOTS), &esz, &cap);
  if (!ch) return;
  unsigned char buf[MAXESZ];
  memset(buf, 0xA5, sizeof buf);
  gr_cancel *c;
  int64_t to = pick_timeout(a, &c, 1);
  int rc = (c || rpct(&a->rng, 50)) ? gr_chan_recv_ex(ch, buf, to, c) : gr_chan_recv(ch, buf, to);
  if (rc == GR_OK) { mark(check_elem(buf, esz), 1); a->c.recvs++; }
  else if (rc == GR_ECLOSED) { REQUIRE(all_zero(buf, esz), "GR_ECLOSED receive did not zero"); a->c.closed++; }
  else {
    check_wait_rc(rc, to, c, a, __LINE__);
    for (size_t i = 0; i < esz; i++) REQUIRE(buf[i] == 0xA5, "a failed receive wrote its element");
  }
  gr_chan_release(ch);
}

#define MAXCASES 6
static void op_select(actor *a) {
  rng_t *r = &a->rng;
  size_t n = 1 + rbelow(r, MAXCASES);
  gr_case cs[MAXCASES];
  gr_chan *held[MAXCASES];
  size_t esz[MAXCASES];
  uint64_t tok[MAXCASES];
  unsigned char buf[MAXCASES][MAXESZ];
  int slot[MAXCASES], any = 0;
  for (size_t i = 0; i < n; i++) {
    size_t cap;
    held[i] = NULL; esz[i] = 0; tok[i] = 0;
    memset(buf[i], 0xA5, MAXESZ);
    int nil = rpct(r, 12);
    slot[i] = (i > 0 && rpct(r, 25)) ? slot[rbelow(r, (uint32_t)i)] : (int)rbelow(r, NSLOTS); /* repeated cases */
    if (!nil) held[i] = slot_get(slot[i], &esz[i], &cap);
    cs[i].chan = held[i];
    cs[i].op = rpct(r, 50) ? GR_SEND : GR_RECV;
    cs[i].status = 12345;
    if (cs[i].op == GR_SEND) {
      if (held[i]) { tok[i] = new_token(a); fill(buf[i], esz[i], tok[i]); }
      cs[i].elem = buf[i];
    } else {
      cs[i].elem = rpct(r, 10) && !g_sums ? NULL : buf[i]; /* NULL: discard the value */
    }
    any |= held[i] != NULL;
  }
  gr_cancel *c;
  int64_t to = pick_timeout(a, &c, any);
  int rc = (c || rpct(r, 50)) ? gr_select_ex(cs, n, to, c) : gr_select(cs, n, to);
  a->c.selects++;
  if (rc >= 0) {
    REQUIRE((size_t)rc < n && cs[rc].chan, "select chose case %d of %zu (chan %p)", rc, n, (void *)(rc >= 0 && (size_t)rc < n ? cs[rc].chan : NULL));
    RC_IN(cs[rc].status, GR_OK, GR_ECLOSED);
    if (cs[rc].op == GR_SEND) {
      if (cs[rc].status == GR_OK) { mark(tok[rc], 0); a->c.sel_sends++; } else a->c.closed++;
    } else if (cs[rc].status == GR_OK) {
      if (cs[rc].elem) mark(check_elem(buf[rc], esz[rc]), 1); else atomic_fetch_add(&discards, 1);
      a->c.sel_recvs++;
    } else {
      if (cs[rc].elem) REQUIRE(all_zero(buf[rc], esz[rc]), "select: closed receive not zeroed");
      a->c.closed++;
    }
  } else {
    check_wait_rc(rc, to, c, a, __LINE__);
  }
  for (size_t i = 0; i < n; i++) {
    if ((int)i == rc) continue;
    REQUIRE(cs[i].status == 12345, "select wrote the status of unchosen case %zu", i);
    if (cs[i].op == GR_SEND && held[i]) REQUIRE(check_elem(buf[i], esz[i]) == tok[i], "select changed an unchosen send's element");
    if (cs[i].op == GR_RECV)
      for (size_t b = 0; b < MAXESZ; b++) REQUIRE(buf[i][b] == 0xA5, "select wrote an unchosen receive's element");
  }
  for (size_t i = 0; i < n; i++) if (held[i]) gr_chan_release(held[i]);
}

static void op_mutex(actor *a) {
  gr_cancel *c;
  int64_t to = pick_timeout(a, &c, 0);
  int rc = c ? gr_mutex_lock_ex(g_mu, to, c) : gr_mutex_lock(g_mu, to);
  if (rc != GR_OK) { check_wait_rc(rc, to, c, a, __LINE__); return; }
  REQUIRE(atomic_exchange(&mu_holder, a->id) == 0, "two holders of one gr_mutex");
  switch (rbelow(&a->rng, 4)) {
  case 0: gr_yield(); break;
  case 1: RC_IN(gr_sleep(rlog(&a->rng, 100, 20000)), GR_OK); break;
  default: break;
  }
  REQUIRE(atomic_exchange(&mu_holder, 0) == a->id, "gr_mutex holder changed while held");
  RC_IN(gr_mutex_unlock(g_mu), GR_OK);
  a->c.mutex++;
}

static void actor_loop(actor *a);

/* A transient actor: a spawned goroutine (or bound one) with a small budget. */
static void kid_main(void *arg) {
  actor *k = arg;
  actor_loop(k);
}

static actor *new_actor(actor *parent, int kind) {
  actor *k = calloc(1, sizeof *k);
  REQUIRE(k, "out of memory");
  k->kind = kind;
  k->depth = parent ? parent->depth + 1 : 0;
  k->id = atomic_fetch_add(&next_actor_id, 1) + 1;
  /* Main actors' streams derive from the seed and their index, kids' from their parent's. */
  k->rng.s = parent ? rnext(&parent->rng) : mix(g_seed ^ (uint64_t)k->id * 0x100000001B3ull);
  k->budget = -1;
  return k;
}

/* Spawns a transient actor of a random kind and options. `out` NULL: detached. */
static int spawn_kid(actor *a, actor *k, gr_handle **out) {
  rng_t *r = &a->rng;
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  unsigned x = rbelow(r, 10);
  if (x < 2) o.flags = GR_SPAWN_BOUND;
  else if (x < 4) o.flags = GR_SPAWN_LOCAL;
  if (rpct(r, 15)) o.stack_size = rpct(r, 50) ? 64 << 10 : 1 << 20;
  k->kind = (o.flags & GR_SPAWN_BOUND) ? K_BOUND : K_CORO;
  int rc = rpct(r, 30) && !o.stack_size && !o.flags ? gr_spawn(kid_main, k, out) : gr_spawn_ex(kid_main, k, &o, out);
  RC_IN(rc, GR_OK);
  a->c.spawns++;
  return rc;
}

static void finish_kid(actor *a, int i, int rc) {
  actor *k = a->kidact[i];
  if (k->fails) {
    RC_IN(rc, GR_EPANIC);
    const char *msg = gr_handle_error(a->kids[i]);
    char want[64];
    snprintf(want, sizeof want, "fuzz kid %ld failed", k->id);
    REQUIRE(msg && !strcmp(msg, want), "gr_handle_error: %s, want %s", msg ? msg : "NULL", want);
  } else {
    RC_IN(rc, GR_OK);
    REQUIRE(gr_handle_error(a->kids[i]) == NULL, "gr_handle_error of a goroutine that did not fail");
  }
  REQUIRE(atomic_load(k->finished), "gr_wait returned before the goroutine finished");
  gr_handle_release(a->kids[i]);
  free(k->finished);
  free(k);
  a->kids[i] = a->kids[a->nkids - 1];
  a->kidact[i] = a->kidact[a->nkids - 1];
  a->nkids--;
  a->c.joins++;
}

static void op_spawn(actor *a) {
  rng_t *r = &a->rng;
  if (a->depth >= 2) return;
  if (a->nkids == MAXKIDS) { /* join the oldest, forever */
    finish_kid(a, 0, gr_wait(a->kids[0], GR_FOREVER));
    return;
  }
  actor *k = new_actor(a, K_CORO);
  k->budget = 1 + rbelow(r, 24);
  k->fails = rpct(r, 10);
  k->finished = calloc(1, sizeof *k->finished);
  int i = a->nkids++;
  a->kidact[i] = k;
  spawn_kid(a, k, &a->kids[i]);
}

static void op_join(actor *a) {
  if (!a->nkids) return;
  int i = (int)rbelow(&a->rng, (uint32_t)a->nkids);
  gr_cancel *c;
  int64_t to = pick_timeout(a, &c, 0);
  if (to == GR_FOREVER) c = NULL; /* kids always finish */
  int rc = c ? gr_wait_ex(a->kids[i], to, c) : gr_wait(a->kids[i], to);
  if (rc == GR_OK || rc == GR_EPANIC) finish_kid(a, i, rc);
  else check_wait_rc(rc, to, c, a, __LINE__);
}

/* A private WaitGroup over a few kids (detached), waited for with a timeout, then forever. */
static void op_wg(actor *a) {
  rng_t *r = &a->rng;
  if (a->depth >= 2) return;
  int n = 1 + (int)rbelow(r, 3);
  gr_wg *wg;
  RC_IN(gr_wg_new(&wg), GR_OK);
  RC_IN(gr_wg_add(wg, n), GR_OK);
  atomic_int *fin[3];
  for (int i = 0; i < n; i++) {
    actor *k = new_actor(a, K_CORO);
    k->budget = rbelow(r, 8);
    k->parent_wg = wg;
    k->finished = fin[i] = calloc(1, sizeof *fin[i]);
    REQUIRE(fin[i], "out of memory");
    spawn_kid(a, k, NULL); /* detached: it frees itself */
  }
  gr_cancel *c;
  int64_t to = pick_timeout(a, &c, 0);
  if (to == GR_FOREVER) c = NULL;
  int rc = c ? gr_wg_wait_ex(wg, to, c) : gr_wg_wait(wg, to);
  if (rc != GR_OK) {
    check_wait_rc(rc, to, c, a, __LINE__);
    RC_IN(gr_wg_wait(wg, GR_FOREVER), GR_OK);
  }
  for (int i = 0; i < n; i++) {
    REQUIRE(atomic_load(fin[i]), "gr_wg_wait returned before every done");
    free(fin[i]);
  }
  RC_IN(gr_wg_add(wg, -1), GR_EINVAL);
  /* Freed at once, while the last kid may still be returning from its gr_wg_done: a wait
   * that returned GR_OK is the last use the waiter must respect (as with sem_destroy). */
  gr_wg_free(wg);
  a->c.wg++;
}

/* Waits on the shared WaitGroup, which another actor holds above zero for a while. */
static void op_wg_shared(actor *a) {
  rng_t *r = &a->rng;
  if (rpct(r, 30)) {
    RC_IN(gr_wg_add(shared_wg, 1), GR_OK);
    RC_IN(gr_sleep(rlog(r, 100, 200000)), GR_OK);
    RC_IN(gr_wg_done(shared_wg), GR_OK);
    return;
  }
  gr_cancel *c;
  int64_t to = pick_timeout(a, &c, 0);
  if (to == GR_FOREVER && !c) c = tick_tok;
  int rc = c ? gr_wg_wait_ex(shared_wg, to, c) : gr_wg_wait(shared_wg, to);
  if (rc != GR_OK) check_wait_rc(rc, to, c, a, __LINE__);
  a->c.wg++;
}

static void op_sleep(actor *a) {
  rng_t *r = &a->rng;
  int64_t ns = rpct(r, 10) ? 0 : rlog(r, 100, 300000);
  gr_cancel *c = rpct(r, 30) ? cancels[rbelow(r, NCANCEL)] : NULL;
  double t0 = now_s();
  int rc = c ? gr_sleep_ex(ns, c) : gr_sleep(ns);
  if (rc == GR_OK) REQUIRE(now_s() - t0 >= ns / 1e9 - 1e-6, "gr_sleep(%lld) woke early after %.0f ns", (long long)ns, (now_s() - t0) * 1e9);
  else { REQUIRE(rc == GR_ECANCELED && c, "gr_sleep returned %d", rc); a->c.cancelled++; }
  a->c.sleeps++;
}

static void op_pin(actor *a) {
  if (a->kind == K_THREAD) { RC_IN(gr_pin(), GR_ESTATE); RC_IN(gr_unpin(), GR_ESTATE); return; }
  RC_IN(gr_pin(), GR_OK);
  pid_t tid = (pid_t)syscall(SYS_gettid);
  for (int i = 0, n = 1 + (int)rbelow(&a->rng, 3); i < n; i++) {
    switch (rbelow(&a->rng, 3)) {
    case 0: gr_yield(); break;
    case 1: RC_IN(gr_sleep(rlog(&a->rng, 100, 50000)), GR_OK); break;
    default: op_recv(a); break;
    }
    REQUIRE((pid_t)syscall(SYS_gettid) == tid, "a pinned goroutine moved to another thread");
  }
  (void)gr_should_yield();
  RC_IN(gr_unpin(), GR_OK);
  a->c.pins++;
}

static void op_cancel(actor *a) {
  gr_cancel *c = cancels[rbelow(&a->rng, NCANCEL)];
  if (rpct(&a->rng, 50)) RC_IN(gr_cancel_fire(c), GR_OK);
  else if (!atomic_load(&g_stop)) RC_IN(gr_cancel_reset(c), GR_OK);
}

static void op_misc(actor *a) {
  rng_t *r = &a->rng;
  switch (rbelow(r, 7)) {
  case 0: gr_yield(); break;
  case 1:
    if (a->kind != K_THREAD) {
      gr_blocking_begin();
      usleep(rbelow(r, 200));
      gr_blocking_end();
    }
    break;
  case 2: {
    gr_stats st = {.size = sizeof st};
    RC_IN(gr_stats_get(&st), GR_OK);
    REQUIRE(st.workers == g_workers, "gr_stats_get: workers %u", st.workers);
    break;
  }
  case 3: { /* bad input: each gets its documented code and writes nothing */
    unsigned char v[8] = {0};
    RC_IN(gr_chan_send(NULL, v, 0), GR_EINVAL);
    RC_IN(gr_chan_recv(NULL, v, 0), GR_EINVAL);
    RC_IN(gr_wg_wait(NULL, 0), GR_EINVAL);
    RC_IN(gr_mutex_lock(NULL, 0), GR_EINVAL);
    RC_IN(gr_wait(NULL, 0), GR_EINVAL);
    RC_IN(gr_select(NULL, 1, 0), GR_EINVAL);
    gr_case bad = {.chan = NULL, .op = (gr_op)7, .elem = v, .status = 5};
    RC_IN(gr_select(&bad, 1, 0), GR_EINVAL);
    REQUIRE(bad.status == 5, "a refused select wrote a status");
    RC_IN(gr_select(NULL, 0, 0), GR_EAGAIN);
    RC_IN(gr_spawn(NULL, NULL, NULL), GR_EINVAL);
    a->c.bad++;
    break;
  }
  case 4:
    check_context(a);
    if (a->kind == K_THREAD) RC_IN(gr_goroutine_fail("not a goroutine"), GR_ESTATE);
    break;
  case 5: { /* a private cancel token, fired while a goroutine waits on it */
    gr_cancel *k;
    RC_IN(gr_cancel_new(&k), GR_OK);
    RC_IN(gr_sleep_ex(rlog(r, 100, 10000), k), GR_OK);
    RC_IN(gr_cancel_fire(k), GR_OK);
    RC_IN(gr_sleep_ex(GR_FOREVER, k), GR_ECANCELED);
    RC_IN(gr_cancel_reset(k), GR_OK);
    RC_IN(gr_sleep_ex(0, k), GR_OK);
    gr_cancel_free(k);
    RC_IN(gr_cancel_fire(NULL), GR_EINVAL);
    break;
  }
  default: { /* a private mutex: unlock when unlocked is GR_ESTATE */
    gr_mutex *m;
    RC_IN(gr_mutex_new(&m), GR_OK);
    RC_IN(gr_mutex_unlock(m), GR_ESTATE);
    RC_IN(gr_mutex_lock(m, 0), GR_OK);
    RC_IN(gr_mutex_lock(m, 0), GR_EAGAIN);
    RC_IN(gr_mutex_unlock(m), GR_OK);
    gr_mutex_free(m);
  }
  }
}

typedef struct { const char *name; void (*fn)(actor *); unsigned weight; } opdef;
static const opdef OPS[] = {
    {"send", op_send, 24}, {"recv", op_recv, 24}, {"select", op_select, 20},
    {"mutex", op_mutex, 5},  {"spawn", op_spawn, 5}, {"join", op_join, 4},
    {"wg", op_wg, 2},        {"wg_shared", op_wg_shared, 3}, {"sleep", op_sleep, 3},
    {"pin", op_pin, 3},      {"cancel", op_cancel, 2}, {"misc", op_misc, 4},
    {"replace", NULL, 1},
};
#define NOPS (sizeof OPS / sizeof *OPS)

static void actor_loop(actor *a) {
  unsigned wsum = 0;
  for (size_t i = 0; i < NOPS; i++) wsum += OPS[i].weight;
  check_context(a);
  while (a->budget != 0 && !(a->budget < 0 && atomic_load_explicit(&g_stop, memory_order_relaxed))) {
    unsigned x = rbelow(&a->rng, wsum);
    size_t i = 0;
    while (x >= OPS[i].weight) x -= OPS[i++].weight;
    a->doing = OPS[i].name;
    if (OPS[i].fn) OPS[i].fn(a);
    else { a->c.drained += slot_replace(&a->rng, (int)rbelow(&a->rng, NSLOTS)); a->c.replaces++; }
    a->c.ops++;
    atomic_fetch_add_explicit(&g_progress, 1, memory_order_relaxed);
    if (a->budget > 0) a->budget--;
  }
  a->doing = "joining its goroutines";
  while (a->nkids) finish_kid(a, a->nkids - 1, gr_wait(a->kids[a->nkids - 1], GR_FOREVER));
  if (a->fails) {
    char msg[64];
    snprintf(msg, sizeof msg, "fuzz kid %ld failed", a->id);
    RC_IN(gr_goroutine_fail(msg), GR_OK);
  }
  a->doing = "done";
  pthread_mutex_lock(&total_mu);
  long *t = (long *)&total, *c = (long *)&a->c;
  for (size_t i = 0; i < sizeof total / sizeof(long); i++) t[i] += c[i];
  pthread_mutex_unlock(&total_mu);
  if (a->finished) {
    atomic_store(a->finished, 1);
    if (a->parent_wg) { /* detached: nobody joins; the waiter checks `finished` first */
      gr_wg *wg = a->parent_wg;
      free(a); /* `finished` is the parent's to free */
      RC_IN(gr_wg_done(wg), GR_OK);
    }
  }
}

/* ----------------------------------------------------------------- harness */
static void *thread_main(void *arg) { actor_loop(arg); return NULL; }
static void coro_main(void *arg) { actor_loop(arg); }

/* The current round must end by this time (s); 0 between rounds; -1: exit. */
static _Atomic double g_deadline;

static void dump_actors(void) {
  for (unsigned i = 0; i < g_actors; i++)
    fprintf(stderr, "  actor %u (%s): %s\n", i, KIND[kinds[i]], actors[i]->doing ? actors[i]->doing : "?");
}

/* Fails the run if a round overstays its budget by 60 s, or if no operation completes for
 * STALL_S while a round runs: with channels replaced and the tick token fired every few
 * tens of milliseconds, every wait ends within a second or so, so a stall is a lost wake-up
 * (or a deadlock). */
#define STALL_S 15
static void *watchdog(void *arg) {
  (void)arg;
  long last = -1;
  double since = now_s();
  for (;;) {
    double d = atomic_load(&g_deadline);
    if (d < 0) return NULL;
    if (d > 0 && now_s() > d) {
      fprintf(stderr, "gr_fuzz: HANG: the round overstayed its budget by 60 s; actors:\n");
      dump_actors();
      gr_dump(2, 0);
      fail("hang");
    }
    long p = atomic_load_explicit(&g_progress, memory_order_relaxed);
    if (d == 0 || p != last) { last = p; since = now_s(); }
    else if (now_s() - since > STALL_S) {
      fprintf(stderr, "gr_fuzz: STALL: no operation completed for %d s; actors:\n", STALL_S);
      dump_actors();
      fprintf(stderr, "gr_fuzz: the runtime's goroutines and threads at the stall:\n");
      gr_dump(2, 0); /* what the scheduler holds: who waits on what, which M is where */
      fail("stall (a lost wake-up or a deadlock)");
    }
    usleep(100000);
  }
}

typedef struct { long ops, accepted, received, drained; double seconds; } round_result;

static void close_slots(void) {
  for (int i = 0; i < NSLOTS; i++) {
    pthread_mutex_lock(&slots[i].mu);
    slots[i].dead = 1;
    RC_IN(gr_chan_close(slots[i].ch), GR_OK);
    pthread_mutex_unlock(&slots[i].mu);
  }
}

/* One round: gr_init, the actors for `seconds` (or `ops` operations each), every channel
 * closed and drained, the ledger checked, gr_shutdown. `tick` (if any) runs every ~20 ms
 * on the main thread while the actors work. */
static round_result fuzz_round(rng_t *r, double seconds, long ops, void (*tick)(void)) {
  round_result res = {0};
  long ops_before = total.ops;
  gr_config cfg;
  gr_config_init(&cfg);
  cfg.workers = g_workers;
  RC_IN(gr_init(&cfg), GR_OK);
  RC_IN(gr_init(&cfg), GR_ESTATE);
  atomic_store(&g_stop, 0);
  npending = 0;
  for (int i = 0; i < NSLOTS; i++) {
    slots[i].dead = 0;
    slots[i].ch = new_chan(r, &slots[i].esz, &slots[i].cap, &slots[i].drop);
  }
  for (int i = 0; i < NCANCEL; i++) RC_IN(gr_cancel_new(&cancels[i]), GR_OK);
  RC_IN(gr_cancel_new(&tick_tok), GR_OK);
  RC_IN(gr_mutex_new(&g_mu), GR_OK);
  RC_IN(gr_wg_new(&shared_wg), GR_OK);
  atomic_store(&g_deadline, now_s() + (ops > 0 ? 600 : seconds) + 60);
  g_ticking = ops <= 0;

  pthread_t th[MAXACT];
  gr_handle *gh[MAXACT];
  double t0 = now_s();
  for (unsigned i = 0; i < g_actors; i++) {
    actor *a = actors[i] = new_actor(NULL, kinds[i] = (int)rbelow(r, 3));
    a->budget = ops > 0 ? ops : -1;
    if (a->kind == K_THREAD) {
      REQUIRE(pthread_create(&th[i], NULL, thread_main, a) == 0, "pthread_create");
    } else {
      gr_spawn_opts o;
      gr_spawn_opts_init(&o);
      if (a->kind == K_BOUND) o.flags = GR_SPAWN_BOUND;
      RC_IN(gr_spawn_ex(coro_main, a, &o, &gh[i]), GR_OK);
    }
  }
  if (ops <= 0) {
    /* The main thread fires and resets the shared tokens now and then, so that waits on
     * them end by cancellation too, and replaces a channel now and then, so that actors
     * waiting forever on channels nobody else uses get going again. */
    long ticks = 0;
    while (now_s() - t0 < seconds) {
      usleep(20000);
      if (rpct(r, 20)) RC_IN(gr_cancel_fire(cancels[rbelow(r, NCANCEL)]), GR_OK);
      if (rpct(r, 20)) RC_IN(gr_cancel_reset(cancels[rbelow(r, NCANCEL)]), GR_OK);
      if (rpct(r, 25)) {
        long got = slot_replace(r, (int)rbelow(r, NSLOTS));
        pthread_mutex_lock(&total_mu); /* actors that end add to `total` meanwhile */
        total.drained += got;
        pthread_mutex_unlock(&total_mu);
      }
      if (++ticks % 2) RC_IN(gr_cancel_fire(tick_tok), GR_OK);
      else RC_IN(gr_cancel_reset(tick_tok), GR_OK);
      if (tick) tick();
    }
    /* Long-lived actors finish the operation in hand: wake whatever may wait forever. */
    atomic_store(&g_stop, 1);
    RC_IN(gr_cancel_fire(tick_tok), GR_OK);
    for (int i = 0; i < NCANCEL; i++) RC_IN(gr_cancel_fire(cancels[i]), GR_OK);
    close_slots();
  }
  for (unsigned i = 0; i < g_actors; i++) {
    if (actors[i]->kind == K_THREAD) pthread_join(th[i], NULL);
    else { RC_IN(gr_wait(gh[i], GR_FOREVER), GR_OK); gr_handle_release(gh[i]); }
  }
  res.seconds = now_s() - t0;
  if (ops > 0) close_slots(); /* an --ops round ends when every actor is done */
  for (int i = 0; i < NSLOTS; i++) { res.drained += drain(slots[i].ch, slots[i].esz); gr_chan_release(slots[i].ch); }
  /* Closed channels left undrained: release them with their elements; a channel without a
   * drop function is drained first (its elements would be lost, by contract). */
  for (int i = 0; i < npending; i++) {
    if (!pending[i].drop || rpct(r, 50)) res.drained += drain(pending[i].ch, pending[i].esz);
    gr_chan_release(pending[i].ch);
  }
  for (int i = 0; i < NCANCEL; i++) gr_cancel_free(cancels[i]);
  gr_cancel_free(tick_tok);
  gr_mutex_free(g_mu);
  gr_wg_free(shared_wg);

  /* The ledger: nothing invented, nothing lost but the discarded. */
  if (g_sums) {
    long ns = atomic_exchange(&n_sent, 0), nr = atomic_exchange(&n_recv, 0);
    unsigned long ss = atomic_exchange(&sum_sent, 0), sr = atomic_exchange(&sum_recv, 0);
    REQUIRE(ns == nr && ss == sr, "ledger: %ld values accepted, %ld received (sums %016lx, %016lx)", ns, nr, ss, sr);
    res.accepted = ns;
    res.received = nr;
  } else {
    long lost = 0;
    uint32_t nuid = atomic_load(&next_uid);
    for (uint32_t uid = 1; uid < nuid; uid++) {
      uidrec *u = uid_get(uid);
      for (uint32_t w = 0; w < (u->cap + 63) / 64; w++) {
        uint64_t sent = u->sent[w], got = u->recv[w];
        REQUIRE(!(got & ~sent), "invented value: received token %08x:%u... never accepted by a send", uid, w * 64 + (unsigned)__builtin_ctzll(got & ~sent));
        res.accepted += __builtin_popcountll(sent);
        res.received += __builtin_popcountll(got);
        lost += __builtin_popcountll(sent & ~got);
      }
    }
    long disc = atomic_load(&discards);
    REQUIRE(lost == disc, "lost values: %ld accepted sends never received, but only %ld receives discarded a value", lost, disc);
    res.received += disc;
  }
  RC_IN(gr_shutdown(5000000000LL), GR_OK);
  atomic_store(&g_deadline, 0);
  for (unsigned i = 0; i < g_actors; i++) free(actors[i]);
  res.ops = total.ops - ops_before;
  return res;
}

/* ------------------------------------------------------------------- soak
 * Resources sampled (every second in --soak, after every round in --cycles) and judged
 * flat after the warm-up (the first quarter): of the rest, the largest value in the last
 * third may exceed the largest in the middle third by no more than a tolerance (a leak
 * grows steadily; a pool that settles does not). */
#define MAXSAMPLES 100000
static resources samples[MAXSAMPLES];
static int nsamples;
static double last_sample;

static void sample(void) {
  if (nsamples < MAXSAMPLES) samples[nsamples++] = resources_now();
}

static void sample_tick(void) {
  if (now_s() - last_sample >= 1) { sample(); last_sample = now_s(); }
}

static int judge(const char *what) {
  if (nsamples < 8) { printf("soak: only %d samples: run longer\n", nsamples); return 1; }
  int w = nsamples / 4, m = w + (nsamples - w) / 3, l = w + 2 * (nsamples - w) / 3;
  resources mid = samples[m], last = samples[l];
  for (int i = m; i < l; i++) resources_max(&mid, &samples[i]);
  for (int i = l; i < nsamples; i++) resources_max(&last, &samples[i]);
  resources_print("start", samples[0]);
  resources_print("after warm-up", samples[w]);
  resources_print("middle max", mid);
  resources_print("last max", last);
  long rss_tol = 8192 + mid.rss_kib / 20; /* 8 MiB + 5% */
  int ok = 1;
  if (last.rss_kib > mid.rss_kib + rss_tol) { printf("soak: RSS grew by %ld KiB (tolerance %ld)\n", last.rss_kib - mid.rss_kib, rss_tol); ok = 0; }
  if (last.threads > mid.threads + 2) { printf("soak: threads grew by %ld\n", last.threads - mid.threads); ok = 0; }
  if (last.fds > mid.fds) { printf("soak: fds grew by %ld\n", last.fds - mid.fds); ok = 0; }
  if (last.maps - last.arena_maps > mid.maps - mid.arena_maps + 16) { printf("soak: mappings grew by %ld (malloc's arenas apart)\n", (last.maps - last.arena_maps) - (mid.maps - mid.arena_maps)); ok = 0; }
  printf("soak (%s): %d samples; resources %s\n", what, nsamples, ok ? "flat after warm-up" : "GREW");
  return !ok;
}

static void print_totals(const round_result *res, double dt) {
  if (!g_quiet) {
    printf("gr_fuzz: seed=%llu workers=%u actors=%u:", (unsigned long long)g_seed, g_workers, g_actors);
    for (unsigned i = 0; i < g_actors; i++) printf(" %s", KIND[kinds[i]]);
    printf("\n  sends %ld + select sends %ld accepted, receives %ld + select receives %ld (%ld discarded), drained %ld + %ld at the end\n",
           total.sends, total.sel_sends, total.recvs, total.sel_recvs, atomic_load(&discards), total.drained, res->drained);
    printf("  selects %ld, closes+replacements %ld, spawns %ld, joins %ld, mutex %ld, wg %ld, sleeps %ld, pins %ld, bad-input rounds %ld\n",
           total.selects, total.replaces, total.spawns, total.joins, total.mutex, total.wg, total.sleeps, total.pins, total.bad);
    printf("  waits ended: %ld timed out, %ld polls refused, %ld cancelled, %ld closed; %ld elements went to drop functions\n",
           total.timeouts, total.polls, total.cancelled, total.closed, atomic_load(&dropped));
  }
  printf("gr_fuzz: ok seed=%llu workers=%u actors=%u ops=%ld seconds=%.2f ops/s=%.0f accepted=%ld received=%ld\n",
         (unsigned long long)g_seed, g_workers, g_actors, res->ops, dt, res->ops / dt, res->accepted, res->received);
}

int main(int argc, char **argv) {
  g_seed = (uint64_t)time(NULL);
  g_seconds = 2;
  double soak_min = 0, cycle_min = 0;
  long cycles = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : "0";
    if (!strcmp(argv[i], "--seed")) g_seed = strtoull(v, NULL, 0), i++;
    else if (!strcmp(argv[i], "--seconds")) g_seconds = atof(v), i++;
    else if (!strcmp(argv[i], "--ops")) g_ops = atol(v), i++;
    else if (!strcmp(argv[i], "--workers")) g_workers = (unsigned)atoi(v), i++;
    else if (!strcmp(argv[i], "--actors")) g_actors = (unsigned)atoi(v), i++;
    else if (!strcmp(argv[i], "--soak")) soak_min = atof(v), i++;
    else if (!strcmp(argv[i], "--cycle-minutes")) cycle_min = atof(v), i++;
    else if (!strcmp(argv[i], "--cycles")) cycles = atol(v), i++;
    else if (!strcmp(argv[i], "--quiet")) g_quiet = 1;
    else {
      fprintf(stderr, "usage: gr_fuzz [--seed N] [--seconds S | --ops N] [--workers W] [--actors A] [--quiet]\n"
                      "       gr_fuzz --soak MINUTES | --cycle-minutes MINUTES | --cycles N  [--seed N] ...\n");
      return 2;
    }
  }
  if (soak_min > 0) snprintf(g_mode, sizeof g_mode, "--soak %g", soak_min);
  else if (cycle_min > 0) snprintf(g_mode, sizeof g_mode, "--cycle-minutes %g", cycle_min);
  else if (cycles > 0) snprintf(g_mode, sizeof g_mode, "--cycles %ld", cycles);
  else if (g_ops > 0) snprintf(g_mode, sizeof g_mode, "--ops %ld", g_ops);
  else snprintf(g_mode, sizeof g_mode, "--seconds %g", g_seconds);
  rng_t r = {g_seed};
  REQUIRE(!strcmp(gr_version(), GR_VERSION_STRING), "gr_version %s, header %s", gr_version(), GR_VERSION_STRING);
  if (!g_workers) g_workers = 1 + rbelow(&r, 4);
  if (!g_actors) g_actors = 3 + rbelow(&r, 8);
  if (g_actors > MAXACT) g_actors = MAXACT;
  for (int i = 0; i < NSLOTS; i++) pthread_mutex_init(&slots[i].mu, NULL);
  pthread_t wd;
  pthread_create(&wd, NULL, watchdog, NULL);
  int rc = 0;
  double t0 = now_s();
  round_result res = {0};
  if (soak_min > 0) {
    /* Churn of every primitive for the whole time, resources sampled every second. */
    g_sums = 1;
    g_seconds = soak_min * 60;
    sample();
    last_sample = now_s();
    res = fuzz_round(&r, g_seconds, 0, sample_tick);
    print_totals(&res, now_s() - t0);
    rc = judge("churn");
  } else if (cycle_min > 0 || cycles > 0) {
    /* gr_init / a short round of every primitive / gr_shutdown, over and over. */
    g_sums = 1;
    g_quiet = 1;
    long n = 0;
    round_result sum = {0};
    while (cycles > 0 ? n < cycles : now_s() - t0 < cycle_min * 60) {
      round_result x = fuzz_round(&r, 0, g_ops > 0 ? g_ops : 30, NULL);
      sum.ops += x.ops; sum.accepted += x.accepted; sum.received += x.received;
      sample();
      n++;
      if (n % 100 == 0) { char l[32]; snprintf(l, sizeof l, "cycle %ld", n); resources_print(l, samples[nsamples - 1]); fflush(stdout); }
    }
    print_totals(&sum, now_s() - t0);
    printf("soak: %ld init/shutdown cycles\n", n);
    rc = judge("init/shutdown cycles");
  } else {
    res = fuzz_round(&r, g_seconds, g_ops, NULL);
    print_totals(&res, res.seconds);
  }
  atomic_store(&g_deadline, -1);
  pthread_join(wd, NULL);
  return rc;
}
