package mptcp.agent.engine;

import java.lang.instrument.Instrumentation;

/**
 * One intercepted library (the JDK, Netty, ...): where its sockets are made, connected and configured, and the
 * handlers that apply the socket policy there. The engine knows no library; each module knows only its own.
 */
public interface InterceptionModule {
    /** The module's name, which is also its on/off key in the configuration ({@code jdk=off}). */
    String name();

    /**
     * Installs the module's interception in this JVM. Throws when the module cannot work; nothing of it may then be
     * left half-installed (a library's code must never call a handler that is not ready).
     */
    void install(Instrumentation inst) throws Exception;
}
