package mptcp.agent.boot;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.Collections;
import java.util.Enumeration;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

/**
 * Loads the agent's internals from the {@code inst/} folder of the agent jar, where classes are stored as
 * {@code .classdata} so that the application's class loader (which has the agent jar on its class path) cannot
 * see them. Its parent is the platform class loader: the agent sees the JDK and nothing of the application, and
 * the application never sees the agent's jnr-ffi, jffi or ASM.
 */
final class AgentLoader extends ClassLoader {
    private static final String PREFIX = "inst/";

    static {
        registerAsParallelCapable();
    }

    private final JarFile jar;
    private final String jarUrl;
    private final ProtectionDomain domain;

    AgentLoader(CodeSource source) throws IOException {
        super("mptcp-agent", ClassLoader.getPlatformClassLoader());
        File file;
        try {
            file = new File(source.getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IOException("cannot locate the agent jar from " + source.getLocation(), e);
        }
        this.jar = new JarFile(file, false);
        this.jarUrl = file.toURI().toString();
        this.domain = new ProtectionDomain(source, null, this, null);
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        ZipEntry entry = jar.getEntry(PREFIX + name.replace('.', '/') + ".classdata");
        if (entry == null) {
            throw new ClassNotFoundException(name);
        }
        try (InputStream in = jar.getInputStream(entry)) {
            byte[] bytes = readAll(in, (int) entry.getSize());
            return defineClass(name, bytes, 0, bytes.length, domain);
        } catch (IOException e) {
            throw new ClassNotFoundException(name, e);
        }
    }

    @Override
    protected URL findResource(String name) {
        if (jar.getEntry(PREFIX + name) == null) {
            return null;
        }
        try {
            return new URL("jar:" + jarUrl + "!/" + PREFIX + name);
        } catch (MalformedURLException e) {
            return null;
        }
    }

    @Override
    protected Enumeration<URL> findResources(String name) {
        URL url = findResource(name);
        return url == null ? Collections.emptyEnumeration() : Collections.enumeration(Collections.singletonList(url));
    }

    @Override
    public InputStream getResourceAsStream(String name) {
        ZipEntry entry = jar.getEntry(PREFIX + name);
        if (entry == null) {
            return super.getResourceAsStream(name);
        }
        try {
            return jar.getInputStream(entry);
        } catch (IOException e) {
            return null;
        }
    }

    /** The packages of the classes under inst/, for the agent's named module (see Launcher). */
    java.util.Set<String> packages() {
        java.util.Set<String> packages = new java.util.HashSet<>();
        for (java.util.Enumeration<java.util.jar.JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
            String name = e.nextElement().getName();
            int slash = name.lastIndexOf('/');
            if (name.startsWith(PREFIX) && name.endsWith(".classdata") && slash > PREFIX.length()) {
                packages.add(name.substring(PREFIX.length(), slash).replace('/', '.'));
            }
        }
        return packages;
    }

    /** Resources of the agent's named module: the same as its unnamed view. */
    @Override
    protected URL findResource(String moduleName, String name) {
        return findResource(name);
    }

    private static byte[] readAll(InputStream in, int sizeHint) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(sizeHint > 0 ? sizeHint : 8192);
        in.transferTo(out);
        return out.toByteArray();
    }
}
