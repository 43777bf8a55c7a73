/**
 * The operator's command line ({@code java -jar mptcp-agent.jar ...}): one class per command, sharing
 * {@code AttachSession}. Runs in its own JVM, never in the application's. May import every package but {@code boot}.
 */
package mptcp.agent.cli;
