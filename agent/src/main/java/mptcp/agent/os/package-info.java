/**
 * What the operating system says about sockets, shared by the runtime and the CLI: addresses as shown everywhere,
 * /proc, and the epoll registrations on a socket ({@code EpollRegistrations}: as a library reported them, or read from
 * /proc/self/fdinfo; re-added after a socket is swapped under the same fd number; used by the rules' conversions
 * (policy) and the live listener hand-over). Imports only the native layer ({@code mptcp.sys}).
 */
package mptcp.agent.os;
