/**
 * The agent's named module on JDK 22+ (see mptcp.agent.boot.Launcher): {@code NamedModule} defines it for the agent
 * loader's packages directly, without a module layer. Its own package stays in the agent loader's unnamed module (the
 * one module given access to {@code jdk.internal.module} and {@code jdk.internal.access}); it imports only the JDK,
 * its internals included, and is used by nothing but the launcher. Compiled apart from the rest of the agent, with
 * those packages exported to it (agent/pom.xml).
 */
package mptcp.agent.named;
