namespace AppHost.Cache;

/// <summary>What runs the Redis-compatible store.</summary>
public enum CacheEngine
{
    /// <summary>The container when a container runtime answers, otherwise Garnet.</summary>
    Auto,

    /// <summary>The Redis container image, as deployments run it.</summary>
    Container,

    /// <summary>Garnet, restored from NuGet and run with <c>dotnet</c>: needs nothing but the .NET SDK.</summary>
    Garnet,

    /// <summary>The <c>redis-server</c> binary on the PATH.</summary>
    RedisServer,

    /// <summary>
    /// A Redis Cluster of <c>redis-server</c> processes: three primaries, each with a replica, as a store
    /// that outgrows one node runs.
    /// </summary>
    Cluster,
}

/// <summary>The engine that will run, and why it was chosen: both are logged and shown on the resource.</summary>
public sealed record CacheEngineChoice(CacheEngine Engine, string Reason);

public static class CacheEngines
{
    public const string ConfigurationKey = "Cache:Engine";

    private static readonly Dictionary<string, CacheEngine> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["auto"] = CacheEngine.Auto,
        ["container"] = CacheEngine.Container,
        ["garnet"] = CacheEngine.Garnet,
        ["redis-server"] = CacheEngine.RedisServer,
        ["cluster"] = CacheEngine.Cluster,
    };

    public static string NameOf(CacheEngine engine) => ByName.First(pair => pair.Value == engine).Key;

    /// <summary>Reads the configured engine; an empty value means <see cref="CacheEngine.Auto"/>.</summary>
    public static CacheEngine Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return CacheEngine.Auto;
        }

        return ByName.TryGetValue(value.Trim(), out var engine)
            ? engine
            : throw new InvalidOperationException(
                $"'{value}' is not a cache engine. Set {ConfigurationKey} to one of: {string.Join(", ", ByName.Keys)}.");
    }

    /// <summary>
    /// Decides which engine runs. Publishing always takes the container, because that is what a deployment
    /// runs; <paramref name="probeContainerRuntime"/> is only called when the choice depends on it.
    /// </summary>
    public static CacheEngineChoice Choose(CacheEngine configured, bool isPublishMode, Func<ContainerRuntimeStatus> probeContainerRuntime)
    {
        if (isPublishMode)
        {
            return new(CacheEngine.Container, "publishing always deploys the Redis container");
        }

        if (configured is not CacheEngine.Auto)
        {
            return new(configured, $"{ConfigurationKey} is '{NameOf(configured)}'");
        }

        var runtime = probeContainerRuntime();
        return runtime.IsHealthy
            ? new(CacheEngine.Container, $"{runtime.Name} answered")
            : new(CacheEngine.Garnet, $"no container runtime answered ({runtime.Detail})");
    }
}
