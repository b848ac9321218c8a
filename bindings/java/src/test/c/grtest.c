/* grtest.c: a small C library for the Java tests. It is linked with -lgr (so it shares the
 * JVM's one runtime) and loaded with System.load. Its JNI functions only hand out function
 * addresses, build job structs and read results; the work runs in C goroutines. */
#define _GNU_SOURCE
#include <jni.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gr.h"
#include "grjni.h"

#define P(x) ((void *)(intptr_t)(x))
#define J(x) ((jlong)(intptr_t)(x))

static jlong fnaddr(void (*f)(void *)) {
  void *p;
  memcpy(&p, &f, sizeof p);
  return J(p);
}

/* ---- sum: receive longs until closed, send the sum on `out` ------------------------- */
struct sum_job {
  gr_chan *in, *out;
};

static void sum_longs(void *arg) {
  struct sum_job *j = arg;
  int64_t v, sum = 0;
  while (gr_chan_recv(j->in, &v, GR_FOREVER) == GR_OK) sum += v;
  gr_chan_send(j->out, &sum, GR_FOREVER);
  gr_chan_release(j->in);
  gr_chan_release(j->out);
  free(j);
}

/* ---- counter ------------------------------------------------------------------------ */
static atomic_long g_counter;

static void incr(void *arg) {
  (void)arg;
  gr_yield();
  atomic_fetch_add(&g_counter, 1);
}

/* ---- failure ------------------------------------------------------------------------ */
static void c_fail(void *arg) {
  (void)arg;
  gr_goroutine_fail("c goroutine failed on purpose");
}

/* ---- upcalls ------------------------------------------------------------------------ */
struct upcall_job {
  grjni_upcall *u;
  int64_t arg, result;
  int rc, ctx;
};

static void call_upcall(void *arg) {
  struct upcall_job *j = arg;
  j->ctx = gr_context();
  j->rc = j->u->call(j->u, j->arg, &j->result);
}

/* ---- producers/consumers with random timeouts (nothing-lost test) --------------------- */
struct pc_job {
  gr_chan *ch;
  int producer;
  int64_t base, count;
  uint64_t seed;
  int64_t *vals; /* accepted (producer) or received (consumer) */
  int64_t n;
};

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void pc_run(void *arg) {
  struct pc_job *j = arg;
  if (j->producer) {
    for (int64_t i = 0; i < j->count; i++) {
      int64_t v = j->base + i;
      int64_t t = (int64_t)(rnd(&j->seed) % 200000); /* 0 .. 200 us */
      int rc = gr_chan_send(j->ch, &v, t);
      if (rc == GR_OK) j->vals[j->n++] = v;
      else if (rc == GR_ECLOSED) break;
    }
  } else {
    for (;;) {
      int64_t v;
      int64_t t = (int64_t)(rnd(&j->seed) % 200000);
      int rc = gr_chan_recv(j->ch, &v, t);
      if (rc == GR_OK) j->vals[j->n++] = v;
      else if (rc == GR_ECLOSED) break;
    }
  }
}

/* ---- structs: receive {int32 x, int32 y, int64 z} until closed, send x+y+z sums -------- */
struct pt {
  int32_t x, y;
  int64_t z;
};

static void sum_points(void *arg) {
  int64_t *argv = arg; /* goNativeWithArgs: {in, out} */
  gr_chan *in = P(argv[0]), *out = P(argv[1]);
  struct pt p;
  int64_t sum = 0;
  while (gr_chan_recv(in, &p, GR_FOREVER) == GR_OK) sum += p.x + p.y + p.z;
  gr_chan_send(out, &sum, GR_FOREVER);
  gr_chan_release(in);
  gr_chan_release(out);
}

/* ---- JNI: class io.gr.TestLib ---------------------------------------------------------- */
JNIEXPORT jlong JNICALL Java_io_gr_TestLib_sumFn(JNIEnv *e, jclass c) {
  (void)e, (void)c;
  return fnaddr(sum_longs);
}

JNIEXPORT jlong JNICALL Java_io_gr_TestLib_sumJob(JNIEnv *e, jclass c, jlong in, jlong out) {
  (void)e, (void)c;
  struct sum_job *j = malloc(sizeof *j);
  j->in = P(in);
  j->out = P(out);
  return J(j);
}

JNIEXPORT jlong JNICALL Java_io_gr_TestLib_pointsFn(JNIEnv *e, jclass c) {
  (void)e, (void)c;
  return fnaddr(sum_points);
}

JNIEXPORT jint JNICALL Java_io_gr_TestLib_pointSize(JNIEnv *e, jclass c) {
  (void)e, (void)c;
  return (jint)sizeof(struct pt);
}

JNIEXPORT jlong JNICALL Java_io_gr_TestLib_incrFn(JNIEnv *e, jclass c) {
  (void)e, (void)c;
  return fnaddr(incr);
}

