package mptcp.it.netty;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

/** Netty 4.2's io_uring transport, in a class of its own so that NettyEcho and NettyChurn also run on Netty 4.1 (epoll). */
public final class IoUringTransport {
    private IoUringTransport() {
    }

    /** The event loop group, server channel type and client channel type; exits with UNAVAILABLE when it cannot work. */
    public static Object[] open() {
        if (!IoUring.isAvailable()) {
            System.out.println("UNAVAILABLE " + IoUring.unavailabilityCause());
            System.exit(1);
        }
        return new Object[] {new MultiThreadIoEventLoopGroup(1, IoUringIoHandler.newFactory()),
                IoUringServerSocketChannel.class, IoUringSocketChannel.class};
    }
}
