import java.lang.reflect.Field;
import java.net.InetAddress;
import java.util.Arrays;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.CommandLineInput;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local bound to one loopback address. The jar's own main builds its Jetty server
 * with `new Server(port)`, which listens on every interface and has no option for the host; this
 * launcher builds the same server through the jar's public factory, sets the host on its
 * connectors before they open, and refuses to start on an address that is not loopback.
 *
 * Usage: java -cp DynamoDBLocal.jar:DynamoDBLocal_lib/* LoopbackDynamoDbLocal.java HOST [DynamoDB Local options]
 */
public final class LoopbackDynamoDbLocal {
  private LoopbackDynamoDbLocal() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: LoopbackDynamoDbLocal HOST [DynamoDB Local options]");
      System.exit(2);
    }
    String host = args[0];
    if (!InetAddress.getByName(host).isLoopbackAddress()) {
      System.err.println("refusing to listen on " + host + ": not a loopback address");
      System.exit(2);
    }
    String[] options = Arrays.copyOfRange(args, 1, args.length);
    CommandLineInput input = new CommandLineInput(options);
    if (!input.init()) {
      System.err.println("Error processing the supplied command line arguments");
      System.exit(2);
    }
    DynamoDBProxyServer proxy = ServerRunner.createServer(input);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    Connector[] connectors = server.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local built no connector");
    for (Connector connector : connectors) {
      if (!(connector instanceof ServerConnector)) {
        throw new IllegalStateException("unexpected connector " + connector.getClass().getName());
      }
      ((ServerConnector) connector).setHost(host);
    }
    proxy.start();
    for (Connector connector : connectors) {
      ServerConnector bound = (ServerConnector) connector;
      if (!InetAddress.getByName(bound.getHost()).isLoopbackAddress()) {
        proxy.stop();
        throw new IllegalStateException("DynamoDB Local bound " + bound.getHost());
      }
    }
    System.out.println("DynamoDB Local listening on " + host + ":" + input.getPort());
  }
}
