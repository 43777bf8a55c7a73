/**
 * The Netty module: the sockets of Netty's native transports (epoll, io_uring, the io_uring incubator), in any class
 * loader and under any shading prefix ({@code NettyModule}: the rewrite of {@code io.netty.channel.unix.Socket} and the
 * hook class placed in Netty's package, the calls before Netty's connect and bind and in its epoll
 * {@code Native.epollCtlAdd} for the rules; {@code OptionGuards}: options=compat around Netty's option wrappers), and the
 * handlers that apply the socket policy to them ({@code NettySockets}).
 * Imports {@code engine} (the module interface), {@code policy}, {@code config}, {@code log}, the native layer and ASM.
 */
package mptcp.agent.netty;
