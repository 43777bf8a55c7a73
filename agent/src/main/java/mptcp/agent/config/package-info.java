/**
 * The agent's configuration: the {@code key=value} grammar and its keys (Config), and the connection rules
 * ({@link mptcp.agent.config.Rules}, {@link mptcp.agent.config.AddressPrefix}) deciding which sockets stay plain TCP.
 * Pure code: parses text and matches addresses; imports only {@code java.*} (and the agent's logger for levels).
 * Nothing here touches a socket.
 */
package mptcp.agent.config;
