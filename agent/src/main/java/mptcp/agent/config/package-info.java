/**
 * The configuration: the one {@code key=value} grammar (agent arguments, system properties, environment) and what
 * this build is; the connection rules ({@code Rules}, {@code AddressPrefix}: which sockets stay plain TCP, matched on
 * raw address values without allocating). Pure code: parses text and matches numbers, touches no socket. Imports only
 * {@code log}.
 */
package mptcp.agent.config;
