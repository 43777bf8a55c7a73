/**
 * The socket policy, library-neutral, on int file descriptors: which sockets become MPTCP and how they are made
 * ({@code Sockets}), what each connection really is ({@code Connections}), socket-option compatibility
 * ({@code SocketOptions}), counters ({@code Stats}), the connection rules applied before connect and bind
 * ({@code Decisions}). Called by the interception modules; names no library. Imports
 * {@code config}, {@code log}, {@code os} and the native layer.
 */
package mptcp.agent.policy;
