/**
 * What the operating system says about sockets, shared by the runtime and the CLI: addresses as shown everywhere,
 * /proc. Imports only the native layer ({@code mptcp.sys}).
 */
package mptcp.agent.os;
