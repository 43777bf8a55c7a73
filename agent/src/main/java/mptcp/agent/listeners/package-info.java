/**
 * Live listener hand-over (issue 11, and issue 20's way back): every listening TCP socket the JVM already has is
 * handed over to an MPTCP listener on the same address, under the same fd number, without losing a connection; and,
 * when a run-time change wants TCP ({@code enabled=false}, {@code mode=client}, a {@code tcp bind} rule), every MPTCP
 * listener is handed back to a TCP listener the same way.
 *
 * <p>How: the new listener joins the old one's SO_REUSEPORT group (SO_REUSEPORT set late on the old socket), a
 * classic BPF program attached through the TCP socket of the pair (the kernel refuses it through an MPTCP one) steers
 * every new connection request to the new one, the application drains the old accept queue by itself, then the new
 * socket is dup3()ed over the old fd number; epoll registrations of the old file are re-added for the new one and
 * threads blocked in accept on the old file are woken with the JDK's own interrupt signal, so they retry on the new
 * file. With {@code net.ipv4.tcp_migrate_req=1} the kernel migrates whatever is left in the old TCP queue instead (not
 * on the way back: MPTCP subflows migrated into a TCP listener are reset). Any failed step before the swap rolls back:
 * the old listener keeps serving as before.
 *
 * <p>Imports {@code config}, {@code log}, {@code os}, {@code policy} (counters) and the native layer ({@code mptcp.sys},
 * with {@code Handover} for the primitives). Works on int fds and /proc/self only; names no library and reaches into
 * no JDK internals. The result is returned to the agent (the attach answer) and left in
 * {@code Build.LISTENERS_PROPERTY}.
 */
package mptcp.agent.listeners;
