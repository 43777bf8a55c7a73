package com.kenai.jffi;

/**
 * Replaces jffi's own {@code com.kenai.jffi.Init} in the agent (same name, same members).
 *
 * <p>jffi's version looks for its native stub loader through the system class loader first, then the thread's
 * context class loader, and only then its own. Inside an application that has its own copy of jffi on the class path,
 * that made the agent initialise the application's jffi (its StubLoader, its native stub) instead of its own. This
 * version asks only the class loader that loaded jffi itself, so the agent's jffi and the application's never meet.
 * The build puts this class in place of jffi's (agent/pom.xml).
 */
final class Init {
    private static volatile boolean loaded;
    /** jffi's stub loader (not from Init.class.getPackage(): on JDK 18+ its first call spins a lambda). */
    static final String stubLoaderClassName = "com.kenai.jffi.internal.StubLoader";

    private Init() {
    }

    static void load() {
        if (loaded) {
            return;
        }
        String name = System.mapLibraryName("jffi-" + Version.MAJOR + "." + Version.MINOR);
        String agent = AgentBinding.stubDirectory;
        if (agent != null) {
            // the agent's own stub, checked by it (mptcp.sys.StubFile): loaded from there or from the fresh copy it
            // offers instead (a noexec directory, say), never by jffi's StubLoader, which would extract the stub once
            // more and load it by path from java.io.tmpdir itself
            String stub = new java.io.File(agent, name).getPath();
            try {
                System.load(stub);
            } catch (UnsatisfiedLinkError e) {
                java.util.function.Supplier<String> fallback = AgentBinding.stubFallback;
                String other = fallback == null ? null : fallback.get();
                if (other == null) {
                    throw e;
                }
                stub = new java.io.File(other, name).getPath();
                System.load(stub);
            }
            AgentBinding.stubLoaded = stub;
            loaded = true;
            return;
        }
        String refused = AgentBinding.stubRefused;
        if (refused != null) {
            throw new UnsatisfiedLinkError(refused);
        }
        String boot = System.getProperty("jffi.boot.library.path");
        if (boot != null) {
            for (String dir : boot.split(java.io.File.pathSeparator)) {
                java.io.File stub = new java.io.File(dir, name);
                if (stub.isFile()) {
                    System.load(stub.getAbsolutePath());
                    loaded = true;
                    return;
                }
            }
        }
        Throwable cause;
        try {
            Class<?> stubLoader = Class.forName(stubLoaderClassName, true, Init.class.getClassLoader());
            if ((Boolean) stubLoader.getDeclaredMethod("isLoaded").invoke(null)) {
                loaded = true;
                return;
            }
            cause = (Throwable) stubLoader.getDeclaredMethod("getFailureCause").invoke(null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            cause = e;
        }
        UnsatisfiedLinkError error = new UnsatisfiedLinkError("could not load the jffi native stub: " + cause);
        error.initCause(cause);
        throw error;
    }
}
