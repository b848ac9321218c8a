/* chan.c: channels of Java objects (JNI global refs), longs and raw structs (see glue.h). */
#include "glue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Deferred global-ref deletes. A channel's drop function may run where JNI must not be used
 * (a coroutine goroutine releasing the last reference, or a thread that cannot attach). Such
 * refs wait here and are deleted by the next Java thread that creates or frees a channel. */
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

void grjni_drain_deferred(JNIEnv *env) {
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
  JNIEnv *env = grjni_env();
  if (!env) {
    defer_delete(ref);
    return;
  }
  (*env)->DeleteGlobalRef(env, ref);
}

JNIEXPORT jlong JNICALL Java_io_gr_Native_chanNew(JNIEnv *env, jclass cls, jlong cap, jboolean refs) {
  (void)cls;
  grjni_drain_deferred(env);
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
  grjni_drain_deferred(env);
}
