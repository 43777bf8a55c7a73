package mptcp.agent.named;

import java.lang.instrument.Instrumentation;
import java.lang.module.ModuleDescriptor;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Consumer;

import jdk.internal.access.SharedSecrets;
import jdk.internal.module.Modules;

/**
 * Defines the agent's named module, {@code mptcp.agent.internal}, for the agent loader's packages, before the first of
 * their classes is defined. Being named lets the agent get native access for itself alone (JDK 22+: native access of
 * an unnamed module is granted to every unnamed module, the application's too). A module layer does the same through
 * the module resolver (about 25 ms of cold stream and lambda code at start-up on JDK 25); this calls the JDK's own
 * {@code jdk.internal.module.Modules.defineModule} instead, with the package exported to this class's module alone:
 * the agent loader's unnamed module, which holds nothing but this class. The module is open and reads every module of
 * the boot layer, as a layer would make it.
 *
 * <p>The calls into {@code jdk.internal.*} are plain bytecode (no method handles or reflection, which spin classes
 * at start-up): this package is compiled apart from the rest of the agent, with those packages exported to it and
 * {@code JavaLangAccess} seen through a stand-in that declares its JDK 22+ method (agent/pom.xml,
 * src/build/jdk); they resolve at run time once {@link #apply} has exported the packages.
 *
 * <p>Reached by the launcher without reflection: the static initialiser hands an instance to the loader, which
 * implements {@code Consumer<Object>}; {@code apply(instrumentation, packages)} defines the module and grants it
 * native access, returning whether the grant was made (Boolean), or throws.
 */
public final class NamedModule implements BiFunction<Object, Object, Object> {
    /** The module's name. */
    public static final String NAME = "mptcp.agent.internal";
    /**
     * The JDK packages the agent opens to itself as it installs (mptcp.agent.jdk.JdkModule, engine.Engine,
     * netty.NettyModule, through Engine.open): opened here by plain calls as the module is defined, so that those
     * find them open and need no Instrumentation.redefineModule (a few ms each at start-up). A package missing here
     * is still opened there, only more slowly.
     */
    private static final String[] OPENS = {"java.base/java.lang", "java.base/java.io", "java.base/java.net",
        "java.base/sun.nio.ch", "jdk.net/jdk.net"};

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

    @Override
    public Object apply(Object instrumentation, Object packageNames) {
        @SuppressWarnings("unchecked")
        Set<String> packages = (Set<String>) packageNames;
        Instrumentation inst = (Instrumentation) instrumentation;
        Module self = NamedModule.class.getModule();
        inst.redefineModule(Object.class.getModule(), Set.of(),
                Map.of("jdk.internal.module", Set.of(self), "jdk.internal.access", Set.of(self)), Map.of(), Set.of(), Map.of());
        return Internal.define(NamedModule.class.getClassLoader(), packages);
    }

    /** The calls into java.base's internals: a class apart, linked only once they are exported to this module. */
    private static final class Internal {
        private Internal() {
        }

        static Boolean define(ClassLoader loader, Set<String> packages) {
            // the package names come from the agent's own build: no need for the strict builder's checks of each
            ModuleDescriptor descriptor = SharedSecrets.getJavaLangModuleAccess()
                    .newModuleBuilder(NAME, false, Set.of(ModuleDescriptor.Modifier.OPEN)).packages(packages).build();
            Module module = Modules.defineModule(loader, descriptor, null);
            ModuleLayer boot = ModuleLayer.boot();
            for (Module m : boot.modules()) {
                Modules.addReads(module, m);
            }
            for (String open : OPENS) {
                int slash = open.indexOf('/');
                java.util.Optional<Module> m = boot.findModule(open.substring(0, slash));
                if (m.isPresent()) {
                    Modules.addOpens(m.get(), open.substring(slash + 1), module);
                }
            }
            return grantNativeAccess(module);
        }

        /**
         * Native access for the new module alone, as {@code --enable-native-access=mptcp.agent.internal} would give
         * it. When this fails the agent grants it itself, by reflection (mptcp.agent.Agent), which costs a few ms of
         * method-handle spinning more.
         */
        private static boolean grantNativeAccess(Module module) {
            try {
                SharedSecrets.getJavaLangAccess().addEnableNativeAccess(module);
                return true;
            } catch (LinkageError | RuntimeException e) {
                return false; // Agent.enableNativeAccess does it
            }
        }
    }
}
