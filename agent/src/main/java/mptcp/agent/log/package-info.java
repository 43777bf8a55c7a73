/**
 * The agent's own log: {@code Log} (levels, once-per-key lines, one line per message) and where lines go, one
 * {@code Output} per destination: {@code StderrOutput} (default), {@code Slf4jOutput} (the application's own slf4j,
 * reached by reflection in the application's class loader, only once the application has initialised it). Imports
 * nothing of the agent.
 */
package mptcp.agent.log;
