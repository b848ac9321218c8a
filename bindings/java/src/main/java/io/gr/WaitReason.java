package io.gr;

/**
 * What a parked goroutine waits for: the wait reasons of the runtime's dumps and of
 * {@link Stats#waiting(WaitReason)} ({@code GR_WAIT_*} in {@code gr.h}, by the same names).
 */
public enum WaitReason {
    /** Receiving from a channel. */
    CHAN_RECV(1),
    /** Sending on a channel. */
    CHAN_SEND(2),
    /** In a select. */
    SELECT(3),
    /** In a select with no channel (waiting for its timeout or cancellation only). */
    SELECT_EMPTY(4),
    /** Sleeping. */
    SLEEP(5),
    /** Locking a {@link Mutex}. */
    MUTEX(6),
    /** Waiting on a {@link WaitGroup}. */
    WAITGROUP(7),
    /** Joining a goroutine. */
    JOIN(8),
    /** Waiting for a file descriptor (the netpoller). */
    FD(9),
    /** Taking an {@link RWMutex}'s read lock. */
    RWMUTEX_READ(10),
    /** Taking an {@link RWMutex}'s write lock. */
    RWMUTEX_WRITE(11),
    /** Waiting on a {@link Cond}. */
    COND(12),
    /** Acquiring a {@link Semaphore} (also a {@link Group}'s wait for a free slot). */
    SEMAPHORE(13),
    /** Waiting for a {@link Once}'s body, which another call runs. */
    ONCE(14);

    /** The {@code GR_WAIT_*} code: its index in {@code gr_stats.waiting}. */
    final int code;

    WaitReason(int code) {
        this.code = code;
    }

    /**
     * The reason's code in the C API ({@code GR_WAIT_*}).
     *
     * @return the code, 1 or more
     */
    public int code() {
        return code;
    }
}
