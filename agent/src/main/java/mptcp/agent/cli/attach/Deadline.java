package mptcp.agent.cli.attach;

import java.util.concurrent.TimeUnit;

/**
 * The time a command may wait for one JVM, and the message that says what it waited for when that time is up: no
 * step of talking to a JVM (its attach listener starting, a connect, a reply, the status stream) may block longer.
 */
public final class Deadline {
    private final long end;
    private final long millis;

    private Deadline(long millis) {
        this.millis = millis;
        this.end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /** A deadline {@code millis} from now. */
    public static Deadline in(long millis) {
        return new Deadline(millis);
    }

    public long remainingMillis() {
        return Math.max(0, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()));
    }

    public boolean passed() {
        return end - System.nanoTime() <= 0;
    }

    /** "10 s" (or "1.5 s"): the whole time this deadline allowed. */
    public String allowed() {
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    /** Thrown when a deadline passed; the message names what was waited for and what /proc says of the process. */
    public static final class Passed extends java.io.IOException {
        private static final long serialVersionUID = 1L;

        public Passed(String message) {
            super(message);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }

    /** "JVM 1234 did not answer WHAT within 10 s (stopped: state T in /proc/1234/stat)". */
    public Passed passed(Target target, String what) {
        return new Passed("JVM " + target.pid + " did not " + what + " within " + allowed() + target.stateNote());
    }
}
