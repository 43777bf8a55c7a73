package mptcp.agent.log;

/**
 * Where the agent's log lines go (key {@code log_output}). One implementation per destination: {@link StderrOutput}
 * (default) and {@link Slf4jOutput} (the application's own slf4j, once the application has initialised it). Lines
 * reach an output only when the agent's level ({@code log=}) lets them through.
 */
public interface Output {
    /** Writes one line; never throws. */
    void write(Log.Level level, String message);
}
