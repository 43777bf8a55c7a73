package mptcp.agent.engine;

import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import mptcp.agent.log.Log;

/**
 * The interception engine: installs a module's {@link Redirect}s into platform classes (those of the bootstrap and
 * platform loaders). It knows no library: the module names the classes and methods, and the platform class whose
 * package hosts the {@link Trampoline}.
 */
public final class Engine {
    /** The simple name of the trampoline class defined in the host's package. */
    public static final String TRAMPOLINE = "MptcpAgentHook";
    /** The simple name of the dispatch class defined in the handlers' package. */
    static final String DISPATCH = "MptcpAgentDispatch";

    private Engine() {
    }

    /**
     * Installs {@code redirects}. Nothing is rewritten until every handler is wired: a platform class must never call
     * a trampoline that is not ready. Nothing is loaded ahead of the application either: callers not loaded yet are
     * rewritten as they load, and each original is looked up at its first call ({@link Redirect#original}).
     *
     * @param host a platform class (binary name) of the package that receives the trampoline; a small one that the
     *     JVM has loaded anyway, as it is loaded here to define the trampoline next to it
     * @param required the redirect without which the module does not work: if one of its callers is already loaded
     *     and could not be rewritten, the install fails
     * @param cache where classes made in an earlier run are taken from, and new ones stored
     */
    public static void install(Instrumentation inst, String host, List<Redirect> redirects, Redirect required,
                               TransformCache cache) throws Exception {
        boolean startUp;
        try {
            startUp = installWith(inst, host, redirects, required, cache);
        } catch (Exception | LinkageError e) {
            cache.release();
            throw e;
        }
        if (startUp && mptcp.sys.PrivateDir.roomy()) {
            // the application's start-up loads the other classes to rewrite: the directory stays open for it a while
            cache.holdFor(TransformCache.HOLD_SECONDS);
        } else {
            cache.release(); // after an attach they were rewritten just now; or descriptors are scarce
        }
    }

