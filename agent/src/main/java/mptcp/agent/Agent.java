package mptcp.agent;

import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
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
import mptcp.agent.report.AttachRequest;
import mptcp.agent.report.Jmx;
import mptcp.agent.report.StatusRequest;

/**
 * Starts the agent in a JVM, from premain or agentmain (see mptcp.agent.boot.Launcher): reads the configuration,
 * installs the interception modules that are switched on, converts the existing listeners on attach, starts the
 * status plumbing; answers {@code status <pid>} and {@code attach <pid>}, which on a JVM where the agent is active
 * changes its configuration at run time ({@code enabled=false}: the roll-back).
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
    /** Serialises the install (premain, first attach) and the run-time changes (attach requests). */
    private static final Object LOCK = new Object();
    /** Why a -javaagent of this jar left the agent switched off when the JVM started, or null. */
    private static String disabledAtStart;
    /** The instrumentation of the JVM, once the agent started in it (for the run-time changes). */
    private static Instrumentation instrumentation;
    /** Keys read only when the agent starts: a run-time change naming another value for one of them is refused whole. */
    private static final java.util.Set<String> START_ONLY = java.util.Set.of("cache", "jdk", "netty");

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
        System.setProperty(Build.REQUESTS_PROPERTY, "attach status");
        if (attached && StatusRequest.is(args)) {
            StatusRequest.handle(args); // a request of `status <pid>` to the agent already running here
            return;
        }
        if (attached && AttachRequest.is(args)) {
            AttachRequest.handle(args, new Requests(inst)); // `attach <pid> [options]`: its answer goes back to it
            return;
        }
        if (!attached) {
            premain(args, inst);
            return;
        }
        // plain options through the attach mechanism (an older CLI, jcmd JVMTI.agent_load): a request without an answer
        AttachRequest.Answer answer = attach(args, -1, inst);
        for (String line : answer.lines) {
            if (answer.applied) {
                Log.info(local(line));
            } else {
                Log.warn(local(line));
            }
        }
    }

    /** A line of an answer as this JVM's own log says it: without naming the JVM. */
    private static String local(String line) {
        return line.startsWith(HERE) ? line.substring(line.indexOf(": ") + 2) : line;
    }

    /** The attach requests of this JVM, each answered by {@link #attach}. */
    private static final class Requests implements AttachRequest.Handler {
        private final Instrumentation inst;

        Requests(Instrumentation inst) {
            this.inst = inst;
        }

        @Override
        public AttachRequest.Answer handle(String options, int uid) {
            AttachRequest.Answer answer = attach(options, uid, inst);
            for (String line : answer.lines) { // the command prints them; here only at log=info
                Log.info(local(line));
            }
            return answer;
        }
    }

    /** -javaagent: installs, unless the agent is already active here (a second -javaagent changes nothing at all). */
    private static void premain(String args, Instrumentation inst) {
        synchronized (LOCK) {
            String active = System.getProperty(Build.ACTIVE_PROPERTY);
            if (active != null) {
                // not even its log level or output: the agent running here keeps its own (issue 21, 8b)
                Log.warn("already active in this JVM (" + Build.options(active) + "); the options of this other"
                        + " -javaagent are not applied, not even its log level; change them at run time with:"
                        + " java -jar mptcp-agent.jar attach <pid> key=value,...");
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
            logTo(config);
            if (!config.enabled) {
                String source = config.source("enabled");
                disabledAtStart = source.equals("agent arguments") ? "-javaagent:...=enabled=false" : source + "=false";
                Log.info("disabled (enabled=false): no socket is converted");
                return;
            }
            instrumentation = inst;
            enableNativeAccess(inst);
            // the native binding initialises on another thread while the modules install (see Policy.warmUpNative)
            Policy.warmUpNative(config);
            try {
                install(config, inst, "-javaagent");
            } finally {
                Policy.thenRun(installed() ? new JmxWatcher() : null);
            }
        }
    }

    private static boolean installed() {
        return System.getProperty(Build.ACTIVE_PROPERTY) != null;
    }

    private static void logTo(Config config) {
        Log.setLevel(config.log);
        if (config.slf4j) {
            Log.setOutput(new Slf4jOutput(StderrOutput.INSTANCE));
        }
    }

    /** @return null once installed, else why not (also logged) */
    private static String install(Config config, Instrumentation inst, String by) {
        if (config.paths) {
            Policy.hookCloses(); // before the modules install: the JDK's close natives are redirected for it
        }
        Policy.configure(config, by);
        int installed = 0;
        StringBuilder failures = new StringBuilder();
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
                failures.append("; the ").append(m.name()).append(" module: ").append(t);
            }
        }
        if (installed == 0) {
            Log.error("no module installed; the application continues without MPTCP");
            return "no interception module installed" + failures;
        }
        System.setProperty(Build.ACTIVE_PROPERTY, Build.VERSION + "; " + config.text);
        Log.info("active (" + (by.equals("-javaagent") ? "premain" : "attached") + "), " + config.text);
        return null;
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
            if (Policy.closesHooked()) {
                Paths.sampleHere(); // the per-path sampling goes on here once the MBean is registered
            }
        }
    }

    /**
     * {@code attach <pid> [options]} ({@code uid} of the command, -1 unknown): installs the agent with these options
     * (the first attach), or changes the configuration of the agent already active here by them (a run-time change:
     * given keys replace those keys, the others stay); then each listener is made the protocol the configuration
     * wants. The answer says what happened, in this JVM's own words.
     */
    static AttachRequest.Answer attach(String options, int uid, Instrumentation inst) {
        String by = uid >= 0 ? "attach, uid " + uid : "attach";
        synchronized (LOCK) {
            return installed() ? change(options, by) : firstAttach(options, by, inst);
        }
    }

    /** How the answer's first line starts: which JVM says it (the command may talk to many). */
    private static final String HERE = "mptcp-agent in JVM ";

    private static AttachRequest.Answer firstAttach(String options, String by, Instrumentation inst) {
        String here = HERE + pid() + ": ";
        Config config;
        try {
            config = Config.fromJvm(options);
        } catch (IllegalArgumentException e) {
            return answer(false, false, here + "not installed: " + e.getMessage());
        }
        String enabledBy = config.source("enabled");
        if (!config.enabled) {
            boolean given = enabledBy.equals("agent arguments");
            return answer(false, given, here + "not installed: " + (given ? "this attach gave enabled=false"
                    : "the " + enabledBy + "=false of this JVM switches the agent off; attach with enabled=true to"
                    + " override it"));
        }
        if (disabledAtStart != null && !enabledBy.equals("agent arguments")) {
            return answer(false, false, here + "not installed: the agent was switched off when this JVM started ("
                    + disabledAtStart + "); attach with enabled=true to override it");
        }
        logTo(config);
        instrumentation = inst;
        enableNativeAccess(inst);
        Policy.warmUpNative(config);
        String failed;
        try {
            failed = install(config, inst, by);
        } finally {
            Policy.thenRun(installed() ? new JmxWatcher() : null);
        }
        if (failed != null) {
            return answer(false, false, here + "not installed: " + failed);
        }
        List<String> lines = new ArrayList<>();
        lines.add("mptcp-agent " + Build.VERSION + " active in JVM " + pid() + " (" + by + "): TCP sockets it creates"
                + " from now on are MPTCP; options " + config.text);
        lines.addAll(listeners(config, true));
        return new AttachRequest.Answer(true, true, lines);
    }

    /** A run-time change of the configuration in force: all of {@code options} applied, or none and why. */
    private static AttachRequest.Answer change(String options, String by) {
        String here = HERE + pid() + ": ";
        Config old = Policy.config();
        Config now;
        try {
            now = old.with(options, by);
        } catch (IllegalArgumentException e) {
            return answer(old.enabled, false, here + "change refused, nothing changed: " + e.getMessage());
        }
        List<String> changed = new ArrayList<>();
        for (String key : Config.keys().keySet()) {
            String was = old.value(key);
            String is = now.value(key);
            if (was.equals(is)) {
                continue;
            }
            if (key.equals("paths") && now.paths && !Policy.closesHooked()) {
                return answer(old.enabled, false, here + "change refused, nothing changed: paths=on cannot be applied at"
                        + " run time here (the agent started in this JVM with paths=off, so it does not see sockets"
                        + " close and could not read a connection's last figures; restart the JVM with paths=on; from"
                        + " paths=on, paths=off and back can be changed at run time)");
            }
            if (START_ONLY.contains(key)) {
                return answer(old.enabled, false, here + "change refused, nothing changed: " + key + "=" + is + " cannot"
                        + " be applied at run time (" + key + " is read only when the agent starts; this JVM has " + key
                        + "=" + was + ")");
            }
            changed.add(key + "=" + is + " (was " + (was.isEmpty() ? "none" : was) + ")");
        }
        List<String> lines = new ArrayList<>();
        if (changed.isEmpty()) {
            now = old;
            lines.add(here + "no change: the agent is already " + (old.enabled ? "active" : "switched off") + " with these"
                    + " options (" + old.text + "), set by " + Policy.changedBy());
        } else {
            Log.setLevel(now.log);
            if (now.slf4j != old.slf4j) {
                Log.setOutput(now.slf4j ? new Slf4jOutput(StderrOutput.INSTANCE) : StderrOutput.INSTANCE);
            }
            Policy.configure(now, by);
            System.setProperty(Build.ACTIVE_PROPERTY, Build.VERSION + "; " + now.text);
            String what = old.enabled && !now.enabled ? "switched off (" + by + "): no new MPTCP socket from now on,"
                    + " MPTCP listeners are handed back to TCP listeners, connections already open keep their protocol"
                    + " until they close; "
                    : !old.enabled && now.enabled ? "switched on again (" + by + "): sockets made from now on are MPTCP;"
                    + " " : "changed (" + by + "): ";
            lines.add(here + what + String.join(", ", changed) + "; options now " + now.text);
        }
        lines.addAll(listeners(now, false));
        String netty = nettyNote(old, now);
        if (netty != null) {
            lines.add(netty);
        }
        return new AttachRequest.Answer(now.enabled, true, lines);
    }

    /**
     * Netty's classes are rewritten once, when loaded, for the rules and options in force then: a change that needs a
     * hook they did not get (connect or bind rules where there were none, options=compat after strict) does not reach
     * the Netty already loaded. Said when it matters, null otherwise.
     */
    private static String nettyNote(Config old, Config now) {
        boolean connect = now.rules.decidesConnect() && !old.rules.decidesConnect();
        boolean bind = now.rules.decidesBind() && !old.rules.decidesBind();
        boolean compat = now.compatOptions && !old.compatOptions;
        if (!now.moduleOn("netty") || !(connect || bind || compat) || !nettyLoaded()) {
            return null;
        }
        return "netty: the copies of Netty already loaded were rewritten for the options they met: "
                + (connect ? "their connects see no rule" : bind ? "their binds see no rule" : "")
                + (compat && (connect || bind) ? ", " : "") + (compat ? "their options stay strict" : "")
                + " until the JVM restarts (Netty loaded afterwards, and the JDK's sockets, follow the change)";
    }

    private static boolean nettyLoaded() {
        Instrumentation inst = instrumentation;
        if (inst == null) {
            return false;
        }
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (c.getName().endsWith("io.netty.channel.unix.MptcpAgentHook")) {
                return true;
            }
        }
        return false;
    }

    /** Each listener made the protocol {@code config} wants (see Listeners.reconcile); the lines say how. */
    private static List<String> listeners(Config config, boolean first) {
        try {
            return Listeners.reconcile(config, first);
        } catch (Throwable t) {
            System.setProperty(Listeners.RESULT_PROPERTY, "listeners not handed over: " + t);
            Log.error("handing the listeners over failed (" + t + "); each stays as it was or was handed over whole");
            return List.of("listeners: handing them over failed (" + t + "); each stays as it was or was handed over"
                    + " whole (status shows which)");
        }
    }

    private static AttachRequest.Answer answer(boolean active, boolean applied, String line) {
        return new AttachRequest.Answer(active, applied, List.of(line));
    }

    /** This process's id, from /proc/self (not ProcessHandle: its class initialiser starts a thread pool). */
    private static String pid() {
        try {
            return new java.io.File("/proc/self").getCanonicalFile().getName();
        } catch (java.io.IOException e) {
            return "?";
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