JNIEXPORT jlong JNICALL Java_io_gr_TestLib_counter(JNIEnv *e, jclass c) {
  (void)e, (void)c;
  return atomic_load(&g_counter);
}

JNIEXPORT jlong JNICALL Java_io_gr_TestLib_failFn(JNIEnv *e, jclass c) {
  (void)e, (void)c;
  return fnaddr(c_fail);
}

JNIEXPORT jlong JNICALL Java_io_gr_TestLib_upcallFn(JNIEnv *e, jclass c) {
  (void)e, (void)c;
  return fnaddr(call_upcall);
}

JNIEXPORT jlong JNICALL Java_io_gr_TestLib_upcallJob(JNIEnv *e, jclass c, jlong u, jlong arg) {
  (void)e, (void)c;
  struct upcall_job *j = calloc(1, sizeof *j);
  j->u = P(u);
  j->arg = arg;
  j->rc = 12345;
  return J(j);
}

/* {rc, result, ctx}; frees the job */
JNIEXPORT jlongArray JNICALL Java_io_gr_TestLib_upcallResult(JNIEnv *e, jclass c, jlong job) {
  (void)c;
  struct upcall_job *j = P(job);
  jlong v[3] = {j->rc, j->result, j->ctx};
  free(j);
  jlongArray a = (*e)->NewLongArray(e, 3);
  if (a) (*e)->SetLongArrayRegion(e, a, 0, 3, v);
  return a;
}

/* Spawns a C-side bound goroutine that calls the upcall, waits for it from C, and returns
 * {gr_wait status, had error text (1/0)}. Shows that a Java exception reaches gr_wait. */
JNIEXPORT jlongArray JNICALL Java_io_gr_TestLib_boundUpcallWait(JNIEnv *e, jclass c, jlong u) {
  (void)c;
  struct upcall_job j = {P(u), 7, 0, 12345, -1};
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  o.flags |= GR_SPAWN_BOUND;
  gr_handle *h = NULL;
  jlong v[3] = {0, 0, 0};
  int rc = gr_spawn_ex(call_upcall, &j, &o, &h);
  if (rc == GR_OK) {
    rc = gr_wait(h, GR_FOREVER);
    const char *err = gr_handle_error(h);
    v[1] = err && strstr(err, "IllegalStateException") ? 1 : 0;
    v[2] = j.rc;
    gr_handle_release(h);
  }
  v[0] = rc;
  jlongArray a = (*e)->NewLongArray(e, 3);
  if (a) (*e)->SetLongArrayRegion(e, a, 0, 3, v);
  return a;
}

JNIEXPORT jlong JNICALL Java_io_gr_TestLib_pcFn(JNIEnv *e, jclass c) {
  (void)e, (void)c;
  return fnaddr(pc_run);
}

JNIEXPORT jlong JNICALL Java_io_gr_TestLib_pcJob(JNIEnv *e, jclass c, jlong ch, jboolean producer,
                                                 jlong base, jlong count, jlong seed) {
  (void)e, (void)c;
  struct pc_job *j = calloc(1, sizeof *j);
  j->ch = P(ch);
  j->producer = producer;
  j->base = base;
  j->count = count;
  j->seed = (uint64_t)seed | 1;
  j->vals = calloc((size_t)(count > 0 ? count : 1 << 20), sizeof(int64_t));
  return J(j);
}

/* The values the job accepted/received; frees the job and releases its channel. */
JNIEXPORT jlongArray JNICALL Java_io_gr_TestLib_pcResult(JNIEnv *e, jclass c, jlong job) {
  (void)c;
  struct pc_job *j = P(job);
  jlongArray a = (*e)->NewLongArray(e, (jsize)j->n);
  if (a) (*e)->SetLongArrayRegion(e, a, 0, (jsize)j->n, (const jlong *)j->vals);
  gr_chan_release(j->ch);
  free(j->vals);
  free(j);
  return a;
}

/* Stats as seen from this library's own link to libgr: {spawned_total, workers}. */
JNIEXPORT jlongArray JNICALL Java_io_gr_TestLib_stats(JNIEnv *e, jclass c) {
  (void)c;
  gr_stats s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  gr_stats_get(&s);
  jlong v[2] = {(jlong)s.spawned_total, (jlong)s.workers};
  jlongArray a = (*e)->NewLongArray(e, 2);
  if (a) (*e)->SetLongArrayRegion(e, a, 0, 2, v);
  return a;
}

/* Spawns n C goroutines from C (not through the binding). */
JNIEXPORT jint JNICALL Java_io_gr_TestLib_spawnFromC(JNIEnv *e, jclass c, jint n) {
  (void)e, (void)c;
  for (int i = 0; i < n; i++) {
    int rc = gr_spawn(incr, NULL, NULL);
    if (rc != GR_OK) return rc;
  }
  return 0;
}
