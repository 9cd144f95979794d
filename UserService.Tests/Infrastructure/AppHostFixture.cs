namespace UserService.Tests.Infrastructure;

/// <summary>
/// One AppHost per test class and engine, so that a class pays for one start. Tests in the class share the
/// running system, never data: each creates the users it reads.
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
            host = await RunningAppHost.StartAsync(Engine, cancellationToken: TestContext.Current.CancellationToken);
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
