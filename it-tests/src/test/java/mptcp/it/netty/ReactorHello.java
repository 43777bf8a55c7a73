package mptcp.it.netty;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * Test application: a Reactor Netty HTTP server (the default server of Spring WebFlux; native transport by default)
 * answering {@code GET /hello} with "hello from reactor-netty", and {@code GET /slow} the same after 3 s (so that the
 * test can read the accepted connection's protocol from the kernel while it is open).
 * <pre>
 *   ReactorHello BIND_ADDRESS PORT      prints LISTEN port, serves until a line on stdin
 * </pre>
 */
public final class ReactorHello {
    public static void main(String[] args) throws Exception {
        DisposableServer server = HttpServer.create().host(args[0]).port(Integer.parseInt(args[1]))
                .route(routes -> routes.get("/hello", (request, response) ->
                        response.sendString(Mono.just("hello from reactor-netty\n")))
                        .get("/slow", (request, response) -> response.sendString(
                                Mono.delay(java.time.Duration.ofSeconds(3)).thenReturn("hello from reactor-netty\n"))))
                .bindNow();
        System.out.println("LISTEN " + server.port());
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        server.disposeNow();
        System.exit(0);
    }
}
