/**
 * The configuration: the one {@code key=value} grammar (agent arguments, system properties, environment) and what
 * this build is. Imports only {@code log}.
 */
package mptcp.agent.config;
