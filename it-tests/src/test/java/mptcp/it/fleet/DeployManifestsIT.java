package mptcp.it.fleet;

import mptcp.it.*;

import static mptcp.it.fleet.Manifests.at;
import static mptcp.it.fleet.Manifests.container;
import static mptcp.it.fleet.Manifests.kind;
import static mptcp.it.fleet.Manifests.load;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes checked offline (no cluster here): each document parses and has its kind's required structure;
 * the image both manifests use is the one the Dockerfile builds and holds the jar where their commands expect it;
 * every mount names a volume; the DaemonSet reads the ConfigMap it ships, as files where its command reads them, with
 * the capabilities docs/operators.md measured; the injection keeps the container's own JAVA_TOOL_OPTIONS (also one set
 * through valueFrom) and its agent options are valid. The DaemonSet's command itself runs in FleetIT.
 */
class DeployManifestsIT {
    static final String JAR = "/opt/mptcp-agent/mptcp-agent.jar";

    /** The image name the Dockerfile's header tells to build, and the jar path it copies to. */
    static String image() throws Exception {
        String dockerfile = Files.readString(Manifests.DIR.resolve("Dockerfile"));
        assertTrue(dockerfile.contains("COPY agent/target/mptcp-agent.jar " + JAR), dockerfile);
        Matcher m = Pattern.compile("-t (\\S+) \\.").matcher(dockerfile);
        assertTrue(m.find(), dockerfile);
        return m.group(1);
    }

    @SuppressWarnings("unchecked")
    static void mountsNameVolumes(Map<String, Object> workload) {
        Set<String> volumes = new HashSet<>();
        for (Map<String, Object> v : (List<Map<String, Object>>) at(workload, "spec.template.spec.volumes")) {
            volumes.add((String) v.get("name"));
        }
        for (String list : List.of("containers", "initContainers")) {
            Object cs = ((Map<String, Object>) at(workload, "spec.template.spec")).get(list);
            for (Map<String, Object> c : cs == null ? List.<Map<String, Object>>of() : (List<Map<String, Object>>) cs) {
                Object mounts = c.get("volumeMounts");
                for (Map<String, Object> m : mounts == null ? List.<Map<String, Object>>of()
                        : (List<Map<String, Object>>) mounts) {
                    assertTrue(volumes.contains(m.get("name")), "mount of an undeclared volume: " + m);
                    assertTrue(((String) m.get("mountPath")).startsWith("/"), m.toString());
                }
                assertTrue(c.get("image") instanceof String, "image of " + c.get("name"));
            }
        }
        Map<String, Object> labels = at(workload, "spec.template.metadata.labels");
        Map<String, Object> selector = at(workload, "spec.selector.matchLabels");
        assertTrue(labels.entrySet().containsAll(selector.entrySet()), "the selector selects the template");
    }

