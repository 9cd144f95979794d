using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AppHost.Cache;

public static class CacheBuilderExtensions
{
    public const string DataDirectoryKey = "Cache:DataDirectory";

    /// <summary>
    /// Adds the Redis-compatible store under <paramref name="name"/>, run by the engine that
    /// <c>Cache:Engine</c> asks for (see <see cref="CacheEngines.Choose"/>). Whatever runs it, the store
    /// wants a password and keeps its data across restarts.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddCache(this IDistributedApplicationBuilder builder, string name)
    {
        var choice = CacheEngines.Choose(
            CacheEngines.Parse(builder.Configuration[CacheEngines.ConfigurationKey]),
            builder.ExecutionContext.IsPublishMode,
            () => ContainerRuntimeStatus.Probe(builder.Configuration["ASPIRE_CONTAINER_RUNTIME"]));

        // Generated once, then kept in the AppHost's user secrets so that persisted data stays reachable.
        // No special characters: StackExchange.Redis cannot take a comma in a password.
        var password = builder.AddParameter(
            ResourceNames.CachePassword,
            new GenerateParameterDefault { MinLength = 22, Special = false },
            secret: true,
            persist: true);

#pragma warning disable ASPIRECERTIFICATES001 // WithoutHttpsCertificate is experimental in Aspire 13.6.
        IResourceBuilder<IResourceWithConnectionString> cache = choice.Engine switch
        {
            CacheEngine.Container => builder.AddRedis(name, password: password)
                .WithDataVolume()
                .WithPersistence(interval: TimeSpan.FromSeconds(60), keysChangedThreshold: 1)
                .WithAppendOnlyFile()
                // Plain TCP, as every other engine: no development certificate asked for, so none missing.
                .WithoutHttpsCertificate(),
            CacheEngine.Garnet => builder.AddGarnet(name, password, DataDirectoryFor(builder, choice.Engine)),
            CacheEngine.RedisServer => builder.AddRedisServer(name, password, DataDirectoryFor(builder, choice.Engine)),
            CacheEngine.Cluster => builder.AddRedisCluster(name, password, DataDirectoryFor(builder, choice.Engine)),
            _ => throw new InvalidOperationException($"No cache engine is resolved from '{choice.Engine}'."),
        };
#pragma warning restore ASPIRECERTIFICATES001

        return cache.AnnounceEngine(choice);
    }

    /// <summary>
    /// Adds Redis's append-only file to the container, next to the snapshots Aspire configures, so that it
    /// keeps acknowledged writes as redis-server does locally. Aspire passes the container's command line to
    /// <c>/bin/sh -c</c> as one string when publishing and as separate arguments when running: extend whichever.
    /// </summary>
    private static IResourceBuilder<RedisResource> WithAppendOnlyFile(this IResourceBuilder<RedisResource> redis) =>
        redis.WithArgs(context =>
        {
            var appendOnly = EngineFlags.RedisAppendOnly;
            var shellCommand = context.Args.IndexOf("-c") + 1;
            if (shellCommand > 0 && context.Args[shellCommand] is string command)
            {
                context.Args[shellCommand] = $"{command} {string.Join(' ', appendOnly)}";
            }
            else
            {
                Array.ForEach(appendOnly, context.Args.Add);
            }
        });

