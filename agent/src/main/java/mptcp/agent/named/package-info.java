/**
 * The agent's named module on JDK 22+ (see mptcp.agent.boot.Launcher): {@code NamedModule} defines it for the agent
 * loader's packages directly, without a module layer. Its own package stays in the agent loader's unnamed module (the
 * one module given access to {@code jdk.internal.module}); it imports only the JDK and is used by nothing but the
 * launcher.
 */
package mptcp.agent.named;
