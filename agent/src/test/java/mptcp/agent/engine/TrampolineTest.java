package mptcp.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;

import org.junit.jupiter.api.Test;

class TrampolineTest {
    public static int twice(int x) {
        return 2 * x;
    }

    public static String greet(Object receiver, String name) {
        return receiver + " greets " + name;
    }

    @Test
    void handlerDescriptorsPutTheReceiverFirst() {
        Redirect s = Redirect.ofStatic("x/Owner", "twice", "(I)I", TrampolineTest.class, "x/Caller");
        Redirect i = Redirect.ofInstance("x/Owner", "greet", "(Ljava/lang/String;)Ljava/lang/String;",
                TrampolineTest.class, "x/Caller");
        assertEquals("(I)I", s.handlerDesc());
        assertEquals("(Ljava/lang/Object;Ljava/lang/String;)Ljava/lang/String;", i.handlerDesc());
        assertEquals("x.Owner.greet(Ljava/lang/String;)Ljava/lang/String;", i.toString());
    }

    @Test
    void trampolineCallsTheHandlerItIsGiven() throws Throwable {
        Redirect s = Redirect.ofStatic("x/Owner", "twice", "(I)I", TrampolineTest.class, "x/Caller");
        Redirect i = Redirect.ofInstance("x/Owner", "greet", "(Ljava/lang/String;)Ljava/lang/String;",
                TrampolineTest.class, "x/Caller");
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        Class<?> hook = lookup.defineClass(Trampoline.bytes("mptcp/agent/engine/TestHook", List.of(s, i)));
        hook.getField("twice").set(null, lookup.findStatic(TrampolineTest.class, "twice", s.handlerType()));
        hook.getField("greet").set(null, lookup.findStatic(TrampolineTest.class, "greet", i.handlerType()));
        assertEquals(42, (int) lookup.findStatic(hook, "twice", MethodType.methodType(int.class, int.class)).invokeExact(21));
        assertEquals("a greets b", (String) lookup.findStatic(hook, "greet",
                MethodType.methodType(String.class, Object.class, String.class)).invokeExact((Object) "a", "b"));
    }
}