    private static IResourceBuilder<LocalCacheResource> AddGarnet(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource> password, string dataDirectory)
    {
        var garnet = builder.AddLocalCache(new LocalCacheResource(name, CacheEngine.Garnet, "dotnet", dataDirectory, password.Resource));

        // Garnet takes its password on the command line or from a configuration file. The command line would
        // put it in the dashboard and in the orchestrator's log, so it goes into a file only the owner can read.
        var secretsFile = Path.Combine(dataDirectory, "garnet-auth.conf");
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(garnet.Resource, async (_, cancellationToken) =>
        {
            var secret = await password.Resource.GetValueAsync(cancellationToken);
            var json = JsonSerializer.Serialize(new Dictionary<string, string?>
            {
                ["AuthenticationMode"] = "Password",
                ["Password"] = secret,
            });
            await WriteOwnerOnlyAsync(secretsFile, json, cancellationToken);
        });

        return garnet.WithArgs(context =>
        {
            var resource = (LocalCacheResource)context.Resource;
            context.Args.Add(GarnetServer.AssemblyPath);
            context.Args.Add("--config-import-path");
            context.Args.Add(secretsFile);
            // The port is only known once the endpoint is allocated: the argument resolves to it then.
            context.Args.Add("--port");
            context.Args.Add(resource.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
            context.Args.Add("--bind");
            context.Args.Add(EngineFlags.Loopback);
            foreach (var flag in EngineFlags.GarnetScripts.Concat(EngineFlags.GarnetDurability(resource.DataDirectory)))
            {
                context.Args.Add(flag);
            }
        });
    }

    private static async Task WriteOwnerOnlyAsync(string path, string contents, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var file = new FileStream(path, options);
        await file.WriteAsync(System.Text.Encoding.UTF8.GetBytes(contents), cancellationToken);
    }

    private static IResourceBuilder<LocalCacheResource> AddRedisServer(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource> password, string dataDirectory) =>
        builder.AddRedisServerProcess(new LocalCacheResource(name, CacheEngine.RedisServer, "/bin/sh", dataDirectory, password.Resource));

    /// <summary>
    /// A redis-server process with the single node's flags (its files kept by <paramref name="durability"/>,
    /// <see cref="EngineFlags.RedisServerDurability"/> unless given) and <paramref name="flags"/> after them, and its
    /// configuration lines (<c>requirepass</c>, and <paramref name="settings"/>) on its standard input. The
    /// password travels in a variable and reaches it that way, so it shows up in neither the dashboard's view
    /// of the arguments nor the process list.
    /// </summary>
    internal static IResourceBuilder<LocalCacheResource> AddRedisServerProcess(
        this IDistributedApplicationBuilder builder,
        LocalCacheResource resource,
        string[]? flags = null,
        string[]? settings = null,
        Func<IResourceBuilder<LocalCacheResource>, IResourceBuilder<LocalCacheResource>>? endpoint = null,
        Func<string, string[]>? durability = null)
    {
        var files = (durability ?? EngineFlags.RedisServerDurability)("\"$CACHE_DATA\"");
        var launch = $"""
            exec redis-server - {string.Join(' ', EngineFlags.Listen("\"$CACHE_PORT\""))} --protected-mode yes {string.Join(' ', files)} {string.Join(' ', flags ?? [])} <<EOF
            requirepass "$CACHE_PASSWORD"
            {string.Join('\n', settings ?? [])}
            EOF
            """;

        return builder.AddLocalCache(resource, endpoint)
            .WithArgs("-c", launch)
            .WithEnvironment(context =>
            {
                var local = (LocalCacheResource)context.Resource;
                context.EnvironmentVariables["CACHE_PORT"] = local.PrimaryEndpoint.Property(EndpointProperty.TargetPort);
                context.EnvironmentVariables["CACHE_DATA"] = local.DataDirectory;
                context.EnvironmentVariables["CACHE_PASSWORD"] = local.PasswordParameter;
            });
    }

    /// <summary>
    /// Adds a local engine's process, with a health check that pings it. Its endpoint sits behind the
    /// orchestrator's proxy unless <paramref name="endpoint"/> configures it otherwise.
    /// </summary>
    internal static IResourceBuilder<LocalCacheResource> AddLocalCache(
        this IDistributedApplicationBuilder builder, LocalCacheResource resource, Func<IResourceBuilder<LocalCacheResource>, IResourceBuilder<LocalCacheResource>>? endpoint = null)
    {
        Directory.CreateDirectory(resource.DataDirectory);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(resource, async (_, cancellationToken) =>
            connectionString = await ((IResourceWithConnectionString)resource).GetConnectionStringAsync(cancellationToken));

        var healthCheckKey = $"{resource.Name}_check";
        builder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException($"The connection string of '{resource.Name}' is not available yet."),
            name: healthCheckKey);

        var local = builder.AddResource(resource).WithEndpoint(name: LocalCacheResource.PrimaryEndpointName, scheme: "tcp");
        return (endpoint?.Invoke(local) ?? local)
            .WithIconName("Database")
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    private static string DataDirectoryFor(IDistributedApplicationBuilder builder, CacheEngine engine)
    {
        var root = builder.Configuration[DataDirectoryKey] is { Length: > 0 } configured
            ? Path.GetFullPath(configured, builder.AppHostDirectory)
            : Path.Combine(builder.AppHostDirectory, ".data");

        return Path.Combine(root, CacheEngines.NameOf(engine));
    }

    /// <summary>Says which engine runs the store, and why, in the AppHost's log and in the resource's own log.</summary>
    private static IResourceBuilder<IResourceWithConnectionString> AnnounceEngine(
        this IResourceBuilder<IResourceWithConnectionString> cache, CacheEngineChoice choice)
    {
        cache.ApplicationBuilder.Eventing.Subscribe<BeforeResourceStartedEvent>(cache.Resource, (@event, _) =>
        {
            var engine = CacheEngines.NameOf(choice.Engine);
            @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AppHost.Cache")
                .LogInformation("Cache engine: {Engine}, because {Reason}.", engine, choice.Reason);
            @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(cache.Resource)
                .LogInformation("Cache engine: {Engine}, because {Reason}.", engine, choice.Reason);
            return Task.CompletedTask;
        });

        return cache;
    }
}
