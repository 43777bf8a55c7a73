package mptcp.agent.engine;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Set;

/**
 * One interception point: a method of a platform class whose call sites, in the classes {@code callers}, are
 * rewritten to call {@code handler.name} instead. A static method keeps its descriptor; an instance method's
 * receiver becomes the handler's first parameter, typed {@code Object} (platform code cannot name agent types).
 * The handler gets the library's own method as {@link #original} and decides when to call it.
 *
 * <p>The original is looked up at its first use, not at install: a JVM pays for the method handles (and their lambda
 * forms) of the methods it actually calls, and the owner class is not loaded by the agent ahead of the application.
 * A call site is only ever rewritten where the JDK's own code calls the method, so the method exists when the first
 * call asks for it.
 */
public final class Redirect {
    final String owner;
    final String name;
    final String desc;
    final boolean instance;
    final Class<?> handler;
    final Set<String> callers;
    /** The library's own method, typed like the handler ({@link #handlerDesc}); looked up at its first use. */
    private volatile MethodHandle original;
    /** Set at install, once the handler is wired: from then on call sites may be rewritten. */
    private volatile boolean installed;

    private Redirect(String owner, String name, String desc, boolean instance, Class<?> handler, String... callers) {
        this.owner = owner;
        this.name = name;
        this.desc = desc;
        this.instance = instance;
        this.handler = handler;
        this.callers = Set.of(callers);
    }

    /** Calls of the static method {@code owner.name desc} (internal names) in {@code callers} go to {@code handler}. */
    public static Redirect ofStatic(String owner, String name, String desc, Class<?> handler, String... callers) {
        return new Redirect(owner, name, desc, false, handler, callers);
    }

    /** Calls of the instance method {@code owner.name desc} in {@code callers} go to {@code handler.name(Object, ...)}. */
    public static Redirect ofInstance(String owner, String name, String desc, Class<?> handler, String... callers) {
        return new Redirect(owner, name, desc, true, handler, callers);
    }

    /** The descriptor of the handler and of the trampoline method: the receiver, if any, as Object first. */
    String handlerDesc() {
        return instance ? "(Ljava/lang/Object;" + desc.substring(1) : desc;
    }

    MethodType handlerType() {
        return MethodType.fromMethodDescriptorString(handlerDesc(), null);
    }

    void installed(boolean on) {
        installed = on;
    }

    /** The library's own method, for the handler to call. */
    public MethodHandle original() {
        MethodHandle h = original;
        return h != null ? h : lookUpOriginal();
    }

    @SuppressWarnings("removal")
    private synchronized MethodHandle lookUpOriginal() {
        MethodHandle h = original;
        if (h == null) {
            try {
                // an application's thread: see Privileged (System.getSecurityManager: always null on JDK 24+)
                h = System.getSecurityManager() != null ? Privileged.run(this::find) : find();
            } catch (Exception e) {
                // cannot happen while the JDK's own code calls the method (its package is opened at install)
                throw new IllegalStateException("mptcp-agent: cannot reach " + this + ": " + e, e);
            }
            original = h;
        }
        return h;
    }

    private MethodHandle find() throws ReflectiveOperationException {
        Class<?> c = Class.forName(owner.replace('/', '.'), false, ClassLoader.getPlatformClassLoader());
        MethodHandles.Lookup in = MethodHandles.privateLookupIn(c, MethodHandles.lookup());
        MethodType type = MethodType.fromMethodDescriptorString(desc, null);
        return instance ? in.findVirtual(c, name, type).asType(handlerType()) : in.findStatic(c, name, type);
    }

    /** True once installed: its call sites now reach the handler. */
    public boolean installed() {
        return installed;
    }

    @Override
    public String toString() {
        return owner.replace('/', '.') + "." + name + desc;
    }
}
