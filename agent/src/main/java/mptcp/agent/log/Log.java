package mptcp.agent.log;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent's own logger: one line per message on the JVM's stderr, prefixed "mptcp-agent: LEVEL: " (default), or,
 * with {@code log_output=slf4j}, through the application's own slf4j once the application has initialised it (see
 * {@link Slf4jOutput}). It never touches the application's logging configuration.
 */
public final class Log {
    public enum Level { OFF, ERROR, WARN, INFO, DEBUG }

    private static volatile Level level = Level.WARN;
    private static volatile Output output = StderrOutput.INSTANCE;
    private static final Set<String> ONCE = ConcurrentHashMap.newKeySet();

    private Log() {
    }

    public static void setLevel(Level l) {
        level = l;
    }

    /** Where lines go (key log_output): stderr by default, or the application's slf4j. */
    public static void setOutput(Output o) {
        output = o;
    }

    public static boolean enabled(Level l) {
        return l != Level.OFF && l.compareTo(level) <= 0;
    }

    public static void error(String message) {
        log(Level.ERROR, message);
    }

    public static void warn(String message) {
        log(Level.WARN, message);
    }

    public static void info(String message) {
        log(Level.INFO, message);
    }

    public static void debug(String message) {
        log(Level.DEBUG, message);
    }

    /** Logs {@code message} only the first time {@code key} is seen in this JVM. */
    public static void once(Level l, String key, String message) {
        if (enabled(l) && ONCE.add(key)) {
            log(l, message);
        }
    }

    private static void log(Level l, String message) {
        if (enabled(l)) {
            // one line per message, whatever the exception texts inside contain (JDK 25's UnsatisfiedLinkError ends in \n)
            output.write(l, message.indexOf('\n') < 0 ? message : message.replaceAll("\\s*\\R\\s*", " ").trim());
        }
    }
}
