package mptcp.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of creating (and closing) one TCP socket through each JDK path the agent intercepts. Run three ways by
 * bench/run.sh: plain JVM (TCP), under {@code mptcpize run} (MPTCP through LD_PRELOAD) and with the agent (MPTCP
 * through the rewritten sun.nio.ch.Net). The socket is never bound or connected: the figure is creation + close.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SocketCreate {
    private ServerSocket listener;
    private InetSocketAddress address;

    @Setup
    public void setUp() throws IOException {
        listener = new ServerSocket(0, 4096, InetAddress.getLoopbackAddress());
        address = new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
    }

    @TearDown
    public void tearDown() throws IOException {
        listener.close();
    }

    /** java.net.Socket: NioSocketImpl.create creates the fd eagerly. */
    @Benchmark
    public void socket() throws IOException {
        Socket s = new Socket();
        s.setSoTimeout(0); // forces the lazy impl to create its fd
        s.close();
    }

    /** SocketChannel.open: SocketChannelImpl constructor. */
    @Benchmark
    public void socketChannel() throws IOException {
        SocketChannel.open().close();
    }

    /** ServerSocketChannel.open: a listener socket (SO_REUSEADDR set). */
    @Benchmark
    public void serverSocketChannel() throws IOException {
        ServerSocketChannel.open().close();
    }
}
