/** A JVM that lives ARG milliseconds (a short-lived job, for the --watch benchmark). */
public final class ShortLived {
    public static void main(String[] args) throws Exception {
        Thread.sleep(Long.parseLong(args[0]));
    }
}
