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
    /** Whether defining the named module also granted it native access (else the agent does it itself). */
    private static volatile boolean nativeAccessGranted;
    /** The one package of the agent loader that stays in its unnamed module (see defineModule). */
    private static final String NAMED_PACKAGE = "mptcp.agent.named";

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
            code = (Integer) loader(false).loadClass("mptcp.agent.cli.Cli")
                    .getMethod("run", String[].class).invoke(null, (Object) args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
        System.exit(code);
    }

    @SuppressWarnings("removal") // System.getSecurityManager: null on JDK 24+, where none can be enabled
    private static void start(String args, Instrumentation inst, boolean attached) {
        try {
            if (System.getSecurityManager() != null && !SecurityManagerGrant.allPermission()) {
                System.err.println("mptcp-agent: WARN: a security manager is installed and its policy does not grant"
                        + " mptcp-agent.jar AllPermission; the agent is not installed, the application runs unchanged"
                        + " (to use the agent, grant it: grant codeBase \"file:/path/to/mptcp-agent.jar\" {"
                        + " permission java.security.AllPermission; };)");
                return;
            }
            if (!attached && isJdkTool()) {
                return;
            }
            ClassLoader l = loader(true, inst);
            // initialising the agent class registers its entry with the loader (AgentLoader.accept): no reflection
            Class<?> agent = Class.forName("mptcp.agent.Agent", true, l);
            Object entry = l instanceof AgentLoader ? ((AgentLoader) l).take() : null;
            if (entry instanceof java.util.function.Consumer) {
                @SuppressWarnings("unchecked")
                java.util.function.Consumer<Object[]> start = (java.util.function.Consumer<Object[]>) entry;
                start.accept(new Object[] {args, inst, attached, nativeAccessGranted});
            } else {
                agent.getMethod("start", String.class, Instrumentation.class, boolean.class).invoke(null, args, inst, attached);
            }
        } catch (Throwable t) {
            Throwable cause = t instanceof java.lang.reflect.InvocationTargetException ? t.getCause() : t;
            System.err.println("mptcp-agent: ERROR: agent not started (" + cause
                    + "); the application continues without MPTCP");
        }
    }

    /**
     * Puts everything the agent loader defines into one named module, "mptcp.agent.internal", before the first class is
     * defined. Being named lets the agent get native access for itself alone (JDK 22+, where jffi's System.load would
     * otherwise print a "restricted method" warning and, with unnamed modules, the only remedy would be granting native
     * access to every unnamed module, the application's too); the grant itself is done by the agent
     * (mptcp.agent.Agent) from inside that module. The module is open, exports all its packages and reads every module
     * of the boot layer, so nothing else changes. It is defined directly (mptcp.agent.named.NamedModule, whose own
     * package stays unnamed), else, when that fails, in a module layer of its own (the resolver costs ~25 ms more).
     */
    private static void defineModule(AgentLoader agentLoader, Instrumentation inst) {
        java.util.Set<String> packages = agentLoader.packages();
        packages.remove(NAMED_PACKAGE);
        if (inst != null) {
            try {
                Class.forName(NAMED_PACKAGE + ".NamedModule", true, agentLoader);
                Object definer = agentLoader.take();
                if (definer instanceof java.util.function.BiFunction) {
                    @SuppressWarnings("unchecked")
                    java.util.function.BiFunction<Object, Object, Object> define =
                            (java.util.function.BiFunction<Object, Object, Object>) definer;
                    nativeAccessGranted = Boolean.TRUE.equals(define.apply(inst, packages));
                    return;
                }
            } catch (ClassNotFoundException | RuntimeException | LinkageError e) {
                // the layer below
            }
        }
        Layer.define(agentLoader, packages);
    }

    /** The fallback: the module in a layer of its own (a class apart, so that it is loaded only when needed). */
    private static final class Layer {
        private Layer() {
        }

        static void define(AgentLoader agentLoader, java.util.Set<String> packages) {
            try {
                java.lang.module.ModuleDescriptor descriptor = java.lang.module.ModuleDescriptor
                        .newOpenModule("mptcp.agent.internal").packages(packages).build();
                java.lang.module.ModuleReference reference = new java.lang.module.ModuleReference(descriptor, null) {
                    @Override
                    public java.lang.module.ModuleReader open() {
                        throw new UnsupportedOperationException("classes come from the agent loader");
                    }
                };
                java.lang.module.ModuleFinder finder = new java.lang.module.ModuleFinder() {
                    @Override
                    public java.util.Optional<java.lang.module.ModuleReference> find(String name) {
                        return name.equals("mptcp.agent.internal") ? java.util.Optional.of(reference) : java.util.Optional.empty();
                    }

                    @Override
                    public java.util.Set<java.lang.module.ModuleReference> findAll() {
                        return java.util.Set.of(reference);
                    }
                };
                ModuleLayer boot = ModuleLayer.boot();
                java.lang.module.Configuration cf = boot.configuration().resolve(finder, java.lang.module.ModuleFinder.of(),
                        java.util.Set.of("mptcp.agent.internal"));
                ModuleLayer.Controller controller = ModuleLayer.defineModules(cf, java.util.List.of(boot), name -> agentLoader);
                Module module = controller.layer().findModule("mptcp.agent.internal").orElseThrow();
                for (Module m : boot.modules()) {
                    controller.addReads(module, m);
                }
            } catch (RuntimeException | LinkageError e) {
                // the classes then land in the loader's unnamed module: everything works, JDK 24+ may print a warning
            }
        }
    }

    /**
     * JDK 17-23 with a security manager ({@code -Djava.security.manager}; JDK 24+ cannot enable one): the agent runs
     * only when the policy grants its jar AllPermission, as the JDK's own modules have. Its work on the application's
     * threads (the first socket's look-ups) then runs in {@code doPrivileged} blocks, so that the application's own,
     * narrower grants do not apply to it. Without the grant the agent stays out (one WARN line): half an agent,
     * refused at each step by the policy, would be worse than none. A class apart: loaded only under a security
     * manager.
     */
    @SuppressWarnings("removal")
    private static final class SecurityManagerGrant implements java.security.PrivilegedAction<Boolean> {
        static boolean allPermission() {
            return java.security.AccessController.doPrivileged(new SecurityManagerGrant());
        }

        /** Checks this jar's own protection domain alone (the doPrivileged frame cuts the caller's stack off). */
        @Override
        public Boolean run() {
            try {
                java.security.AccessController.checkPermission(new java.security.AllPermission());
                return true;
            } catch (SecurityException e) {
                return false;
            }
        }
    }

    /** JDK tools (jcmd, javac, jar, keytool, jshell, ...) run their main class from a module of the JDK itself. */
    private static boolean isJdkTool() {
        String module = System.getProperty("jdk.module.main", "");
        return module.startsWith("jdk.") || module.startsWith("java.");
    }

    /**
     * The one class loader of the agent's internals, shared by premain, agentmain and main in one JVM.
     * @param named whether its classes go into the named module (as an agent; the command line needs no native access
     *     of its own beyond the jar's Enable-Native-Access manifest attribute, which covers unnamed modules)
     */
    public static ClassLoader loader(boolean named) throws java.io.IOException {
        return loader(named, null);
    }

    private static ClassLoader loader(boolean named, Instrumentation inst) throws java.io.IOException {
        ClassLoader l = loader;
        if (l == null) {
            synchronized (Launcher.class) {
                l = loader;
                if (l == null) {
                    AgentLoader agentLoader = new AgentLoader(Launcher.class.getProtectionDomain().getCodeSource());
                    if (named && Runtime.version().feature() >= 22) {
                        defineModule(agentLoader, inst); // before JDK 22 nothing is restricted: spare the cost
                    }
                    l = agentLoader;
                    loader = l;
                }
            }
        }
        return l;
    }
}
