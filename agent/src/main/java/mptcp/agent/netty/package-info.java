/**
 * The Netty module: the sockets of Netty's native transports (epoll, io_uring, the io_uring incubator), in any class
 * loader and under any shading prefix. {@code NettyModule} finds Netty's classes and {@code Rewrites} gives each its
 * rewrites, one interception point per file: {@code SocketRewrite} (io.netty.channel.unix.Socket: the socket made,
 * epoll's connect, bind and accept), {@code UringRewrite} (io_uring's ring connects and accepts),
 * {@code EpollCtlRewrite} (epoll's Native.epollCtlAdd/Mod/Del: each socket's registration), {@code ChannelRoleRewrite}
 * (the socket channels' constructors: the role), {@code BootstrapRewrite} (Bootstrap's connect: the destination),
 * {@code OptionGuards} (options=compat around Netty's option wrappers); {@code HookClass} is the class they call,
 * defined in Netty's own package. The handlers apply the socket policy ({@code NettySockets}), with what is known when
 * a socket is made ({@code CreationHints}).
 * Imports {@code engine} (the module interface), {@code policy}, {@code config}, {@code log}, the native layer and ASM.
 */
package mptcp.agent.netty;
