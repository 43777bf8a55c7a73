/**
 * The only classes of the jar the application can see: the entry points (premain, agentmain, main) and the class
 * loader that keeps everything else, and the agent's dependencies, invisible. Imports nothing of the agent (it loads
 * {@code mptcp.agent.Agent} and {@code mptcp.agent.cli.Cli} by name).
 */
package mptcp.agent.boot;
