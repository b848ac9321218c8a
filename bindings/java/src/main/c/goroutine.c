/* goroutine.c: Java goroutines (thread-bound, running io.gr.Task), native goroutines,
 * joins, sleep and cancel tokens (see glue.h). */
#include "glue.h"

#include <stdlib.h>
#include <string.h>

/* Body of every Java goroutine: runs on a worker's own OS stack (bound goroutine). Calls
 * Task.invoke(task) given a global ref (the caller deletes it), else Task.invokeSlot(slot),
 * which takes the task out of Task's slot table (go()'s way: no global ref per task).
 * No Push/PopLocalFrame (rule 6 of grjni.c): the local references made here are known and
 * few (Task.invoke's result, a throwable, and grjni_thread_id's, which deletes its own), and
 * each is deleted before return, so the worker's handle block does not grow; a frame cost a
 * block push and pop on the path of every goroutine. */
static void run_task(jobject task, jint slot) {
  JNIEnv *env = grjni_env();
  if (!env) { /* VM exiting or attach failed; the task is leaked on purpose */
    gr_goroutine_fail("gr java: cannot attach this thread to the JVM");
    return;
  }
  /* Kind Java in dumps; the label (its thread's Java id) finds its Java frames (dump.c). */
  gr_goroutine_label(GR_KIND_JAVA, P(grjni_thread_id(env)));
  jstring msg = task ? (jstring)(*env)->CallStaticObjectMethod(env, c_task, m_task_invoke, task)
                     : (jstring)(*env)->CallStaticObjectMethod(env, c_task, m_task_invoke_slot, slot);
  if ((*env)->ExceptionCheck(env)) { /* Task.invoke catches Throwable; this is a last resort */
    jthrowable t = (*env)->ExceptionOccurred(env);
    (*env)->ExceptionClear(env);
    char *d = grjni_describe(env, t);
    gr_goroutine_fail(d);
    free(d);
    (*env)->DeleteLocalRef(env, t);
  } else if (msg) {
    const char *u = (*env)->GetStringUTFChars(env, msg, NULL);
    if (u) {
      gr_goroutine_fail(u);
      (*env)->ReleaseStringUTFChars(env, msg, u);
    } else {
      (*env)->ExceptionClear(env);
      gr_goroutine_fail("java exception");
    }
  }
  if (msg) (*env)->DeleteLocalRef(env, msg);
}

/* A Java goroutine given a global ref to its task (Group.go, and go() when no slot is free). */
void java_task_entry(void *arg) {
  jobject task = (jobject)arg;
  run_task(task, 0);
  JNIEnv *env = grjni_env();
  if (env) (*env)->DeleteGlobalRef(env, task);
}

/* A Java goroutine whose task waits in slot (intptr_t)arg of Task's table (Task.park). */
static void java_slot_entry(void *arg) {
  run_task(NULL, (jint)(intptr_t)arg);
}

/* Spawns a Java goroutine (bound): its handle as a jlong (0 if detached), or the gr_status.
 * timeout_ns: how long to wait for a thread slot when Java goroutines hold them all. */
static jlong spawn_java(gr_fn entry, void *arg, jboolean detached, jlong timeout_ns) {
  gr_handle *h = NULL;
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  o.flags |= GR_SPAWN_BOUND;
  o.timeout_ns = timeout_ns; /* read only when every slot is held (the core tries a free one first) */
  int rc = gr_spawn_ex(entry, arg, &o, detached ? NULL : &h);
  return rc != GR_OK ? rc : J(h);
}

/* A task passed as a global reference (go() when no slot of Task's table is free). */
JNIEXPORT jlong JNICALL Java_io_gr_Native_spawnTask(JNIEnv *env, jclass cls, jobject task,
                                                    jboolean detached, jlong timeout_ns) {
  (void)cls;
  jobject g = (*env)->NewGlobalRef(env, task);
  if (!g) return GR_ENOMEM;
  jlong r = spawn_java(java_task_entry, g, detached, timeout_ns);
  if (r < 0) (*env)->DeleteGlobalRef(env, g);
  return r;
}

