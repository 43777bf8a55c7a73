package mptcp.agent;

import java.lang.instrument.Instrumentation;
import java.util.List;

import mptcp.agent.config.Build;
import mptcp.agent.config.Config;
import mptcp.agent.engine.InterceptionModule;
import mptcp.agent.jdk.JdkModule;
import mptcp.agent.listeners.Listeners;
import mptcp.agent.log.Log;
import mptcp.agent.log.Slf4jOutput;
import mptcp.agent.log.StderrOutput;
import mptcp.agent.netty.NettyModule;
import mptcp.agent.paths.Paths;
import mptcp.agent.policy.Policy;
import mptcp.agent.report.Jmx;
import mptcp.agent.report.StatusRequest;

/**
 * Starts the agent in a JVM, from premain or agentmain (see mptcp.agent.boot.Launcher): reads the configuration,
 * installs the interception modules that are switched on, converts the existing listeners on attach, starts the
 * status plumbing.
 */
public final class Agent {
    /** The intercepted libraries, in install order. */
    private static final List<InterceptionModule> MODULES = List.of(new JdkModule(), new NettyModule());

    static {
        // how mptcp.agent.boot.Launcher reaches start(): through its loader and a JDK interface, not reflection
        ClassLoader loader = Agent.class.getClassLoader();
        if (loader instanceof java.util.function.Consumer) {
            @SuppressWarnings("unchecked")
            java.util.function.Consumer<Object> registry = (java.util.function.Consumer<Object>) loader;
            registry.accept(new Entry());
        }
    }

    /** Set by the launcher: the named module was granted native access when it was defined. */
    private static volatile boolean nativeAccessGranted;

    private Agent() {
    }

    /** {@code start(args, inst, attached)} as the launcher calls it. */
    private static final class Entry implements java.util.function.Consumer<Object[]> {
        @Override
        public void accept(Object[] a) {
            nativeAccessGranted = a.length > 3 && Boolean.TRUE.equals(a[3]);
            start((String) a[0], (Instrumentation) a[1], (Boolean) a[2]);
        }
    }

    public static void start(String args, Instrumentation inst, boolean attached) {
        if (attached && StatusRequest.is(args)) {
            StatusRequest.handle(args); // a request of `status <pid>` to the agent already running here
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
        if (config.slf4j) {
            Log.setOutput(new Slf4jOutput(StderrOutput.INSTANCE));
        }
        if (!config.enabled) {
            Log.info("disabled (enabled=false): no socket is converted");
            return;
        }
        if (System.getProperty(Build.ACTIVE_PROPERTY) != null) {
            Log.warn("already active in this JVM; not installed twice");
            return;
        }
        enableNativeAccess(inst);
        // the native binding initialises on another thread while the modules install (see Policy.warmUpNative)
        Policy.warmUpNative(config);
        try {
            install(config, inst, attached);
        } finally {
            Policy.thenRun(System.getProperty(Build.ACTIVE_PROPERTY) != null ? new JmxWatcher() : null);
        }
    }

    private static void install(Config config, Instrumentation inst, boolean attached) {
        Policy.configure(config);
        int installed = 0;
        for (InterceptionModule m : MODULES) {
            if (!config.moduleOn(m.name())) {
                Log.info("module " + m.name() + " off (" + m.name() + "=off): its sockets are left alone");
                continue;
            }
            try {
                m.install(inst);
                installed++;
            } catch (Throwable t) {
                Log.error("could not install the " + m.name() + " module (" + t + "); its sockets stay TCP");
            }
        }
        if (installed == 0) {
            Log.error("no module installed; the application continues without MPTCP");
            return;
        }
        System.setProperty(Build.ACTIVE_PROPERTY, Build.VERSION + "; " + config.text);
        Log.info("active (" + (attached ? "attached" : "premain") + "), " + config.text);
        if (attached) {
            convertListeners(config);
        }
    }

    /**
     * The JMX watcher, after a first wait of {@link Jmx#PERIOD_MS} (serving {@link Policy#prepare} meanwhile): nothing
     * of javax.management is loaded while the application starts (the watcher's first look was after that wait
     * anyway).
     */
    private static final class JmxWatcher implements Runnable {
        @Override
        public void run() {
            Thread.currentThread().setName("mptcp-agent-jmx");
            try {
                Policy.serveFor(Jmx.PERIOD_MS); // meanwhile, what the modules prepare ahead of the first socket
            } catch (InterruptedException e) {
                return;
            }
            Jmx.watchHere();
            if (Policy.config().paths) {
                Paths.sampleHere(); // the per-path sampling goes on here once the MBean is registered
            }
        }
    }

    /** On attach: the listeners the application already has become MPTCP (issue 11), or stay TCP with a reason. */
    private static void convertListeners(Config config) {
        String keep = !config.convertListeners ? "listeners=keep"
                : !config.convertsServers() ? "mode=client converts no listener" : null;
        try {
            for (String line : Listeners.run(keep == null, keep, config.rules)) {
                Log.info(line);
            }
        } catch (Throwable t) {
            System.setProperty(Listeners.RESULT_PROPERTY, "listeners not converted: " + t);
            Log.error("converting the existing listeners failed (" + t + "); they stay TCP");
        }
    }

    /**
     * Native access (JDK 22+) for the agent's own named module only (see Launcher.defineModule), so that jffi loading
     * its stub prints no warning, without granting anything to the application. java.lang is opened to this module
     * alone, for this one call.
     */
    private static void enableNativeAccess(Instrumentation inst) {
        Module self = Agent.class.getModule();
        if (!self.isNamed() || nativeAccessGranted) {
            return; // nothing restricted for an unnamed module before JDK 22; or granted as the module was defined
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
}
