/**
 * The native layer: socket primitives returning -errno instead of throwing ({@code Sock}), protocol swaps
 * ({@code Swap}), raw socket addresses ({@code SockAddr}), errno names ({@code Errno}), the jffi/jnr-ffi binding of
 * libc ({@code Jffi} through {@code com.kenai.jffi.AgentBinding}, {@code LibC}) and the agent's private directory for
 * what it keeps between runs ({@code PrivateDir}: jffi's stub, the agent's class cache). Imports only jffi and
 * jnr-ffi; knows nothing of the agent.
 */
package mptcp.sys;
