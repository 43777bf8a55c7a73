package mptcp.agent.policy;

import mptcp.agent.config.Config;

/**
 * The state the policy shares across its classes: the configuration in force and whether MPTCP sockets can be made
 * in this JVM at all. Set once at install; read on every socket.
 */
public final class Policy {
    private static volatile Config config = Config.defaults();
    /** False once the kernel or the native binding showed MPTCP sockets cannot be made in this JVM at all. */
    static volatile boolean possible = true;
    /** Set once the native binding failed to load: then nothing native is attempted any more. */
    static volatile boolean nativeBroken;
    /** The first failure of the native binding, when it happened on the warm-up thread. */
    private static volatile Throwable nativeFailure;
    private static volatile Thread warmUp;

    private Policy() {
    }

    public static void configure(Config c) {
        config = c;
        Decisions.configure(c.rules);
    }

    public static Config config() {
        return config;
    }

    /**
     * Loads the native binding (jffi's stub, libc symbols: 60-130 ms, mostly interpreted) on a daemon thread, so that
     * it overlaps with the application's own start-up instead of delaying its first socket. A failure here is
     * reported by the first socket, which then stays TCP.
     */
    public static void warmUpNative() {
        warmUpNative(null);
    }

    /**
     * As {@link #warmUpNative()}, then runs {@code next} on the same thread (the agent's JMX watcher): one thread at
     * start-up instead of two.
     */
    public static void warmUpNative(Runnable next) {
        Thread t = warmUp = new WarmUp(next);
        t.setDaemon(true);
        t.start();
    }

    /** The native binding's initialisation, off the application's threads (a class, not a lambda: no class spun). */
    private static final class WarmUp extends Thread {
        private final Runnable next;

        WarmUp(Runnable next) {
            super("mptcp-agent-init");
            this.next = next;
        }

        @Override
        public void run() {
            try {
                mptcp.sys.Sock.load();
            } catch (Throwable failure) {
                nativeFailure = failure; // the first socket meets the failure too and reports this cause
            }
            if (next != null) {
                next.run();
            }
        }
    }

    /** The root cause of a native failure: the warm-up's, when it had one (later attempts only see "Could not initialize class"). */
    static Throwable rootCause(Throwable t) {
        Thread w = warmUp;
        if (nativeFailure == null && w != null && t instanceof NoClassDefFoundError) {
            // the binding's initialisation failed on the warm-up thread, which is about to record why
            try {
                w.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Throwable first = nativeFailure;
        return first != null ? first : t;
    }
}
