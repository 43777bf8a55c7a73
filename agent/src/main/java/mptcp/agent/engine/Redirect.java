package mptcp.agent.engine;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.util.Set;

/**
 * One interception point: a method of a platform class whose call sites, in the classes {@code callers}, are
 * rewritten to call {@code handler.name} instead. A static method keeps its descriptor; an instance method's
 * receiver becomes the handler's first parameter, typed {@code Object} (platform code cannot name agent types).
 * The handler gets the library's own method as {@link #original} and decides when to call it.
 */
public final class Redirect {
    final String owner;
    final String name;
    final String desc;
    final boolean instance;
    final Class<?> handler;
    final Set<String> callers;
    /** The library's own method, typed like the handler ({@link #handlerDesc}); set at install. */
    private volatile MethodHandle original;

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

    void original(MethodHandle h) {
        original = h;
    }

    /** The library's own method, for the handler to call; null when this redirect is not installed. */
    public MethodHandle original() {
        return original;
    }

    /** True once installed: its call sites now reach the handler. */
    public boolean installed() {
        return original != null;
    }

    @Override
    public String toString() {
        return owner.replace('/', '.') + "." + name + desc;
    }
}
