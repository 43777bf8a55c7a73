package mptcp.it.fleet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The Kubernetes manifests of deploy/kubernetes, read as the API server would get them (YAML documents). */
final class Manifests {
    static final Path DIR = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize()
            .resolve("deploy/kubernetes");

    private Manifests() {
    }

    /** The documents of one manifest file, each a map. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> load(String file) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(Files.readString(DIR.resolve(file)))) {
            if (doc != null) {
                out.add((Map<String, Object>) doc);
            }
        }
        return out;
    }

    /** The document of {@code kind} (exactly one). */
    static Map<String, Object> kind(List<Map<String, Object>> docs, String kind) {
        List<Map<String, Object>> found = new ArrayList<>();
        for (Map<String, Object> d : docs) {
            if (kind.equals(d.get("kind"))) {
                found.add(d);
            }
        }
        if (found.size() != 1) {
            throw new AssertionError("expected one " + kind + ", found " + found.size());
        }
        return found.get(0);
    }

    /** {@code map.a.b.c}: the value at that path of nested maps. */
    @SuppressWarnings("unchecked")
    static <T> T at(Map<String, Object> map, String path) {
        Object o = map;
        for (String k : path.split("\\.")) {
            if (!(o instanceof Map)) {
                throw new AssertionError("no " + path + " (stopped before " + k + ")");
            }
            o = ((Map<String, Object>) o).get(k);
        }
        if (o == null) {
            throw new AssertionError("no " + path);
        }
        return (T) o;
    }

    /** The one container of the pod template of {@code workload} named {@code name} (in {@code list}). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> container(Map<String, Object> workload, String list, String name) {
        for (Map<String, Object> c : (List<Map<String, Object>>) at(workload, "spec.template.spec." + list)) {
            if (name.equals(c.get("name"))) {
                return c;
            }
        }
        throw new AssertionError("no " + list + " entry named " + name);
    }

    /** The command the DaemonSet's container runs. */
    @SuppressWarnings("unchecked")
    static List<String> daemonSetCommand() throws IOException {
        return (List<String>) container(kind(load("daemonset.yaml"), "DaemonSet"), "containers", "mptcp-agent").get("command");
    }
}
