/**
 * The socket policy, library-neutral, on int file descriptors: which sockets become MPTCP and how they are made
 * ({@code Sockets}), what each connection really is ({@code Connections}), socket-option compatibility
 * ({@code SocketOptions}), counters ({@code Stats}), the connection rules applied before connect and bind
 * ({@code Decisions}; also what is known of a library's sockets: made MPTCP or TCP for their destination, and, for
 * one an event loop watches through epoll, the registration to renew, {@code os.EpollRegistrations}), the connect race
 * against middleboxes that drop MPTCP SYNs ({@code Races}, one {@code Race} each, its thread), what it remembers per
 * destination ({@code Destinations}) and the sockets it leaves alone ({@code FixedPorts}); each MPTCP connection is
 * handed to the per-path accounting ({@code paths}) when established and as it closes. Called by the interception
 * modules; names no library. Imports {@code config}, {@code log}, {@code os}, {@code paths} and the native layer.
 */
package mptcp.agent.policy;
