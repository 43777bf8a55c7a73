package mptcp.it.apps;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

import jnr.ffi.LibraryLoader;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.implementation.FixedValue;
import net.bytebuddy.matcher.ElementMatchers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An application with its own byte-buddy, jnr-ffi/jffi, ASM and slf4j+logback, at versions different from the
 * agent's: each must work as without the agent, and none of the agent's classes may be visible to it.
 */
public final class IsolationApp {
    public interface Posix {
        int getpid();
    }

    public static void main(String[] args) throws Exception {
        Logger log = LoggerFactory.getLogger(IsolationApp.class);
        log.info("app started");

        Class<?> generated = new ByteBuddy().subclass(Object.class).method(ElementMatchers.named("toString"))
                .intercept(FixedValue.value("made by the app's byte-buddy")).make()
                .load(IsolationApp.class.getClassLoader()).getLoaded();
        System.out.println("BYTEBUDDY " + generated.getDeclaredConstructor().newInstance()
                + " from " + jarOf(ByteBuddy.class));

        Posix posix = LibraryLoader.create(Posix.class).load("c");
        System.out.println("JNR getpid " + (posix.getpid() == ProcessHandle.current().pid() ? "ok" : "WRONG")
                + " from " + jarOf(LibraryLoader.class) + " and " + jarOf(com.kenai.jffi.Library.class));
        System.out.println("ASM from " + jarOf(org.objectweb.asm.ClassReader.class));

        for (String hidden : new String[] {"mptcp.agent.Agent", "mptcp.sys.Sock", "mptcp.agent.policy.Sockets"}) {
            try {
                Class.forName(hidden);
                System.out.println("VISIBLE " + hidden);
            } catch (ClassNotFoundException e) {
                System.out.println("HIDDEN " + hidden);
            }
        }
        SocketApp.socket();
        log.info("sockets open");
        System.out.println("READY");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        System.exit(0);
    }

    private static String jarOf(Class<?> c) {
        String path = c.getProtectionDomain().getCodeSource().getLocation().getPath();
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
