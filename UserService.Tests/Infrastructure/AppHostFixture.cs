namespace UserService.Tests.Infrastructure;

/// <summary>
/// One AppHost per engine, with two userservice replicas behind the AppHost's proxy, shared by the test
/// classes of that engine's collection, so that they pay for one start. Tests share the running system,
/// never data: each creates the users it reads.
/// </summary>
public abstract class AppHostFixture(string engine) : IAsyncLifetime
{
    private RunningAppHost? host;

    public string Engine { get; } = engine;

    public RunningAppHost Host
    {
        get
        {
            Engines.RequireInstalled(Engine);
            return host ?? throw new InvalidOperationException($"The AppHost with the {Engine} engine did not start.");
        }
    }

    public async ValueTask InitializeAsync()
    {
        if (Engines.IsInstalled(Engine))
        {
            host = await RunningAppHost.StartAsync(Engine, replicas: 2, cancellationToken: TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

public sealed class GarnetAppHost() : AppHostFixture(Engines.Garnet);

public sealed class RedisServerAppHost() : AppHostFixture(Engines.RedisServer);

public sealed class ClusterAppHost() : AppHostFixture(Engines.Cluster);

[CollectionDefinition(Name)]
public sealed class GarnetAppHostCollection : ICollectionFixture<GarnetAppHost>
{
    public const string Name = "AppHost on Garnet";
}

[CollectionDefinition(Name)]
public sealed class RedisServerAppHostCollection : ICollectionFixture<RedisServerAppHost>
{
    public const string Name = "AppHost on redis-server";
}

[CollectionDefinition(Name)]
public sealed class ClusterAppHostCollection : ICollectionFixture<ClusterAppHost>
{
    public const string Name = "AppHost on a Redis Cluster";
}
