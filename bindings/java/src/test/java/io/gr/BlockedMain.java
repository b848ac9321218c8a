package io.gr;

/** Child JVM for item 7: leaves Java and C goroutines blocked and returns from main. */
public final class BlockedMain {
    private BlockedMain() {}

    /**
     * Entry point.
     *
     * @param args unused
     * @throws Exception never expected
     */
    public static void main(String[] args) throws Exception {
        LongChannel never = new LongChannel(0);
        for (int i = 0; i < 4; i++) {
            Goroutines.goDetached(() -> {
                try {
                    never.recv();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
        }
        long job = TestLib.sumJob(never.retainNative(), never.retainNative());
        Goroutines.goNative(TestLib.sumFn(), job).close(); // a C goroutine blocked in recv
        Thread t = new Thread(() -> {
            try {
                never.recv();
            } catch (InterruptedException ignored) {
                // exit
            }
        });
        t.setDaemon(true);
        t.start();
        Thread.sleep(200);
        System.out.println("blocked; main returns");
        System.out.flush();
    }
}
