using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using AppHost;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Deployment;

/// <summary>
/// A deployment made from the manifest as written: the cache started as the manifest describes it (its
/// command on a local redis-server), the service started with exactly the manifest's environment, its
/// parameters filled in as azd or aspirate would ask for them, and an OpenID Connect provider to trust. Both
/// builds: the one the image holds, and the Native AOT publish (see <see cref="Engines.RequireNativeBinary"/>),
/// whose JWT handler fetches the provider's metadata and keys as the other's does.
/// </summary>
public sealed partial class DeploymentTests(PublishedManifest manifest) : IClassFixture<PublishedManifest>, IAsyncDisposable
{
    private const string Audience = "api://userservice";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(1);

    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("userservice-deployment-");
    private readonly ConcurrentQueue<string> output = new();
    private readonly List<Process> processes = [];

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public const string Jit = "jit";
    public const string Native = "native";

    [Theory]
    [InlineData(Jit)]
    [InlineData(Native)]
    public async Task ServiceDeployedFromTheManifestStartsAndServesTokensFromTheConfiguredProvider(string build)
    {
        var binary = build == Native ? Engines.RequireNativeBinary() : null;
        Engines.RequireInstalled(Engines.RedisServer);
        await using var identity = await IdentityProvider.StartAsync(directory.FullName);
        var ports = FreePort.Next(3);
        var (cachePort, apiPort, managementPort) = (ports[0], ports[1], ports[2]);
        var values = new Dictionary<string, string>
        {
            ["cache-password.value"] = Convert.ToHexString(Guid.NewGuid().ToByteArray()),
            ["identity-authority.value"] = identity.Authority,
            ["identity-audience.value"] = Audience,
            // Inside its pod each container has the ports to itself; here they share one machine.
            ["cache.bindings.tcp.host"] = "127.0.0.1",
            ["cache.bindings.tcp.port"] = cachePort.ToString(),
            ["userservice.bindings.http.targetPort"] = apiPort.ToString(),
            ["userservice.bindings.management.targetPort"] = managementPort.ToString(),
        };

        StartCache(values, cachePort);
        StartService(values, identity.TrustFile, binary);

        using var management = new HttpClient { BaseAddress = new($"http://127.0.0.1:{managementPort}") };
        var health = await Eventually.MatchAsync(cancellation => Eventually.ProbeAsync(management, "/health", cancellation), status => status == HttpStatusCode.OK, StartTimeout);
        Assert.True(health == HttpStatusCode.OK, $"The deployed service did not become healthy ({health}):\n{string.Join('\n', output)}");
        using var anonymous = new HttpClient { BaseAddress = new($"http://127.0.0.1:{apiPort}") };
        using var authorized = new HttpClient { BaseAddress = anonymous.BaseAddress }.Authorize(identity.CreateToken(Audience, "users:read"));

        Assert.Equal(HttpStatusCode.Unauthorized, await Eventually.ProbeAsync(anonymous, "/api/users", Cancellation));
        Assert.Equal(HttpStatusCode.OK, await Eventually.ProbeAsync(authorized, "/api/users", Cancellation));
    }

    /// <summary>The cache container's entrypoint and arguments, run against the local redis-server on a port and folder of its own.</summary>
    private void StartCache(Dictionary<string, string> values, int port)
    {
        var cache = manifest.Resources[ResourceNames.Cache]!;
        var arguments = cache["args"]!.AsArray().Select(argument => (string)argument!).ToList();
        arguments[^1] += $" --port {port} --bind 127.0.0.1 --dir {directory.FullName}";
        var startInfo = new ProcessStartInfo((string)cache["entrypoint"]!, arguments);
        foreach (var (name, value) in cache["env"]!.AsObject())
        {
            startInfo.Environment[name] = Resolve((string)value!, values);
        }

        Start(startInfo);
    }

    /// <summary>
    /// The service's build output, or its native <paramref name="binary"/>, with the manifest's environment and
    /// nothing else, as a container gets it.
    /// </summary>
    private void StartService(Dictionary<string, string> values, string trustFile, string? binary)
    {
        var startInfo = binary is null
            ? new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "UserService.dll")]) { WorkingDirectory = AppContext.BaseDirectory }
            : new ProcessStartInfo(binary) { WorkingDirectory = Path.GetDirectoryName(binary) };
        var machine = new[] { "PATH", "HOME", "DOTNET_ROOT" }.Select(name => (name, value: Environment.GetEnvironmentVariable(name))).ToList();
        startInfo.Environment.Clear();
        machine.Where(variable => variable.value is not null).ToList().ForEach(variable => startInfo.Environment[variable.name] = variable.value);
        // The machine's trust store, which holds the provider's certificate as a cluster's holds its CA.
        startInfo.Environment["SSL_CERT_FILE"] = trustFile;
        foreach (var (name, value) in manifest.Resources["userservice"]!["env"]!.AsObject())
        {
            startInfo.Environment[name] = Resolve((string)value!, values);
        }

        Start(startInfo);
    }

    /// <summary>Fills in a manifest expression: parameters and bindings from <paramref name="values"/>, connection strings from their resources.</summary>
    private string Resolve(string expression, Dictionary<string, string> values) =>
        Placeholder().Replace(expression, match =>
        {
            var reference = match.Groups[1].Value;
            if (values.TryGetValue(reference, out var value))
            {
                return value;
            }

            var (resource, property) = (reference[..reference.IndexOf('.')], reference[(reference.IndexOf('.') + 1)..]);
            Assert.True(property == "connectionString", $"The manifest refers to {reference}, which this deployment does not know.");
            return Resolve((string?)manifest.Resources[resource]!["connectionString"] ?? "", values);
        });

    private void Start(ProcessStartInfo startInfo)
    {
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        var process = Process.Start(startInfo)!;
        process.OutputDataReceived += (_, line) => output.Enqueue(line.Data ?? "");
        process.ErrorDataReceived += (_, line) => output.Enqueue(line.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        processes.Add(process);
    }

    [GeneratedRegex(@"\{([^{}]+)\}")]
    private static partial Regex Placeholder();

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes)
        {
            await ProcessControl.KillAsync(process);
            process.Dispose();
        }

        directory.Delete(recursive: true);
    }
}
