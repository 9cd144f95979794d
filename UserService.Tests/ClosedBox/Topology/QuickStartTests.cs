using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Reflection;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Topology;

/// <summary>
/// The README's quick start as a newcomer meets it: the AppHost as its own process, on a machine whose home
/// holds no user secrets, then the README's token command run after the start. The token is accepted within
/// seconds, and once the key is reset it is refused within seconds, with no restart. The dashboard opens
/// without an error about a development certificate, though the home has none.
/// </summary>
public sealed class QuickStartTests : IAsyncDisposable
{
    /// <summary>Where the README's curl calls the API: the user service's launch profile port, behind the AppHost's proxy.</summary>
    private const string ApiAddress = "http://localhost:5080";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan ChangeBound = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(1);

    private readonly DirectoryInfo home = Directory.CreateTempSubdirectory("userservice-home-");
    // The AppHost's project path is its folder.
    private readonly string repositoryRoot = Path.GetDirectoryName(Projects.AppHost.ProjectPath)!;
    private readonly ConcurrentQueue<string> output = new();
    private Process? appHost;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TokenMadeAfterTheStartInAnEmptyHomeIsAcceptedAndRefusedOnceTheKeyIsReset()
    {
        appHost = StartAppHost();
        using var anonymous = new HttpClient { BaseAddress = new(ApiAddress) };
        var started = await Eventually.MatchAsync(
            cancellation => Eventually.ProbeAsync(anonymous, "/api/users", cancellation),
            status => status == HttpStatusCode.Unauthorized || appHost.HasExited,
            StartTimeout);
        Assert.True(started == HttpStatusCode.Unauthorized, $"The quick start did not come up at {ApiAddress} ({started}):\n{string.Join('\n', output)}");

        var token = await DotnetAsync("user-jwts", "create", "--project", "UserService", "--scope", "users:read", "--scope", "users:write", "--output", "token");
        var accepted = await StatusWithAsync(token, HttpStatusCode.OK);
        await DotnetAsync("user-jwts", "key", "--reset", "--force", "--project", "UserService");
        var afterReset = await StatusWithAsync(token, HttpStatusCode.Unauthorized);
        var newToken = await DotnetAsync("user-jwts", "create", "--project", "UserService", "--scope", "users:read", "--output", "token");
        var newAccepted = await StatusWithAsync(newToken, HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.OK, accepted);
        Assert.Equal(HttpStatusCode.Unauthorized, afterReset);
        Assert.Equal(HttpStatusCode.OK, newAccepted);

        // The AppHost logs this when it sends the dashboard its "No trusted development certificate" error,
        // which an empty home, with no certificate at all, would get if anything asked for one.
        Assert.DoesNotContain(output, line => line.Contains("development certificate", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The AppHost as <c>dotnet run --project AppHost</c> starts it, with its launch profile's settings.</summary>
    private Process StartAppHost()
    {
        var configuration = typeof(QuickStartTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var appHostDirectory = Projects.AppHost.ProjectPath;
        var ports = FreePort.Next(3);
        var startInfo = new ProcessStartInfo("dotnet",
        [
            Path.Combine(appHostDirectory, "bin", configuration, "net10.0", "AppHost.dll"),
            "--Cache:Engine=garnet",
            $"--Cache:DataDirectory={Path.Combine(home.FullName, "data")}",
        ])
        {
            WorkingDirectory = appHostDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Isolate(startInfo);
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Development";
        startInfo.Environment["ASPNETCORE_URLS"] = $"http://localhost:{ports[0]}";
        startInfo.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://localhost:{ports[1]}";
        startInfo.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://localhost:{ports[2]}";
        startInfo.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";

        var process = Process.Start(startInfo)!;
        process.OutputDataReceived += (_, line) => output.Enqueue(line.Data ?? "");
        process.ErrorDataReceived += (_, line) => output.Enqueue(line.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs a dotnet command from the repository root, as the README does, and returns its output.</summary>
    private async Task<string> DotnetAsync(params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = repositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Isolate(startInfo);
        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync(Cancellation);
        var error = process.StandardError.ReadToEndAsync(Cancellation);
        try
        {
            await process.WaitForExitAsync(Cancellation).WaitAsync(CommandTimeout, Cancellation);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} failed: {await error}{await output}");
        return (await output).Trim();
    }

    /// <summary>A home of its own: no user secrets, no development keys, as on a machine that never saw the project.</summary>
    private void Isolate(ProcessStartInfo startInfo)
    {
        startInfo.Environment["HOME"] = home.FullName;
        startInfo.Environment.Remove("APPDATA");
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
    }

    private static async Task<HttpStatusCode> StatusWithAsync(string token, HttpStatusCode expected)
    {
        using var api = new HttpClient { BaseAddress = new(ApiAddress) }.Authorize(token);
        return await Eventually.StatusAsync(api, "/api/users?limit=1", status => status == expected, ChangeBound);
    }

    public async ValueTask DisposeAsync()
    {
        if (appHost is not null)
        {
            if (!appHost.HasExited)
            {
                // Ctrl+C's signal: the AppHost stops the resources it started, then exits.
                await ProcessControl.SignalAsync(appHost, "INT");
                try
                {
                    await appHost.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                }
                catch (TimeoutException)
                {
                    appHost.Kill(entireProcessTree: true);
                }
            }

            appHost.Dispose();
        }

        home.Delete(recursive: true);
    }
}
