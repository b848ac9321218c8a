/* grjni.c: the JNI glue between io.gr.Native and libgr.so.0 (include/gr.h).
 *
 * Rules this file keeps (see ../../../../../docs and issue 5):
 *  1. Java frames never run on a coroutine stack. Java tasks are spawned thread-bound
 *     (GR_SPAWN_BOUND) and run on a worker's own OS stack; an upcall made from a coroutine
 *     goroutine is refused with GR_ESTATE before the JVM is touched.
 *  2. A thread that runs Java code for gr attaches lazily, as a daemon, named gr-worker-N
 *     (gr-native-N for plain C threads). A pthread key destructor detaches it when the
 *     thread exits, except while the VM is exiting (detaching then can hang).
 *  3. No JNIEnv* is cached across a wait: every entry point uses the env it was given or
 *     asks GetEnv afresh. Bound goroutines never migrate, so an env stays valid across a
 *     blocking gr_* call made from Java.
 *  4. Classes and method IDs are looked up once, in JNI_OnLoad: FindClass on an attached
 *     worker sees only the system class loader.
 *  5. Status codes go back to Java as ints; io.gr.Status turns them into exceptions (one
 *     error policy, in Java). Pointer results are returned as jlong, where a negative value
 *     is a gr_status.
 *  6. Every local reference made on an attached thread without a Java frame lives inside
 *     Push/PopLocalFrame, or it would live until the thread detaches. */
#define _GNU_SOURCE
#include <jni.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gr.h"
#include "grjni.h"

#define JNIVER JNI_VERSION_1_8
#define P(x) ((void *)(intptr_t)(x))
#define J(x) ((jlong)(intptr_t)(x))

/* io.gr.Native methods that only hand their arguments to gr, using neither the env nor the
 * class: FORWARD(return type, method, (Java parameters), statement). */
#define FORWARD(ret, name, params, stmt)                                                   \
  JNIEXPORT ret JNICALL Java_io_gr_Native_##name(JNIEnv *env, jclass cls, ARGS params) { \
    (void)env;                                                                             \
    (void)cls;                                                                             \
    stmt;                                                                                  \
  }
#define ARGS(...) __VA_ARGS__

/* Constructors without arguments: the new object as a jlong, or the gr_status (rule 5). */
#define NEW(name, type, make)                                                 \
  JNIEXPORT jlong JNICALL Java_io_gr_Native_##name(JNIEnv *env, jclass cls) { \
    (void)env;                                                                \
    (void)cls;                                                                \
    type *p = NULL;                                                           \
    int rc = make(&p);                                                        \
    return rc != GR_OK ? rc : J(p);                                           \
  }

static JavaVM *g_vm;
static pthread_key_t g_attach_key;
static atomic_int g_exiting;
static atomic_int g_worker_seq;
static atomic_int g_native_seq;

/* Cached in JNI_OnLoad (global refs to classes, and their method IDs). */
static jclass c_task;              /* io.gr.Task */
static jmethodID m_task_invoke;    /* static String invoke(Task) */
static jclass c_long_op;           /* java.util.function.LongUnaryOperator */
static jmethodID m_long_op_apply;  /* long applyAsLong(long) */
static jclass c_object;
static jmethodID m_to_string;

/* ---- attachment ---------------------------------------------------------------------- */

static void detach_at_exit(void *unused) {
  (void)unused;
  if (!atomic_load(&g_exiting) && g_vm) (*g_vm)->DetachCurrentThread(g_vm);
}

