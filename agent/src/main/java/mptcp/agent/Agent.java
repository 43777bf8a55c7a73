package mptcp.agent;

import java.lang.instrument.Instrumentation;

/** Starts the agent in a JVM, from premain or agentmain (see mptcp.agent.boot.Launcher). */
public final class Agent {
    public static final String VERSION = version();
    /** Set in the target JVM once installed: "version; options". Read by attach and status. */
    public static final String ACTIVE_PROPERTY = "mptcp-agent.active";

    private Agent() {
    }

    public static void start(String args, Instrumentation inst, boolean attached) {
        if (attached && StatusCommand.isCommand(args)) {
            StatusCommand.handle(args); // a request of `status <pid>` to the agent already running here
            return;
        }
        Config config;
        try {
            config = Config.fromJvm(args);
        } catch (IllegalArgumentException e) {
            System.err.println("mptcp-agent: ERROR: " + e.getMessage()
                    + "; the agent is not installed, the application continues without MPTCP");
            return;
        }
        Log.setLevel(config.log);
        if (!config.enabled) {
            Log.info("disabled (enabled=false): no socket is converted");
            return;
        }
        if (Instrumenter.installed()) {
            Log.warn("already active in this JVM; not installed twice");
            return;
        }
        enableNativeAccess(inst);
        try {
            Interceptor.configure(config);
            Instrumenter.install(inst);
            System.setProperty(ACTIVE_PROPERTY, VERSION + "; " + config.text);
            Log.info("active (" + (attached ? "attached" : "premain") + "), " + config.text);
            warmUpNative();
            if (attached) {
                convertListeners(config);
            }
            Jmx.start();
        } catch (Throwable t) {
            Log.error("could not install (" + t + "); the application continues without MPTCP");
        }
    }

    /** On attach: the listeners the application already has become MPTCP (issue 11), or stay TCP with a reason. */
    private static void convertListeners(Config config) {
        String keep = !config.convertListeners ? "listeners=keep"
                : !config.convertsServers() ? "mode=client converts no listener" : null;
        try {
            for (String line : mptcp.agent.listeners.Listeners.run(keep == null, keep, Log::debug)) {
                Log.info(line);
            }
        } catch (Throwable t) {
            System.setProperty(mptcp.agent.listeners.Listeners.RESULT_PROPERTY, "listeners not converted: " + t);
            Log.error("converting the existing listeners failed (" + t + "); they stay TCP");
        }
    }

    /**
     * Loads the native binding (jffi's stub, libc symbols: 60-130 ms, mostly interpreted) on a daemon thread, so that
     * it overlaps with the application's own start-up instead of delaying its first socket. A failure here is
     * reported by the first socket, which then stays TCP.
     */
    private static void warmUpNative() {
        Thread t = new Thread(() -> {
            try {
                mptcp.sys.Sock.load();
            } catch (Throwable failure) {
                Interceptor.nativeFailure = failure; // the first socket meets the failure too and reports this cause
            }
        }, "mptcp-agent-init");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Native access (JDK 22+) for the agent's own named module only (see Launcher.defineModule), so that jffi loading
     * its stub prints no warning, without granting anything to the application. java.lang is opened to this module
     * alone, for this one call.
     */
    private static void enableNativeAccess(Instrumentation inst) {
        Module self = Agent.class.getModule();
        if (!self.isNamed()) {
            return;
        }
        try {
            java.lang.reflect.Method grant = Module.class.getDeclaredMethod("implAddEnableNativeAccess");
            inst.redefineModule(Object.class.getModule(), java.util.Set.of(), java.util.Map.of(),
                    java.util.Map.of("java.lang", java.util.Set.of(self)), java.util.Set.of(), java.util.Map.of());
            grant.setAccessible(true);
            grant.invoke(self);
        } catch (NoSuchMethodException e) {
            // before JDK 17's incubating foreign API: nothing restricted
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.debug("native access not granted to the agent's module: " + e);
        }
    }

    private static String version() {
        try (java.io.InputStream in = Agent.class.getClassLoader().getResourceAsStream("mptcp-agent.properties")) {
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version", "dev");
        } catch (Exception e) {
            return "dev";
        }
    }
}