    /** The install; whether it ran at the JVM's start-up (no caller class loaded yet: premain, not an attach). */
    private static boolean installWith(Instrumentation inst, String host, List<Redirect> redirects, Redirect required,
                                       TransformCache cache) throws Exception {
        Module agent = Engine.class.getModule();
        Class<?> hostClass = Class.forName(host, false, null);
        Map<Module, Set<String>> opens = new HashMap<>();
        packagesOf(opens, hostClass.getModule()).add(hostClass.getPackageName());
        Map<String, Module> modules = new HashMap<>(); // the redirects' owners share a few packages
        for (Redirect r : redirects) {
            String pkg = r.owner.substring(0, r.owner.lastIndexOf('/')).replace('/', '.');
            Module m = modules.containsKey(pkg) ? modules.get(pkg) : moduleOf(pkg);
            modules.put(pkg, m);
            if (m == null) {
                Log.debug("not in this JDK: " + r.owner);
                continue;
            }
            packagesOf(opens, m).add(pkg);
        }
        for (Map.Entry<Module, Set<String>> e : opens.entrySet()) {
            open(inst, e.getKey(), e.getValue(), agent);
        }

        String trampoline = hostClass.getPackageName().replace('.', '/') + "/" + TRAMPOLINE;
        MethodHandles.Lookup own = MethodHandles.lookup();
        // the dispatch class lives next to the handlers; its initialiser sets the trampoline's dispatch field
        Class<?> handlers = redirects.get(0).handler;
        String dispatch = handlers.getPackageName().replace('.', '/') + "/" + DISPATCH;
        StringBuilder table = new StringBuilder(trampoline).append(';').append(dispatch);
        for (Redirect r : redirects) {
            table.append(';').append(r).append(r.handler.getName());
        }
        long key = TransformCache.key(table.toString());
        byte[] hook = cache.get(trampoline, key, Trampoline.VERSION, null);
        byte[] impl = cache.get(dispatch, key, Trampoline.VERSION, trampoline);
        boolean cached = hook != null && impl != null;
        if (!cached) {
            hook = Trampoline.bytes(trampoline, redirects);
            impl = Trampoline.dispatch(dispatch, trampoline, redirects);
            cache.put(trampoline, key, hook);
            cache.put(dispatch, key, impl);
        }
        MethodHandles.Lookup hookLookup = MethodHandles.privateLookupIn(hostClass, own);
        MethodHandles.Lookup dispatchLookup = MethodHandles.privateLookupIn(handlers, own);
        boolean hookDefined = false;
        Class<?> d;
        try {
            hookLookup.defineClass(hook);
            hookDefined = true;
            d = dispatchLookup.defineClass(impl);
        } catch (LinkageError | IllegalArgumentException e) {
            if (!cached) {
                throw e;
            }
            // kept bytes the JVM refused: made again, as without a cache (a class that was defined stays)
            Log.debug("class cache: the " + (hookDefined ? "dispatch class" : "trampoline") + " kept could not be"
                    + " defined (" + e + "); made again");
            if (!hookDefined) {
                hook = Trampoline.bytes(trampoline, redirects);
                hookLookup.defineClass(hook);
                cache.put(trampoline, key, hook);
            }
            impl = Trampoline.dispatch(dispatch, trampoline, redirects);
            d = dispatchLookup.defineClass(impl);
            cache.put(dispatch, key, impl);
        }
        Class.forName(d.getName(), true, d.getClassLoader());
        for (Redirect r : redirects) {
            r.installed(true);
        }

        CallSiteRewriter rewriter = new CallSiteRewriter(trampoline, redirects, cache);
        inst.addTransformer(rewriter, true);
        // Callers loaded before the transformer was added (after an attach, most of them) are rewritten now.
        List<Class<?>> loaded = new ArrayList<>();
        List<String> requiredLoaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (rewriter.isCallerClass(c.getName()) && CallSiteRewriter.jdkLoader(c.getClassLoader())) {
                String name = c.getName().replace('.', '/');
                if (!rewriter.transformed.contains(name)) {
                    loaded.add(c);
                    if (required.callers.contains(name)) {
                        requiredLoaded.add(name);
                    }
                }
            }
        }
        if (!loaded.isEmpty()) {
            inst.retransformClasses(loaded.toArray(new Class<?>[0]));
        }
        for (String caller : requiredLoaded) {
            if (!rewriter.transformed.contains(caller)) {
                throw new IllegalStateException(caller.replace('/', '.') + " could not be instrumented");
            }
        }
        return requiredLoaded.isEmpty();
    }

    /** The boot-layer module that holds package {@code pkg}, without loading any class of it; null if none. */
    private static Module moduleOf(String pkg) {
        for (Module m : ModuleLayer.boot().modules()) {
            if (m.getPackages().contains(pkg)) {
                return m;
            }
        }
        return null;
    }

    /** The set of packages of {@code module} in {@code opens}, added when missing (no lambda: none spun at start-up). */
    private static Set<String> packagesOf(Map<Module, Set<String>> opens, Module module) {
        Set<String> packages = opens.get(module);
        if (packages == null) {
            packages = new HashSet<>();
            opens.put(module, packages);
        }
        return packages;
    }

    /**
     * Opens {@code packages} of {@code module} to {@code to} (deep reflection, private lookups), those not open to it
     * already (on JDK 22+ the agent's named module was given its usual ones as it was defined): one redefineModule
     * call, or none.
     */
    public static void open(Instrumentation inst, Module module, Set<String> packages, Module to) {
        Map<String, Set<Module>> missing = new HashMap<>();
        for (String p : packages) {
            if (!module.isOpen(p, to)) {
                missing.put(p, Set.of(to));
            }
        }
        if (!missing.isEmpty()) {
            inst.redefineModule(module, Set.of(), missing, missing, Set.of(), Map.of());
        }
    }
}
