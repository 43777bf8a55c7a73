package com.kenai.jffi;

/**
 * Where the agent extracted jffi's native stub (mptcp.sys.StubFile), for {@link Init} to load it from: handed over
 * in this field rather than through the system property {@code jffi.boot.library.path}, which the application could
 * see change while it starts.
 */
public final class AgentStub {
    /** The directory holding the stub, or null: jffi's own ways (a user-set jffi.boot.library.path first). */
    public static volatile String directory;

    private AgentStub() {
    }
}
