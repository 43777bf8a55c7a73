/**
 * The status of the agent in a JVM: computed there ({@code StatusReport}), its model and wire form ({@code Report}),
 * its text and JSON renderings ({@code Render}), the MBean ({@code Jmx}), the target side of {@code status <pid>}
 * ({@code StatusRequest}) and of {@code attach <pid>} ({@code AttachRequest}: the request's parts, the JVM's answer).
 * Runs in the application's JVM and is read by the CLI. Imports {@code config}, {@code log}, {@code os},
 * {@code paths}, {@code policy} and the native layer.
 */
package mptcp.agent.report;
