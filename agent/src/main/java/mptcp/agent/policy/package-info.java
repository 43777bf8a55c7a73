/**
 * The socket policy, library-neutral, on int file descriptors: which sockets become MPTCP and how they are made
 * ({@code Sockets}), what each connection really is ({@code Connections}), socket-option compatibility
 * ({@code SocketOptions}), counters ({@code Stats}), the connection rules applied before connect and bind
 * ({@code Decisions}; for a library's socket an event loop watches through epoll, the registration is renewed with
 * {@code os.EpollRegistrations}); each MPTCP connection handed to the per-path accounting ({@code paths}) when
 * established and as it closes. Called by the interception modules; names no library. Imports {@code config},
 * {@code log}, {@code os}, {@code paths} and the native layer.
 */
package mptcp.agent.policy;