/* The env of the calling thread, attaching it as a daemon if needed; NULL if impossible. */
static JNIEnv *env_for_thread(void) {
  JNIEnv *env = NULL;
  if (!g_vm) return NULL;
  jint r = (*g_vm)->GetEnv(g_vm, (void **)&env, JNIVER);
  if (r == JNI_OK) return env;
  if (r != JNI_EDETACHED || atomic_load(&g_exiting)) return NULL;
  char name[32];
  if (gr_context() == GR_CTX_THREAD)
    snprintf(name, sizeof name, "gr-native-%d", atomic_fetch_add(&g_native_seq, 1) + 1);
  else
    snprintf(name, sizeof name, "gr-worker-%d", atomic_fetch_add(&g_worker_seq, 1) + 1);
  JavaVMAttachArgs args = {JNIVER, name, NULL};
  if ((*g_vm)->AttachCurrentThreadAsDaemon(g_vm, (void **)&env, &args) != JNI_OK) return NULL;
  pthread_setspecific(g_attach_key, (void *)1);
  return env;
}

/* toString() of a throwable as a malloc'd C string (never NULL). Clears any new exception. */
static char *describe(JNIEnv *env, jthrowable t) {
  char *out = NULL;
  jstring s = (jstring)(*env)->CallObjectMethod(env, t, m_to_string);
  if ((*env)->ExceptionCheck(env)) {
    (*env)->ExceptionClear(env);
    s = NULL;
  }
  if (s) {
    const char *u = (*env)->GetStringUTFChars(env, s, NULL);
    if (u) {
      out = strdup(u);
      (*env)->ReleaseStringUTFChars(env, s, u);
    } else {
      (*env)->ExceptionClear(env);
    }
    (*env)->DeleteLocalRef(env, s);
  }
  return out ? out : strdup("java exception");
}

/* ---- JNI_OnLoad --------------------------------------------------------------------- */

static jclass global_class(JNIEnv *env, const char *name) {
  jclass local = (*env)->FindClass(env, name);
  if (!local) return NULL;
  jclass g = (jclass)(*env)->NewGlobalRef(env, local);
  (*env)->DeleteLocalRef(env, local);
  return g;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
  (void)reserved;
  JNIEnv *env;
  if ((*vm)->GetEnv(vm, (void **)&env, JNIVER) != JNI_OK) return JNI_ERR;
  g_vm = vm;
  if (pthread_key_create(&g_attach_key, detach_at_exit) != 0) return JNI_ERR;
  if (!(c_task = global_class(env, "io/gr/Task"))) return JNI_ERR;
  if (!(m_task_invoke = (*env)->GetStaticMethodID(env, c_task, "invoke", "(Lio/gr/Task;)Ljava/lang/String;")))
    return JNI_ERR;
  if (!(c_long_op = global_class(env, "java/util/function/LongUnaryOperator"))) return JNI_ERR;
  if (!(m_long_op_apply = (*env)->GetMethodID(env, c_long_op, "applyAsLong", "(J)J"))) return JNI_ERR;
  if (!(c_object = global_class(env, "java/lang/Object"))) return JNI_ERR;
  if (!(m_to_string = (*env)->GetMethodID(env, c_object, "toString", "()Ljava/lang/String;")))
    return JNI_ERR;
  return JNIVER;
}

JNIEXPORT void JNICALL JNI_OnUnload(JavaVM *vm, void *reserved) {
  (void)vm;
  (void)reserved;
  atomic_store(&g_exiting, 1);
}

/* ---- deferred global-ref deletes -------------------------------------------------------
 * A channel's drop function may run where JNI must not be used (a coroutine goroutine
 * releasing the last reference, or a thread that cannot attach). Such refs wait here and are
 * deleted by the next Java thread that creates or frees a channel. */
static pthread_mutex_t g_defer_lock = PTHREAD_MUTEX_INITIALIZER;
static jobject *g_defer;
static size_t g_defer_len, g_defer_cap;

static void defer_delete(jobject ref) {
  pthread_mutex_lock(&g_defer_lock);
  if (g_defer_len == g_defer_cap) {
    size_t cap = g_defer_cap ? g_defer_cap * 2 : 64;
    jobject *n = realloc(g_defer, cap * sizeof *n);
    if (!n) { /* out of memory: leaking one reference is the only safe choice */
      pthread_mutex_unlock(&g_defer_lock);
      return;
    }
    g_defer = n;
    g_defer_cap = cap;
  }
  g_defer[g_defer_len++] = ref;
  pthread_mutex_unlock(&g_defer_lock);
}

