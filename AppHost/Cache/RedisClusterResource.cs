using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace AppHost.Cache;

/// <summary>
/// A Redis Cluster as one store: the connection string names every node, and the client finds the slots
/// from any of them. Its nodes are resources of their own (<see cref="Nodes"/>), shown under it.
/// </summary>
public sealed class RedisClusterResource(string name, IReadOnlyList<LocalCacheResource> nodes, ParameterResource password)
    : Resource(name), IResourceWithConnectionString, IResourceWithWaitSupport
{
    public IReadOnlyList<LocalCacheResource> Nodes { get; } = nodes;

    public ReferenceExpression ConnectionStringExpression
    {
        get
        {
            var builder = new ReferenceExpressionBuilder();
            // The address the nodes announce to each other, not "localhost": a client that knew a node by
            // two names would hold two connections to it and count it twice.
            foreach (var node in Nodes)
            {
                builder.Append($"{EngineFlags.Loopback}:{node.PrimaryEndpoint.Property(EndpointProperty.Port)},");
            }

            builder.Append($"password={password}");
            return builder.Build();
        }
    }
}

public static class RedisClusterBuilderExtensions
{
    public const string FirstPortKey = "Cache:Cluster:FirstPort";

    /// <summary>Where the nodes listen unless <see cref="FirstPortKey"/> says otherwise: 7101 to 7106, and their cluster bus 10000 above.</summary>
    public const int DefaultFirstPort = 7101;

    private const int Primaries = 3;
    private const int ReplicasPerPrimary = 1;

