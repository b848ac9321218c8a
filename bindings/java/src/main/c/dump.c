/* dump.c: io.gr.Goroutines.dump() over gr_dump_to (see glue.h), and the Java thread ids that
 * label Java goroutines for it.
 *
 * A Java goroutine labels itself at its start with the Java id of its thread
 * (gr_goroutine_label(GR_KIND_JAVA, id): goroutine.c). Java samples the stacks of gr's
 * threads just before the dump (Thread.getAllStackTraces) and hands them over as UTF-8 text,
 * sorted by thread id; the frames hook looks a goroutine's label up there. The hook runs
 * inside gr_dump_to, where it may neither call gr nor block: it touches only C memory, never
 * the JVM. */
#include "glue.h"

#include <stdlib.h>
#include <string.h>

/* Java's id of the calling thread (Thread.getId()), looked up once per thread; 0 if the
 * lookup failed (the goroutine then shows no Java frames). */
jlong grjni_thread_id(JNIEnv *env) {
  static __thread jlong id;
  if (id == 0) {
    jobject t = (*env)->CallStaticObjectMethod(env, c_thread, m_thread_current);
    if (t && !(*env)->ExceptionCheck(env)) id = (*env)->CallLongMethod(env, t, m_thread_get_id);
    if ((*env)->ExceptionCheck(env)) {
      (*env)->ExceptionClear(env);
      id = 0;
    }
    if (t) (*env)->DeleteLocalRef(env, t);
  }
  return id;
}

struct jdump {
  char *out; /* the report so far */
  size_t len, cap;
  int oom;
  const jlong *ids; /* sorted Java thread ids */
  const jint *ends; /* ends[i]: end of thread ids[i]'s text in text */
  const char *text;
  jsize n;
};

static void dump_write(const char *buf, size_t len, void *ctx) {
  struct jdump *d = ctx;
  if (d->oom) return;
  if (d->len + len > d->cap) {
    size_t cap = d->cap ? d->cap : 1 << 16;
    while (cap < d->len + len) cap *= 2;
    char *p = realloc(d->out, cap);
    if (!p) {
      d->oom = 1;
      return;
    }
    d->out = p;
    d->cap = cap;
  }
  memcpy(d->out + d->len, buf, len);
  d->len += len;
}

static size_t dump_frames(uint64_t goroutine, uint32_t kind, void *label, char *buf, size_t cap,
                          void *ctx) {
  (void)goroutine;
  const struct jdump *d = ctx;
  jlong id = (jlong)(intptr_t)label;
  if (kind != GR_KIND_JAVA || id == 0) return 0;
  jsize lo = 0, hi = d->n;
  while (lo < hi) {
    jsize mid = lo + (hi - lo) / 2;
    if (d->ids[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == d->n || d->ids[lo] != id) return 0;
  size_t start = lo ? (size_t)d->ends[lo - 1] : 0, n = (size_t)d->ends[lo] - start;
  if (n > cap) n = cap;
  memcpy(buf, d->text + start, n);
  return n;
}

/* The report as UTF-8 bytes, or NULL with status[0] set. ids: sorted Java thread ids; text
 * and ends: their frames, back to back (ends[i] is where thread ids[i]'s text ends). */
JNIEXPORT jbyteArray JNICALL Java_io_gr_Native_dump(JNIEnv *env, jclass cls, jlongArray ids,
                                                    jbyteArray text, jintArray ends, jint flags,
                                                    jintArray status) {
  (void)cls;
  struct jdump d = {0};
  jint rc = GR_ENOMEM;
  jbyteArray result = NULL;
  d.n = (*env)->GetArrayLength(env, ids);
  jsize tn = (*env)->GetArrayLength(env, text);
  jlong *idv = malloc(sizeof(jlong) * (size_t)(d.n ? d.n : 1));
  jint *endv = malloc(sizeof(jint) * (size_t)(d.n ? d.n : 1));
  char *tv = malloc((size_t)(tn ? tn : 1));
  if (idv && endv && tv) {
    /* Copies: no JNI call may run inside gr_dump_to (the hook reads these). */
    (*env)->GetLongArrayRegion(env, ids, 0, d.n, idv);
    (*env)->GetIntArrayRegion(env, ends, 0, d.n, endv);
    (*env)->GetByteArrayRegion(env, text, 0, tn, (jbyte *)tv);
    d.ids = idv;
    d.ends = endv;
    d.text = tv;
    rc = gr_dump_to(dump_write, dump_frames, &d, (uint32_t)flags);
    if (rc == GR_OK && (d.oom || d.len > INT32_MAX)) rc = GR_ENOMEM;
    if (rc == GR_OK) {
      result = (*env)->NewByteArray(env, (jsize)d.len);
      if (result) {
        (*env)->SetByteArrayRegion(env, result, 0, (jsize)d.len, (const jbyte *)d.out);
      } else {
        (*env)->ExceptionClear(env); /* the OutOfMemoryError: Java throws GrException(ENOMEM) */
        rc = GR_ENOMEM;
      }
    }
  }
  free(idv);
  free(endv);
  free(tv);
  free(d.out);
  (*env)->SetIntArrayRegion(env, status, 0, 1, &rc);
  return result;
}
