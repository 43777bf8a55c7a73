/**
 * The native layer: socket primitives returning -errno instead of throwing ({@code Sock}), protocol swaps
 * ({@code Swap}), raw socket addresses ({@code SockAddr}), errno names ({@code Errno}) and the jffi/jnr-ffi binding of
 * libc ({@code Jffi}, {@code LibC}). Imports only jffi and jnr-ffi; knows nothing of the agent.
 */
package mptcp.sys;
