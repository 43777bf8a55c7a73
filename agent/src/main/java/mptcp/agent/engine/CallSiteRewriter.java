package mptcp.agent.engine;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.List;
import java.util.Set;

import mptcp.agent.log.Log;

/**
 * The transformer of {@link Engine}: in each caller class of the JDK's own loaders, rewrites the call sites of the
 * installed redirects into calls of the trampoline's method of the same name ({@link CallSites}, with ASM), or takes
 * the result of an earlier run from the {@link TransformCache}. This class names no ASM type, so that a JVM whose
 * rewrites all come from the cache never loads ASM.
 */
final class CallSiteRewriter implements ClassFileTransformer {
    private final String trampoline;
    private final List<Redirect> redirects;
    private final Set<String> callers;
    /** The same, as binary names (a loaded class's getName()): no string made per class when the loaded ones are scanned. */
    private final Set<String> callerClasses;
    private final TransformCache cache;
    /** Part of every cache key: the rewrite depends on the redirects installed and the trampoline's name. */
    private final long setup;
    final Set<String> transformed = java.util.concurrent.ConcurrentHashMap.newKeySet();

    CallSiteRewriter(String trampoline, List<Redirect> redirects, TransformCache cache) {
        this.trampoline = trampoline;
        this.redirects = redirects;
        this.cache = cache;
        Set<String> all = new java.util.HashSet<>();
        Set<String> binary = new java.util.HashSet<>();
        // the JDK install too: two JDK builds whose class happened to share CRC-32 and length never share an entry
        StringBuilder b = new StringBuilder(trampoline).append(';').append(System.getProperty("java.home"))
                .append(';').append(System.getProperty("java.vm.version"));
        for (Redirect r : redirects) {
            all.addAll(r.callers);
            for (String caller : r.callers) {
                binary.add(caller.replace('/', '.'));
            }
            long callerKeys = 0; // a sum: Set.of's order changes per JVM, and no sorting is needed
            for (String caller : r.callers) {
                callerKeys += TransformCache.key(caller);
            }
            b.append(';').append(r).append('/').append(Long.toHexString(callerKeys));
        }
        this.callers = Set.copyOf(all);
        this.callerClasses = Set.copyOf(binary);
        this.setup = TransformCache.key(b.toString());
    }

    boolean isCallerClass(String binaryName) {
        return callerClasses.contains(binaryName);
    }

    /** The JDK's own loaders: the platform classes live in java.base (bootstrap) and jdk.* modules (platform). */
    static boolean jdkLoader(ClassLoader loader) {
        return loader == null || loader == ClassLoader.getPlatformClassLoader();
    }

    @Override
    @SuppressWarnings("removal")
    public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        cache.tick();
        if (name == null || !callers.contains(name) || !jdkLoader(loader)) {
            return null;
        }
        if (System.getSecurityManager() == null) { // always, on JDK 24+
            return rewrite(name, bytes);
        }
        try { // the application's thread that loads the class is on the stack: the cache's files, ASM as the agent
            return Privileged.run(() -> rewrite(name, bytes));
        } catch (Exception e) {
            return null; // rewrite catches everything itself
        }
    }

    private byte[] rewrite(String name, byte[] bytes) {
        try {
            long key = TransformCache.key(bytes) * 31 + setup;
            // the class as the engine rewrote it keeps the JDK's class-file version and calls the trampoline
            byte[] out = cache.get(name, key, (bytes[6] & 0xFF) << 8 | bytes[7] & 0xFF, trampoline);
            if (out == null) {
                out = CallSites.rewrite(bytes, name, trampoline, redirects);
                cache.put(name, key, out);
            }
            transformed.add(name);
            Log.debug("instrumented " + name.replace('/', '.'));
            return out;
        } catch (Throwable t) {
            Log.error("could not instrument " + name.replace('/', '.') + ": " + t + "; its sockets stay TCP");
            return null;
        }
    }
}
