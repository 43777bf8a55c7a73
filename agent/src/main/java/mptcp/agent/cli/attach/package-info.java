/**
 * How the command line reaches running JVMs, its own and other users', on the host and in containers: which processes
 * are JVMs and what they are ({@code Target}, from /proc), HotSpot's attach protocol spoken directly over its UNIX
 * socket with a deadline on every step ({@code HotSpot}, {@code Deadline}), the files it needs inside a target's
 * mount namespace, reached without ever following a link out of it ({@code InTarget}: the agent jar's copy, the
 * attach trigger, the status channel), the streamed status report ({@code StatusChannel}), and the selection of the
 * fleet ({@code Selection}: include/exclude, opt-outs). Runs in the operator's JVM only. May import {@code config},
 * {@code report} (wire constants) and {@code mptcp.sys}; never the runtime that runs inside applications.
 */
package mptcp.agent.cli.attach;
