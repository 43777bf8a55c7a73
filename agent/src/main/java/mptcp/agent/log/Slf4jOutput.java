package mptcp.agent.log;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * {@code log_output=slf4j}: the agent's lines go through the application's own slf4j, logger {@code mptcp.agent},
 * so they end up where the application's logs go (its appenders, format, files).
 *
 * <p>Rules (the same as for the MBean, see Jmx):
 * <ul>
 *   <li>The agent never ships slf4j and never binds it: slf4j is looked up by name in the application's class loaders
 *       (the logging thread's context class loader, then the system class loader), through reflection, from the
 *       agent's own loader, which cannot see the application's classes otherwise.</li>
 *   <li>The agent never initialises the application's logging. It reads {@code LoggerFactory.INITIALIZATION_STATE}
 *       (slf4j 1.7 and 2.x; reading it runs only LoggerFactory's static field initialisers, which bind nothing) and
 *       calls {@code LoggerFactory.getLogger} only once that state is SUCCESSFUL (3), i.e. after the application's own
 *       first {@code getLogger} has found its provider and configured it (logback reads logback.xml then). Lines
 *       logged before that, and all lines when the application has no slf4j or it fell back to NOP, go to
 *       {@link StderrOutput}.</li>
 *   <li>A line logged while the application's logging runs on the same thread (an appender opening a socket that the
 *       agent converts) goes to stderr instead of re-entering the application's logging.</li>
 * </ul>
 */
public final class Slf4jOutput implements Output {
    /** LoggerFactory.SUCCESSFUL_INITIALIZATION in slf4j 1.7 and 2.x. */
    private static final int SUCCESSFUL = 3;
    private static final String FACTORY = "org.slf4j.LoggerFactory";

    private final Output fallback;
    private final ThreadLocal<Boolean> inside = new ThreadLocal<>();
    private volatile Field state;
    private volatile Object logger;
    /** error, warn, info, debug: org.slf4j.Logger methods taking one String. */
    private volatile Method[] methods;
    private volatile boolean unusable;

    public Slf4jOutput(Output fallback) {
        this.fallback = fallback;
    }

    @Override
    public void write(Log.Level level, String message) {
        if (inside.get() != null) {
            fallback.write(level, message);
            return;
        }
        inside.set(Boolean.TRUE);
        try {
            Object l = logger;
            if (l == null && !unusable) {
                try {
                    l = find();
                } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                    unusable = true; // e.g. slf4j as a named module that does not open org.slf4j
                    fallback.write(Log.Level.WARN, "log_output=slf4j: cannot use the application's slf4j (" + e
                            + "); the agent logs to stderr");
                }
            }
            if (l == null) {
                fallback.write(level, message);
                return;
            }
            methods[level.ordinal() - Log.Level.ERROR.ordinal()].invoke(l, message);
        } catch (Throwable t) {
            fallback.write(level, message);
        } finally {
            inside.remove();
        }
    }

    /** The application's logger once its slf4j is initialised; null before (and when it has none). */
    private synchronized Object find() throws ReflectiveOperationException {
        if (logger != null) {
            return logger;
        }
        Field f = state;
        if (f == null) {
            Class<?> factory = lookUp(Thread.currentThread().getContextClassLoader());
            if (factory == null) {
                factory = lookUp(ClassLoader.getSystemClassLoader());
            }
            if (factory == null) {
                return null;
            }
            f = factory.getDeclaredField("INITIALIZATION_STATE");
            f.setAccessible(true);
            state = f;
        }
        if (f.getInt(null) != SUCCESSFUL) {
            return null;
        }
        Class<?> factory = f.getDeclaringClass();
        Class<?> api = Class.forName("org.slf4j.Logger", false, factory.getClassLoader());
        Method[] m = new Method[4];
        String[] names = {"error", "warn", "info", "debug"};
        for (int i = 0; i < names.length; i++) {
            m[i] = api.getMethod(names[i], String.class);
        }
        methods = m;
        Object l = factory.getMethod("getLogger", String.class).invoke(null, "mptcp.agent");
        logger = l;
        return l;
    }

    private static Class<?> lookUp(ClassLoader loader) {
        if (loader == null) {
            return null;
        }
        try {
            return Class.forName(FACTORY, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }
}
