/** A JVM with one listener that waits to be killed (a service the attach benchmark attaches to). */
public final class Idle {
    public static void main(String[] args) throws Exception {
        java.net.ServerSocket s = new java.net.ServerSocket(0);
        System.out.println("READY " + s.getLocalPort());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