    /// <summary>
    /// Adds a Redis Cluster of <c>redis-server</c> processes, three primaries with a replica each, formed
    /// with <c>redis-cli --cluster create</c> the first time and by the nodes themselves after that. Each node
    /// has the password, the append-only file and the loopback binding of the single-node engine. A node
    /// tells clients where the other nodes are, so the nodes listen on fixed ports of their own
    /// (<see cref="FirstPortKey"/>) rather than behind the orchestrator's proxy.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddRedisCluster(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource> password, string dataDirectory)
    {
        var firstPort = int.TryParse(builder.Configuration[FirstPortKey], NumberStyles.None, CultureInfo.InvariantCulture, out var configured)
            ? configured
            : DefaultFirstPort;
        var nodes = Enumerable.Range(1, Primaries * (1 + ReplicasPerPrimary))
            .Select(number => builder.AddClusterNode($"{name}-node-{number}", firstPort + number - 1, password, Path.Combine(dataDirectory, $"node-{number}")))
            .ToList();

        var cluster = builder.AddResource(new RedisClusterResource(name, [.. nodes.Select(node => node.Resource)], password.Resource));
        var create = builder.AddExecutable($"{name}-create", "/bin/sh", dataDirectory, "-c", CreateScript(nodes.Count))
            .WithEnvironment(context =>
            {
                for (var i = 0; i < nodes.Count; i++)
                {
                    context.EnvironmentVariables[$"NODE_{i + 1}"] = nodes[i].Resource.PrimaryEndpoint.Property(EndpointProperty.Port);
                }

                // redis-cli reads the password from here: it stays off every command line.
                context.EnvironmentVariables["REDISCLI_AUTH"] = password.Resource;
            })
            .WithParentRelationship(cluster)
            .ExcludeFromManifest();
        // Started, not healthy: a node's health check asks for the cluster this forms.
        foreach (var node in nodes)
        {
            create.WaitForStart(node);
            node.WithParentRelationship(cluster);
        }

        var healthCheckKey = $"{name}_cluster_check";
        string? connectionString = null;
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => new ClusterStateHealthCheck(() => connectionString), failureStatus: null, tags: null));

        return cluster
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "RedisCluster",
                State = KnownResourceStates.NotStarted,
                Properties = [],
            })
            .WithIconName("DatabaseMultiple")
            .WaitForCompletion(create)
            .WithHealthCheck(healthCheckKey)
            .OnInitializeResource(async (resource, @event, cancellationToken) =>
            {
                // Publishing this event is where the waits for the nodes and the create happen.
                await @event.Eventing.PublishAsync(new BeforeResourceStartedEvent(resource, @event.Services), cancellationToken);
                connectionString = await resource.ConnectionStringExpression.GetValueAsync(cancellationToken);
                await @event.Notifications.PublishUpdateAsync(resource, snapshot => snapshot with { State = KnownResourceStates.Running });
                await @event.Eventing.PublishAsync(new ConnectionStringAvailableEvent(resource, @event.Services), cancellationToken);
            })
            .ExcludeFromManifest();
    }

    private static IResourceBuilder<LocalCacheResource> AddClusterNode(
        this IDistributedApplicationBuilder builder, string name, int port, IResourceBuilder<ParameterResource> password, string dataDirectory) =>
        // As the single-node redis-server, in cluster mode, with a node's durability; replicas authenticate to
        // their primary with the password.
        builder.AddRedisServerProcess(
            new LocalCacheResource(name, CacheEngine.Cluster, "/bin/sh", dataDirectory, password.Resource),
            flags: EngineFlags.RedisClusterNode,
            settings: ["masterauth \"$CACHE_PASSWORD\""],
            durability: EngineFlags.RedisClusterNodeDurability,
            endpoint: node => node.WithEndpoint(LocalCacheResource.PrimaryEndpointName, annotation =>
            {
                annotation.Port = port;
                annotation.TargetPort = port;
                annotation.IsProxied = false;
            }));

    /// <summary>
    /// Forms the cluster from nodes that know only themselves; nodes that know each other already (a restart)
    /// are left to find each other again. Either way it ends when every slot is served.
    /// </summary>
    private static string CreateScript(int nodes)
    {
        var addresses = string.Join(' ', Enumerable.Range(1, nodes).Select(node => $"{EngineFlags.Loopback}:$NODE_{node}"));
        var ports = string.Join(' ', Enumerable.Range(1, nodes).Select(node => $"\"$NODE_{node}\""));
        return $$"""
            set -e
            info() { redis-cli -h {{EngineFlags.Loopback}} -p "$NODE_1" cluster info | tr -d '\r'; }
            for port in {{ports}}; do
                attempt=0
                until [ "$(redis-cli -h {{EngineFlags.Loopback}} -p "$port" ping 2>/dev/null)" = PONG ]; do
                    attempt=$((attempt + 1))
                    if [ "$attempt" -gt 120 ]; then echo "The node on port $port does not answer." >&2; exit 1; fi
                    sleep 0.25
                done
            done
            if [ "$(info | sed -n 's/^cluster_known_nodes://p')" -le 1 ]; then
                redis-cli --cluster create {{addresses}} --cluster-replicas {{ReplicasPerPrimary}} --cluster-yes
            else
                echo "The nodes know each other already: the cluster forms again by itself."
            fi
            # Served, and replicated: writes wait for a replica, so each primary has one in sync before the first.
            replicated() {
                for port in {{ports}}; do
                    replication=$(redis-cli -h {{EngineFlags.Loopback}} -p "$port" info replication | tr -d '\r')
                    case "$replication" in
                        *master_link_status:up*|*state=online*) ;;
                        *) return 1 ;;
                    esac
                done
            }
            for attempt in $(seq 1 120); do
                if info | grep -q '^cluster_state:ok' && replicated; then echo "Every slot is served, and every primary has its replica."; exit 0; fi
                sleep 0.5
            done
            echo "The cluster did not come up within a minute." >&2
            info >&2
            exit 1
            """;
    }

    /// <summary>Healthy when the cluster serves every slot, as the node the client reaches first sees it.</summary>
    private sealed class ClusterStateHealthCheck(Func<string?> connectionString) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (connectionString() is not { } configuration)
            {
                return HealthCheckResult.Unhealthy("The cluster's connection string is not available yet.");
            }

            try
            {
                var options = ConfigurationOptions.Parse(configuration);
                options.AllowAdmin = true;
                options.AbortOnConnectFail = false;
                await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
                var server = redis.GetServers().FirstOrDefault(server => server.IsConnected)
                    ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "No node answered.");
                var info = (string?)await server.ExecuteAsync("CLUSTER", "INFO") ?? "";
                return info.Contains("cluster_state:ok", StringComparison.Ordinal)
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy("The cluster does not serve every slot.");
            }
            catch (RedisException exception)
            {
                return HealthCheckResult.Unhealthy("The cluster does not answer.", exception);
            }
        }
    }
}
