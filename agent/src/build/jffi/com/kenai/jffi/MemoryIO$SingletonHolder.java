package com.kenai.jffi;

/**
 * Replaces jffi's {@code MemoryIO.SingletonHolder} in the agent (same binary name, same members).
 *
 * <p>jffi's holder picks its {@code sun.misc.Unsafe} memory access unless the system property
 * {@code jffi.unsafe.disabled} is set, and on JDK 24+ the first use of those Unsafe methods prints a deprecation
 * warning. The agent used to set that property while jffi initialised and clear it afterwards, but a system property
 * is global: an application iterating the properties meanwhile could find the key and then a null value (seen:
 * {@code -XshowSettings:properties} failing with a NullPointerException). This holder always takes jffi's JNI
 * implementation (the checked one, which also refuses a null address), so no property is ever touched. The build puts
 * this class in place of jffi's (agent/pom.xml).
 */
final class MemoryIO$SingletonHolder {
    private static final MemoryIO INSTANCE = MemoryIO.getCheckedInstance();

    private MemoryIO$SingletonHolder() {
    }

    static MemoryIO access$200() {
        return INSTANCE;
    }
}
