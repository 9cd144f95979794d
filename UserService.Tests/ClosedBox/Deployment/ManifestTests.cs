using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using AppHost;

namespace UserService.Tests.ClosedBox.Deployment;

/// <summary>
/// The manifest that azd and aspirate deploy from, written once by the command the README gives, with a
/// local engine configured: publishing must describe the cache as the Redis container all the same.
/// </summary>
public sealed class PublishedManifest : IAsyncLifetime
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(2);

    private readonly DirectoryInfo output = Directory.CreateTempSubdirectory("userservice-manifest-");

    public JsonNode Resources { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var manifestPath = Path.Combine(output.FullName, "aspire-manifest.json");
        var configuration = typeof(PublishedManifest).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;

        var startInfo = new ProcessStartInfo("dotnet",
        [
            "run", "--project", Projects.AppHost.ProjectPath, "--no-build", "-c", configuration,
            "--", "--publisher", "manifest", "--output-path", manifestPath, "--Cache:Engine=garnet",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(PublishTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, $"Publishing failed with exit code {process.ExitCode}:\n{await stdout}\n{await stderr}");
        Resources = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath, TestContext.Current.CancellationToken))!["resources"]!;
    }

    public ValueTask DisposeAsync()
    {
        output.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }
}

public sealed class ManifestTests(PublishedManifest manifest) : IClassFixture<PublishedManifest>
{
    private readonly JsonNode resources = manifest.Resources;

    [Fact]
    public void CacheIsTheRedisContainerEvenWhenAnotherEngineIsConfigured()
    {
        var cache = resources[ResourceNames.Cache]!;

        Assert.Equal("container.v0", (string?)cache["type"]);
        Assert.Contains("redis", (string?)cache["image"]);
        Assert.Equal(6379, (int?)cache["bindings"]!["tcp"]!["targetPort"]);
    }

    [Fact]
    public void CacheKeepsItsDataOnAPersistentVolumeInSnapshotsAndAnAppendOnlyFile()
    {
        var volume = Assert.Single(resources[ResourceNames.Cache]!["volumes"]!.AsArray());

        Assert.Equal("/data", (string?)volume!["target"]);
        Assert.False((bool?)volume["readOnly"]);
        var command = (string?)resources[ResourceNames.Cache]!["args"]!.AsArray().Last();
        Assert.Contains("--save", command);
        Assert.Contains("--appendonly yes --appendfsync always", command);
    }

    [Fact]
    public void CachePasswordIsAGeneratedSecretParameter()
    {
        var parameter = resources["cache-password"]!;

        Assert.Equal("parameter.v0", (string?)parameter["type"]);
        Assert.True((bool?)parameter["inputs"]!["value"]!["secret"]);
        Assert.NotNull(parameter["inputs"]!["value"]!["default"]!["generate"]);
        Assert.Equal("{cache-password.value}", (string?)resources[ResourceNames.Cache]!["env"]!["REDIS_PASSWORD"]);
        Assert.Contains("password={cache-password.value}", (string?)resources[ResourceNames.Cache]!["connectionString"]);
    }

    [Fact]
    public void UserServiceIsAProjectWithAnExternalApiAndAnInternalManagementPort()
    {
        var userService = resources["userservice"]!;
        var bindings = userService["bindings"]!;

        Assert.Equal("project.v0", (string?)userService["type"]);
        Assert.True((bool?)bindings["http"]!["external"]);
        Assert.Null(bindings["management"]!["external"]);
        Assert.Equal(8081, (int?)bindings["management"]!["targetPort"]);
    }

    [Fact]
    public void UserServiceIsToldWhereTheCacheAndItsManagementPortAre()
    {
        var env = resources["userservice"]!["env"]!;

        Assert.Equal("{cache.connectionString}", (string?)env["ConnectionStrings__cache"]);
        Assert.Equal("{userservice.bindings.management.targetPort}", (string?)env["Management__Port"]);
        Assert.Contains("{userservice.bindings.management.targetPort}", (string?)env["HTTP_PORTS"]);
    }

    [Fact]
    public void UserServiceHasNoHttpsBindingThatNothingListensOn()
    {
        var bindings = resources["userservice"]!["bindings"]!.AsObject();

        Assert.Equal(["http", "management"], bindings.Select(binding => binding.Key).Order());
    }

    [Fact]
    public void CachePasswordReachesTheServiceOnlyInsideTheConnectionStringItReads()
    {
        var env = resources["userservice"]!["env"]!.AsObject();

        var carriers = env.Where(variable => ((string?)variable.Value)?.Contains("cache", StringComparison.Ordinal) == true).Select(variable => variable.Key);
        Assert.Equal(["ConnectionStrings__cache"], carriers);
    }

    [Fact]
    public void IdentityProviderIsAskedForAsParametersAndTheTelemetryIsNamed()
    {
        var env = resources["userservice"]!["env"]!;

        Assert.Equal("parameter.v0", (string?)resources["identity-authority"]!["type"]);
        Assert.Equal("parameter.v0", (string?)resources["identity-audience"]!["type"]);
        Assert.Equal("{identity-authority.value}", (string?)env["Authentication__Schemes__Bearer__Authority"]);
        Assert.Equal("{identity-audience.value}", (string?)env["Authentication__Schemes__Bearer__ValidAudiences__0"]);
        Assert.Equal("userservice", (string?)env["OTEL_SERVICE_NAME"]);
    }

    [Fact]
    public void UserServiceIsNotToldToBelieveForwardedHeadersFromAnyone()
    {
        var env = resources["userservice"]!["env"]!.AsObject();

        Assert.False(env.ContainsKey("ASPNETCORE_FORWARDEDHEADERS_ENABLED"));
    }
}
