package mptcp.it.netty;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;

/**
 * Test application: a gRPC-java server or client on grpc-netty-shaded (its shaded Netty uses epoll on Linux), with
 * one unary method that echoes a string (a plain string marshaller: no protobuf).
 * <pre>
 *   GrpcEcho server BIND_ADDRESS PORT   prints LISTEN port, serves until a line on stdin
 *   GrpcEcho client HOST PORT COUNT     COUNT unary calls on one channel, prints REPLY text for each, then READY
 * </pre>
 */
public final class GrpcEcho {
    private static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<String>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    private static final MethodDescriptor<String, String> ECHO = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Echo/Echo")
            .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (args[0].equals("server")) {
            ServerServiceDefinition service = ServerServiceDefinition.builder("test.Echo")
                    .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, reply) -> {
                        reply.onNext("echo " + request);
                        reply.onCompleted();
                    })).build();
            Server server = NettyServerBuilder.forAddress(new InetSocketAddress(args[1], Integer.parseInt(args[2])))
                    .addService(service).build().start();
            System.out.println("LISTEN " + server.getPort());
            System.out.flush();
            in.readLine();
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        } else {
            ManagedChannel channel = NettyChannelBuilder.forAddress(args[1], Integer.parseInt(args[2])).usePlaintext().build();
            for (int i = 0; i < Integer.parseInt(args[3]); i++) {
                try {
                    System.out.println("REPLY " + ClientCalls.blockingUnaryCall(channel, ECHO,
                            CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), "hello " + i));
                } catch (Throwable t) {
                    System.out.println("EXCEPTION " + t);
                }
            }
            System.out.println("READY");
            System.out.flush();
            in.readLine();
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        System.exit(0);
    }
}
