package mptcp.agent.engine;

import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;

/**
 * The agent's work that an application's thread reaches (a class being rewritten as the application loads it, a
 * handler's first look-up of a JDK method), run with the agent's own permissions when a security manager is installed
 * (JDK 17-23; JDK 24+ cannot enable one). The agent runs under a security manager only when the policy grants its jar
 * AllPermission (mptcp.agent.boot.Launcher checks); the application's frames on the stack, with their narrower grants,
 * must not make its look-ups fail. Use: {@code System.getSecurityManager() != null ? Privileged.run(() -> work())
 * : work()}, so that without a security manager (nearly always) neither this class nor a lambda is ever loaded or made:
 * the start-up pays nothing.
 */
public final class Privileged {
    private Privileged() {
    }

    /** Runs {@code action} in a {@code doPrivileged} block; its exception, if any, is thrown as it is. */
    @SuppressWarnings("removal")
    public static <T> T run(PrivilegedExceptionAction<T> action) throws Exception {
        try {
            return java.security.AccessController.doPrivileged(action);
        } catch (PrivilegedActionException e) {
            throw e.getException();
        }
    }
}
