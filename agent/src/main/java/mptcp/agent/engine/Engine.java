package mptcp.agent.engine;

import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.HashMap;
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

    private Engine() {
    }

    /**
     * Installs {@code redirects}. Nothing is rewritten until every handler is wired: a platform class must never call
     * a trampoline that is not ready. A redirect whose method does not exist in this JDK is left out (logged at
     * DEBUG), except {@code required}, whose absence fails the install.
     *
     * @param host a platform class (binary name) whose package receives the trampoline; its class must be a caller
     *     of {@code required} and is checked to be rewritten
     */
    public static void install(Instrumentation inst, String host, List<Redirect> redirects, Redirect required)
            throws Exception {
        Module agent = Engine.class.getModule();
        Class<?> hostClass = Class.forName(host, false, null);
        Map<Module, Map<String, Set<Module>>> opens = new HashMap<>();
        open(opens, hostClass, agent);
        Map<Redirect, Class<?>> owners = new HashMap<>();
        for (Redirect r : redirects) {
            try {
                Class<?> owner = Class.forName(r.owner.replace('/', '.'), false, ClassLoader.getPlatformClassLoader());
                owners.put(r, owner);
                open(opens, owner, agent);
            } catch (ClassNotFoundException e) {
                Log.debug("not in this JDK: " + r.owner);
            }
        }
        opens.forEach((module, packages) -> inst.redefineModule(module, Set.of(), Map.of(), packages, Set.of(), Map.of()));

        String trampoline = hostClass.getPackageName().replace('.', '/') + "/" + TRAMPOLINE;
        MethodHandles.Lookup own = MethodHandles.lookup();
        Class<?> hook = MethodHandles.privateLookupIn(hostClass, own).defineClass(Trampoline.bytes(trampoline, redirects));
        for (Redirect r : redirects) {
            try {
                Class<?> owner = owners.get(r);
                if (owner == null) {
                    throw new ClassNotFoundException(r.owner);
                }
                MethodType type = MethodType.fromMethodDescriptorString(r.desc, null);
                MethodHandles.Lookup in = MethodHandles.privateLookupIn(owner, own);
                MethodHandle original = r.instance
                        ? in.findVirtual(owner, r.name, type).asType(r.handlerType())
                        : in.findStatic(owner, r.name, type);
                hook.getField(r.name).set(null, own.findStatic(r.handler, r.name, r.handlerType()));
                r.original(original);
            } catch (ReflectiveOperationException | RuntimeException e) {
                if (r == required) {
                    throw e;
                }
                Log.debug("left out " + r + ": " + e);
            }
        }

        CallSiteRewriter rewriter = new CallSiteRewriter(trampoline, redirects);
        inst.addTransformer(rewriter, true);
        // Callers loaded before the transformer was added (the host always is by now) are rewritten now.
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            String name = c.getName().replace('.', '/');
            if (CallSiteRewriter.jdkLoader(c.getClassLoader()) && rewriter.isCaller(name)
                    && !rewriter.transformed.contains(name)) {
                loaded.add(c);
            }
        }
        if (!loaded.isEmpty()) {
            inst.retransformClasses(loaded.toArray(new Class<?>[0]));
        }
        String hostName = host.replace('.', '/');
        if (!rewriter.transformed.contains(hostName)) {
            throw new IllegalStateException(host + " could not be instrumented");
        }
    }

    private static void open(Map<Module, Map<String, Set<Module>>> opens, Class<?> c, Module to) {
        opens.computeIfAbsent(c.getModule(), m -> new HashMap<>()).put(c.getPackageName(), Set.of(to));
    }
}
