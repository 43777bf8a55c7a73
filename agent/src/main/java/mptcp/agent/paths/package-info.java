/**
 * Per-path accounting of the MPTCP connections the agent classified (config {@code paths=on}): each connection's
 * subflows read from the kernel with {@code getsockopt(SOL_MPTCP, MPTCP_FULL_INFO)} ({@code View}), as the application
 * closes it and periodically while it lives on the agent's background thread ({@code Paths}); what each subflow
 * carried added to the totals of its local interface, subflows opened and open, subflow failures ({@code Accounting});
 * local address to interface name ({@code Interfaces}). Read by the status report and the MBean. Called by
 * {@code policy} (connections established and closing); imports {@code log} and the native layer.
 */
package mptcp.agent.paths;
