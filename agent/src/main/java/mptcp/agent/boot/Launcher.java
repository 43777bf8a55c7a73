package mptcp.agent.boot;

import java.lang.instrument.Instrumentation;

/**
 * Entry points of mptcp-agent.jar: {@code -javaagent} (premain), attach (agentmain) and {@code java -jar} (main).
 *
 * <p>Rules for this class, which is loaded by the application's class loader:
 * <ul>
 *   <li>It references nothing but the JDK and {@link AgentLoader}; all other agent code, and the agent's own
 *       dependencies, are loaded through {@link AgentLoader} so that they can never collide with the application's.</li>
 *   <li>It never throws into the JVM: a failure to start prints one line and the application runs without MPTCP.</li>
 *   <li>It does the cheap JDK-tool check itself, so {@code JAVA_TOOL_OPTIONS} costs JDK tools almost nothing.</li>
 * </ul>
 */
public final class Launcher {
    private static volatile ClassLoader loader;

    private Launcher() {
    }

    public static void premain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    /** The command line: {@code java -jar mptcp-agent.jar attach|status|demo|--help|--version}. */
    public static void main(String[] args) throws Throwable {
        int code;
        try {
            code = (Integer) loader().loadClass("mptcp.agent.Cli")
                    .getMethod("run", String[].class).invoke(null, (Object) args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
        System.exit(code);
    }

    private static void start(String args, Instrumentation inst, boolean attached) {
        if (!attached && isJdkTool()) {
            return;
        }
        try {
            loader().loadClass("mptcp.agent.Agent")
                    .getMethod("start", String.class, Instrumentation.class, boolean.class)
                    .invoke(null, args, inst, attached);
        } catch (Throwable t) {
            Throwable cause = t instanceof java.lang.reflect.InvocationTargetException ? t.getCause() : t;
            System.err.println("mptcp-agent: ERROR: agent not started (" + cause
                    + "); the application continues without MPTCP");
        }
    }

    /** JDK tools (jcmd, javac, jar, keytool, jshell, ...) run their main class from a module of the JDK itself. */
    private static boolean isJdkTool() {
        String module = System.getProperty("jdk.module.main", "");
        return module.startsWith("jdk.") || module.startsWith("java.");
    }

    /** The one class loader of the agent's internals, shared by premain, agentmain and main in one JVM. */
    public static ClassLoader loader() throws java.io.IOException {
        ClassLoader l = loader;
        if (l == null) {
            synchronized (Launcher.class) {
                l = loader;
                if (l == null) {
                    l = new AgentLoader(Launcher.class.getProtectionDomain().getCodeSource());
                    loader = l;
                }
            }
        }
        return l;
    }
}
