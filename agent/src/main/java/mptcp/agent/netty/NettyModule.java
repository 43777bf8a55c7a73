package mptcp.agent.netty;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import mptcp.agent.engine.Engine;
import mptcp.agent.engine.InterceptionModule;
import mptcp.agent.log.Log;

/**
 * Netty's native transports (epoll, io_uring, the io_uring incubator; kqueue is never on Linux) make, connect and
 * accept their sockets in C, behind a few plain Java methods. This transformer finds the classes that hold them in
 * every class loader and under any shading prefix (gRPC's {@code io/grpc/netty/shaded/}, ...): by the end of their
 * internal name, {@link #TARGETS}. Each interception point is one rewrite, in a file of its own
 * ({@link Rewrites} chooses them for a class):
 * <ul>
 * <li>{@link SocketRewrite}: {@code io.netty.channel.unix.Socket} — every stream socket is made there (MPTCP, or the
 *     protocol its destination needs), epoll's connects, binds and accepts;</li>
 * <li>{@link UringRewrite}: io_uring's accepts and connects through its ring;</li>
 * <li>{@link EpollCtlRewrite}: epoll's {@code Native.epollCtlAdd/Mod/Del}, each socket's registration;</li>
 * <li>{@link ChannelRoleRewrite}: the socket channels' constructors, the role of the socket they make;</li>
 * <li>{@link BootstrapRewrite}: {@code Bootstrap}'s connect, the destination of the socket it is about to make;</li>
 * <li>{@link OptionGuards}: {@code options=compat} around the option wrappers of {@code Socket} and the
 *     {@code LinuxSocket}s;</li>
 * <li>{@link CloseRewrite}: {@code FileDescriptor.markClosed}, where each socket's close starts (the per-path
 *     accounting reads the connection's last figures there).</li>
 * </ul>
 * Body-only changes: the same rewrites work when Netty is loaded later and, after an {@code attach}, on the already
 * loaded classes through {@code retransformClasses}. The rewritten code calls the {@link HookClass} defined in Netty's
 * own package and loader, which leads to the handlers in {@link NettySockets}.
 */
public final class NettyModule implements InterceptionModule, ClassFileTransformer {
    /**
     * The classes rewritten, by the end of their internal name; the order of {@link #install}'s retransformation
     * (epoll's Native first: every registration of a socket made from then on is reported).
     */
    static final List<String> TARGETS = List.of(EpollCtlRewrite.SUFFIX, SocketRewrite.SUFFIX, UringRewrite.SERVER,
            UringRewrite.CHANNEL, UringRewrite.UNSAFE, OptionGuards.EPOLL_SOCKET, OptionGuards.URING_SOCKET,
            ChannelRoleRewrite.EPOLL_CLIENT, ChannelRoleRewrite.EPOLL_SERVER, ChannelRoleRewrite.URING_CLIENT,
            BootstrapRewrite.SUFFIX, CloseRewrite.SUFFIX);

    private HookClass hooks;

    @Override
    public String name() {
        return "netty";
    }

    /**
     * Adds the transformer and rewrites the copies of Netty already loaded (attach); the hook classes are defined and
     * wired when the first copy of Netty is met.
     */
    @Override
    public void install(Instrumentation inst) throws Exception {
        // java.lang for ClassLoader.defineClass; java.net for the rules (Inet6Address's bytes read without a copy)
        Engine.open(inst, Object.class.getModule(), Set.of("java.lang", "java.net"), NettyModule.class.getModule());
        hooks = new HookClass(inst);
        inst.addTransformer(this, true);
        List<List<Class<?>>> loaded = new ArrayList<>();
        for (int i = 0; i < TARGETS.size(); i++) {
            loaded.add(new ArrayList<>());
        }
        ClassLoader platform = ClassLoader.getPlatformClassLoader();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            ClassLoader l = c.getClassLoader();
            if (l == null || l == platform) {
                continue; // the JDK's classes, most of those loaded: Netty never comes from the JDK's loaders
            }
            String n = c.getName();
            if (!n.contains("netty")) {
                continue;
            }
            int t = target(n.replace('.', '/'));
            if (t >= 0 && inst.isModifiableClass(c)) {
                loaded.get(t).add(c);
            }
        }
        for (List<Class<?>> classes : loaded) {
            for (Class<?> c : classes) {
                try {
                    inst.retransformClasses(c);
                } catch (Throwable t) {
                    Log.warn("could not instrument the loaded " + c.getName() + " (" + t + "); its sockets stay TCP");
                }
            }
        }
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        if (name == null || !(name.endsWith("Socket") || name.endsWith("Channel") || name.endsWith("Unsafe")
                || name.endsWith("Native") || name.endsWith("Bootstrap") || name.endsWith("FileDescriptor"))) {
            return null; // the one check every other class of the JVM pays
        }
        int t = target(name);
        if (t < 0) {
            return null;
        }
        return Rewrites.transform(hooks, loader, name, TARGETS.get(t), redefined, domain, bytes);
    }

    /** The index in {@link #TARGETS} of the class with internal name {@code name}, or -1. */
    private static int target(String name) {
        for (int i = 0; i < TARGETS.size(); i++) {
            if (isNetty(name, TARGETS.get(i))) {
                return i;
            }
        }
        return -1;
    }

    /** {@code name} is {@code suffix} itself or ends with "/" + {@code suffix} (a shading prefix). */
    private static boolean isNetty(String name, String suffix) {
        return name.endsWith(suffix) && (name.length() == suffix.length()
                || name.charAt(name.length() - suffix.length() - 1) == '/');
    }
}
