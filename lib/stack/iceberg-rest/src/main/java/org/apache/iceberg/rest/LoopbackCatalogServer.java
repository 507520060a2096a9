package org.apache.iceberg.rest;

import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.util.PropertyUtil;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * {@link RESTCatalogServer}'s start, on one host only.
 *
 * <p>The fixture's Jetty listens on every interface, and its catalog answers anyone: the local
 * stack puts its own front (dataops.iceberg.rest) before it, so the server itself must be reached
 * from this machine only. Everything else is the fixture's: the catalog from the {@code CATALOG_*}
 * environment variables ({@link RCKUtils#environmentCatalogConfig}), its request adapter and servlet.
 * Catalog properties may also be given as {@code key=value} arguments (they win over the variables).
 * The host is the {@code rest.host} property, 127.0.0.1 by default.
 */
public final class LoopbackCatalogServer {
  public static final String REST_HOST = "rest.host";

  private LoopbackCatalogServer() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> props = new HashMap<>(RCKUtils.environmentCatalogConfig());
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("expected key=value, got " + arg);
      }
      props.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    props.putIfAbsent(CatalogProperties.CATALOG_IMPL, JdbcCatalog.class.getName());
    props.putIfAbsent("jdbc.schema-version", "V1");
    if (props.get(CatalogProperties.URI) == null || props.get(CatalogProperties.WAREHOUSE_LOCATION) == null) {
      throw new IllegalArgumentException("uri and warehouse are required");
    }
    String name =
        PropertyUtil.propertyAsString(
            props, RESTCatalogServer.CATALOG_NAME, RESTCatalogServer.CATALOG_NAME_DEFAULT);
    Catalog catalog = CatalogUtil.buildIcebergCatalog(name, props, new Configuration());
    RESTCatalogServer.CatalogContext context = new RESTCatalogServer.CatalogContext(catalog, props);

    ServletContextHandler handler = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    handler.addServlet(new ServletHolder(new RESTCatalogServlet(new RESTServerCatalogAdapter(context))), "/*");

    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(PropertyUtil.propertyAsString(props, REST_HOST, "127.0.0.1"));
    connector.setPort(
        PropertyUtil.propertyAsInt(props, RESTCatalogServer.REST_PORT, RESTCatalogServer.REST_PORT_DEFAULT));
    server.addConnector(connector);
    server.setHandler(handler);
    server.start();
    server.join();
  }
}
