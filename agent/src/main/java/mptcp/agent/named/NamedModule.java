package mptcp.agent.named;

import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.module.ModuleDescriptor;
import java.net.URI;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * Defines the agent's named module, {@code mptcp.agent.internal}, for the agent loader's packages, before the first of
 * their classes is defined. Being named lets the agent get native access for itself alone (JDK 22+: native access of
 * an unnamed module is granted to every unnamed module, the application's too). A module layer does the same through
 * the module resolver (about 25 ms of cold stream and lambda code at start-up on JDK 25); this calls the JDK's own
 * {@code jdk.internal.module.Modules.defineModule} instead, with the package exported to this class's module alone:
 * the agent loader's unnamed module, which holds nothing but this class. The module is open and reads every module of
 * the boot layer, as a layer would make it.
 *
 * <p>Reached by the launcher without reflection: the static initialiser hands an instance to the loader, which
 * implements {@code Consumer<Object>}; {@code apply(instrumentation, packages)} defines the module and grants it
 * native access, returning whether the grant was made (Boolean), or throws.
 */
public final class NamedModule implements BiFunction<Object, Object, Object> {
    /** The module's name. */
    public static final String NAME = "mptcp.agent.internal";

    static {
        ClassLoader loader = NamedModule.class.getClassLoader();
        if (loader instanceof Consumer) {
            @SuppressWarnings("unchecked")
            Consumer<Object> registry = (Consumer<Object>) loader;
            registry.accept(new NamedModule());
        }
    }

    private NamedModule() {
    }

    /**
     * Native access for the new module alone, as {@code --enable-native-access=mptcp.agent.internal} would give it
     * (JavaLangAccess.addEnableNativeAccess). When this fails the agent grants it itself, by reflection
     * (mptcp.agent.Agent), which on JDK 22+ costs a few ms of method-handle spinning more.
     */
    private static boolean grantNativeAccess(MethodHandles.Lookup lookup, Module module) {
        try {
            Class<?> secrets = Class.forName("jdk.internal.access.SharedSecrets", false, null);
            Class<?> access = Class.forName("jdk.internal.access.JavaLangAccess", false, null);
            Object jla = lookup.findStatic(secrets, "getJavaLangAccess", MethodType.methodType(access)).invoke();
            lookup.findVirtual(access, "addEnableNativeAccess", MethodType.methodType(Module.class, Module.class))
                    .invoke(jla, module);
            return true;
        } catch (Throwable t) {
            return false; // Agent.enableNativeAccess does it
        }
    }

    @Override
    public Object apply(Object instrumentation, Object packageNames) {
        @SuppressWarnings("unchecked")
        Set<String> packages = (Set<String>) packageNames;
        Instrumentation inst = (Instrumentation) instrumentation;
        ClassLoader loader = NamedModule.class.getClassLoader();
        Module self = NamedModule.class.getModule();
        inst.redefineModule(Object.class.getModule(), Set.of(),
                Map.of("jdk.internal.module", Set.of(self), "jdk.internal.access", Set.of(self)), Map.of(), Set.of(), Map.of());
        try {
            Class<?> modules = Class.forName("jdk.internal.module.Modules", false, null);
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            MethodHandle define = lookup.findStatic(modules, "defineModule",
                    MethodType.methodType(Module.class, ClassLoader.class, ModuleDescriptor.class, URI.class));
            MethodHandle reads = lookup.findStatic(modules, "addReads",
                    MethodType.methodType(void.class, Module.class, Module.class));
            ModuleDescriptor descriptor = ModuleDescriptor.newOpenModule(NAME).packages(packages).build();
            Module module = (Module) define.invokeExact(loader, descriptor, (URI) null);
            for (Module m : ModuleLayer.boot().modules()) {
                reads.invokeExact(module, m);
            }
            return grantNativeAccess(lookup, module);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
