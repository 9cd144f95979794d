using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// The user service as its own operating-system process, as a container runs it, on a store database of
/// its own: for what only a real process shows, such as how it answers a signal.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();

    private ServiceProcess(Process process, Uri api, Uri management)
    {
        this.process = process;
        Api = api;
        Management = management;
        process.OutputDataReceived += (_, line) => Record(line.Data);
        process.ErrorDataReceived += (_, line) => Record(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri Api { get; }

    public Uri Management { get; }

    /// <summary>What the process wrote to its console so far.</summary>
    public IReadOnlyCollection<string> Output => output;

    /// <summary>
    /// Starts the service on <paramref name="storeConnectionString"/> in <paramref name="environment"/> and,
    /// unless told otherwise, waits until it is ready. The build the tests run on, or the native
    /// <paramref name="executable"/> (see <see cref="Engines.RequireNativeBinary"/>); with
    /// <paramref name="settings"/> in place of <see cref="ServiceSettings.Common"/>.
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(
        string storeConnectionString, string environment = "Testing", bool waitUntilReady = true, string? executable = null, Dictionary<string, string>? settings = null)
    {
        var ports = FreePort.Next(2);
        var (apiPort, managementPort) = (ports[0], ports[1]);
        var startInfo = executable is null
            ? new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "UserService.dll")]) { WorkingDirectory = AppContext.BaseDirectory }
            : new ProcessStartInfo(executable) { WorkingDirectory = Path.GetDirectoryName(executable) };
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        settings = new(settings ?? ServiceSettings.Common());
        settings["ASPNETCORE_ENVIRONMENT"] = environment;
        settings["ASPNETCORE_URLS"] = $"http://127.0.0.1:{apiPort};http://127.0.0.1:{managementPort}";
        settings[ServiceSettings.ManagementPort] = managementPort.ToString();
        settings[ServiceSettings.Store] = storeConnectionString;
        foreach (var (key, value) in settings.AsEnvironment())
        {
            startInfo.Environment[key] = value;
        }

        var service = new ServiceProcess(Process.Start(startInfo)!, new($"http://127.0.0.1:{apiPort}"), new($"http://127.0.0.1:{managementPort}"));
        if (!waitUntilReady)
        {
            return service;
        }

        using var management = service.CreateManagementClient();
        var ready = await Eventually.MatchAsync(
            cancellation => Eventually.ProbeAsync(management, "/health", cancellation),
            status => status == HttpStatusCode.OK || service.process.HasExited,
            RunningAppHost.StartTimeout);
        if (ready != HttpStatusCode.OK)
        {
            await service.DisposeAsync();
            throw new InvalidOperationException($"The service process did not become healthy ({ready}):\n{string.Join("\n", service.Output)}");
        }

        return service;
    }

    /// <summary>A client with a connection pool of its own, so that its connections are its own.</summary>
    public HttpClient CreateApiClient() => new HttpClient { BaseAddress = Api }.Authorize();

    public HttpClient CreateManagementClient() => new() { BaseAddress = Management };

    public bool HasExited => process.HasExited;

    /// <summary>Sends SIGTERM, as an orchestrator does to stop a container.</summary>
    public async Task TerminateAsync()
    {
        await ProcessControl.SignalAsync(process, "TERM");
    }

    /// <summary>The exit code, once the process has exited within <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await ProcessControl.KillAsync(process);
        process.Dispose();
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            output.Enqueue(line);
        }
    }
}
