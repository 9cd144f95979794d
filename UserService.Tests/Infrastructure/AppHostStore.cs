using System.Net;
using AppHost;
using AppHost.Cache;
using Aspire.Hosting.ApplicationModel;
using History;
using UserService.Users.Store;

namespace UserService.Tests.Infrastructure;

/// <summary>The store of a running AppHost, as the history checker's faults reach it: a node killed is started again as the dashboard would.</summary>
public sealed class AppHostStore(RunningAppHost host) : IStoreHost
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(1);

    /// <summary>The keys every write touches, from the service's own layout.</summary>
    public static readonly StoreKeys Keys = new(
        StoreLayout.NextId.ToString(),
        StoreLayout.Generation.ToString(),
        [.. Enumerable.Range(0, StoreLayout.Buckets).Select(bucket => StoreLayout.Data(bucket).ToString())]);

    public Task<string> ConnectionStringAsync() => host.CacheConnectionStringAsync();

    public async Task RestartAsync(EndPoint node, CancellationToken cancellationToken)
    {
        var resource = host.Resource(ResourceNames.Cache) is RedisClusterResource cluster
            ? cluster.Nodes.Single(candidate => candidate.PrimaryEndpoint.Port == ((IPEndPoint)node).Port).Name
            : ResourceNames.Cache;
        await host.App.ResourceNotifications.WaitForResourceAsync(resource, KnownResourceStates.TerminalStates, cancellationToken).WaitAsync(Bound, cancellationToken);
        await host.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand);
        await host.App.ResourceNotifications.WaitForResourceAsync(resource, KnownResourceStates.Running, cancellationToken).WaitAsync(Bound, cancellationToken);
    }
}
