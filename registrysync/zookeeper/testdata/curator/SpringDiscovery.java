// A Spring Cloud Zookeeper app's discovery, as far as meshbridge's tests
// need it: Curator's ServiceDiscovery with Jackson's JsonInstanceSerializer
// over a payload class of Spring's name, as Spring Cloud Zookeeper builds
// it. Run with `java -cp /usr/share/java/curator-x-discovery.jar
// SpringDiscovery.java <connect> <root> list <service>` (prints one JSON
// line per instance Curator reads, failing on a record it cannot) or
// `... register <service> <id> <address> <port> [key=value ...]` (prints
// "registered", keeps the registration until stdin closes).
package org.springframework.cloud.zookeeper.discovery;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.UriSpec;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;

public class SpringDiscovery {
	public static void main(String[] args) throws Exception {
		// Jackson resolves "@class" through the context class loader; the
		// source launcher loads this file's classes in a loader of its own.
		Thread.currentThread().setContextClassLoader(SpringDiscovery.class.getClassLoader());
		CuratorFramework curator = CuratorFrameworkFactory.newClient(args[0], 10000, 5000, new RetryNTimes(3, 200));
		curator.start();
		if (!curator.blockUntilConnected(20, TimeUnit.SECONDS)) {
			System.err.println("no connection to " + args[0]);
			System.exit(2);
		}
		ServiceDiscovery<ZookeeperInstance> discovery = ServiceDiscoveryBuilder.builder(ZookeeperInstance.class)
				.client(curator).basePath(args[1])
				.serializer(new JsonInstanceSerializer<>(ZookeeperInstance.class)).build();
		discovery.start();
		ObjectMapper json = new ObjectMapper();
		switch (args[2]) {
		case "list":
			for (ServiceInstance<ZookeeperInstance> in : discovery.queryForInstances(args[3])) {
				Map<String, Object> out = new LinkedHashMap<>();
				out.put("id", in.getId());
				out.put("name", in.getName());
				out.put("address", in.getAddress());
				out.put("port", in.getPort());
				out.put("sslPort", in.getSslPort());
				out.put("enabled", in.isEnabled());
				out.put("uri", in.buildUriSpec());
				out.put("metadata", in.getPayload().getMetadata());
				System.out.println(json.writeValueAsString(out));
			}
			break;
		case "register":
			Map<String, String> metadata = new HashMap<>();
			for (int i = 7; i < args.length; i++) {
				String[] kv = args[i].split("=", 2);
				metadata.put(kv[0], kv[1]);
			}
			ServiceInstance<ZookeeperInstance> in = ServiceInstance.<ZookeeperInstance>builder()
					.name(args[3]).id(args[4]).address(args[5]).port(Integer.parseInt(args[6]))
					.payload(new ZookeeperInstance(args[3], args[3], metadata))
					.uriSpec(new UriSpec("{scheme}://{address}:{port}")).build();
			discovery.registerService(in);
			System.out.println("registered");
			System.out.flush();
			while (System.in.read() >= 0) {
				// held until the test closes stdin
			}
			discovery.unregisterService(in);
			break;
		default:
			System.err.println("unknown command " + args[2]);
			System.exit(2);
		}
		discovery.close();
		curator.close();
	}
}

// ZookeeperInstance has the name and the fields of Spring Cloud
// Zookeeper's payload class: Curator's deserializer checks the payload's
// "@class" against it, as Spring apps do.
class ZookeeperInstance {
	private String id;
	private String name;
	private Map<String, String> metadata = new HashMap<>();

	ZookeeperInstance() {
	}

	ZookeeperInstance(String id, String name, Map<String, String> metadata) {
		this.id = id;
		this.name = name;
		this.metadata = metadata;
	}

	public String getId() { return id; }
	public void setId(String id) { this.id = id; }
	public String getName() { return name; }
	public void setName(String name) { this.name = name; }
	public Map<String, String> getMetadata() { return metadata; }
	public void setMetadata(Map<String, String> metadata) { this.metadata = metadata; }
}