static void drain_deferred(JNIEnv *env) {
  pthread_mutex_lock(&g_defer_lock);
  for (size_t i = 0; i < g_defer_len; i++) (*env)->DeleteGlobalRef(env, g_defer[i]);
  g_defer_len = 0;
  pthread_mutex_unlock(&g_defer_lock);
}

static void drop_global_ref(void *elem, void *ctx) {
  (void)ctx;
  jobject ref;
  memcpy(&ref, elem, sizeof ref);
  if (!ref) return;
  if (gr_context() == GR_CTX_COROUTINE || atomic_load(&g_exiting)) {
    defer_delete(ref);
    return;
  }
  JNIEnv *env = env_for_thread();
  if (!env) {
    defer_delete(ref);
    return;
  }
  (*env)->DeleteGlobalRef(env, ref);
}

/* ---- runtime ------------------------------------------------------------------------ */

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

JNIEXPORT jint JNICALL Java_io_gr_Native_stats(JNIEnv *env, jclass cls, jlongArray out) {
  (void)cls;
  gr_stats s;
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  int rc = gr_stats_get(&s);
  if (rc != GR_OK) return rc;
  jlong v[5] = {(jlong)s.workers, (jlong)s.goroutines, (jlong)s.threads, (jlong)s.spawned_total,
                (jlong)s.steals_total};
  (*env)->SetLongArrayRegion(env, out, 0, 5, v);
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

/* ---- goroutines --------------------------------------------------------------------- */

/* Body of every Java goroutine: runs on a worker's own OS stack (bound goroutine). */
static void java_task_entry(void *arg) {
  jobject task = (jobject)arg;
  JNIEnv *env = env_for_thread();
  if (!env) { /* VM exiting or attach failed; the task's global ref is leaked on purpose */
    gr_goroutine_fail("gr java: cannot attach this thread to the JVM");
    return;
  }
  if ((*env)->PushLocalFrame(env, 16) != 0) {
    (*env)->ExceptionClear(env);
    gr_goroutine_fail("gr java: out of local references");
    (*env)->DeleteGlobalRef(env, task);
    return;
  }
  jstring msg = (jstring)(*env)->CallStaticObjectMethod(env, c_task, m_task_invoke, task);
  if ((*env)->ExceptionCheck(env)) { /* Task.invoke catches Throwable; this is a last resort */
    jthrowable t = (*env)->ExceptionOccurred(env);
    (*env)->ExceptionClear(env);
    char *d = describe(env, t);
    gr_goroutine_fail(d);
    free(d);
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
  (*env)->PopLocalFrame(env, NULL);
  (*env)->DeleteGlobalRef(env, task);
}

JNIEXPORT jlong JNICALL Java_io_gr_Native_spawnTask(JNIEnv *env, jclass cls, jobject task,
                                                    jboolean detached) {
  (void)cls;
  jobject g = (*env)->NewGlobalRef(env, task);
  if (!g) return GR_ENOMEM;
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  o.flags |= GR_SPAWN_BOUND;
  gr_handle *h = NULL;
  int rc = gr_spawn_ex(java_task_entry, g, &o, detached ? NULL : &h);
  if (rc != GR_OK) {
    (*env)->DeleteGlobalRef(env, g);
    return rc;
  }
  return J(h);
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

/* ---- channels ----------------------------------------------------------------------- */

JNIEXPORT jlong JNICALL Java_io_gr_Native_chanNew(JNIEnv *env, jclass cls, jlong cap, jboolean refs) {
  (void)cls;
  drain_deferred(env);
  gr_chan *ch = NULL;
  int rc = refs ? gr_chan_new_with_drop(sizeof(jobject), (size_t)cap, drop_global_ref, NULL, &ch)
                : gr_chan_new(sizeof(jlong), (size_t)cap, &ch);
  return rc != GR_OK ? rc : J(ch);
}

JNIEXPORT jint JNICALL Java_io_gr_Native_chanSendObj(JNIEnv *env, jclass cls, jlong ch, jobject v,
                                                     jlong timeout_ns, jlong cancel) {
  (void)cls;
  jobject g = (*env)->NewGlobalRef(env, v);
  if (!g) return GR_ENOMEM;
  int rc = gr_chan_send_ex(P(ch), &g, timeout_ns, P(cancel));
  if (rc != GR_OK) (*env)->DeleteGlobalRef(env, g); /* not accepted: still ours */
  return rc;
}

JNIEXPORT jint JNICALL Java_io_gr_Native_chanRecvObj(JNIEnv *env, jclass cls, jlong ch,
                                                     jobjectArray out, jlong timeout_ns,
                                                     jlong cancel) {
  (void)cls;
  jobject g = NULL;
  int rc = gr_chan_recv_ex(P(ch), &g, timeout_ns, P(cancel));
  if (rc == GR_OK && g) {
    jobject local = (*env)->NewLocalRef(env, g);
    (*env)->DeleteGlobalRef(env, g);
    (*env)->SetObjectArrayElement(env, out, 0, local);
    (*env)->DeleteLocalRef(env, local);
  }
  return rc;
}

FORWARD(jint, chanSendLong, (jlong ch, jlong v, jlong timeout_ns, jlong cancel),
        return gr_chan_send_ex(P(ch), &v, timeout_ns, P(cancel)))

JNIEXPORT jint JNICALL Java_io_gr_Native_chanRecvLong(JNIEnv *env, jclass cls, jlong ch,
                                                      jlongArray out, jlong timeout_ns,
                                                      jlong cancel) {
  (void)cls;
  jlong v = 0;
  int rc = gr_chan_recv_ex(P(ch), &v, timeout_ns, P(cancel));
  if (rc == GR_OK) (*env)->SetLongArrayRegion(env, out, 0, 1, &v);
  return rc;
}

/* Raw fixed-size elements (StructChannel): copied through a buffer, on the stack when small. */
JNIEXPORT jlong JNICALL Java_io_gr_Native_chanNewRaw(JNIEnv *env, jclass cls, jlong elem_size,
                                                     jlong cap) {
  (void)env;
  (void)cls;
  gr_chan *ch = NULL;
  int rc = gr_chan_new((size_t)elem_size, (size_t)cap, &ch);
  return rc != GR_OK ? rc : J(ch);
}

/* Sends (send != 0) or receives one element through a copy of the Java array. */
static jint chan_raw(JNIEnv *env, int send, jlong ch, jbyteArray arr, jlong timeout_ns, jlong cancel) {
  jsize n = (*env)->GetArrayLength(env, arr);
  jbyte small[256];
  jbyte *buf = n <= (jsize)sizeof small ? small : malloc((size_t)n);
  if (!buf) return GR_ENOMEM;
  int rc;
  if (send) {
    (*env)->GetByteArrayRegion(env, arr, 0, n, buf);
    rc = gr_chan_send_ex(P(ch), buf, timeout_ns, P(cancel));
  } else {
    rc = gr_chan_recv_ex(P(ch), buf, timeout_ns, P(cancel));
    if (rc == GR_OK) (*env)->SetByteArrayRegion(env, arr, 0, n, buf);
  }
  if (buf != small) free(buf);
  return rc;
}

JNIEXPORT jint JNICALL Java_io_gr_Native_chanSendRaw(JNIEnv *env, jclass cls, jlong ch, jbyteArray v,
                                                     jlong timeout_ns, jlong cancel) {
  (void)cls;
  return chan_raw(env, 1, ch, v, timeout_ns, cancel);
}

JNIEXPORT jint JNICALL Java_io_gr_Native_chanRecvRaw(JNIEnv *env, jclass cls, jlong ch, jbyteArray out,
                                                     jlong timeout_ns, jlong cancel) {
  (void)cls;
  return chan_raw(env, 0, ch, out, timeout_ns, cancel);
}

FORWARD(jint, chanClose, (jlong ch), return gr_chan_close(P(ch)))
FORWARD(jlong, chanLen, (jlong ch), return (jlong)gr_chan_len(P(ch)))
FORWARD(jlong, chanCap, (jlong ch), return (jlong)gr_chan_cap(P(ch)))
FORWARD(jlong, chanRetain, (jlong ch), return J(gr_chan_retain(P(ch))))

JNIEXPORT void JNICALL Java_io_gr_Native_chanRelease(JNIEnv *env, jclass cls, jlong ch) {
  (void)cls;
  gr_chan_release(P(ch));
  drain_deferred(env);
}

/* ---- select ------------------------------------------------------------------------
 * kinds[i]: 0 send long, 1 recv long, 2 send object, 3 recv object.
 * Returns gr_select_ex's result. For the chosen case: statuses[i] is set, a received long
 * goes to longs[i], a received object to objs[i]. Send refs not taken are deleted. */
#define K_SEND_LONG 0
#define K_RECV_LONG 1
#define K_SEND_OBJ 2
#define K_RECV_OBJ 3

JNIEXPORT jint JNICALL Java_io_gr_Native_select(JNIEnv *env, jclass cls, jlongArray chans,
                                                jintArray kinds, jlongArray longs,
                                                jobjectArray objs, jintArray statuses,
                                                jlong timeout_ns, jlong cancel) {
  (void)cls;
  jsize n = (*env)->GetArrayLength(env, chans);
  gr_case stack_cases[8];
  uint64_t stack_elems[8];
  jlong stack_ch[8], stack_lv[8];
  jint stack_k[8];
  gr_case *cs = stack_cases;
  uint64_t *el = stack_elems;
  jlong *ch = stack_ch, *lv = stack_lv;
  jint *k = stack_k;
  void *heap = NULL;
  if (n > 8) {
    size_t each = sizeof(gr_case) + sizeof(uint64_t) + 2 * sizeof(jlong) + sizeof(jint);
    heap = calloc((size_t)n, each);
    if (!heap) return GR_ENOMEM;
    cs = heap;
    el = (uint64_t *)(cs + n);
    ch = (jlong *)(el + n);
    lv = ch + n;
    k = (jint *)(lv + n);
  }
  (*env)->GetLongArrayRegion(env, chans, 0, n, ch);
  (*env)->GetIntArrayRegion(env, kinds, 0, n, k);
  (*env)->GetLongArrayRegion(env, longs, 0, n, lv);
  int rc = GR_OK;
  for (jsize i = 0; i < n; i++) {
    cs[i].chan = P(ch[i]);
    cs[i].op = (k[i] == K_SEND_LONG || k[i] == K_SEND_OBJ) ? GR_SEND : GR_RECV;
    cs[i].elem = &el[i];
    cs[i].status = GR_OK;
    el[i] = 0;
    if (k[i] == K_SEND_LONG) {
      memcpy(&el[i], &lv[i], sizeof(jlong));
    } else if (k[i] == K_SEND_OBJ) {
      jobject o = (*env)->GetObjectArrayElement(env, objs, i);
      jobject g = o ? (*env)->NewGlobalRef(env, o) : NULL;
      if (o) (*env)->DeleteLocalRef(env, o);
      if (!g) rc = GR_ENOMEM;
      memcpy(&el[i], &g, sizeof g);
    }
  }
  if (rc == GR_OK) rc = gr_select_ex(cs, (size_t)n, timeout_ns, P(cancel));
  for (jsize i = 0; i < n; i++) {
    jobject g;
    memcpy(&g, &el[i], sizeof g);
    int chosen = (i == rc);
    if (k[i] == K_SEND_OBJ && g && !(chosen && cs[i].status == GR_OK))
      (*env)->DeleteGlobalRef(env, g);
    if (!chosen) continue;
    (*env)->SetIntArrayRegion(env, statuses, i, 1, &cs[i].status);
    if (cs[i].status != GR_OK) continue;
    if (k[i] == K_RECV_LONG) {
      jlong v;
      memcpy(&v, &el[i], sizeof v);
      (*env)->SetLongArrayRegion(env, longs, i, 1, &v);
    } else if (k[i] == K_RECV_OBJ && g) {
      jobject local = (*env)->NewLocalRef(env, g);
      (*env)->DeleteGlobalRef(env, g);
      (*env)->SetObjectArrayElement(env, objs, i, local);
      (*env)->DeleteLocalRef(env, local);
    }
  }
  free(heap);
  return rc;
}

/* ---- WaitGroup and Mutex ------------------------------------------------------------ */

NEW(wgNew, gr_wg, gr_wg_new)
FORWARD(jint, wgAdd, (jlong w, jlong d), return gr_wg_add(P(w), d))
FORWARD(jint, wgWait, (jlong w, jlong t, jlong c), return gr_wg_wait_ex(P(w), t, P(c)))
FORWARD(void, wgFree, (jlong w), gr_wg_free(P(w)))

NEW(mutexNew, gr_mutex, gr_mutex_new)
FORWARD(jint, mutexLock, (jlong m, jlong t, jlong c), return gr_mutex_lock_ex(P(m), t, P(c)))
FORWARD(jint, mutexUnlock, (jlong m), return gr_mutex_unlock(P(m)))
FORWARD(void, mutexFree, (jlong m), gr_mutex_free(P(m)))

/* ---- upcalls: C code calling a Java LongUnaryOperator ------------------------------- */

static int upcall_call(grjni_upcall *u, int64_t arg, int64_t *result) {
  if (!u || !u->reserved) return GR_EINVAL;
  if (gr_context() == GR_CTX_COROUTINE) return GR_ESTATE; /* never run Java on a coroutine */
  JNIEnv *env = env_for_thread();
  if (!env) return GR_ESTATE;
  if ((*env)->PushLocalFrame(env, 16) != 0) {
    (*env)->ExceptionClear(env);
    return GR_ENOMEM;
  }
  jlong r = (*env)->CallLongMethod(env, (jobject)u->reserved, m_long_op_apply, (jlong)arg);
  int rc = GR_OK;
  if ((*env)->ExceptionCheck(env)) {
    jthrowable t = (*env)->ExceptionOccurred(env);
    (*env)->ExceptionClear(env);
    if (gr_context() != GR_CTX_THREAD) {
      char *d = describe(env, t);
      gr_goroutine_fail(d);
      free(d);
    }
    rc = GR_EPANIC;
  } else if (result) {
    *result = r;
  }
  (*env)->PopLocalFrame(env, NULL);
  return rc;
}

JNIEXPORT jlong JNICALL Java_io_gr_Native_upcallNew(JNIEnv *env, jclass cls, jobject fn) {
  (void)cls;
  grjni_upcall *u = calloc(1, sizeof *u);
  if (!u) return GR_ENOMEM;
  u->reserved = (*env)->NewGlobalRef(env, fn);
  if (!u->reserved) {
    free(u);
    return GR_ENOMEM;
  }
  u->call = upcall_call;
  return J(u);
}

JNIEXPORT void JNICALL Java_io_gr_Native_upcallFree(JNIEnv *env, jclass cls, jlong p) {
  (void)cls;
  grjni_upcall *u = P(p);
  (*env)->DeleteGlobalRef(env, (jobject)u->reserved);
  u->reserved = NULL;
  free(u);
}
