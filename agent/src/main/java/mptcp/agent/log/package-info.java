/** The agent's own log (one line per message on stderr). Imports nothing of the agent. */
package mptcp.agent.log;
