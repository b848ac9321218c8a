package io.gr;

/** The format of {@link Goroutines#dump(DumpFormat)}. */
public enum DumpFormat {
    /**
     * Human text in Go's traceback style: {@code goroutine 17 [chan receive, 2 min]:} and its
     * frames, then the worker threads, the threads waiting in gr and the {@link Stats}.
     */
    TEXT(0),
    /**
     * JSON lines, one object per line, {@code "type"} first ({@code docs/ABI.md} has the
     * schema); a Java goroutine's Java frames are its {@code "lang_frames"}.
     */
    JSON(1);

    /** The {@code gr_dump} flags. */
    final int flags;

    DumpFormat(int flags) {
        this.flags = flags;
    }
}
