import static net.bytebuddy.matcher.ElementMatchers.any;
import static net.bytebuddy.matcher.ElementMatchers.isDeclaredBy;
import static net.bytebuddy.matcher.ElementMatchers.named;

import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.MemberSubstitution;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.pool.TypePool;

/** The same rewrite as RewriteAsm with Byte Buddy's MemberSubstitution. */
public final class RewriteByteBuddy {
    public static void main(String[] args) throws Exception {
        byte[] in = Bytes.net();
        ClassFileLocator locator = new ClassFileLocator.Compound(ClassFileLocator.Simple.of("sun.nio.ch.Net", in),
                ClassFileLocator.ForClassLoader.ofSystemLoader());
        TypePool pool = TypePool.Default.of(locator);
        TypeDescription net = pool.describe("sun.nio.ch.Net").resolve();
        MethodDescription target = TypeDescription.ForLoadedType.of(Handlers.class).getDeclaredMethods()
                .filter(named("socket0")).getOnly();
        byte[] out = new ByteBuddy().redefine(net, locator)
                .visit(MemberSubstitution.relaxed().method(named("socket0").and(isDeclaredBy(net))).replaceWith(target).on(any()))
                .make().getBytes();
        System.out.println("byte-buddy " + in.length + " -> " + out.length + " bytes, calls Handlers: " + new String(out, java.nio.charset.StandardCharsets.ISO_8859_1).contains("Handlers"));
    }
}