/* A task parked in a slot of Task's table (Task.park): no global reference. */
JNIEXPORT jlong JNICALL Java_io_gr_Native_spawnTaskSlot(JNIEnv *env, jclass cls, jint slot,
                                                        jboolean detached, jlong timeout_ns) {
  (void)env;
  (void)cls;
  return spawn_java(java_slot_entry, P(slot), detached, timeout_ns);
}

JNIEXPORT jlong JNICALL Java_io_gr_Native_spawnNative(JNIEnv *env, jclass cls, jlong fn, jlong arg,
                                                      jboolean detached) {
  (void)env;
  (void)cls;
  gr_handle *h = NULL;
  gr_fn f;
  void *fp = P(fn);
  memcpy(&f, &fp, sizeof f);
  int rc = gr_spawn(f, P(arg), detached ? NULL : &h);
  return rc != GR_OK ? rc : J(h);
}

/* goNativeWithArgs: fn receives a copy of the Java long[] (int64_t[]), valid until it returns. */
struct args_job {
  gr_fn fn;
  int64_t argv[];
};

static void args_entry(void *p) {
  struct args_job *j = p;
  j->fn(j->argv);
  free(j);
}

JNIEXPORT jlong JNICALL Java_io_gr_Native_spawnNativeArgs(JNIEnv *env, jclass cls, jlong fn,
                                                          jlongArray args, jboolean detached) {
  (void)cls;
  jsize n = (*env)->GetArrayLength(env, args);
  struct args_job *j = malloc(sizeof *j + (size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  if (!j) return GR_ENOMEM;
  void *fp = P(fn);
  memcpy(&j->fn, &fp, sizeof j->fn);
  (*env)->GetLongArrayRegion(env, args, 0, n, (jlong *)j->argv);
  gr_handle *h = NULL;
  int rc = gr_spawn(args_entry, j, detached ? NULL : &h);
  if (rc != GR_OK) {
    free(j);
    return rc;
  }
  return J(h);
}

FORWARD(jint, wait, (jlong h, jlong timeout_ns, jlong cancel),
        return gr_wait_ex(P(h), timeout_ns, P(cancel)))

JNIEXPORT jstring JNICALL Java_io_gr_Native_handleError(JNIEnv *env, jclass cls, jlong h) {
  (void)cls;
  const char *e = gr_handle_error(P(h));
  return e ? (*env)->NewStringUTF(env, e) : NULL;
}

FORWARD(void, handleRelease, (jlong h), gr_handle_release(P(h)))
FORWARD(jint, sleep, (jlong ns, jlong cancel), return gr_sleep_ex(ns, P(cancel)))

/* ---- cancel tokens ------------------------------------------------------------------ */

NEW(cancelNew, gr_cancel, gr_cancel_new)
FORWARD(jint, cancelFire, (jlong c), return gr_cancel_fire(P(c)))
FORWARD(jint, cancelReset, (jlong c), return gr_cancel_reset(P(c)))
FORWARD(void, cancelFree, (jlong c), gr_cancel_free(P(c)))

/* Group.go: a Java goroutine spawned into group g (gr_group_spawn), waiting up to
 * timeout_ns for a slot (cancel ends that wait) and, as spawnTask, up to thread_timeout_ns
 * for a thread. out[0] receives its handle. */
JNIEXPORT jint JNICALL Java_io_gr_Native_groupSpawnTask(JNIEnv *env, jclass cls, jlong group,
                                                        jobject task, jlong timeout_ns,
                                                        jlong cancel, jlong thread_timeout_ns,
                                                        jlongArray out) {
  (void)cls;
  jobject g = (*env)->NewGlobalRef(env, task);
  if (!g) return GR_ENOMEM;
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  o.flags |= GR_SPAWN_BOUND;
  o.timeout_ns = thread_timeout_ns;
  gr_handle *h = NULL;
  int rc = gr_group_spawn(P(group), java_task_entry, g, &o, timeout_ns, P(cancel), &h);
  if (rc != GR_OK) {
    (*env)->DeleteGlobalRef(env, g);
    return rc;
  }
  jlong v = J(h);
  (*env)->SetLongArrayRegion(env, out, 0, 1, &v);
  return GR_OK;
}
