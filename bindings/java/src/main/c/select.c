/* select.c: gr_select over object and long channels (see glue.h). */
#include "glue.h"

#include <stdlib.h>
#include <string.h>

/* kinds[i]: 0 send long, 1 recv long, 2 send object, 3 recv object.
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
