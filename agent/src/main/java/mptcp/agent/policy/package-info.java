/**
 * The socket policy, library-neutral, on int file descriptors: which sockets become MPTCP and how they are made
 * ({@code Sockets}), what each connection really is ({@code Connections}), socket-option compatibility
 * ({@code SocketOptions}), counters ({@code Stats}). Called by the interception modules; names no library. Imports
 * {@code config}, {@code log}, {@code os} and the native layer.
 */
package mptcp.agent.policy;
