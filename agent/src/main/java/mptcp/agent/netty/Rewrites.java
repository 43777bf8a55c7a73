package mptcp.agent.netty;

import java.security.ProtectionDomain;

import mptcp.agent.config.Config;
import mptcp.agent.log.Log;
import mptcp.agent.policy.Policy;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;

/**
 * Which rewrites one class of Netty gets, and the rewrite itself with ASM: in a class of its own, so that the verifier
 * of {@link NettyModule} loads no ASM class and a JVM without Netty never does.
 *
 * <p>What each class gets depends on the configuration at the time it is rewritten: the rules' hooks only when some
 * rule says {@code tcp} for connects or binds (the default loopback rules do), the option guards only with
 * {@code options=compat}, the role marks only when a role is needed (a {@code mode} other than {@code all}, or the
 * rules deciding connects).
 */
final class Rewrites {
    private Rewrites() {
    }

    static byte[] transform(HookClass hooks, ClassLoader loader, String name, String suffix, Class<?> redefined,
                            ProtectionDomain domain, byte[] bytes) {
        try {
            ClassReader reader = new ClassReader(bytes);
            Config config = Policy.config();
            boolean connectRules = config.rules.decidesConnect();
            boolean bindRules = config.rules.decidesBind();
            boolean roles = connectRules || !(config.convertsServers() && config.convertsClients());
            boolean listener = suffix.equals(ChannelRoleRewrite.EPOLL_SERVER) || suffix.equals(ChannelRoleRewrite.URING_SERVER);
            boolean role = roles && (listener || suffix.equals(ChannelRoleRewrite.EPOLL_CLIENT) || suffix.equals(ChannelRoleRewrite.URING_CLIENT));
            boolean applies;
            if (suffix.equals(SocketRewrite.SUFFIX)) {
                applies = Asm.has(reader, "newSocketStream0", "(Z)I", true);
            } else if (suffix.equals(UringRewrite.SERVER)) {
                applies = role || Asm.has(reader, "newChildChannel", null, false);
            } else if (suffix.equals(UringRewrite.UNSAFE)) {
                applies = Asm.has(reader, "fulfillConnectPromise", null, false);
            } else if (suffix.equals(UringRewrite.CHANNEL)) {
                applies = connectRules && Asm.has(reader, "submitConnect", "(Ljava/net/InetSocketAddress;)V", false);
            } else if (suffix.equals(EpollCtlRewrite.SUFFIX)) {
                applies = (connectRules || bindRules || config.race) && Asm.has(reader, "epollCtlAdd", "(III)V", true);
            } else if (suffix.equals(BootstrapRewrite.SUFFIX)) {
                applies = connectRules && BootstrapRewrite.applies(reader);
            } else if (suffix.equals(OptionGuards.EPOLL_SOCKET) || suffix.equals(OptionGuards.URING_SOCKET)) {
                applies = config.compatOptions && Asm.has(reader, "setTcpQuickAck", "(Z)V", false)
                        || connectRules && Asm.has(reader, "setTcpMd5Sig", null, false);
            } else if (suffix.equals(CloseRewrite.SUFFIX)) {
                // whatever paths says now: the accounting may be switched on again at run time
                applies = Policy.closesHooked() && Asm.has(reader, "markClosed", "()Z", false);
            } else {
                applies = role; // the socket channels
            }
            if (!applies) {
                return null;
            }
            if (loader == null) {
                Log.warn(name.replace('/', '.') + " is on the boot class path; its sockets stay TCP");
                return null;
            }
            String prefix = name.substring(0, name.length() - suffix.length());
            // the hook in Netty's unix package; Bootstrap's in its own (netty-transport does not read the unix jar)
            String hook = prefix + (suffix.equals(BootstrapRewrite.SUFFIX) ? BootstrapRewrite.HOOK_PACKAGE
                    : "io/netty/channel/unix/") + HookClass.NAME;
            hooks.define(loader, hook, domain); // the first class of this copy of Netty that needs it defines it
            ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
            ClassVisitor chain = writer;
            if (suffix.equals(SocketRewrite.SUFFIX)) {
                if (config.compatOptions) {
                    chain = new OptionGuards(chain, name, hook, OptionGuards.UNIX_SOCKET, false);
                }
                chain = new SocketRewrite(chain, name, hook, connectRules, bindRules, config.race);
            } else if (suffix.equals(UringRewrite.SERVER) || suffix.equals(UringRewrite.UNSAFE) || suffix.equals(UringRewrite.CHANNEL)) {
                chain = new UringRewrite(role ? new ChannelRoleRewrite(chain, hook, true) : chain, prefix, hook, suffix,
                        connectRules);
            } else if (suffix.equals(EpollCtlRewrite.SUFFIX)) {
                chain = new EpollCtlRewrite(chain, hook);
            } else if (suffix.equals(BootstrapRewrite.SUFFIX)) {
                chain = new BootstrapRewrite(chain, hook);
            } else if (suffix.equals(OptionGuards.EPOLL_SOCKET) || suffix.equals(OptionGuards.URING_SOCKET)) {
                chain = new OptionGuards(chain, name, hook, config.compatOptions ? OptionGuards.LINUX_SOCKET : null,
                        connectRules);
            } else if (suffix.equals(CloseRewrite.SUFFIX)) {
                chain = new CloseRewrite(chain, name, hook);
            } else {
                chain = new ChannelRoleRewrite(chain, hook, listener);
            }
            reader.accept(chain, ClassReader.EXPAND_FRAMES);
            Log.debug("instrumented " + name.replace('/', '.') + (redefined != null ? " (already loaded)" : ""));
            return writer.toByteArray();
        } catch (Throwable t) {
            Log.warn("could not instrument " + name.replace('/', '.') + " (" + t + "); its sockets stay TCP");
            return null;
        }
    }
}
