package mptcp.agent.cli;

/** Bad input from the user: one line naming what was wrong and what is allowed; exit code 2. */
public final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
