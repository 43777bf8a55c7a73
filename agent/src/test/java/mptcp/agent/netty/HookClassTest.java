package mptcp.agent.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** The hook class placed in Netty's package: verifiable, inert until wired, then a straight call to its handles. */
class HookClassTest {
    static final AtomicInteger CALLS = new AtomicInteger();

    static int socket(boolean ipv6) {
        CALLS.incrementAndGet();
        return ipv6 ? 6 : 4;
    }

    static void connected(boolean ok, int fd) {
        CALLS.addAndGet(fd);
    }

    static void accepted(int fd, int listener) {
        CALLS.addAndGet(fd * listener);
    }

    static void connecting(int fd, Object transport, Object address, int port) {
        CALLS.addAndGet(fd + port + (transport == address ? 1000 : 0));
    }

    @Test
    void hookIsInertUntilWiredThenCallsItsHandles() throws Throwable {
        byte[] bytes = HookClass.bytes("shaded/io/netty/channel/unix/MptcpAgentHook");
        Class<?> hook = new ClassLoader(null) {
            Class<?> define() {
                return defineClass("shaded.io.netty.channel.unix.MptcpAgentHook", bytes, 0, bytes.length);
            }
        }.define();
        Method socket = hook.getMethod("socket", boolean.class);
        Method connected = hook.getMethod("connected", boolean.class, int.class);
        Method accepted = hook.getMethod("accepted", int.class, int.class);
        Method connecting = hook.getMethod("connecting", int.class, Object.class, Object.class, int.class);
        Method binding = hook.getMethod("binding", int.class, Object.class, Object.class);
        Method epollCtl = hook.getMethod("epollCtl", int.class, int.class, int.class, int.class);
        Method role = hook.getMethod("role", int.class);
        Method connectingTo = hook.getMethod("connectingTo", Object.class);
        assertEquals(-1, socket.invoke(null, true), "not wired: Netty's own code runs");
        connected.invoke(null, true, 5);
        accepted.invoke(null, 7, 3);
        String same = "x";
        connecting.invoke(null, 9, same, same, 80);
        binding.invoke(null, 9, same, same);
        epollCtl.invoke(null, 1, 4, 9, 5);
        role.invoke(null, 1);
        connectingTo.invoke(null, same);
        assertEquals(0, CALLS.get());

        MethodHandles.Lookup l = MethodHandles.lookup();
        MethodHandle s = l.findStatic(HookClassTest.class, "socket", MethodType.methodType(int.class, boolean.class));
        MethodHandle c = l.findStatic(HookClassTest.class, "connected", MethodType.methodType(void.class, boolean.class, int.class));
        MethodHandle a = l.findStatic(HookClassTest.class, "accepted", MethodType.methodType(void.class, int.class, int.class));
        MethodHandle cg = l.findStatic(HookClassTest.class, "connecting",
                MethodType.methodType(void.class, int.class, Object.class, Object.class, int.class));
        Method init = hook.getDeclaredMethod("init", MethodHandle[].class);
        init.setAccessible(true);
        MethodHandle[] all = new MethodHandle[HookClass.METHODS.length];
        all[0] = s;
        all[1] = c;
        all[2] = a;
        all[6] = cg;
        assertEquals("connecting", HookClass.METHODS[6][0]);
        init.invoke(null, (Object) all);
        assertEquals(6, socket.invoke(null, true));
        assertEquals(4, socket.invoke(null, false));
        connected.invoke(null, true, 5);
        accepted.invoke(null, 7, 3);
        connecting.invoke(null, 9, same, same, 80); // object arguments passed through as they are
        assertEquals(2 + 5 + 21 + 9 + 80 + 1000, CALLS.get());
    }
}
