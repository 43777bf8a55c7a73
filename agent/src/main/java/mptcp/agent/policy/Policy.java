package mptcp.agent.policy;

import mptcp.agent.config.Config;

/**
 * The state the policy shares across its classes: the configuration in force and whether MPTCP sockets can be made
 * in this JVM at all. Set at install and replaced whole at each run-time change (attach); read on every socket.
 */
public final class Policy {
    /** The configuration in force; null until the agent installs (then read as the defaults, made on first use). */
    private static volatile Config config;
    /** False once the kernel or the native binding showed MPTCP sockets cannot be made in this JVM at all. */
    static volatile boolean possible = true;
    /** Set once the native binding failed to load: then nothing native is attempted any more. */
    static volatile boolean nativeBroken;
    /** The first failure of the native binding, when it happened on the warm-up thread. */
    private static volatile Throwable nativeFailure;
    private static volatile Thread warmUp;
    /**
     * Whether a new listening / outgoing socket is made MPTCP: {@code enabled} and {@code mode} of the configuration in
     * force, read on every socket (one volatile read: the run-time off switch costs the socket path nothing more).
     */
    static volatile boolean servers = true;
    static volatile boolean clients = true;
    /** When ({@link System#currentTimeMillis}) and by whom the configuration in force was set; 0 / null before. */
    private static volatile long changedAt;
    private static volatile String changedBy;
    /** What the rules become while the agent is switched off: any socket bound from then on is made TCP first. */
    private static volatile mptcp.agent.config.Rules offRules;

    private Policy() {
    }

    public static void configure(Config c) {
        configure(c, null);
    }

    /**
     * Puts configuration {@code c} in force, at once for every socket made from now on. Switched off
     * ({@code enabled=false}): no new MPTCP socket, the spare sockets are closed, and the rules become {@code tcp bind *}
     * (an MPTCP socket made before the switch and bound after it is made TCP first, like a rule keeps one TCP).
     * @param by who set it ("-javaagent", "attach, uid 1000"), recorded with the time for status; null: not recorded
     */
    public static synchronized void configure(Config c, String by) {
        config = c;
        Decisions.configure(c.enabled ? c.rules : off());
        servers = c.enabled && c.convertsServers();
        clients = c.enabled && c.convertsClients();
        if (!c.enabled) {
            Spares.closeAll();
        }
        if (by != null) {
            changedAt = System.currentTimeMillis();
            changedBy = by;
        }
    }

    private static mptcp.agent.config.Rules off() {
        mptcp.agent.config.Rules r = offRules;
        if (r == null) {
            r = mptcp.agent.config.Rules.parse("tcp bind *", "enabled=false", false);
            offRules = r;
        }
        return r;
    }

    /** When the configuration in force was set (ms since the epoch), 0 when never recorded. */
    public static long changedAt() {
        return changedAt;
    }

    /** Who set the configuration in force ("-javaagent", "attach, uid 0"), or null. */
    public static String changedBy() {
        return changedBy;
    }

    public static Config config() {
        Config c = config;
        if (c == null) { // before install (tests, tools): the defaults; premain sets its own first, sparing a parse
            c = Config.defaults();
            config = c;
        }
        return c;
    }

    /** What the warm-up thread runs after the native initialisation: {@code r}, or nothing when null. Call once. */
    public static void thenRun(Runnable r) {
        synchronized (NEXT_LOCK) {
            next = r;
            nextDecided = true;
            NEXT_LOCK.notifyAll();
        }
    }

    private static final Object NEXT_LOCK = new Object();
    private static boolean nextDecided;
    private static Runnable next;
    /** Work handed to the warm-up thread by {@link #prepare}, not yet run. */
    private static Runnable prepared;

    /**
     * Has the warm-up thread run {@code task} as soon as it is free (after the native initialisation), off the
     * application's threads: work the application would otherwise do itself a little later (e.g. looking up the JDK
     * methods its first socket calls). Dropped when that thread is gone; the work then happens where it is needed,
     * as before. Returns at once.
     */
    public static void prepare(Runnable task) {
        synchronized (NEXT_LOCK) {
            prepared = task;
            NEXT_LOCK.notifyAll();
        }
    }

    /**
     * For what runs on the warm-up thread after the native initialisation ({@link #thenRun}): waits {@code millis},
     * meanwhile running the tasks handed over by {@link #prepare}.
     */
    public static void serveFor(long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000L;
        for (;;) {
            Runnable task;
            synchronized (NEXT_LOCK) {
                long left;
                while ((task = prepared) == null && (left = end - System.nanoTime()) > 0) {
                    NEXT_LOCK.wait(left / 1_000_000L + 1);
                }
                prepared = null;
            }
            if (task == null) {
                return;
            }
            try {
                task.run();
            } catch (Throwable t) {
                // only ahead of time: the same work is done again, and reported, where it is needed
            }
        }
    }

    /**
     * Loads the native binding (jffi's stub, libc symbols) on a daemon thread, so that it overlaps with the agent's
     * install and the application's start instead of delaying its first socket; a failure here is reported by the
     * first socket, which then stays TCP. Once loaded, the same thread runs what {@link #thenRun} hands it (the
     * agent's JMX watcher): one thread at start-up instead of two. Called at the start of premain; with cache=on the
     * agent's private directory is used from now on (mptcp.sys.PrivateDir: the stub and the class cache), and this
     * thread is the one that checks it.
     */
    public static void warmUpNative(Config c) {
        if (c.cache) {
            mptcp.sys.PrivateDir.use(mptcp.agent.config.Build.ID); // looked at by the warm-up thread first (the stub)
        }
        Thread t = warmUp = new WarmUp();
        t.setDaemon(true);
        t.start();
    }

    /** The native binding's initialisation, off the application's threads (a class, not a lambda: no class spun). */
    private static final class WarmUp extends Thread {
        WarmUp() {
            super("mptcp-agent-init");
        }

        @Override
        public void run() {
            try {
                mptcp.sys.Sock.load();
            } catch (Throwable failure) {
                nativeFailure = failure; // the first socket meets the failure too and reports this cause
            }
            Runnable r;
            synchronized (NEXT_LOCK) {
                while (!nextDecided) {
                    try {
                        NEXT_LOCK.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                r = next;
            }
            if (r != null) {
                r.run();
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

    /**
     * Whether the socket closes are intercepted for the per-path accounting: the agent was installed with paths=on (the
     * JDK's close natives are redirected then, Netty's as its classes load from then on, whatever paths says later).
     * Without it the accounting cannot be switched on at run time: no connection would get its last look.
     */
    private static volatile boolean closesHooked;

    /** The agent is being installed with paths=on. */
    public static void hookCloses() {
        closesHooked = true;
    }

    public static boolean closesHooked() {
        return closesHooked;
    }
}
