/**
 * Go-style goroutines and channels for Java 8 and later, over the gr runtime
 * ({@code libgr.so.0}) shared with C and Python code in the same process.
 *
 * <h2>Where code runs</h2>
 * Java callbacks started with {@link io.gr.Goroutines#go(java.util.concurrent.Callable)} run as
 * thread-bound goroutines on a gr worker's own OS thread, attached to the JVM as a daemon
 * thread named {@code gr-worker-N}; a blocking call there blocks that thread and hands its
 * processor to a spare thread. Each holds its thread until it returns, so at most
 * {@code maxThreads - workers - 1} exist at once and a queued one always gets a thread;
 * idle spare threads exit after a second. C functions started with
 * {@link io.gr.Goroutines#goNative(long, long)} run as ordinary coroutine goroutines, where
 * the M:N scale is. Ordinary Java threads use channels directly and block;
 * {@link java.lang.Thread#interrupt()} ends such a wait with
 * {@link java.lang.InterruptedException} and the withdrawn wait loses no value.
 *
 * <h2>java.util.concurrent</h2>
 * A {@link io.gr.Goroutine} is a {@link java.util.concurrent.Future};
 * {@link io.gr.Goroutines#executor()} is an {@link java.util.concurrent.ExecutorService};
 * a {@link io.gr.Mutex} is a {@link java.util.concurrent.locks.Lock} with
 * {@link java.util.concurrent.locks.Condition}s ({@link io.gr.Cond}); an {@link io.gr.RWMutex}
 * is a {@link java.util.concurrent.locks.ReadWriteLock}; a {@link io.gr.Channel} is
 * {@link java.lang.Iterable} and has a {@link java.util.concurrent.BlockingQueue} view.
 * Timeouts of zero or less never wait.
 *
 * <h2>The rest of Go's toolbox</h2>
 * {@link io.gr.Semaphore} (weighted), {@link io.gr.Once}, timer channels
 * ({@link io.gr.Goroutines#after}, {@link io.gr.Timer}, {@link io.gr.Ticker}),
 * {@link io.gr.Context} (Go's {@code context}) and {@link io.gr.Group} (Go's
 * {@code errgroup}: the first failure cancels the others and is rethrown by
 * {@code close()}).
 *
 * <h2>Freeing versus closing</h2>
 * Every handle ({@link io.gr.Channel}, {@link io.gr.LongChannel}, {@link io.gr.WaitGroup},
 * {@link io.gr.Mutex}, {@link io.gr.Upcall}, {@link io.gr.Goroutine}, and the toolbox's) is
 * {@link java.lang.AutoCloseable}, and {@code close()} <em>frees</em> the Java side's hold on
 * native memory, exactly once; closing again does nothing, and a call blocked on the handle
 * in another thread ends with {@link java.lang.IllegalStateException}, as any later use does.
 * Go's {@code close(ch)} is a different operation, named
 * {@link io.gr.Channel#closeForSend()}.
 *
 * <h2>Signals</h2>
 * libgr installs a SIGSEGV/SIGBUS handler (for goroutine stack overflows) that chains to the
 * JVM's, so implicit NullPointerExceptions keep working. A host that loads libgr
 * <em>before</em> creating the JVM must preload {@code libjsig.so} so the JVM can chain back.
 * With {@code GR_SIGNAL_HANDLERS=0} in the environment libgr installs no handler at all.
 */
package io.gr;
