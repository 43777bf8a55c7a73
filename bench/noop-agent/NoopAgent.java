import java.lang.instrument.Instrumentation;

/** The floor of any -javaagent: a premain that does nothing (bench/run.sh builds it into bench/target/noop-agent.jar). */
public final class NoopAgent {
    public static void premain(String args, Instrumentation inst) {
    }
}
