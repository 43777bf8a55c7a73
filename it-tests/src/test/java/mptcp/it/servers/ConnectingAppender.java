package mptcp.it.servers;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

/**
 * A logback appender that sends each event over a new TCP connection to {@code -Dcollector.port} on loopback, on the
 * logging thread (as simple network appenders do). Under the agent each of its sockets is converted, so at log=debug
 * the agent logs while this appender runs: the agent must not re-enter the application's logging from there.
 */
public final class ConnectingAppender extends AppenderBase<ILoggingEvent> {
    @Override
    protected void append(ILoggingEvent event) {
        int port = Integer.getInteger("collector.port", 0);
        if (port == 0) {
            return;
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            OutputStream out = s.getOutputStream();
            out.write((event.getLoggerName() + " " + event.getFormattedMessage() + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            addError("collector unreachable", e);
        }
    }
}
