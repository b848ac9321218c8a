package io.gr;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The JNI entry points (libgrjni.so) and the loader that brings them in.
 *
 * <p>The jar carries {@code libgr.so.0} and {@code libgrjni.so} under
 * {@code io/gr/native/linux-x86_64/}. Both are extracted into one fresh temporary directory;
 * {@code libgr.so.0} is loaded first, so that the glue and any C library linked with
 * {@code -lgr} that the application loads later share the one runtime (glibc reuses a loaded
 * library with the same soname). If the process already has a {@code libgr.so.0} (a C library
 * loaded earlier brought it), the jar's copy is not loaded and the glue binds to that one.
 * The files are deleted once loaded.
 *
 * <p>Pointer results come back as {@code long}; a negative value is a gr status code.
 */
final class Native {
    private Native() {}

    static final String RESOURCE_DIR = "/io/gr/native/linux-x86_64/";

    static {
        load();
        Runtime.getRuntime().addShutdownHook(new Thread(Native::markVmExiting, "gr-vm-exit"));
    }

    /** Forces loading; call from every public entry class's static initialiser. */
    static void ensureLoaded() {}

    private static void load() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new UnsatisfiedLinkError("gr: no native library for " + os + "/" + arch);
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("gr-jni-");
            Path glue = extract(dir, "libgrjni.so");
            // If a C library already brought libgr.so.0 into the process, the glue binds to
            // that one by soname; loading ours by path would add a second runtime.
            if (!libgrAlreadyLoaded()) {
                System.load(extract(dir, "libgr.so.0").toString());
            }
            System.load(glue.toString());
        } catch (IOException e) {
            UnsatisfiedLinkError u = new UnsatisfiedLinkError("gr: cannot extract native libraries: " + e);
            u.initCause(e);
            throw u;
        } finally {
            if (dir != null) {
                deleteQuietly(dir.resolve("libgrjni.so"));
                deleteQuietly(dir.resolve("libgr.so.0"));
                deleteQuietly(dir);
            }
        }
    }

    /** Whether some libgr.so.0 is mapped into this process already (Linux /proc/self/maps). */
    private static boolean libgrAlreadyLoaded() {
        try {
            for (String line : Files.readAllLines(java.nio.file.Paths.get("/proc/self/maps"))) {
                if (line.endsWith("/libgr.so.0") || line.endsWith("/libgr.so")) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc: load ours
        }
        return false;
    }

    private static Path extract(Path dir, String name) throws IOException {
        try (InputStream in = Native.class.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) {
                throw new IOException("resource " + RESOURCE_DIR + name + " missing from the jar");
            }
            Path out = dir.resolve(name);
            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
            return out;
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            p.toFile().deleteOnExit();
        }
    }

    // runtime
    static native void markVmExiting();
    static native String version();
    static native String strerror(int status);
    static native int init(int workers, long stackSize, int maxThreads);
    static native int shutdown(long timeoutNs);
    static native int stats(long[] out);
    static native byte[] dump(long[] threadIds, byte[] frames, int[] frameEnds, int flags, int[] status);
    static native int context();
    static native long symbol(String library, String name);
    static native void blockingBegin();
    static native void blockingEnd();

    // goroutines
    static native long spawnTask(Task<?> task, boolean detached, long timeoutNs);
    static native long spawnTaskSlot(int slot, boolean detached, long timeoutNs);
    static native long spawnNative(long fn, long arg, boolean detached);
    static native long spawnNativeArgs(long fn, long[] args, boolean detached);
    static native int wait(long handle, long timeoutNs, long cancel);
    static native String handleError(long handle);
    static native void handleRelease(long handle);
    static native int sleep(long ns, long cancel);

    // cancel tokens
    static native long cancelNew();
    static native int cancelFire(long c);
    static native int cancelReset(long c);
    static native void cancelFree(long c);

    // channels
    static native long chanNew(long capacity, boolean refs);
    static native int chanSendObj(long ch, Object v, long timeoutNs, long cancel);
    static native int chanRecvObj(long ch, Object[] out, long timeoutNs, long cancel);
    static native int chanSendLong(long ch, long v, long timeoutNs, long cancel);
    static native int chanRecvLong(long ch, long[] out, long timeoutNs, long cancel);
    static native long chanNewRaw(long elemSize, long capacity);
    static native int chanSendRaw(long ch, byte[] v, long timeoutNs, long cancel);
    static native int chanRecvRaw(long ch, byte[] out, long timeoutNs, long cancel);
    static native int chanClose(long ch);
    static native long chanLen(long ch);
    static native long chanCap(long ch);
    static native long chanRetain(long ch);
    static native void chanRelease(long ch);

    static native int select(long[] chans, int[] kinds, long[] longs, Object[] objs, int[] statuses,
                             long timeoutNs, long cancel);

    // sync
    static native long wgNew();
    static native int wgAdd(long wg, long delta);
    static native int wgWait(long wg, long timeoutNs, long cancel);
    static native void wgFree(long wg);
    static native long mutexNew();
    static native int mutexLock(long mu, long timeoutNs, long cancel);
    static native int mutexUnlock(long mu);
    static native void mutexFree(long mu);
    // toolbox (issue 15): sync.c, once.c, time.c, context.c; groupSpawnTask in goroutine.c
    static native long rwmutexNew();
    static native int rwmutexLock(long mu, long timeoutNs, long cancel);
    static native int rwmutexUnlock(long mu);
    static native int rwmutexRlock(long mu, long timeoutNs, long cancel);
    static native int rwmutexRunlock(long mu);
    static native void rwmutexFree(long mu);
    static native long semNew(long size);
    static native int semAcquire(long sem, long n, long timeoutNs, long cancel);
    static native int semRelease(long sem, long n);
    static native void semFree(long sem);
    static native long condNew(long mutex);
    static native int condWait(long cond, long timeoutNs, long cancel);
    static native int condSignal(long cond);
    static native int condBroadcast(long cond);
    static native void condFree(long cond);
    static native long onceNew();
    static native int onceDo(long once, java.util.function.BooleanSupplier fn, long timeoutNs, long cancel);
    static native int onceState(long once);
    static native void onceFree(long once);
    static native long after(long ns);
    static native long timerNew(long ns);
    static native long timerChan(long timer);
    static native int timerStop(long timer);
    static native int timerReset(long timer, long ns);
    static native void timerFree(long timer);
    static native long tickerNew(long periodNs);
    static native long tickerChan(long ticker);
    static native int tickerStop(long ticker);
    static native int tickerReset(long ticker, long periodNs);
    static native void tickerFree(long ticker);
    static native long cancelChild(long parent);
    static native long cancelTimeout(long parent, long ns);
    static native long cancelDeadline(long parent, long deadline);
    static native int cancelErr(long c);
    static native int cancelDeadlineOf(long c, long[] out);
    static native long cancelDone(long c);
    static native long groupNew(long parent, long limit);
    static native long groupContext(long group);
    static native int groupSpawnTask(long group, Task<?> task, long timeoutNs, long cancel, long threadTimeoutNs,
            long[] out);
    static native int groupWait(long group, long timeoutNs, long cancel);
    static native int groupCancel(long group);
    static native void groupFree(long group);

    // upcalls
    static native long upcallNew(Object fn);
    static native void upcallFree(long upcall);
}
