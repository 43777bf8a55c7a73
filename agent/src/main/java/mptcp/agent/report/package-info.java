/**
 * The status of the agent in a JVM: computed there ({@code StatusReport}), its model and wire form ({@code Report}),
 * its text and JSON renderings ({@code Render}), the MBean ({@code Jmx}) and the target side of {@code status <pid>}
 * ({@code StatusRequest}). Runs in the application's JVM and is read by the CLI. Imports {@code config}, {@code log},
 * {@code os}, {@code paths}, {@code policy} and the native layer.
 */
package mptcp.agent.report;
