using AppHost;
using AppHost.Cache;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// The real AppHost, started closed-box with one cache engine, a data directory of its own and a known
/// password. Every wait is bounded.
/// </summary>
public sealed class RunningAppHost : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    /// <summary>How long a resource command (start, stop, the token command) may take before the test fails.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(1);

    /// <summary>Whether the data directory was made for this AppHost, and so goes with it.</summary>
    private readonly bool ownsDataDirectory;

    private RunningAppHost(DistributedApplication app, string engine, string dataDirectory, bool ownsDataDirectory, string password, ResourceLogs logs)
    {
        this.ownsDataDirectory = ownsDataDirectory;
        App = app;
        Logs = logs;
        Engine = engine;
        DataDirectory = dataDirectory;
        Password = password;
    }

    public DistributedApplication App { get; }

    public string Engine { get; }

    public string DataDirectory { get; }

    public string Password { get; }

    /// <summary>Everything the AppHost and its resources logged so far.</summary>
    public ResourceLogs Logs { get; }

    /// <summary>
    /// Starts the AppHost and waits until the cache and the user service report healthy. The service gets
    /// <see cref="ServiceSettings.Common"/>, with <paramref name="settings"/> over it.
    /// </summary>
    public static async Task<RunningAppHost> StartAsync(
        string engine,
        string? dataDirectory = null,
        string? password = null,
        int replicas = 1,
        IReadOnlyDictionary<string, string>? settings = null,
        CancellationToken cancellationToken = default)
    {
        var ownsDataDirectory = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("userservice-tests-").FullName;
        password ??= Convert.ToHexString(Guid.NewGuid().ToByteArray());

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);

        string[] cluster = engine == Engines.Cluster ? [$"--{RedisClusterBuilderExtensions.FirstPortKey}={FreePort.Block(6, pairedOffset: 10_000)}"] : [];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [
                $"--{CacheEngines.ConfigurationKey}={engine}",
                $"--{CacheBuilderExtensions.DataDirectoryKey}={dataDirectory}",
                $"--Parameters:{ResourceNames.CachePassword}={password}",
                $"--UserService:Replicas={replicas}",
                .. cluster,
            ],
            timeout.Token);

        // Resource output is kept for the failure message below; the test log gets warnings only. Probes
        // fail while resources start, and the wait below reports what matters.
        builder.Services.AddLogging(logging => logging
            .AddFilter(level => level >= LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            // Tests speak plain HTTP; a missing development certificate is expected.
            .AddFilter("Aspire.Hosting.Dcp.DcpHost", LogLevel.Error));

        // The tests mint their own tokens (the service learns their signing key next to any of its own), and
        // the races and walks send hundreds of requests a second with one token.
        var userService = builder.CreateResourceBuilder<ProjectResource>(ResourceNames.UserService);
        var serviceSettings = ServiceSettings.Common();
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            serviceSettings[key] = value;
        }

        foreach (var (key, value) in serviceSettings.AsEnvironment())
        {
            userService.WithEnvironment(key, value);
        }

        // Tests run without the dashboard, so nothing receives telemetry: a service told to export it would
        // spend each shutdown retrying, past the time the orchestrator allows a process to stop.
        userService.WithEnvironment(context => context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT"));

        var logs = ResourceLogs.AddTo(builder);
        var app = await builder.BuildAsync(timeout.Token);
        logs.Follow(app);
        try
        {
            await app.StartAsync(timeout.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Cache, timeout.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.UserService, timeout.Token);
        }
        catch (Exception exception)
        {
            await app.DisposeAsync();
            if (ownsDataDirectory)
            {
                await DeleteDirectoryAsync(dataDirectory);
            }

            throw new InvalidOperationException($"The AppHost with the {engine} engine did not become healthy.\n{logs}", exception);
        }

        return new RunningAppHost(app, engine, dataDirectory, ownsDataDirectory, password, logs);
    }

    /// <summary>A client for the public API, with a token that grants every scope.</summary>
    public HttpClient CreateApiClient() => App.CreateHttpClient(ResourceNames.UserService, "http").Authorize();

    /// <summary>A client for the management port (health, liveness, metrics).</summary>
    public HttpClient CreateManagementClient() => App.CreateHttpClient(ResourceNames.UserService, ResourceNames.ManagementEndpoint);

    /// <summary>
    /// The userservice processes themselves, addressed directly rather than through the AppHost's proxy,
    /// which keeps a connection on one replica, once each answers its own readiness probe. Read from their
    /// environment: the API is the URL that is not the management port.
    /// </summary>
    public async Task<IReadOnlyList<Replica>> ReplicasAsync(int expected)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(StartTimeout);

        var replicas = new Dictionary<string, Replica>();
        await foreach (var update in App.ResourceNotifications.WatchAsync(timeout.Token))
        {
            var environment = update.Snapshot.EnvironmentVariables.ToDictionary(variable => variable.Name, variable => variable.Value);
            if (update.Resource.Name == ResourceNames.UserService
                && update.Snapshot.State?.Text == KnownResourceStates.Running
                && environment.GetValueOrDefault("ASPNETCORE_URLS") is { } urls
                && environment.GetValueOrDefault("Management__Port") is { } managementPort)
            {
                var addresses = urls.Split(';').Select(url => new Uri(url)).ToList();
                replicas[update.ResourceId] = new Replica(
                    update.ResourceId,
                    addresses.Single(address => address.Port.ToString() != managementPort),
                    addresses.Single(address => address.Port.ToString() == managementPort));
            }

            if (replicas.Count == expected)
            {
                // Running means started, and the resource's health is probed through the proxy: only a
                // replica's own port says that this replica listens.
                foreach (var replica in replicas.Values)
                {
                    using var management = replica.CreateManagementClient();
                    var ready = await Eventually.MatchAsync(
                        cancellation => Eventually.ProbeAsync(management, UserServiceContract.HealthPath, cancellation),
                        status => status == System.Net.HttpStatusCode.OK,
                        StartTimeout);
                    Assert.True(ready == System.Net.HttpStatusCode.OK, $"Replica {replica.Id} did not become ready ({ready}).");
                }

                return [.. replicas.Values];
            }
        }

        throw new InvalidOperationException($"Fewer than {expected} userservice replicas reported running.");
    }

    /// <summary>
    /// Runs a dashboard command on a resource, as a person clicking it would; fails the test when the command
    /// fails or takes longer than <see cref="CommandTimeout"/>.
    /// </summary>
    public Task<ExecuteCommandResult> ExecuteCommandAsync(string resourceId, string command) =>
        BoundedAsync(App.ResourceCommands.ExecuteCommandAsync(resourceId, command, TestContext.Current.CancellationToken), command, resourceId);

    /// <inheritdoc cref="ExecuteCommandAsync(string, string)"/>
    public Task<ExecuteCommandResult> ExecuteCommandAsync(IResource resource, string command) =>
        BoundedAsync(App.ResourceCommands.ExecuteCommandAsync(resource, command, TestContext.Current.CancellationToken), command, resource.Name);

    private static async Task<ExecuteCommandResult> BoundedAsync(Task<ExecuteCommandResult> execution, string command, string target)
    {
        var result = await execution.WaitAsync(CommandTimeout, TestContext.Current.CancellationToken);
        Assert.True(result.Success, $"The {command} command on {target} failed: {result.Message}");
        return result;
    }

    /// <summary>
    /// The process id of <paramref name="resource"/>, a resource's name or one replica's id, once it has one:
    /// for faults that a dashboard command cannot make, such as kill -9.
    /// </summary>
    public async Task<int> PidAsync(string resource)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(CommandTimeout);
        await foreach (var update in App.ResourceNotifications.WatchAsync(timeout.Token))
        {
            if ((update.ResourceId == resource || update.Resource.Name == resource)
                && update.Snapshot.State?.Text == KnownResourceStates.Running
                && update.Snapshot.Properties.SingleOrDefault(property => property.Name == "executable.pid")?.Value is { } pid)
            {
                return Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{resource} never reported a process id.");
    }

    public IResource Resource(string name) =>
        App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(resource => resource.Name == name);

    public async Task<string> CacheConnectionStringAsync() =>
        await App.GetConnectionStringAsync(ResourceNames.Cache)
        ?? throw new InvalidOperationException("The cache has no connection string.");

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        if (ownsDataDirectory)
        {
            await DeleteDirectoryAsync(DataDirectory);
        }
    }

    /// <summary>
    /// Removes a data directory once the AppHost that wrote it is gone, so that runs leave nothing behind. A
    /// store still stopping may add a file as it goes, so the delete is tried again for a few seconds.
    /// </summary>
    public static Task DeleteDirectoryAsync(string directory) =>
        Eventually.MatchAsync(_ => Task.FromResult(TryDelete(directory)), deleted => deleted, TimeSpan.FromSeconds(10));

    private static bool TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}

/// <summary>One userservice process: its API and its management port, without the proxy in front.</summary>
public sealed record Replica(string Id, Uri Api, Uri Management)
{
    public HttpClient CreateApiClient() => new HttpClient { BaseAddress = Api }.Authorize();

    public HttpClient CreateManagementClient() => new() { BaseAddress = Management };
}
