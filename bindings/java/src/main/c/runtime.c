/* runtime.c: io.gr.Native's runtime calls (see glue.h). */
#include "glue.h"

#include <dlfcn.h>
#include <string.h>

JNIEXPORT void JNICALL Java_io_gr_Native_markVmExiting(JNIEnv *env, jclass cls) {
  (void)env;
  (void)cls;
  atomic_store(&g_exiting, 1);
}

JNIEXPORT jstring JNICALL Java_io_gr_Native_version(JNIEnv *env, jclass cls) {
  (void)cls;
  const char *v = gr_version();
  return (*env)->NewStringUTF(env, v ? v : "?");
}

JNIEXPORT jstring JNICALL Java_io_gr_Native_strerror(JNIEnv *env, jclass cls, jint status) {
  (void)cls;
  const char *s = gr_strerror(status);
  return (*env)->NewStringUTF(env, s ? s : "unknown status");
}

JNIEXPORT jint JNICALL Java_io_gr_Native_init(JNIEnv *env, jclass cls, jint workers,
                                              jlong stack_size, jint max_threads) {
  (void)env;
  (void)cls;
  gr_config c;
  gr_config_init(&c);
  c.workers = (uint32_t)workers;
  c.stack_size = (size_t)stack_size;
  c.max_threads = (uint32_t)max_threads;
  return gr_init(&c);
}

FORWARD(jint, shutdown, (jlong timeout_ns), return gr_shutdown(timeout_ns))

/* The gr_stats figures in io.gr.Stats's order (Stats.WORKERS ... Stats.WAITING + reason). */
enum { STATS_FIXED = 20, STATS_LEN = STATS_FIXED + GR_WAIT_REASONS };

JNIEXPORT jint JNICALL Java_io_gr_Native_stats(JNIEnv *env, jclass cls, jlongArray out) {
  (void)cls;
  if ((*env)->GetArrayLength(env, out) != STATS_LEN) return GR_EINVAL;
  gr_stats s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  int rc = gr_stats_get(&s);
  if (rc != GR_OK) return rc;
  jlong v[STATS_LEN] = {
      (jlong)s.workers,         (jlong)s.goroutines,      (jlong)s.threads,
      (jlong)s.spawned_total,   (jlong)s.steals_total,    (jlong)s.retakes_total,
      (jlong)s.running,         (jlong)s.runnable,        (jlong)s.parked,
      (jlong)s.sleeping,        (jlong)s.blocking,        (jlong)s.runq_global,
      (jlong)s.runq_local,      (jlong)s.runq_pinned,     (jlong)s.timers,
      (jlong)s.threads_running, (jlong)s.threads_idle,    (jlong)s.threads_blocking,
      (jlong)s.plain_threads,   (jlong)s.plain_waiting,
  };
  for (int i = 0; i < GR_WAIT_REASONS; i++) v[STATS_FIXED + i] = (jlong)s.waiting[i];
  (*env)->SetLongArrayRegion(env, out, 0, STATS_LEN, v);
  return GR_OK;
}

JNIEXPORT jint JNICALL Java_io_gr_Native_context(JNIEnv *env, jclass cls) {
  (void)env;
  (void)cls;
  return gr_context();
}

JNIEXPORT jlong JNICALL Java_io_gr_Native_symbol(JNIEnv *env, jclass cls, jstring lib, jstring sym) {
  (void)cls;
  const char *l = lib ? (*env)->GetStringUTFChars(env, lib, NULL) : NULL;
  if (lib && !l) return 0;
  const char *s = (*env)->GetStringUTFChars(env, sym, NULL);
  if (!s) {
    if (l) (*env)->ReleaseStringUTFChars(env, lib, l);
    return 0;
  }
  void *h = dlopen(l, RTLD_NOW | RTLD_GLOBAL);
  void *p = h ? dlsym(h, s) : NULL;
  /* the handle stays open: the symbol must outlive this call */
  (*env)->ReleaseStringUTFChars(env, sym, s);
  if (l) (*env)->ReleaseStringUTFChars(env, lib, l);
  return J(p);
}

/* Around a wait the glue cannot see (a JDK monitor): the processor goes to another thread. */
JNIEXPORT void JNICALL Java_io_gr_Native_blockingBegin(JNIEnv *env, jclass cls) {
  (void)env;
  (void)cls;
  gr_blocking_begin();
}

JNIEXPORT void JNICALL Java_io_gr_Native_blockingEnd(JNIEnv *env, jclass cls) {
  (void)env;
  (void)cls;
  gr_blocking_end();
}