    @Test
    @SuppressWarnings("unchecked")
    void daemonSet() throws Exception {
        List<Map<String, Object>> docs = load("daemonset.yaml");
        for (Map<String, Object> d : docs) {
            assertTrue(d.get("apiVersion") instanceof String && d.get("kind") instanceof String, d.toString());
            assertTrue(at(d, "metadata.name") instanceof String, d.toString());
        }
        String ns = at(kind(docs, "Namespace"), "metadata.name");
        Map<String, Object> config = kind(docs, "ConfigMap");
        Map<String, Object> ds = kind(docs, "DaemonSet");
        assertEquals("apps/v1", ds.get("apiVersion"));
        assertEquals(ns, (Object) at(config, "metadata.namespace"));
        assertEquals(ns, (Object) at(ds, "metadata.namespace"));
        assertEquals(Boolean.TRUE, (Object) at(ds, "spec.template.spec.hostPID"));
        mountsNameVolumes(ds);

        Map<String, Object> c = container(ds, "containers", "mptcp-agent");
        assertEquals(image(), c.get("image"));
        List<String> command = (List<String>) c.get("command");
        assertEquals(List.of("java", "-jar", JAR, "attach", "--all", "--watch"), command.subList(0, 6));
        // the files the command reads are the ConfigMap's keys, mounted where it reads them
        String configVolume = null;
        for (Map<String, Object> v : (List<Map<String, Object>>) at(ds, "spec.template.spec.volumes")) {
            if (v.containsKey("configMap")) {
                assertEquals((Object) at(config, "metadata.name"), (Object) at(v, "configMap.name"));
                configVolume = (String) v.get("name");
            }
        }
        String mountPath = null;
        for (Map<String, Object> m : (List<Map<String, Object>>) c.get("volumeMounts")) {
            if (m.get("name").equals(configVolume)) {
                mountPath = (String) m.get("mountPath");
            }
        }
        Map<String, Object> data = (Map<String, Object>) config.get("data");
        for (String option : List.of("--include-file", "--exclude-file", "--options-file")) {
            String file = command.get(command.indexOf(option) + 1);
            assertEquals(mountPath, file.substring(0, file.lastIndexOf('/')), option);
            assertTrue(data.containsKey(file.substring(file.lastIndexOf('/') + 1)), option + " " + file);
        }
        Map<String, Object> sc = (Map<String, Object>) c.get("securityContext");
        assertEquals(Boolean.FALSE, sc.get("privileged"));
        assertEquals(Boolean.TRUE, sc.get("readOnlyRootFilesystem"));
        assertEquals(List.of("ALL"), (Object) at(sc, "capabilities.drop"));
        assertEquals(Set.of("SYS_PTRACE", "DAC_OVERRIDE", "KILL", "CHOWN", "FOWNER"),
                new HashSet<>((List<String>) at(sc, "capabilities.add")));
        boolean tmp = ((List<Map<String, Object>>) c.get("volumeMounts")).stream().anyMatch(m -> m.get("mountPath").equals("/tmp"));
        assertTrue(tmp, "a writable /tmp for the command's own jffi stub (read-only root file system)");
        assertTrue(((Integer) at(ds, "spec.template.spec.terminationGracePeriodSeconds")) >= 30);

        // the ConfigMap as shipped (only comments) selects every JVM: the command accepts it as it is
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("mpa-config");
        try {
            for (String key : List.of("include", "exclude", "options")) {
                java.nio.file.Files.writeString(dir.resolve(key), (String) data.get(key));
            }
            AgentCli check = AgentCli.run(Jdk.JDK17, "attach", "--all", "--include-file", dir.resolve("include").toString(),
                    "--exclude-file", dir.resolve("exclude").toString(), "--options-file", dir.resolve("options").toString(),
                    "--exclude", ".", "--json");
            assertEquals(0, check.exit, check.toString()); // every JVM excluded by "." here: nothing attached
        } finally {
            FleetIT.delete(dir);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void podInjection() throws Exception {
        List<Map<String, Object>> docs = load("injection.yaml");
        Map<String, Object> deployment = kind(docs, "Deployment");
        Map<String, Object> config = kind(docs, "ConfigMap");
        mountsNameVolumes(deployment);
        Map<String, Object> init = container(deployment, "initContainers", "mptcp-agent");
        assertEquals(image(), init.get("image"));
        List<String> copy = (List<String>) init.get("command");
        assertEquals("cp", copy.get(0));
        assertEquals(JAR, copy.get(1));
        String volume = (String) ((List<Map<String, Object>>) init.get("volumeMounts")).get(0).get("name");
        String initPath = (String) ((List<Map<String, Object>>) init.get("volumeMounts")).get(0).get("mountPath");
        assertTrue(copy.get(2).startsWith(initPath + "/"), copy.toString());
        boolean emptyDir = ((List<Map<String, Object>>) at(deployment, "spec.template.spec.volumes")).stream()
                .anyMatch(v -> v.get("name").equals(volume) && v.containsKey("emptyDir"));
        assertTrue(emptyDir, "the jar goes through an emptyDir");

        List<Map<String, Object>> apps = at(deployment, "spec.template.spec.containers");
        Map<String, Object> app = apps.get(0);
        Map<String, Object> mount = ((List<Map<String, Object>>) app.get("volumeMounts")).stream()
                .filter(m -> m.get("name").equals(volume)).findFirst().orElseThrow();
        assertEquals(Boolean.TRUE, mount.get("readOnly"));
        String jarInApp = mount.get("mountPath") + copy.get(2).substring(initPath.length());
        List<Map<String, Object>> env = (List<Map<String, Object>>) app.get("env");
        int own = -1;
        int tool = -1;
        for (int i = 0; i < env.size(); i++) {
            if (env.get(i).get("name").equals("APP_JAVA_TOOL_OPTIONS")) {
                own = i;
                assertEquals((Object) at(config, "metadata.name"), (Object) at(env.get(i), "valueFrom.configMapKeyRef.name"));
            }
            if (env.get(i).get("name").equals("JAVA_TOOL_OPTIONS")) {
                tool = i;
            }
        }
        assertTrue(own >= 0 && tool > own, "the container's own value is declared before JAVA_TOOL_OPTIONS uses it");
        String value = (String) env.get(tool).get("value");
        assertTrue(value.startsWith("$(APP_JAVA_TOOL_OPTIONS) "), value);
        Matcher agent = Pattern.compile("-javaagent:(\\S+?)(=(\\S+))?$").matcher(value);
        assertTrue(agent.find(), value);
        assertEquals(jarInApp, agent.group(1));

        // what the JVM then gets: the ConfigMap's options, then the agent with its options, which are valid
        String own0 = (String) at(config, "data.java-tool-options");
        String composed = value.replace("$(APP_JAVA_TOOL_OPTIONS)", own0).replace(jarInApp, ChildJvm.AGENT.toString());
        Proc jvm = Proc.run(List.of(Jdk.JDK17.java(), "-cp", ChildJvm.CLASSPATH, "-XshowSettings:properties", "-version"),
                Map.of("JAVA_TOOL_OPTIONS", composed), 60);
        assertEquals(0, jvm.exit, jvm.toString());
        assertTrue(jvm.output.contains("Picked up JAVA_TOOL_OPTIONS: " + composed), jvm.toString());
        assertTrue(jvm.output.lines().noneMatch(l -> l.startsWith("mptcp-agent: ERROR")), jvm.toString());
        AgentCli options = AgentCli.run(Jdk.JDK17, "attach", "--all", "--exclude", ".", agent.group(3));
        assertEquals(0, options.exit, "valid agent options: " + options);
    }
}
