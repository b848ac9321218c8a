/* JNI side of SpawnSplitProbe.java (issue 16): bound goroutines spawned from Java that run C
 * only, or upcall a static Java method, without the binding's Task machinery. */
#include <gr.h>
#include <jni.h>
#include <stdint.h>

static JavaVM *vm;
static jclass cls;
static jmethodID m_nop, m_take;

static JNIEnv *env_here(void) {
  JNIEnv *env;
  if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK &&
      (*vm)->AttachCurrentThreadAsDaemon(vm, (void **)&env, 0) != JNI_OK)
    return NULL;
  return env;
}

static void c_nop(void *a) { (void)a; }
static void java_nop(void *a) {
  (void)a;
  JNIEnv *env = env_here();
  if (env) (*env)->CallStaticVoidMethod(env, cls, m_nop);
}
static void java_take(void *a) {
  JNIEnv *env = env_here();
  if (env) (*env)->CallStaticVoidMethod(env, cls, m_take, (jint)(intptr_t)a);
}

static jlong spawn_bound(gr_fn f, void *arg) {
  gr_spawn_opts o;
  gr_spawn_opts_init(&o);
  o.flags |= GR_SPAWN_BOUND;
  gr_handle *h = NULL;
  if (gr_spawn_ex(f, arg, &o, &h) != GR_OK) return 0;
  return (jlong)(intptr_t)h;
}

JNIEXPORT void JNICALL Java_io_gr_SpawnSplitProbe_init(JNIEnv *env, jclass c) {
  (*env)->GetJavaVM(env, &vm);
  cls = (*env)->NewGlobalRef(env, c);
  m_nop = (*env)->GetStaticMethodID(env, c, "nop", "()V");
  m_take = (*env)->GetStaticMethodID(env, c, "take", "(I)V");
}

/* A bound goroutine running c_nop (java == 0) or upcalling SpawnSplitProbe.nop(); its handle. */
JNIEXPORT jlong JNICALL Java_io_gr_SpawnSplitProbe_spawn(JNIEnv *env, jclass c, jboolean java) {
  (void)env;
  (void)c;
  return spawn_bound(java ? java_nop : c_nop, NULL);
}

/* A bound goroutine upcalling SpawnSplitProbe.take(slot); its handle. */
JNIEXPORT jlong JNICALL Java_io_gr_SpawnSplitProbe_spawnTake(JNIEnv *env, jclass c, jint slot) {
  (void)env;
  (void)c;
  return spawn_bound(java_take, (void *)(intptr_t)slot);
}

/* One bound spawn of c_nop + gr_wait, all in C (called once per operation from Java). */
JNIEXPORT void JNICALL Java_io_gr_SpawnSplitProbe_cSpawnJoin(JNIEnv *env, jclass c) {
  (void)env;
  (void)c;
  gr_handle *h = (gr_handle *)(intptr_t)spawn_bound(c_nop, NULL);
  if (h) {
    gr_wait(h, GR_FOREVER);
    gr_handle_release(h);
  }
}
