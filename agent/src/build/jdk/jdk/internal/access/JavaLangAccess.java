package jdk.internal.access;

/**
 * Compile-time stand-in for the JDK's {@code jdk.internal.access.JavaLangAccess}, declaring the one method the agent
 * calls ({@code mptcp.agent.named.NamedModule}) that the build's JDK 17 lacks: it exists from JDK 22 on, where the
 * agent calls it. Never shipped: at run time the call links to the JDK's own interface (agent/pom.xml).
 */
public interface JavaLangAccess {
    /** Grants native access to module {@code m} (JDK 22+). */
    Module addEnableNativeAccess(Module m);
}
